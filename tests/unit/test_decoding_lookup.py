"""Prompt lookup drafts: the tokens that followed the latest earlier occurrence of the last three tokens."""

from __future__ import annotations

from llmos.models.decoding import _lookup_draft


def test_draft_continues_the_latest_earlier_occurrence() -> None:
    """`7 8 9` occurred twice before the end; the draft is what followed the later one, cut to the limit."""
    context = [7, 8, 9, 1, 2, 5, 7, 8, 9, 3, 4, 6, 6, 7, 8, 9]
    assert _lookup_draft(context, 4) == [3, 4, 6, 6]
    assert _lookup_draft(context, 2) == [3, 4]


def test_no_draft_without_an_earlier_occurrence_or_room() -> None:
    """An unseen tail, a context shorter than the key, or no room left: no draft."""
    assert _lookup_draft([1, 2, 3, 4, 5, 6], 4) == []
    assert _lookup_draft([1, 2], 4) == []
    assert _lookup_draft([7, 8, 9, 1, 7, 8, 9], 0) == []


def test_draft_stops_at_the_end_of_the_context() -> None:
    """An occurrence right before the tail yields only the tokens that exist after it."""
    assert _lookup_draft([5, 5, 5, 5], 4) == [5]
