"""Issue 14's examples, each through the real default model and the installed `llmos-ask`: answers state only
what the tools returned, outcomes are said by llmos, and piped data of any size is counted, not guessed.

Each test names the wrong answer the 1.5B model gave before (in its docstring) and pins the right one. Decoding is
greedy, so each outcome is repeatable on a given build.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from llmos.evals.piped_inputs import GeneratedInput, InputKind, write_generated_input
from realmodel import DEFAULT_MODEL, AskResult, isolated_llmos_env

pytestmark = pytest.mark.model

Ask = Callable[..., AskResult]


@pytest.fixture
def answers_home(real_home: Path) -> Path:
    """The real-model HOME plus an ISO in Downloads and a 4-line CSV in Documents."""
    (real_home / "Downloads" / "ubuntu-24.04-desktop.iso").write_bytes(b"\0" * 4096)
    (real_home / "Documents" / "expenses.csv").write_text(
        "date,description,amount\n2024-04-02,coffee beans,14.50\n2024-04-05,train ticket,32.00\n"
        "2024-04-09,book,21.25\n")
    return real_home


@pytest.fixture
def ask_default(answers_home: Path, model_cache_home: Path, tmp_path: Path) -> Ask:
    """`llmos-ask` with the default model in the temp HOME; `stdin_file` pipes a file (any size) as a shell
    pipe would."""
    executable = Path(sys.executable).with_name("llmos-ask")

    def run(*args: str, stdin_file: Path | None = None) -> AskResult:
        env = {**os.environ, **isolated_llmos_env(answers_home, model_cache_home, tmp_path, model=DEFAULT_MODEL),
               "LLMOS_NO_DAEMON": "1"}
        with (open(stdin_file, "rb") if stdin_file else open(os.devnull, "rb")) as stdin:
            completed = subprocess.run([str(executable), *args], stdin=stdin, capture_output=True, env=env,
                                       cwd=answers_home, timeout=900)
        return AskResult(completed.returncode, completed.stdout.decode(), completed.stderr.decode())

    return run


def numbers_in(text: str) -> set[int]:
    return {int(found.replace(",", "")) for found in re.findall(r"\d[\d,]*", text)}


def test_a_dry_run_never_says_the_file_was_deleted(ask_default: Ask, answers_home: Path) -> None:
    """Before: `--dry-run "delete the .iso file in ~/Downloads"` answered "The .tmp files in ~/Downloads have been
    deleted.", exit 0. Now the answer says nothing changed and the ISO is still there."""
    payload = ask_default("--json", "--dry-run", "delete the .iso file in ~/Downloads").only_json()
    assert (answers_home / "Downloads" / "ubuntu-24.04-desktop.iso").exists()
    assert payload["answer"].startswith("Dry run: nothing was changed."), payload["answer"]
    # Every sentence that says something was deleted must say it was not ("No files were deleted." is true).
    deletion_sentences = [sentence for sentence in re.split(r"(?<=[.!?])\s+|\n", payload["answer"])
                          if re.search(r"\b(?:have been|has been|were|was|got) deleted\b", sentence, re.IGNORECASE)]
    assert all(re.search(r"\b(?:no|not|nothing|none|never)\b|n't\b", sentence, re.IGNORECASE)
               for sentence in deletion_sentences), payload["answer"]


def test_no_input_says_nobody_was_asked(ask_default: Ask, answers_home: Path) -> None:
    """Before: `--no-input` answered "The user did not approve this step" although nobody was asked."""
    result = ask_default("--json", "--no-input", "delete the .iso file in ~/Downloads")
    payload = result.only_json()
    assert (answers_home / "Downloads" / "ubuntu-24.04-desktop.iso").exists()
    assert result.exit_code == 3, result.stderr
    assert "nobody could be asked" in payload["answer"] and "did not approve" not in payload["answer"]


def test_listing_the_pdfs_names_only_the_pdfs(ask_default: Ask) -> None:
    """Before: "list all the pdf files in Downloads" answered "There are 10 PDF files: big-video.mp4, holiday.jpg,
    ..., ubuntu-24.04-desktop.iso". Downloads holds one PDF."""
    payload = ask_default("--json", "list all the pdf files in Downloads").only_json()
    answer = payload["answer"]
    assert "invoice.pdf" in answer, answer
    assert not {"photo.jpg", "notes.txt", "setup.sh", "backup.zip", "ubuntu-24.04-desktop.iso"} & set(
        re.findall(r"[\w.-]+\.\w+", answer)), answer


