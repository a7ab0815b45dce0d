"""What llmos finds in a piped log by itself (`llmos.tools.piped.digest`): known problems by signature, counted
per device or program, and error messages counted with their ids masked; shown to the model as llmos's note."""

from __future__ import annotations

import pytest
from fakes import AllowReadOnlyPolicy, ScriptedBackend, answer, call
from llmos.evals.piped_inputs import GeneratedInput, InputKind, generated_chunks
from llmos.tools import load_builtin_tools
from llmos.tools.piped import DocumentView, PipedDocument
from llmos.tools.piped.digest import error_message, findings_answer, log_findings

from llmos.session import Session


def findings_of(text: str) -> list[str]:
    with PipedDocument.from_text(text) as document:
        return log_findings(DocumentView(document))


def generated(kind: InputKind, records: int, seed: int, tail_lines: int | None = None) -> str:
    spec = GeneratedInput(kind=kind, records=records, seed=seed, tail_lines=tail_lines)
    return "".join(generated_chunks(spec))


@pytest.mark.parametrize(("records", "seed", "tail", "expected"), [
    (300, 7, None, "disk I/O errors: 6 lines, all on sdc (lines 73 to 271)"),
    (172, 5, None, "disk I/O errors: 4 lines, all on sdd (lines 42 to 170)"),
    (172, 5, 120, "disk I/O errors: 3 lines, all on sdd (lines 48 to 118)"),
])
def test_disk_errors_among_kernel_noise_are_counted_per_disk(records: int, seed: int, tail: int | None,
                                                             expected: str) -> None:
    """The eval's dmesg inputs (their errors counted independently in test_eval_stdin_tasks): the I/O errors
    stand apart from the ACPI and temperature lines around them, first among the findings."""
    findings = findings_of(generated(InputKind.DMESG, records, seed, tail))
    assert findings[0] == expected
    assert any(finding.startswith("firmware (ACPI) errors: ") for finding in findings)


@pytest.mark.parametrize(("line", "finding"), [
    ("[ 5.1] blk_update_request: I/O error, dev sdb, sector 2048 op 0x0:(READ)", "disk I/O errors: 1 line, on sdb"),
    ("[ 5.1] Buffer I/O error on dev nvme0n1p2, logical block 0", "disk I/O errors: 1 line, on nvme0n1p2"),
    ("[ 5.1] EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2", "disk I/O errors: 1 line, on sda1"),
    ("[ 5.1] sd 0:0:0:0: [sdb] tag#3 FAILED Result: hostbyte=DID_OK", "disk I/O errors: 1 line, on sdb"),
    ("[ 5.1] ata1.00: failed command: READ FPDMA QUEUED", "ATA link errors: 1 line, on ata1"),
    ("[ 5.1] Out of memory: Killed process 4242 (firefox) total-vm:123kB", "out-of-memory kills: 1 line, on firefox"),
    ("[ 5.1] chrome[3321]: segfault at 0 ip 00007f sp 00007ffd error 4", "segfaults: 1 line, on chrome"),
    ("[ 5.1] EXT4-fs (sda2): Remounting filesystem read-only", "filesystems remounted read-only: 1 line, on sda2"),
    ("[ 5.1] nfs: server nas.lan not responding, still trying", "NFS server timeouts: 1 line, on nas.lan"),
    ("[ 5.1] CPU3: Package temperature above threshold, cpu clock throttled", "CPU temperature warnings: 1 line, "
                                                                              "on CPU3"),
    ("[ 5.1] e1000e: eno1: Link is Down", "network links going down: 1 line, on eno1"),
    ("[ 5.1] usb 1-2: USB disconnect, device number 5", "USB disconnects: 1 line, on 1-2"),
])
def test_each_known_problem_is_recognised_with_its_subject(line: str, finding: str) -> None:
    ordinary = "[ 1.0] usb 1-1: new high-speed USB device number 4 using xhci_hcd\n"
    assert findings_of(ordinary * 5 + line + "\n") == [f"{finding} (line 6)"]


