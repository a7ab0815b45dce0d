"""An archive asked to go inside what it archives names the folder beside it that is named like it, and the
next turn may remake the call with that folder: "archive the album in ~/Music to ~/Music/album.tar.gz" had been
planned as an archive of ~/Music, which failed, and the model gave up."""

from __future__ import annotations

import json
from pathlib import Path

from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.policies.intent import allowed_effects_for
from llmos.policies.journal import Journal
from llmos.policies.journal.fileops import FileOps
from llmos.tools import load_builtin_tools

from llmos.events import RequestFinished
from llmos.executor import Safety
from llmos.session import Session


def test_an_archive_of_its_own_folder_is_repaired_to_the_folder_named_like_it(temp_home: Path) -> None:
    album = temp_home / "Music" / "album"
    album.mkdir(parents=True)
    (album / "01.mp3").write_bytes(b"ID3")
    journal = Journal(temp_home.parent / "journal")
    safety = Safety(policy=AllowReadOnlyPolicy(), intent=allowed_effects_for,
                    file_ops=lambda rid, req, tool: FileOps(journal, rid, req, tool))
    backend = ScriptedBackend([
        call("files.archive", source="~/Music", destination="~/Music/album.tar.gz"),
        call("files.archive", source="~/Music/album", destination="~/Music/album.tar.gz"),
        answer("Packed the album."),
    ])
    events = list(Session(backend, load_builtin_tools(), safety).run(
        "archive the album in ~/Music to ~/Music/album.tar.gz", approver=lambda _step: True))
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    failed = json.loads(finished.steps[0].result or "{}")
    assert failed["error"] == "the archive cannot be inside what it archives: ~/Music"
    assert failed["did_you_mean"] == ["~/Music/album"]
    repair = backend.calls[1].schema
    branches = repair["anyOf"] if "anyOf" in repair else [repair]
    archive = next(branch for branch in branches if branch["properties"]["tool"]["const"] == "files.archive")
    assert archive["properties"]["args"]["properties"]["source"]["enum"] == ["~/Music/album"]
    assert (temp_home / "Music" / "album.tar.gz").is_file() and finished.steps[1].status == "ok"