def test_counting_the_lines_of_a_csv_counts_them(ask_default: Ask) -> None:
    """Before: "count the lines in ~/Documents/expenses.csv" answered "There are no lines" (there are 4)."""
    payload = ask_default("--json", "count the lines in ~/Documents/expenses.csv").only_json()
    assert 4 in numbers_in(payload["answer"]), payload
    assert "no lines" not in payload["answer"]


def test_the_hostname_is_the_hostname(ask_default: Ask) -> None:
    """Before: "what is the hostname of this machine?" answered "The hostname of this machine is ~."."""
    payload = ask_default("--json", "what is the hostname of this machine?").only_json()
    assert socket.gethostname() in payload["answer"], payload["answer"]
    assert not re.search(r"\bis ~", payload["answer"])


@pytest.mark.parametrize(("records", "tail_lines", "device", "errors"), [(300, None, "sdc", 6), (172, None, "sdd", 4),
                                                                          (172, 120, "sdd", 3)],
                         ids=["dmesg-300-lines", "dmesg-16k", "dmesg-16k-tail-120"])
def test_dmesg_sized_logs_fit_and_their_errors_are_counted(ask_default: Ask, tmp_path: Path, records: int,
                                                          tail_lines: int | None, device: str, errors: int) -> None:
    """Before: the README's `dmesg | llmos-ask "any disk errors?"` failed with exit 1, "the prompt needs 4095
    tokens plus 400 to reply, over the context of 4096"; a 16 KB log and its `tail -120` too. Now each fits,
    and the answer names the device and the exact number of errors."""
    log = tmp_path / "dmesg.txt"
    seed = 7 if records == 300 else 5
    write_generated_input(GeneratedInput(kind=InputKind.DMESG, records=records, seed=seed, tail_lines=tail_lines),
                          log)
    result = ask_default("--json", "how many disk I/O errors are in this log, and on which device?", stdin_file=log)
    assert result.exit_code == 0, result.stderr
    answer = result.only_json()["answer"]
    assert device in answer and errors in numbers_in(answer), answer


def test_a_200_mb_input_is_counted_exactly(ask_default: Ask, tmp_path: Path) -> None:
    """Before: 200 MB of piped lines was answered "209709200 lines", close to the byte count; the real count
    is about 12.3 million. Now the lines are counted."""
    data = tmp_path / "big.log"
    line = b"2024-05-14T09:00:00Z worker-3 INFO processed batch 0000 in 12 ms\n"
    repeats = 200 * 1024 * 1024 // len(line)
    with open(data, "wb") as out:
        block = line * 10_000
        for _ in range(repeats // 10_000):
            out.write(block)
        out.write(line * (repeats % 10_000))
    result = ask_default("--json", "how many lines is this?", stdin_file=data)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert repeats in numbers_in(payload["answer"]), payload["answer"]


@pytest.mark.parametrize(("kind", "records", "seed", "request_text", "expected"), [
    (InputKind.GIT_LOG, 600, 9, "how many commits since 2024-03-01?", "65"),
    (InputKind.USERS_JSON, 800, 2, "how many users are inactive?", "253"),
    (InputKind.PS_AUX, 280, 4, "which process uses the most memory?", "elasticsearch"),
], ids=["git-log-count", "json-count", "ps-top-memory"])
def test_a_piped_table_is_answered_by_a_query(ask_default: Ask, tmp_path: Path, kind: InputKind, records: int,
                                              seed: int, request_text: str, expected: str) -> None:
    """Before `stdin.sql`: "There have been no commits since 2024-03-01" (65), "There are no inactive users"
    (253), "the most memory-consuming process is root with 144 times". The model now writes a SELECT over the
    table llmos made of the input, and SQLite counts."""
    data = tmp_path / "input.txt"
    write_generated_input(GeneratedInput(kind=kind, records=records, seed=seed), data)
    result = ask_default("--json", request_text, stdin_file=data)
    assert result.exit_code == 0, result.stderr
    payload = result.only_json()
    assert [step["tool"] for step in payload["steps"]] == ["stdin.sql"], payload
    assert expected in payload["answer"].lower(), payload["answer"]
