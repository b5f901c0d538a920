"""Stored error texts are cut at a word boundary, never mid-word."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from irpd.errors import clip

REFUSAL = "MoodysAuthenticationError: request rejected; POST /riskmodeler/v2/portfolios -> 401"


def test_short_text_is_kept_whole() -> None:
    assert clip(REFUSAL) == REFUSAL


def test_long_text_is_cut_after_a_whole_word() -> None:
    assert clip(REFUSAL, 40) == "MoodysAuthenticationError: request…"


def test_one_huge_word_is_cut_where_it_must_be() -> None:
    assert clip("x" * 50, 10) == "x" * 9 + "…"


@given(st.text(max_size=300), st.integers(min_value=2, max_value=200))
def test_never_longer_than_the_limit_and_a_prefix_of_the_text(text: str, limit: int) -> None:
    clipped = clip(text, limit)
    assert len(clipped) <= limit
    assert text.startswith(clipped.removesuffix("…"))
