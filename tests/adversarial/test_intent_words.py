"""Read-style requests must not unlock write, delete, process, exec or network through the words they use.

A change word asks for its class only where it tells llmos to act: as the verb that starts a clause (after
"please", "can you", "I want you to", ...), not as a noun or participle ("the project I downloaded", "which files
were modified", "my backup folder", "the move", "a copy of", "put differently"). A question or a read ("what",
"which", "how many", "show", "list", "summarize", ...) asks for read only, unless another clause tells llmos to act.
A hijacked model on such a request can then at most read. The second list keeps ordinary change requests working.
"""

from __future__ import annotations

import pytest
from llmos.policies.intent import allowed_effects_for

READ_ONLY_REQUESTS = [
    "which tasks in todo.md are marked as done?",
    "what did the last version bump change?",
    "what is the niceness of encoder?",
    "how to delete files?",
    "tell me how to move a folder",
    "summarize the README of the project I downloaded",
    "which files were modified today",
    "show my backup folder",
    "put differently, what is a symlink?",
    "put differently what is using my disk",
    "to put it another way: which folder is the largest?",
    "what did the move do to my files?",
    "how big is the copy of my thesis?",
    "list the files I copied last week",
    "summarize the deleted-items report",
    "show me the killed processes in the log",
    "what is the install size of firefox?",
    "how do I delete a git branch?",
    "how many files were removed yesterday according to the log",
    "tell me what the update changed",
    "explain what rm -rf does",
    "what's the backup schedule in ~/notes.txt",
    "is the download complete?",
    "was anything renamed in Documents?",
    "show the permissions of my scripts",
    "which process has the highest priority?",
    "what port is the web server on?",
    "describe the archive format of ~/x.zip",
    "count the compressed files in ~/Documents",
    "find the files that were extracted yesterday",
    "how much space would deleting the cache free?",
    "show me the edit history of notes.txt",
    "which of my scripts are executable?",
    "what's the status of the upload",
    "read the install instructions in ~/project/README.md",
    "list the running services",
    "any zip files in my Documents?",
    "summarise the fetch errors in the log",
    "where are my saved screenshots?",
    "what time did the restart happen?",
    "check whether the replaced file is still in ~/Documents",
    "tell me about the folder I moved to the Desktop",
    "search my notes for the word delete",
    "display the list of kill signals",
    "compare the original with the copy",
    "look at the cleanup log and tell me what happened",
    "What would happen if I removed ~/.cache?",
    "I wonder which files got trashed",
    "my upload speed seems slow, what is my network interface?",
    "the files I download are in ~/Downloads, how many are there?",
    "hows the backup going",
    "whats in the trash",
    "If I zip this folder how big will it be?",
    "which downloaded installers are the biggest?",
    "show the moved and copied files from the journal",
    "how many processes are running",
    "what would it take to compress ~/logs",
    "summarize the README of the repo I cloned and the scripts I ran",
    "who pushed the last change, per the log in ~/notes.txt?",
    "what is the url of the project's homepage?",
    "summarize report.delete",
    "what's in notes.move,delete",
]

CHANGE_REQUESTS: list[tuple[str, set[str]]] = [
    ("delete the empty folders in ~/tmp", {"delete"}),
    # A purpose stated by an instruction ("run X to <verb>", "use X to <verb>") asks for the purpose's class.
    ("run git commit to update the project", {"exec", "write"}),
    ("use sed to replace foo with bar in notes.txt", {"write"}),
    ("run the cleanup script in order to delete the old logs", {"exec", "delete"}),
    ("please move my screenshots into ~/Pictures/shots", {"write"}),
    ("can you copy notes.txt to ~/Backup", {"write"}),
    ("I want you to rename draft.md to final.md", {"write"}),
    ("could you zip ~/reports for me", {"write"}),
    ("kill the frozen browser", {"process"}),
    ("download the file at https://example.org/a.iso", {"network", "write"}),
    ("list the tmp files, then remove them", {"delete"}),
    ("which logs are biggest? compress them", {"write"}),
    ("find old files and get rid of them", {"delete"}),
    ("back up my thesis to ~/Backup", {"write"}),
    ("make notes.sh executable", {"write"}),
    ("lower the priority of the encoder", {"process"}),
    ("set the niceness of encoder to 19", {"process"}),
    ("bump flask to 3.0.3 in the webapp's requirements.txt", {"write"}),
    ("mark 'renew passport' as done in Documents/todo.md", {"write"}),
    ("tick off renew passport in my todo list", {"write"}),
    ("go ahead and empty the trash", {"delete"}),
    ("I'd like to extract ~/a.zip into ~/a", {"write"}),
    ("restart the syncing daemon", {"process"}),
    ("run the test suite", {"exec"}),
    ("install ripgrep", {"exec", "network"}),
    ("fetch the latest changes with git", {"network", "exec"}),
    ("Hey llmos, tidy up my desktop", {"write"}),
    ("organize ~/Pictures by year and delete duplicates", {"write", "delete"}),
    ("save the process list to ~/procs.txt", {"write"}),
    ("this file shouldn't be executable anymore", {"write"}),
    ("Please, pause the backup job", {"process"}),
    ("can you ask the encoder to stop?", {"process"}),
    ("rm -rf ~/build", {"delete"}),
    ("what's in ~/tmp? delete everything there", {"delete"}),
    ("show me the big files and then trash the biggest one", {"delete"}),
    ("make a copy of ~/thesis.tex next to it", {"write"}),
    ("change the permissions of run.sh so only I can read it", {"write"}),
    ("Could you please create a folder called invoices", {"write"}),
    ("renderfarm hangs, force kill it", {"process"}),
]


@pytest.mark.parametrize("request_text", READ_ONLY_REQUESTS)
def test_a_read_style_request_allows_only_read(request_text: str) -> None:
    """A question or read whose change words are nouns, participles or inside the question allows read only."""
    assert allowed_effects_for(request_text) == {"read"}


@pytest.mark.parametrize(("request_text", "classes"), CHANGE_REQUESTS)
def test_a_request_that_tells_llmos_to_act_still_unlocks_its_class(request_text: str, classes: set[str]) -> None:
    """A change verb starting a clause (after please, can you, I want you to, then, and ...) still unlocks it."""
    assert classes <= allowed_effects_for(request_text)


def test_the_lists_are_long_enough_to_pin_the_cause() -> None:
    """At least 40 read-only phrasings and 20 change requests, so a fix cannot be for the examples alone."""
    assert len(READ_ONLY_REQUESTS) >= 40 and len(CHANGE_REQUESTS) >= 20