def test_an_application_logs_errors_are_counted_by_message_whatever_their_ids() -> None:
    """Levels are counted in the level's own column (the word ERROR inside a message is not a level), and one
    message from many workers, loggers and requests is one message: the most common is found."""
    findings = findings_of(generated(InputKind.APP_LOG, 20_000, 7))
    assert len(findings) == 1
    assert findings[0].startswith("lines per level: ERROR ")
    assert 'most common error messages (numbers and ids as #): "upstream timed out after # ms (payments-gateway)"' \
        in findings[0]
    assert error_message("[worker-13] auth.session request_id=f1263423880b certificate verify failed for "
                         "https://auth.internal.example:8443") == \
        "certificate verify failed for https://auth.internal.example:#"


@pytest.mark.parametrize("text", [
    "the quick brown fox\njumps over the lazy dog\n",
    generated(InputKind.ACCESS_LOG, 500, 3),
    "INFO started\nINFO ready\nINFO done\n",
])
def test_data_without_known_problems_or_warnings_gets_no_findings(text: str) -> None:
    assert findings_of(text) == []


def test_the_session_shows_the_findings_beside_the_data_and_an_answer_may_state_them() -> None:
    """The findings are llmos's note after the data block (not inside it, where piped text could forge one),
    and an answer that states them is grounded."""
    log = generated(InputKind.DMESG, 300, 7)
    backend = ScriptedBackend([call("stdin.search", pattern="I/O error"), answer("Yes: 6 I/O errors, all on sdc.")])
    outcome = list(Session(backend, load_builtin_tools(), AllowReadOnlyPolicy()).run(
        "which disk is failing, and how badly?", stdin_data=log))[-1]
    note = backend.calls[0].conversation.split("</data>", 1)[1]
    assert "llmos counted these in all of the piped data:\n- disk I/O errors: 6 lines, all on sdc" in note
    assert outcome.answer == "Yes: 6 I/O errors, all on sdc." and outcome.answer_source == "model"


def test_a_python_traceback_says_the_exception_and_the_code_line_that_raised_it() -> None:
    """Shown a four-line traceback, the 1.5B model gave the piped line of the failing statement (4), not the
    code's line (42). Several tracebacks are counted by exception, the last one described."""
    traceback = ('Traceback (most recent call last):\n  File "/srv/app/main.py", line 9, in <module>\n    run()\n'
                 '  File "/srv/app/views.py", line 42, in index\n    user = session["user_id"]\n'
                 "KeyError: 'user_id'\n")
    assert findings_of("starting\n" + traceback) == [
        "Python exception KeyError: 'user_id', raised in /srv/app/views.py at line 42 (in index)"]
    other = traceback.replace("KeyError: 'user_id'", "ValueError: bad port").replace("line 42", "line 7")
    assert findings_of(traceback + "retrying\n" + traceback + other) == [
        "Python tracebacks: 3 (KeyError (2), ValueError (1)); the last: ValueError: bad port, raised in "
        "/srv/app/views.py at line 7 (in index) (piped line 19)"]


def test_with_findings_the_model_may_answer_an_excerpt_at_once_without_them_it_must_read() -> None:
    """A log shown as an excerpt must first be read with a stdin tool, unless llmos's findings (counted over all
    of it) were shown beside the excerpt."""
    dmesg = generated(InputKind.DMESG, 300, 7)
    access = generated(InputKind.ACCESS_LOG, 500, 3)
    for log, may_answer in ((dmesg, True), (access, False)):
        backend = ScriptedBackend([call("stdin.stats"), answer("ok")])
        list(Session(backend, load_builtin_tools(), AllowReadOnlyPolicy()).run("what happened after boot?",
                                                                              stdin_data=log))
        assert "[Piped data:" in backend.calls[0].conversation  # shown as an excerpt
        assert ("answer" in backend.calls[0].offered_tools) is may_answer


TRACEBACK = ('Traceback (most recent call last):\n  File "/srv/app/views.py", line 42, in index\n'
             '    user = session["user_id"]\n'
             "KeyError: 'user_id'\n")


