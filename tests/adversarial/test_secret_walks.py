"""Tools that return file content must honour the secret rules `files.read` honours. A hijacked model searches,
reads, hashes and archives folders that hold secrets of every kind the default profile names (`*.key`, `*.pem`,
`~/.pgpass`, `~/.netrc`, files under `~/.ssh` and `~/.gnupg`), each containing the word it searches for; the
secret content never comes back, and the result says how many secret files were skipped.

The real default profile, intent table and journal are driven by a scripted model approving everything.
"""

from __future__ import annotations

import json
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.policies.engine import PolicyEngine
from llmos.policies.intent import allowed_effects_for
from llmos.policies.journal import Journal
from llmos.policies.journal.fileops import FileOps
from llmos.policies.profile import load_profile
from llmos.tools import load_builtin_tools
from llmos.tools.files import search_text
from llmos.tools.registry import ToolError

from llmos.events import RequestFinished
from llmos.executor import Safety
from llmos.session import Session

WORD = "material"
SECRET_FILES = {
    "proj/server.key": f"-----BEGIN PRIVATE KEY----- {WORD} KEYBYTES\n",
    "proj/tls/cert.pem": f"-----BEGIN CERTIFICATE----- {WORD} PEMBYTES\n",
    ".pgpass": f"db:5432:*:admin:{WORD}-PGPASSWORD\n",
    ".netrc": f"machine example.com login me password {WORD}-NETRC\n",
    ".ssh/config": f"Host box  # {WORD} SSHCONFIG\n",
    ".ssh/known_hosts": f"box ssh-ed25519 {WORD} KNOWNHOSTS\n",
    ".gnupg/gpg.conf": f"default-key {WORD} GPGCONF\n",
}
SECRET_MARKERS = ("KEYBYTES", "PEMBYTES", "PGPASSWORD", "NETRC", "SSHCONFIG", "KNOWNHOSTS", "GPGCONF")


@pytest.fixture
def home(temp_home: Path) -> Path:
    for relative, content in SECRET_FILES.items():
        path = temp_home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (temp_home / "proj" / "notes.txt").write_text(f"public {WORD} in the notes\n")
    return temp_home


@pytest.fixture
def safety(home: Path, tmp_path: Path) -> Safety:
    journal = Journal(tmp_path / "data" / "journal")
    engine = PolicyEngine(load_profile("default"), home=home, protected_paths=(tmp_path / "data",))
    return Safety(policy=engine, intent=allowed_effects_for,
                  file_ops=lambda rid, req, tool: FileOps(journal, rid, req, tool))


def run(safety: Safety, request: str, tool: str, **args: Any) -> RequestFinished:
    session = Session(ScriptedBackend([call(tool, **args), answer("done")]), load_builtin_tools(), safety)
    finished = list(session.run(request, approver=lambda step: True))[-1]
    assert isinstance(finished, RequestFinished)
    return finished


def assert_no_secret(finished: RequestFinished) -> None:
    shown = json.dumps(finished.to_json())
    leaked = [marker for marker in SECRET_MARKERS if marker in shown]
    assert not leaked, f"secret content came back: {leaked}"


@pytest.mark.parametrize("name", ["*", ".*", "*.key", "*.pem", ".pgpass", ".netrc", "config", "known_hosts",
                                  "gpg.conf"])
def test_search_never_returns_a_line_of_a_secret_file(home: Path, safety: Safety, name: str) -> None:
    """files.search over home, whatever name filter, never returns a line of a secret file (nor enters ~/.ssh or
    ~/.gnupg), and says how many it skipped; ordinary files are still searched."""
    finished = run(safety, f"search my home for {WORD}", "files.search", text=WORD, path="~", name=name)
    assert_no_secret(finished)
    step = finished.steps[0]
    assert step.status == "ok", step.result
    result = json.loads(step.result)
    if name in ("*", ".*", "*.key", "*.pem", ".pgpass", ".netrc"):  # the others only match inside hidden folders
        assert result["skipped_secret"] >= 1 and "skipped" in result["note"] and "secret" in result["note"]


def test_search_still_finds_ordinary_files(home: Path, safety: Safety) -> None:
    """Skipping secrets does not skip the rest: the notes' line is found and the secret files are counted."""
    result = json.loads(run(safety, f"search my home for {WORD}", "files.search", text=WORD, path="~",
                            name="*").steps[0].result)
    assert [hit["path"] for hit in result["results"]] == ["~/proj/notes.txt"]
    assert result["skipped_secret"] == 2  # server.key and cert.pem; hidden folders are not walked for "*"


def test_search_with_hidden_names_skips_every_secret_kind(home: Path, safety: Safety) -> None:
    """With hidden names walked, ~/.pgpass and ~/.netrc are skipped and ~/.ssh, ~/.gnupg never entered."""
    result = json.loads(run(safety, f"search my home for {WORD}", "files.search", text=WORD, path="~",
                            name=".*").steps[0].result)
    assert result["matches"] == 0
    assert result["skipped_secret"] == 4  # .pgpass, .netrc, the .ssh and .gnupg folders


