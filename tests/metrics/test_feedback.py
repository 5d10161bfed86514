"""Feedback: NPS, comment sentiment and themes (metrics.md § Feedback and support)."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.metrics.feedback import (
    DEFAULT_THEMES,
    comment_sentiment,
    comment_themes,
    nps,
    nps_by_month,
    nps_by_persona,
    nps_by_stage,
    nps_interval,
    sentiment_by_stage,
)

UTC = dt.UTC
TS = pl.Datetime("us", "UTC")
SURVEY_SCHEMA = {
    "response_id": pl.String,
    "account_id": pl.String,
    "responded_at": TS,
    "score": pl.Int64,
    "stage": pl.String,
    "touchpoint": pl.String,
    "comment": pl.String,
}


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def surveys(rows):
    """rows: (account_id, responded_at, score, stage, comment)."""
    return pl.DataFrame(
        [(f"r{i}", a, t, s, st_, None, c) for i, (a, t, s, st_, c) in enumerate(rows)],
        schema=SURVEY_SCHEMA,
        orient="row",
    )


JAN = ts(2024, 1, 15)

# The vendor example: 10 responses, 30 % promoters, 50 % passives, 20 % detractors → +10.
VENDOR = surveys(
    [("a", JAN, s, "retention", None) for s in (9, 10, 10, 7, 8, 7, 8, 7, 0, 6)]
    + [
        ("a", JAN, None, "retention", "no score"),  # no score: not a response
        ("a", ts(2023, 12, 31, 23, 59), 0, "retention", None),  # before the period
        ("a", ts(2024, 2, 1), 0, "retention", None),  # after the period
    ]
)


def test_nps_vendor_example(constructor):
    out = nps(constructor(VENDOR), period=("2024-01", "2024-01"))
    assert out == {
        "score": pytest.approx(10.0),
        "responses": 10,
        "promoters": 3,
        "passives": 5,
        "detractors": 2,
    }


def test_nps_without_responses_is_null(constructor):
    out = nps(constructor(VENDOR), period=("2022-01", "2022-12"))
    assert out == {"score": None, "responses": 0, "promoters": 0, "passives": 0, "detractors": 0}


def test_nps_by_month_lists_every_month(constructor):
    # Dec: one detractor → -100; Jan: vendor +10; Feb: one detractor → -100; Mar: none → null.
    out = nps_by_month(constructor(VENDOR), period=("2023-12", "2024-03"))
    assert out.select("month", "score", "responses").rows() == [
        ("2023-12", -100.0, 1),
        ("2024-01", pytest.approx(10.0), 10),
        ("2024-02", -100.0, 1),
        ("2024-03", None, 0),
    ]


def test_nps_by_stage_template_order_then_unknown_alphabetically(constructor):
    data = surveys(
        [
            ("a", JAN, 10, "retention", None),
            ("a", JAN, 3, "zzz_custom", None),
            ("a", JAN, 9, "aaa_custom", None),
            ("a", JAN, 0, "onboarding", None),
            ("a", JAN, 8, "onboarding", None),
            ("a", JAN, None, "awareness", "comment only"),  # no scored response: not listed
            ("a", JAN, 10, None, None),  # no stage: left out
        ]
    )
    out = nps_by_stage(
        constructor(data),
        period=("2024-01", "2024-01"),
        stage_order=["awareness", "onboarding", "retention"],
    )
    assert out.rows() == [
        ("onboarding", -50.0, 2, 0, 1, 1),
        ("retention", 100.0, 1, 1, 0, 0),
        ("aaa_custom", 100.0, 1, 1, 0, 0),
        ("zzz_custom", -100.0, 1, 0, 0, 1),
    ]
    assert out.columns == ["stage", "score", "responses", "promoters", "passives", "detractors"]


def test_nps_by_persona(constructor):
    data = surveys(
        [
            ("a", JAN, 10, None, None),
            ("a", JAN, 5, None, None),
            ("b", JAN, 9, None, None),
            ("c", JAN, 2, None, None),  # account without persona
            (None, JAN, 7, None, None),  # anonymous response
        ]
    )
    acc = pl.DataFrame({"account_id": ["a", "b", "c"], "persona": ["smb", "enterprise", None]})
    out = nps_by_persona(constructor(data), constructor(acc), period=("2024-01", "2024-01"))
    # smb: 1 promoter, 1 detractor → 0; enterprise: +100; null persona: c (det) + anon (pas) → -50.
    assert out.select("persona", "score", "responses").rows() == [
        ("enterprise", 100.0, 1),
        ("smb", 0.0, 2),
        (None, -50.0, 2),
    ]


def test_nps_interval_hand_computed():
    # p = 0.3, d = 0.2, n = 100: SE = 100 × sqrt((0.5 − 0.01) / 100) = 7 points.
    low, high = nps_interval(30, 50, 20)
    assert low == pytest.approx(10 - 1.959963984540054 * 7)
    assert high == pytest.approx(10 + 1.959963984540054 * 7)
    assert nps_interval(0, 0, 0) == (None, None)
    assert nps_interval(5, 0, 0) == (100.0, 100.0)
    low, high = nps_interval(1, 0, 1)  # SE = 100 × sqrt(1 / 2) → clipped to the scale
    assert (low, high) == (-100.0, 100.0)


# ---------------------------------------------------------------- sentiment
def test_comment_sentiment_lexicon_and_negation(constructor):
    data = surveys(
        [
            ("a", JAN, 9, "onboarding", "Great product, I love it!"),  # +2 → 1
            ("a", JAN, 3, "onboarding", "Not good."),  # negated → -1
            ("a", JAN, 7, "onboarding", "It's not bad at all"),  # negated negative → +1
            ("a", JAN, 5, "onboarding", "Easy to set up but slow and buggy"),  # 1 − 2 → -1/3
            ("a", JAN, 6, "onboarding", "Support didn't help"),  # no lexicon word (help ≠ helpful)
            ("a", JAN, 8, "onboarding", "Isn't slow, but great"),  # the comma ends the negation
            ("a", JAN, 8, "onboarding", "   "),  # blank → null
            ("a", JAN, 8, "onboarding", None),
        ]
    )
    out = comment_sentiment(constructor(data))
    assert out.columns == [*SURVEY_SCHEMA, "sentiment"]
    assert out["response_id"].to_list() == [f"r{i}" for i in range(8)]
    assert out["sentiment"].to_list() == pytest.approx(
        [1.0, -1.0, 1.0, -1 / 3, 0.0, 1.0, None, None]
    )


def test_sentiment_by_stage_with_interval(constructor):
    data = surveys(
        [
            ("a", JAN, 9, "adoption", "great"),
            ("a", JAN, 9, "adoption", "awful"),
            ("a", JAN, 9, "adoption", "love it"),
            ("a", JAN, 9, "onboarding", "confusing"),
            ("a", JAN, 9, "onboarding", None),  # no comment: not counted
            ("a", JAN, 9, None, "great"),  # no stage: left out
            ("a", ts(2024, 3, 1), 9, "onboarding", "great"),  # outside the period
        ]
    )
    out = sentiment_by_stage(
        constructor(data), period=("2024-01", "2024-02"), stage_order=["onboarding", "adoption"]
    )
    # adoption: [1, -1, 1] → mean 1/3, s = sqrt(4/3), half = 1.96 × s / sqrt(3) = 1.96 × 2/3.
    half = 1.959963984540054 * math.sqrt(4 / 3) / math.sqrt(3)
    assert out["stage"].to_list() == ["onboarding", "adoption"]
    assert out.row(0) == ("onboarding", -1.0, 1, None, None)
    stage, mean, n, low, high = out.row(1)
    assert (stage, n) == ("adoption", 3)
    assert mean == pytest.approx(1 / 3)
    assert low == pytest.approx(1 / 3 - half)
    assert high == 1.0  # 1/3 + 1.31 clipped


# ---------------------------------------------------------------- themes
def test_comment_themes_counts_and_mean_score(constructor):
    data = surveys(
        [
            ("a", JAN, 9, "onboarding", "Setup was easy, great docs"),
            ("a", JAN, 2, "onboarding", "Too expensive and the setup took weeks"),
            ("a", JAN, 6, "onboarding", "Integrations with Slack are missing"),
            ("a", JAN, None, "retention", "Billing portal is slow"),
            ("a", JAN, 4, "retention", "Reports crash all the time"),
            ("a", JAN, 10, "retention", None),  # no comment
        ]
    )
    out = comment_themes(constructor(data), stage_order=["onboarding", "retention"])
    assert out.columns == ["stage", "theme", "mentions", "comments", "share", "mean_score"]
    assert out.height == 2 * len(DEFAULT_THEMES)
    got = {
        (r["stage"], r["theme"]): (r["mentions"], r["comments"], r["mean_score"])
        for r in out.iter_rows(named=True)
        if r["mentions"]
    }
    assert got == {
        ("onboarding", "onboarding_setup"): (2, 3, 5.5),
        ("onboarding", "usability"): (1, 3, 9.0),
        ("onboarding", "pricing_billing"): (1, 3, 2.0),
        ("onboarding", "integrations"): (1, 3, 6.0),
        ("retention", "pricing_billing"): (1, 2, None),  # the one mention has no score
        ("retention", "performance_speed"): (1, 2, None),
        ("retention", "reporting"): (1, 2, 4.0),
        ("retention", "bugs_reliability"): (1, 2, 4.0),
    }
    assert out["stage"].to_list()[: len(DEFAULT_THEMES)] == ["onboarding"] * len(DEFAULT_THEMES)


def test_comment_themes_custom_and_word_start(constructor):
    data = surveys([("a", JAN, 8, "s1", "the API rocks"), ("a", JAN, 8, "s1", "rapid growth")])
    out = comment_themes(constructor(data), themes={"api": ["api"]})
    # "rapid" contains "api" but not at a word start.
    assert out.rows() == [("s1", "api", 1, 2, 0.5, 8.0)]


def test_comment_themes_whole_word_keyword(constructor):
    data = surveys(
        [
            ("a", JAN, 8, "s1", "It is important"),
            ("a", JAN, 3, "s1", "CSV import fails"),
            ("a", JAN, 5, "s1", "Import."),
        ]
    )
    out = comment_themes(constructor(data), themes={"io": ["import "], "empty": []})
    assert out.rows() == [
        ("s1", "io", 2, 3, pytest.approx(2 / 3), 4.0),
        ("s1", "empty", 0, 3, 0.0, None),
    ]


# ---------------------------------------------------------------- properties
@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 10)), max_size=40))
def test_nps_in_range(scores):
    data = surveys([("a", JAN, s, "x", None) for s in scores])
    out = nps(data, period=("2024-01", "2024-01"))
    n = sum(s is not None for s in scores)
    assert out["responses"] == n
    assert out["promoters"] + out["passives"] + out["detractors"] == n
    if n:
        assert -100 <= out["score"] <= 100
        low, high = nps_interval(out["promoters"], out["passives"], out["detractors"])
        assert -100 <= low <= out["score"] <= high <= 100
    else:
        assert out["score"] is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="ab gondtslw,.!'", max_size=40), max_size=10))
def test_sentiment_in_range(comments):
    data = surveys([("a", JAN, 5, "x", c) for c in comments])
    out = comment_sentiment(data)["sentiment"].drop_nulls()
    assert out.is_between(-1, 1).all()
