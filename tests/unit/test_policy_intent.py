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
    ("nuke the build logs", {"read", "delete"}),  # "build" is a noun here: no build is asked for
    ("blow away the old cache folder", {"read", "delete"}),
    ("wipe the contents of scratch.txt but keep the file", {"read", "write", "delete"}),
    ("truncate the log file", {"read", "write"}),
    ("show me ~/.ssh/id_ed25519", {"read"}),
    ("what is using the most memory on this machine right now?", {"read"}),
    ("download https://example.org/a.tar.gz and extract it", {"read", "network", "write"}),
    ("clean up my Downloads folder", {"read", "delete"}),
    ("make a folder called Invoices and sort into it the PDFs", {"read", "write"}),
    ("zip the photos from last week", {"read", "write"}),
    ("restart the web server", {"read", "process"}),  # "web server" names what, not the network
    ("renice firefox to a lower priority", {"read", "process"}),
    ("compile the project and run the tests", {"read", "exec"}),
    ("fetch the latest changes with git", {"read", "network", "exec"}),
    ("make the script executable", {"read", "write", "exec"}),
    # Everyday words for small edits ask for a write; "add up" is a sum, a read.
    ("add milk to my shopping list", {"read", "write"}),
    ("show ~/notes/todo.md, then add 'buy stamps' at the end", {"read", "write"}),
    ("jot down in ~/journal.md that I ran 5k", {"read", "write"}),
    ("comment out lines 20-25 of ~/scripts/sync.sh", {"read", "write"}),
    ("delete lines 10 to 14 from ~/settings.py", {"read", "write", "delete"}),
    ("make diary.txt readable only by me", {"read", "write"}),
    ("pack the jpgs in ~/Pictures into one zip", {"read", "write"}),
    ("add up the sizes of these files", {"read"}),
    ("what did I add to the repo yesterday?", {"read"}),
])
def test_requests_allow_the_effect_classes_their_words_ask_for(request_text: str, expected: set[str]) -> None:
    """Each example request allows exactly the effect classes its words name (read always)."""
    assert allowed_effects_for(request_text) == expected


def test_read_is_always_allowed_and_secret_never() -> None:
    """Even an empty request allows read; no wording allows secret."""
    assert allowed_effects_for("") == {"read"}
    assert "secret" not in allowed_effects_for("show my secret password token keyring api key")
    assert "secret" not in INTENT_WORDS


@pytest.mark.parametrize(("request_text", "effect"), [("Delete the logs", "delete"), ("DELETE old files", "delete"),
                                                      ("please Get Rid Of duplicates", "delete"),
                                                      ("make copies of my notes", "write"),
                                                      ("stopped containers should be killed", "process"),
                                                      ("the temp files must be deleted", "delete")])
def test_words_match_case_insensitively_where_they_tell_llmos_to_act(request_text: str, effect: str) -> None:
    """Case does not matter; a verb starting a clause counts as written, a word after "make", "set", ... also as a
    plural ("copies"), and one in a clause that says what should be done in any form ("must be deleted")."""
    assert effect in allowed_effects_for(request_text)


@pytest.mark.parametrize("request_text", ["DELETING old files", "the deletion of temp files", "copies of my notes",
                                          "getting rid of duplicates", "the moved files", "my backup folder"])
def test_nouns_and_participles_do_not_ask_for_a_change(request_text: str) -> None:
    """A change word that is a noun, a participle or a gerund tells llmos to do nothing: read only."""
    assert allowed_effects_for(request_text) == {"read"}


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


# Eval tasks whose requests' words never asked for what their gold calls do (before the verb rule either).
_UNASKED_EVAL_TASKS = {"files-append-shopping-milk", "files-edit-flask-version", "files-edit-tick-passport",
                       "ms-scripts-executable", "proc-renice-encoder-19"}


def test_every_eval_request_still_allows_what_its_gold_calls_do() -> None:
    """Over-refusal does not grow: each eval task's request allows the effect classes of its gold calls."""
    from llmos.evals.tasks import load_tasks
    from llmos.tools import load_builtin_tools

    registry = load_builtin_tools()
    missing = {}
    for task in load_tasks():
        if task.request is None or task.id in _UNASKED_EVAL_TASKS:
            continue
        calls = [call for item in task.gold for call in (item if isinstance(item, list) else [item])]
        needed = {spec.effect for call in calls if (spec := registry.get(call.tool)) is not None}
        if not needed <= allowed_effects_for(task.request):
            missing[task.id] = sorted(needed - allowed_effects_for(task.request))
    assert missing == {}