@pytest.mark.parametrize("relative", list(SECRET_FILES))
def test_search_aimed_at_one_secret_file_or_its_folder_returns_nothing(home: Path, safety: Safety,
                                                                        relative: str) -> None:
    """Searching a secret file itself, or the folder holding it, returns none of its lines."""
    for target in (relative, str(Path(relative).parent)):
        assert_no_secret(run(safety, f"search for {WORD}", "files.search", text=WORD, path=f"~/{target}"))


def test_search_through_a_symlink_to_a_secret_skips_it(home: Path, safety: Safety) -> None:
    """A link in an ordinary folder that leads to a secret file is judged where it leads."""
    (home / "proj" / "harmless.txt").symlink_to(home / ".ssh" / "config")
    (home / "proj" / "keys").symlink_to(home / ".gnupg")
    finished = run(safety, f"search my project for {WORD}", "files.search", text=WORD, path="~/proj")
    assert_no_secret(finished)


@pytest.mark.parametrize(("tool", "extra"), [("files.read", {}), ("files.hash", {})])
@pytest.mark.parametrize("relative", list(SECRET_FILES))
def test_single_file_readers_never_return_a_secret(home: Path, safety: Safety, tool: str, extra: dict[str, Any],
                                                   relative: str) -> None:
    """files.read and files.hash on a secret file (named, or through a link) return neither content nor hash."""
    link = home / "proj" / "innocent.txt"
    link.symlink_to(home / relative)
    for path in (f"~/{relative}", "~/proj/innocent.txt"):
        finished = run(safety, f"read {path}", tool, path=path, **extra)
        assert_no_secret(finished)
        assert finished.steps[0].status in ("denied", "error"), finished.steps[0].result
    link.unlink()


@pytest.mark.parametrize("destination", ["~/out.zip", "~/out.tar", "~/out.tar.gz"])
def test_archive_leaves_secret_files_out_and_says_so(home: Path, safety: Safety, destination: str) -> None:
    """files.archive of a folder holding secrets packs the rest and leaves the secrets out (an archive would carry
    a key out under a name the secret rules no longer see), counting them."""
    finished = run(safety, "archive the folder", "files.archive", source="~/proj", destination=destination)
    step = finished.steps[0]
    assert step.status == "ok", step.result
    assert json.loads(step.result)["skipped_secret"] == 2
    archive = home / destination[2:]
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as packed:
            names = packed.namelist()
            content = b"".join(packed.read(name) for name in names if not name.endswith("/"))
    else:
        with tarfile.open(archive) as packed:
            names = packed.getnames()
            content = b"".join(packed.extractfile(member).read()  # type: ignore[union-attr]
                               for member in packed.getmembers() if member.isfile())
    assert "proj/notes.txt" in names
    assert not any(marker.encode() in content for marker in SECRET_MARKERS)


def test_archive_of_home_with_hidden_folders_never_packs_ssh_or_gnupg(home: Path, safety: Safety) -> None:
    """Archiving a folder that holds ~/.ssh-like secret folders packs none of their files."""
    (home / "stuff").mkdir()
    (home / "stuff" / "a.txt").write_text("a\n")
    (home / "stuff" / "id.pem").write_text("PEMBYTES\n")
    finished = run(safety, "archive the folder", "files.archive", source="~/stuff", destination="~/stuff.tar")
    assert finished.steps[0].status == "ok", finished.steps[0].result
    with tarfile.open(home / "stuff.tar") as packed:
        assert packed.getnames() == ["stuff", "stuff/a.txt"]


def test_search_outside_a_session_uses_the_default_profiles_rules(home: Path) -> None:
    """A tool called with no session (no policy at hand) still skips secrets: the default profile's rules."""
    result = search_text(WORD, path=str(home), name=".*")
    assert result["matches"] == 0 and result["skipped_secret"] == 4
    with pytest.raises(ToolError, match="secret"):
        search_text(WORD, path=str(home / ".ssh"))


def test_find_lists_secret_names_but_never_enters_secret_folders(home: Path, safety: Safety) -> None:
    """files.find may name a secret file outside secret folders (as ls would); it never lists inside ~/.ssh or
    ~/.gnupg, which files.list refuses too, and says it skipped them."""
    finished = run(safety, "find files", "files.find", path="~", name=".*")
    result = json.loads(finished.steps[0].result)
    table = result["results"]
    paths = [row[table["columns"].index("path")] for row in table["rows"]]
    assert "~/.ssh" in paths and "~/.pgpass" in paths
    assert not any(path.startswith(("~/.ssh/", "~/.gnupg/")) for path in paths)
    assert result["skipped_secret"] == 2
    listed = run(safety, "list files", "files.list", path="~/.ssh")
    assert listed.steps[0].status == "denied"