@pytest.mark.parametrize(("request_text", "answers"), [
    ("what went wrong here and on which line?", True),
    ("why did it crash?", True),
    ("what's the error?", True),
    ("what went wrong on line 42?", True),
    # A number the finding does not hold, or a question it does not cover, goes to the model.
    ("what went wrong on line 80?", False),
    ("how many lines is this?", False),
    ("summarise this", False),
])
def test_a_traceback_answers_what_went_wrong_and_where(request_text: str, answers: bool) -> None:
    """Given the traceback's finding in a note, the 1.5B model still answered "line 4" (the piped line): an
    exception is what "what went wrong", "why did it crash" and "what's the error" ask, so the finding is the
    answer."""
    answer_text = findings_answer(request_text, findings_of(TRACEBACK))
    assert (answer_text is not None and "KeyError" in answer_text and "line 42" in answer_text) is answers


@pytest.mark.parametrize(("request_text", "answered"), [
    ("any disk errors?", "Yes. llmos read all of the input and found:\n- disk I/O errors: 6 lines, all on sdc"),
    ("any errors in this log?", "Yes. llmos read all of the input and found:\n- disk I/O errors: 6 lines"),
    ("how many lines mention sdc?", None),
    ("what went wrong on line 80?", None),
    ("delete the log if it has disk errors", None),
])
def test_findings_that_answer_the_request_are_the_answer(request_text: str, answered: str | None) -> None:
    """Every word the request asks about is in a finding: llmos answers from its findings, without the model
    (given them, the model kept the count and dropped the disk). A question they do not cover, or a change, goes
    to the model."""
    backend = ScriptedBackend([call("stdin.stats"), answer("from the model")])
    log = generated(InputKind.DMESG, 300, 7)
    outcome = list(Session(backend, load_builtin_tools(), AllowReadOnlyPolicy()).run(request_text,
                                                                                   stdin_data=log))[-1]
    if answered is None:
        assert outcome.answer_source == "model" and backend.calls
    else:
        assert outcome.answer is not None and outcome.answer.startswith(answered)
        assert outcome.answer_source == "rendered" and backend.calls == [] and outcome.steps == []


def test_an_answer_about_piped_data_is_checked_even_with_no_step() -> None:
    """The model answered a log from the data alone and put the errors "in ~/Downloads": with piped data, an
    answer is checked against it (and llmos's findings) though no tool ran, and replaced by the findings."""
    backend = ScriptedBackend([answer("There are 6 disk errors in ~/Downloads.")])
    outcome = list(Session(backend, load_builtin_tools(), AllowReadOnlyPolicy()).run(
        "which disk is failing, and how badly?", stdin_data=generated(InputKind.DMESG, 300, 7)))[-1]
    assert outcome.steps == [] and outcome.ungrounded == ["~/Downloads"]
    assert outcome.answer is not None and outcome.answer.startswith(
        "llmos read all of the input and found:\n- disk I/O errors: 6 lines, all on sdc")


def test_findings_over_part_of_an_input_say_so_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the digest's byte cap, every finding says it counted only the first part: a bare count would be
    stated as the whole input's."""
    import llmos.tools.piped.digest as digest

    monkeypatch.setattr(digest, "MAX_DIGEST_BYTES", 1 << 20)
    findings = findings_of(generated(InputKind.DMESG, 40_000, 7))  # about 3.6 MB
    assert findings and all(finding.startswith("in the first 1 MB only: ") for finding in findings)


def test_uptimes_load_averages_are_read_out_with_their_periods() -> None:
    """`uptime | llmos-ask "what's the 15 minute load average?"`: the three figures are over 1, 5 and 15
    minutes in that order (the model gave the first), and the findings answer the question."""
    findings = findings_of(" 14:02:11 up 6 days,  3:17,  2 users,  load average: 3.12, 2.80, 2.55\n")
    assert findings == ["load average over the last 1 minute: 3.12, 5 minutes: 2.80, 15 minutes: 2.55; "
                        "up 6 days,  3:17; 2 users logged in"]
    answered = findings_answer("what's the 15 minute load average here?", findings)
    assert answered is not None and "15 minutes: 2.55" in answered
