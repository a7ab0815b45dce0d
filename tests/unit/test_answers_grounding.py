"""ungrounded_facts: the facts an answer states that no tool result (nor the request) holds, with the issue's
wrong answers caught and ordinary restatements (separators, rounding, human sizes, joined paths) let through."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llmos.tools._format import human_size

from llmos.answers import ungrounded_facts

DOWNLOADS = json.dumps({
    "path": "~/Downloads", "files": 10, "folders": 0, "links": 0, "count": 10, "total_size": "5.1 GB",
    "files_by_type": {"pdf": 3, "iso": 1, "jpg": 2, "mp4": 1, "txt": 3},
    "entries": {"columns": ["name", "type", "size"], "rows": [
        ["a.pdf", "file", "12.0 KB"], ["b.pdf", "file", "1.5 MB"], ["big-video.mp4", "file", "1.2 GB"],
        ["c.pdf", "file", "80 B"], ["holiday.jpg", "file", "2.3 MB"], ["ubuntu-24.04-desktop.iso", "file", "3.9 GB"],
    ]},
})
EXPENSES = json.dumps({"path": "~/Documents/expenses.csv", "size": "82 B", "truncated": False, "lines": 4,
                       "content": "date,what,amount\n2024-01-05,Coffee,3.50\n2024-01-06,Lunch,12.00\n"
                                  "2024-01-07,Bus,2.40"})
SYSTEM = json.dumps({"os": "Debian GNU/Linux 12 (bookworm); Linux 6.1.0 x86_64", "hostname": "kestrel",
                     "uptime": "3 days, 4:05", "cpu": {"model": "AMD EPYC", "cores": 8, "percent": 12.3},
                     "memory": {"percent": 41.2, "human": "6.5 GB used of 15.6 GB, 9.1 GB available"}})
MEMORY = json.dumps({"memory": {"total": 16_752_345_088, "used": 6_979_321_856, "available": 9_773_023_232,
                                "percent": 41.7}})


# -- the answers --------------------------------------------------------------------------------------


def test_wrong_count_and_wrong_kind_of_pdf_files_are_caught() -> None:
    """ "10 PDF files: big-video.mp4, ..." over a listing with 3 PDFs: the count and every non-PDF name fail."""
    answer = "There are 10 PDF files: big-video.mp4, holiday.jpg, ubuntu-24.04-desktop.iso."
    assert ungrounded_facts(answer, "list all the pdf files in Downloads", [DOWNLOADS]) == [
        "10 PDF files", "big-video.mp4 (not a PDF file)", "holiday.jpg (not a PDF file)",
        "ubuntu-24.04-desktop.iso (not a PDF file)"]


def test_no_lines_for_a_counted_file_is_caught() -> None:
    """ "There are no lines" when the result counts 4 lines fails; "4 lines" passes."""
    request = "count the lines in ~/Documents/expenses.csv"
    assert ungrounded_facts("There are no lines.", request, [EXPENSES]) == ["no lines"]
    assert ungrounded_facts("~/Documents/expenses.csv has 4 lines.", request, [EXPENSES]) == []


def test_tilde_or_a_placeholder_given_as_a_value_is_caught() -> None:
    """ "The hostname is ~." and "<hostname>" state no value a result holds; the real hostname passes."""
    request = "what is the hostname of this machine?"
    assert ungrounded_facts("The hostname of this machine is ~.", request, [SYSTEM]) == ["~"]
    assert ungrounded_facts("The hostname is <hostname>.", request, [SYSTEM]) == ["<hostname>"]
    assert ungrounded_facts("The hostname is {hostname}.", request, [SYSTEM]) == ["{hostname}"]
    assert ungrounded_facts("The hostname of this machine is kestrel.", request, [SYSTEM]) == []


def test_tilde_is_grounded_when_a_result_names_the_home_folder() -> None:
    """A listing of `~` makes "~" a value the answer may state."""
    listing = json.dumps({"path": "~", "files": 0, "folders": 0, "links": 0, "entries": []})
    assert ungrounded_facts("~ is empty.", "ls ~", [listing]) == []


# -- numbers --------------------------------------------------------------------------------------------------


def test_invented_numbers_and_pids_are_caught() -> None:
    """A number no result holds fails, a pid is reported as one."""
    processes = json.dumps({"total": 90, "processes": [{"pid": 4321, "name": "make"}]})
    assert ungrounded_facts("make (pid 4322) is one of 91 processes.", "top", [processes]) == ["pid 4322", "91"]
    assert ungrounded_facts("make (pid 4321) is one of 90 processes.", "top", [processes]) == []


@pytest.mark.parametrize("answer", [
    "There are 12,345 lines.", "There are 12345 lines.", "It has 12,345.0 lines.",
])
def test_thousands_separators_and_trailing_zeros_are_the_same_number(answer: str) -> None:
    """ "12,345" and "12,345.0" are 12345."""
    assert ungrounded_facts(answer, "count", ['{"lines": 12345}']) == []


def test_percentages_may_round_and_may_be_the_complement() -> None:
    """41.2% in use may be said as "41%" or as "58.8% free"; "45%" fails."""
    assert ungrounded_facts("Memory is 41% used, 58.8% free.", "memory", [SYSTEM]) == []
    assert ungrounded_facts("Memory is 45% used.", "memory", [SYSTEM]) == ["45%"]


def test_sizes_match_the_human_form_in_any_spelling() -> None:
    """ "9.1 GB", "9.1GB", "9.1 gigabytes" and "9 GB" restate 9.1 GB; "12 GB" does not."""
    for answer in ("9.1 GB available", "9.1GB available", "9.1 gigabytes available", "about 9 GB available"):
        assert ungrounded_facts(answer, "memory", [SYSTEM]) == [], answer
    assert ungrounded_facts("12 GB available", "memory", [SYSTEM]) == ["12 GB"]


def test_sizes_match_raw_bytes_a_result_holds() -> None:
    """A result in bytes grounds the human size of those bytes."""
    assert ungrounded_facts(f"{human_size(9_773_023_232)} of 15.6 GB is free", "memory", [MEMORY]) == []


def test_request_numbers_years_dates_list_numbering_and_ordinals_are_not_facts_to_check() -> None:
    """What the request says, list numbering and ordinals never fail."""
    answer = ("Since 2023-03-01 the top 5 are:\n1. a.pdf\n2. b.pdf\n3. c.pdf\nThe 1st is the biggest; in 2023 "
              "you had 3 PDF files.")
    assert ungrounded_facts(answer, "top 5 pdfs since 2023-03-01", [DOWNLOADS]) == []


def test_dates_and_times_restated_from_an_iso_time_are_grounded() -> None:
    """ "2026-12-01 18:49" restates "2026-12-01T18:49:09"; another date fails."""
    uptime = '{"uptime": {"boot_time": "2026-12-01T18:49:09", "seconds": 273900, "human": "3 days, 4:05"}}'
    assert ungrounded_facts("Up 3 days 4 hours 5 minutes, since 2026-12-01 18:49.", "uptime", [uptime]) == []
    assert ungrounded_facts("Booted on 2026-11-30.", "uptime", [uptime]) == ["2026-11-30"]


def test_and_n_more_is_the_total_less_the_names_given() -> None:
    """ "a, b and 8 more" of 10 is grounded; "and 9 more" after two names is not."""
    assert ungrounded_facts("Files: a.pdf, b.pdf and 8 more.", "ls", [DOWNLOADS]) == []
    assert ungrounded_facts("Files: a.pdf, b.pdf and 9 more.", "ls", [DOWNLOADS]) == ["9"]


def test_number_words_before_a_plural_are_counts() -> None:
    """ "three PDF files" is checked like "3"; "one of them" is not a count."""
    assert ungrounded_facts("There are three PDF files; one of them is small.", "pdfs", [DOWNLOADS]) == []
    assert ungrounded_facts("There are seven PDF files.", "pdfs", [DOWNLOADS]) == ["seven PDF files"]


def test_numbers_inside_names_hashes_and_versions_are_not_numbers() -> None:
    """Digits inside a file name, a hash or a version belong to that token, which is checked whole."""
    digest = '{"path": "~/a.iso", "algorithm": "sha256", "hash": "9f2c07aa"}'
    assert ungrounded_facts("The sha256 of ~/a.iso is 9f2c07aa.", "hash", [digest]) == []
    assert ungrounded_facts("ubuntu-24.04-desktop.iso is there", "iso", [DOWNLOADS]) == []


# -- paths and names ------------------------------------------------------------------------------------------


def test_a_path_joined_from_a_listed_folder_and_name_is_grounded() -> None:
    """ "~/Downloads/a.pdf" over a listing of ~/Downloads naming a.pdf passes; an unlisted path fails."""
    assert ungrounded_facts("Open ~/Downloads/a.pdf.", "pdfs", [DOWNLOADS]) == []
    assert ungrounded_facts("Open ~/Downloads/z.pdf or /etc/passwd.", "pdfs", [DOWNLOADS]) == [
        "~/Downloads/z.pdf", "/etc/passwd"]


def test_file_names_not_in_any_result_are_caught() -> None:
    """A named file the results do not hold fails; case is not held against it; "e.g." is no file."""
    assert ungrounded_facts("e.g. A.PDF and report.docx", "pdfs", [DOWNLOADS]) == ["report.docx"]


def test_piped_data_and_several_results_all_ground() -> None:
    """Any result grounds a fact: a second step's result, or piped data the caller passes as a source."""
    dmesg = "[ 12.345] EXT4-fs error (device sda1): bad block 99812"
    answer = "sda1 reported bad block 99812; ~/Downloads holds 10 files."
    assert ungrounded_facts(answer, "any disk errors?", [DOWNLOADS, dmesg]) == []


