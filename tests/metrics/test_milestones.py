"""Milestones: reached share, median days, 6-month retention by reaching; stuck accounts."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.config import Milestone
from journeylib.metrics.milestones import milestones, stuck_before

UTC = dt.UTC
TS = pl.Datetime("us", "UTC")


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def accounts(rows):
    return pl.DataFrame(
        rows, schema={"account_id": pl.String, "signup_at": TS, "persona": pl.String}, orient="row"
    )


def stream(rows):
    return pl.DataFrame(
        rows, schema={"account_id": pl.String, "event": pl.String, "timestamp": TS}, orient="row"
    )


def subs(rows):
    return pl.DataFrame(
        rows, schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64}, orient="row"
    )


def paid(account: str, months: range, mrr: float = 10.0) -> list[tuple]:
    return [(account, dt.date(2024, m, 1), mrr) for m in months]


ACCOUNTS = accounts(
    [
        ("a", ts(2024, 1, 1), "smb"),
        ("b", ts(2024, 1, 1), "smb"),
        ("c", ts(2024, 1, 10), "enterprise"),
        ("d", ts(2024, 1, 15), None),
        ("e", ts(2024, 2, 1), "smb"),
        ("x", ts(2023, 6, 1), "smb"),  # before the period
    ]
)
STREAM = stream(
    [
        ("a", "onboarding_completed", ts(2024, 1, 3)),  # +2 d
        ("a", "onboarding_completed", ts(2024, 1, 9)),  # later repeat: first one counts
        ("b", "onboarding_completed", ts(2024, 1, 5)),  # +4 d
        ("c", "onboarding_completed", ts(2024, 1, 9)),  # before signup: not reached
        ("e", "onboarding_completed", ts(2024, 2, 11)),  # +10 d
        ("x", "onboarding_completed", ts(2024, 1, 2)),
        ("d", "login", ts(2024, 3, 1)),
        (None, "onboarding_completed", ts(2024, 1, 2)),
    ]
)
SUBS = subs(
    paid("a", range(1, 8))  # s = Jan, paying in Jul (s + 6): retained
    + paid("b", range(1, 4))  # s = Jan, not paying in Jul: churned
    + [("b", dt.date(2024, 4, 1), 0.0)]
    + paid("c", range(2, 9))  # s = Feb, paying in Aug: retained
    + paid("e", range(4, 10))  # s = Apr, s + 6 = Oct is after the data (Sep): not judged
    + paid("x", range(1, 10))
)


def test_milestones_hand_computed(constructor):
    out = milestones(
        constructor(ACCOUNTS),
        constructor(STREAM),
        constructor(SUBS),
        period=("2024-01", "2024-02"),
        milestones=[("onboarded", "onboarding_completed"), ("referral", "referral_sent")],
    )
    # Signups a–e (5). onboarded: a (2 d), b (4 d), e (10 d) → 3/5, median 4.
    # Paying and judged: a (reached, retained), b (reached, churned), c (not reached, retained).
    # referral: nobody → share 0, median null, reached-retention null, not reached 2/3.
    assert out.rows() == [
        ("onboarded", "onboarding_completed", 3, 5, 0.6, 4.0, 0.5, 1.0, 2, 1),
        ("referral", "referral_sent", 0, 5, 0.0, None, None, pytest.approx(2 / 3), 0, 3),
    ]
    assert out.columns == [
        "id",
        "event",
        "reached",
        "signups",
        "reached_share",
        "median_days",
        "retention_6m_reached",
        "retention_6m_not_reached",
        "paying_reached",
        "paying_not_reached",
    ]


def test_milestones_accept_config_objects_and_zero_signups(constructor):
    ms = [Milestone(id="onboarded", event="onboarding_completed")]
    out = milestones(
        constructor(ACCOUNTS),
        constructor(STREAM),
        constructor(SUBS),
        period=("2022-01", "2022-12"),
        milestones=ms,
    )
    assert out.rows() == [("onboarded", "onboarding_completed", 0, 0, None, None, None, None, 0, 0)]
    empty = milestones(
        constructor(ACCOUNTS),
        constructor(STREAM),
        constructor(SUBS),
        period=("2024-01", "2024-02"),
        milestones=[],
    )
    assert empty.height == 0 and empty.width == 10


def test_milestones_without_subscriptions(constructor):
    out = milestones(
        constructor(ACCOUNTS),
        constructor(STREAM),
        None,
        period=("2024-01", "2024-02"),
        milestones=[("onboarded", "onboarding_completed")],
    )
    assert out.rows() == [("onboarded", "onboarding_completed", 3, 5, 0.6, 4.0, None, None, 0, 0)]


def test_stuck_before(constructor):
    out = stuck_before(
        constructor(ACCOUNTS),
        constructor(STREAM),
        milestone_event="onboarding_completed",
        period=("2024-01", "2024-02"),
    )
    # Not reached: c (event before signup), d. Data end = Mar 1 (d's login).
    assert out.rows() == [
        ("c", ts(2024, 1, 10), 51.0, "enterprise"),
        ("d", ts(2024, 1, 15), 46.0, None),
    ]
    assert out.columns == ["account_id", "signup_at", "days_since_signup", "persona"]


def test_stuck_before_without_persona_column(constructor):
    acc = ACCOUNTS.drop("persona")
    out = stuck_before(
        constructor(acc),
        constructor(STREAM),
        milestone_event="never",
        period=("2024-02", "2024-02"),
    )
    assert out.rows() == [("e", ts(2024, 2, 1), 29.0, None)]


@settings(max_examples=50, deadline=None)
@given(
    signups=st.lists(st.integers(0, 90), min_size=0, max_size=8),
    hits=st.lists(st.tuples(st.integers(0, 7), st.integers(-10, 120)), max_size=12),
    paying=st.dictionaries(st.integers(0, 7), st.tuples(st.integers(1, 6), st.integers(1, 12))),
)
def test_milestone_rates_are_fractions(signups, hits, paying):
    base = ts(2024, 1, 1)
    acc = accounts([(f"a{i}", base + dt.timedelta(days=d), None) for i, d in enumerate(signups)])
    ev = stream([(f"a{i}", "m", base + dt.timedelta(days=d)) for i, d in hits])
    sb = subs(
        [row for i, (s, n) in paying.items() for row in paid(f"a{i}", range(s, min(s + n, 13)))]
    )
    out = milestones(acc, ev, sb, period=("2024-01", "2024-03"), milestones=[("m", "m")])
    row = out.row(0, named=True)
    for key in ("reached_share", "retention_6m_reached", "retention_6m_not_reached"):
        assert row[key] is None or 0.0 <= row[key] <= 1.0
    assert row["reached"] <= row["signups"] == len(signups)
    stuck = stuck_before(acc, ev, milestone_event="m", period=("2024-01", "2024-03"))
    assert stuck.height == row["signups"] - row["reached"]
