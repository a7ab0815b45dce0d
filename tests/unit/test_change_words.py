"""Which requests each reader of the change words treats as asking for a change, pinned for many phrasings.

Three readers take their words from one vocabulary (`llmos.policies.change_words`) and want different things from
it: intent gates the effect classes a request may use (the whole table, where a word tells llmos to act); the session's
look-then-change nudge fires only on a clause that starts with a change verb (narrow on purpose: "what are the
permissions on x?" must keep its answer); the fast path hands any request that says a change word to the model.
"""

from __future__ import annotations

import pytest
from llmos.policies.intent import allowed_effects_for

from llmos.fastpath import _CHANGE_WORDS, normalise
from llmos.session import CHANGE_CLAUSE

# (request, effect classes beyond read that intent allows, session nudges a change, fast path steps aside)
PHRASINGS: list[tuple[str, set[str], bool, bool]] = [
    ('what are the permissions on ~/notes.txt?', set(), False, False),
    ('which files were modified today?', set(), False, False),
    ('move the pdfs in ~/Downloads into ~/Documents/PDFs', {'write'}, True, True),
    ('archive ~/old, then delete it', {'delete', 'write'}, True, True),
    ('count the pdfs and write the number to ~/count.txt', {'write'}, True, True),
    ('how much memory is free?', set(), False, False),
    ('kill firefox', {'process'}, False, True),
    ('close the browser', {'process'}, False, True),
    ('please clean up ~/tmp', {'delete'}, True, True),
    ('clean ~/tmp', set(), True, True),
    ('empty the trash', {'delete'}, True, True),
    ('add a line to ~/todo.txt', {'write'}, True, False),
    ('make a folder called reports', {'write'}, True, True),
    ('change the permissions of run.sh to executable', {'write'}, True, True),
    # A change clause, though no file change: the request's words allow none (no write or delete), so it asks
    # nothing of the session's change nudges.
    ('set the volume to 50', set(), True, True),
    ('install htop', {'exec', 'network'}, False, True),
    ('uninstall htop', {'delete'}, False, True),
    ('free up some disk space', set(), False, True),
    ('reduce memory use', set(), False, True),
    ('shut down the computer', set(), False, True),
    ('sort out my downloads', set(), False, True),
    ("list big files but don't delete anything", set(), False, True),
    ('back up ~/Documents to ~/Backup', {'write'}, True, False),
    ('organize my desktop', {'write'}, True, False),
    ('organise my desktop', {'write'}, True, False),
    ('what is using the most cpu', set(), False, False),
    ('ls ~/Music', set(), False, False),
    ('rm -rf ~/build', {'delete'}, False, False),
    ('restart the print server', {'process'}, False, True),
    ('end the process 4242', {'process'}, False, True),
    ('stop', {'process'}, False, True),
    ('zip ~/photos', {'write'}, True, False),
    ('find the files I copied yesterday', set(), False, False),
    ('show me the moved files', set(), False, False),
    ('fix the typo in ~/notes.txt', {'write'}, True, True),
    ('clear the screen', set(), False, True),
    ('rename a.txt to b.txt and update the index', {'write'}, True, True),
    ("what's in ~/Downloads", set(), False, False),
    ('summarize ~/notes.txt', set(), False, False),
    ('update my system', {'write'}, True, False),
    ('put the screenshots into ~/Pictures', {'write'}, True, False),
    ('replace foo with bar in ~/a.txt', {'write'}, True, False),
    ('Tidy my home folder', {'write'}, True, False),
    ('save the list to ~/list.txt', {'write'}, True, False),
    ('who painted the Mona Lisa?', set(), False, False),
    ('how big are the videos; then trash the biggest', {'delete'}, True, True),
    ('list ~/x, then   back   up ~/x', {'write'}, True, False),
    ('was ~/x backed up?', set(), False, False),
    ('how many processes are running', set(), False, False),
    ('Please Delete ~/a.tmp', {'delete'}, True, True),
    ('list the folders and make one called old', set(), True, True),
    ('what would it take to compress ~/logs', set(), False, False),
    ('which .tmp file in Downloads is the biggest? delete that one', {'delete'}, True, True),
    # A permission mode set is a change of files, though no word of the table says so.
    ('find the shell scripts in ~/projects, set them all to 755', {'write'}, True, True),
    ('set ~/run.sh to 0700', {'write'}, True, True),
    ('change the port to 8080 in my notes', set(), True, True),
    ('is ~/a.txt there? if so: copy it to ~/b.txt', {'write'}, True, True),
]


@pytest.mark.parametrize(("request_text", "intent_effects", "_clause", "_fast"), PHRASINGS)
def test_intent_allows_the_pinned_effect_classes(request_text: str, intent_effects: set[str], _clause: bool,
                                                 _fast: bool) -> None:
    """Intent allows exactly these effect classes (besides read) for each phrasing."""
    assert allowed_effects_for(request_text) == {"read", *intent_effects}


@pytest.mark.parametrize(("request_text", "_intent", "tells_a_change", "_fast"), PHRASINGS)
def test_the_session_sees_a_change_clause_in_the_pinned_phrasings(request_text: str, _intent: set[str],
                                                                  tells_a_change: bool, _fast: bool) -> None:
    """The session's change clause (a clause starting with a change verb) matches exactly the pinned phrasings."""
    assert bool(CHANGE_CLAUSE.search(request_text)) is tells_a_change


@pytest.mark.parametrize(("request_text", "_intent", "_clause", "says_a_change"), PHRASINGS)
def test_the_fast_path_sees_a_change_word_in_the_pinned_phrasings(request_text: str, _intent: set[str],
                                                                  _clause: bool, says_a_change: bool) -> None:
    """The fast path's change words (anywhere in the normalised request) match exactly the pinned phrasings."""
    assert bool(_CHANGE_WORDS.search(normalise(request_text))) is says_a_change


def test_the_pinned_phrasings_cover_each_reader_both_ways() -> None:
    """The table holds 30+ phrasings, and for each reader some that match and some that do not."""
    assert len(PHRASINGS) >= 30
    for column in (1, 2, 3):
        assert {bool(row[column]) for row in PHRASINGS} == {True, False}