def test_an_answer_without_facts_is_grounded_in_nothing() -> None:
    """Plain words with no numbers, paths or names need no result."""
    assert ungrounded_facts("Hello! How can I help?", "hi", []) == []


# -- properties -----------------------------------------------------------------------------------------------

_NAME = st.from_regex(r"[a-z][a-z0-9_-]{0,10}\.(pdf|txt|jpg|csv)", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(number=st.integers(min_value=0, max_value=10**12), data=st.data())
def test_any_number_copied_from_a_result_is_grounded(number: int, data: Any) -> None:
    """A count or a size copied from a result (plain, with separators, or as its human size) is grounded."""
    result = json.dumps({"count": number, "size": number, "size_human": human_size(number)})
    spelling = data.draw(st.sampled_from([str(number), f"{number:,}", human_size(number)]))
    assert ungrounded_facts(f"The answer is {spelling}.", "how many?", [result]) == []


@settings(max_examples=150, deadline=None)
@given(folder=st.from_regex(r"~(/[A-Za-z][A-Za-z0-9_-]{0,8}){0,3}", fullmatch=True), names=st.lists(_NAME, min_size=1,
                                                                                                     max_size=5))
def test_any_path_copied_or_joined_from_a_result_is_grounded(folder: str, names: list[str]) -> None:
    """A listed name, the folder, and the folder joined with a listed name are all grounded."""
    result = json.dumps({"path": folder, "entries": [{"name": name, "type": "file"} for name in names]})
    prefix = "" if folder.endswith("/") else "/"
    answer = f"In {folder}: {', '.join(names)}; first {folder}{prefix}{names[0]}."
    assert ungrounded_facts(answer, "list", [result]) == []


@settings(max_examples=100, deadline=None)
@given(claimed=st.integers(min_value=2, max_value=10**6), held=st.integers(min_value=2, max_value=10**6))
def test_a_number_no_result_holds_is_caught(claimed: int, held: int) -> None:
    """A count that differs from every number in the result and the request is reported."""
    if claimed == held:
        return
    result = json.dumps({"path": "~/x", "lines": held})
    assert ungrounded_facts(f"It has {claimed} lines.", "count the lines", [result]) == [str(claimed)]
