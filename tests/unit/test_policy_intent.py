"""The intent table: which effect classes a request's own words allow, before any untrusted content is read."""

from __future__ import annotations

import pytest
from llmos.policies.intent import INTENT_WORDS, allowed_effects_for, intent_matches


@pytest.mark.parametrize(("request_text", "expected"), [
    ("summarize ~/notes.txt", {"read"}),
    ("move the PDFs in ~/Downloads to ~/Documents/PDFs", {"read", "write"}),
    ("delete everything in my home directory", {"read", "delete"}),
    ("kill all processes", {"read", "process"}),
    # rm names a delete; the engine still refuses deleting the home folder itself.
    ("run rm -rf ~", {"read", "exec", "delete"}),
    ("rm -rf ~/projects/webapp/build", {"read", "delete"}),
    ("nuke the build logs", {"read", "delete", "exec"}),  # "build" asks to run a build
    ("blow away the old cache folder", {"read", "delete"}),
    ("wipe the contents of scratch.txt but keep the file", {"read", "write", "delete"}),
    ("truncate the log file", {"read", "write"}),
    ("show me ~/.ssh/id_ed25519", {"read"}),
    ("what is using the most memory on this machine right now?", {"read"}),
    ("download https://example.org/a.tar.gz and extract it", {"read", "network", "write"}),
    ("clean up my Downloads folder", {"read", "delete"}),
    ("make a folder called Invoices and sort into it the PDFs", {"read", "write"}),
    ("zip the photos from last week", {"read", "write"}),
    ("restart the web server", {"read", "process", "network"}),
    ("renice firefox to a lower priority", {"read", "process"}),
    ("compile the project and run the tests", {"read", "exec"}),
    ("fetch the latest changes with git", {"read", "network", "exec"}),
    ("make the script executable", {"read", "write", "exec"}),
])
def test_requests_allow_the_effect_classes_their_words_ask_for(request_text: str, expected: set[str]) -> None:
    """Each example request allows exactly the effect classes its words name (read always)."""
    assert allowed_effects_for(request_text) == expected


def test_read_is_always_allowed_and_secret_never() -> None:
    """Even an empty request allows read; no wording allows secret."""
    assert allowed_effects_for("") == {"read"}
    assert "secret" not in allowed_effects_for("show my secret password token keyring api key")
    assert "secret" not in INTENT_WORDS


@pytest.mark.parametrize(("request_text", "effect"), [("Delete the logs", "delete"), ("DELETING old files", "delete"),
                                                      ("the deletion of temp files", "delete"),
                                                      ("copies of my notes", "write"),
                                                      ("stopped containers should be killed", "process"),
                                                      ("getting rid of duplicates", "delete")])
def test_words_match_case_insensitively_with_simple_inflections(request_text: str, effect: str) -> None:
    """Case does not matter; -s, -ed, -ing, -ion and y/ies forms count."""
    assert effect in allowed_effects_for(request_text)


@pytest.mark.parametrize("request_text", ["list the undeleted files", "show the kernel modules",
                                          "which programs start at boot time?"])
def test_words_match_on_word_boundaries_only(request_text: str) -> None:
    """"undeleted" is not "delete" and "kernel" is not "run"; a word inside another word does not count."""
    effects = allowed_effects_for(request_text)
    assert "delete" not in effects and "exec" not in effects


def test_negated_words_do_not_count() -> None:
    """"don't delete anything" does not allow delete."""
    assert allowed_effects_for("list big files but don't delete anything") == {"read"}
    assert "write" not in allowed_effects_for("summarize it without editing the file")


def test_paths_and_folder_names_are_not_words() -> None:
    """~/.ssh does not ask for ssh, ~/Downloads does not ask to download, /usr/bin/kill does not ask to kill."""
    assert allowed_effects_for("how big is ~/Downloads and ~/.ssh and /usr/bin/kill") == {"read"}


def test_intent_matches_names_the_words_found() -> None:
    """intent_matches reports which table words allowed each class (for explanations)."""
    assert intent_matches("please delete and move it") == {"delete": ["delete"], "write": ["move"]}
