"""Funnel correlation (analytics.md § 4): hand-counted cases on every engine, Fisher p-values,
the occurrence window's bounds, banding, the s + f < 5 cut, the sort, strict mode and errors."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact

from journeylib.analysis.correlation import correlation_json, funnel_correlation
from journeylib.errors import ConfigError

T0 = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
HOUR = 3600
DAY = 86400
PERIOD = ("2024-01", "2024-01")
STREAM_SCHEMA = {
    "account_id": pl.String,
    "timestamp": pl.Datetime("us", "UTC"),
    "event": pl.String,
    "source": pl.String,
    "seq": pl.Int64,
}


def stream(rows) -> pl.DataFrame:
    """``rows`` = [(account, seconds after T0, event[, source])]; source defaults to events."""
    return pl.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "timestamp": [T0 + dt.timedelta(seconds=r[1]) for r in rows],
            "event": [r[2] for r in rows],
            "source": [r[3] if len(r) > 3 else "events" for r in rows],
            "seq": list(range(len(rows))),
        },
        schema=STREAM_SCHEMA,
    )


def odds(s: int, f: int, S: int, F: int) -> float:
    """The spec's formula, written as it stands."""
    return ((s + 1) / (f + 1)) / ((S - s + 1) / (F - f + 1))


def fisher(s: int, f: int, S: int, F: int) -> float:
    return fisher_exact([[s, f], [S - s, F - f]], alternative="two-sided").pvalue


def rows_of(frame: pl.DataFrame, key: str = "event") -> dict:
    return {r[key]: r for r in frame.iter_rows(named=True)}


# ---------------------------------------------------------------- one hand-counted client
# 8 successes s1..s8 (view at day i, buy 1 h later) and 12 failures f1..f12 (view only),
# each with its candidate events half an hour after the view; p1 is still in progress.
# demo: s1-s6, f1-f2; email: s1, f1-f6; five: s1-s3, f1-f2; rare: s1-s2, f1-f2.
S_IDS = [f"s{i}" for i in range(1, 9)]
F_IDS = [f"f{i}" for i in range(1, 13)]
HAS = {
    "demo": S_IDS[:6] + F_IDS[:2],
    "email": S_IDS[:1] + F_IDS[:6],
    "five": S_IDS[:3] + F_IDS[:2],
    "rare": S_IDS[:2] + F_IDS[:2],
}


def world_rows():
    rows = []
    for i, a in enumerate(S_IDS + F_IDS):
        start = i * DAY // 2
        rows.append((a, start, "view"))
        rows += [(a, start + HOUR // 2, x) for x, who in HAS.items() if a in who]
        if a in S_IDS:
            rows.append((a, start + HOUR, "buy"))
            rows.append((a, start + HOUR, "subscribed", "subscriptions"))  # derived: no candidate
    # in progress: its window (1 d) is open at the data's end (its own last row)
    end = 20 * DAY
    rows += [("p1", end - HOUR, "view"), ("p1", end, "demo"), ("p1", end, "email")]
    rows += [(None, 3 * DAY, "demo")]  # an anonymous row: no account, no activity
    return rows


def world_accounts() -> pl.DataFrame:
    ids = S_IDS + F_IDS + ["p1"]
    return pl.DataFrame(
        {
            "account_id": ids,
            # 1..20 over the successes and failures; p1's 1000 would move the quartiles
            "seats": list(range(1, 21)) + [1000],
            "plan": ["pro"] * 5 + [""] * 3 + ["free"] * 12 + ["pro"],
        }
    )


S, F = 8, 12
EXPECTED_EVENTS = {  # event: (s, f)
    "demo": (6, 2),
    "email": (1, 6),
    "five": (3, 2),
    "rare": (2, 2),
}


@pytest.fixture
def world(constructor):
    result = funnel_correlation(
        constructor(stream(world_rows())),
        constructor(world_accounts()),
        steps=["view", "buy"],
        window="1d",
        period=PERIOD,
        properties=["seats", "plan"],
    )
    return result


def test_totals_leave_in_progress_accounts_out(world):
    assert (world.success_total, world.failure_total) == (S, F)


def test_event_counts_odds_ratios_and_fisher_p_values(world):
    got = rows_of(world.events)
    assert set(got) == set(EXPECTED_EVENTS)  # derived rows and steps are no candidates
    for event, (s, f) in EXPECTED_EVENTS.items():
        r = got[event]
        assert (r["success_count"], r["failure_count"]) == (s, f), event
        assert r["odds_ratio"] == pytest.approx(odds(s, f, S, F), rel=1e-12), event
        assert r["p_value"] == pytest.approx(fisher(s, f, S, F), rel=1e-12), event
        assert r["kind"] == ("success" if odds(s, f, S, F) > 1 else "failure"), event
    # by hand: demo (7/3) / (3/11) = 77/9; email (2/7) / (8/7) = 1/4
    assert got["demo"]["odds_ratio"] == pytest.approx(77 / 9)
    assert got["email"]["odds_ratio"] == pytest.approx(0.25)


def test_one_p_value_from_the_hypergeometric_formula(world):
    # email: [[1, 6], [7, 6]]; margins: 7 accounts with email, 8 successes, N = 20.
    # P(a) = C(8, a) C(12, 7 - a) / C(20, 7), C(20, 7) = 77520; a = 0 … 7 give
    # 792, 7392, 22176, 27720, 15400, 3696, 336, 8 (/ 77520). Two-sided: the tables no
    # likelier than the observed a = 1 (7392): a = 0, 1, 5, 6, 7.
    weights = [math.comb(8, a) * math.comb(12, 7 - a) for a in range(8)]
    assert weights == [792, 7392, 22176, 27720, 15400, 3696, 336, 8]
    by_hand = Fraction(792 + 7392 + 3696 + 336 + 8, 77520)
    assert rows_of(world.events)["email"]["p_value"] == pytest.approx(float(by_hand), rel=1e-9)


def test_numeric_property_banded_over_successes_and_failures(world):
    seats = world.properties.filter(pl.col("column") == "seats")
    got = {
        r["value"]: (r["success_count"], r["failure_count"]) for r in seats.iter_rows(named=True)
    }
    # quartiles of 1..20 (linear): 1, 5.75, 10.5, 15.25, 20; p1's 1000 is not among them
    assert got == {
        "1–5.75": (5, 0),
        "5.75–10.5": (3, 2),
        "10.5–15.25": (0, 5),
        "15.25–20": (0, 5),
    }
    band1 = seats.filter(pl.col("value") == "1–5.75").row(0, named=True)
    assert band1["odds_ratio"] == pytest.approx((6 / 1) / (4 / 13))


def test_text_property_blank_is_no_value(world):
    plan = world.properties.filter(pl.col("column") == "plan")
    got = {r["value"]: (r["success_count"], r["failure_count"]) for r in plan.iter_rows(named=True)}
    assert got == {"pro": (5, 0), "free": (0, 12)}


def test_json_cut_and_sort(world):
    doc = correlation_json(world)
    assert list(doc) == ["success_total", "failure_total", "events", "properties"]
    # |ln|: demo 2.15, email 1.39, five 0.89; rare has s + f = 4 < 5 and is left out
    assert [e["event"] for e in doc["events"]] == ["demo", "email", "five"]
    assert doc["events"][0] == {
        "event": "demo",
        "success_count": 6,
        "failure_count": 2,
        "odds_ratio": pytest.approx(77 / 9),
        "p_value": pytest.approx(fisher(6, 2, S, F)),
        "kind": "success",
    }
    props = [(p["column"], p["value"]) for p in doc["properties"]]
    strength = [abs(math.log(p["odds_ratio"])) for p in doc["properties"]]
    assert strength == sorted(strength, reverse=True)
    # equal odds ratios (the two top seat bands, 0 s and 5 f) are ordered by value
    assert props.index(("seats", "10.5–15.25")) + 1 == props.index(("seats", "15.25–20"))
    assert all(p["success_count"] + p["failure_count"] >= 5 for p in doc["properties"])
    assert ("plan", "") not in props


def test_frames_sorted_like_the_json(world):
    assert world.events["event"].to_list() == ["demo", "email", "five", "rare"]


# ---------------------------------------------------------------- the occurrence window
def test_window_bounds(constructor):
    rows = [
        # success: window [view, buy] = [0, 2 h]
        ("a", 0, "at_start"),  # same instant as the step-1 event, earlier in file order: counts
        ("a", 0, "view"),
        ("a", -1, "before"),  # before step 1: does not count
        ("a", 2 * HOUR, "buy"),
        ("a", 2 * HOUR, "at_end"),  # at the step-n instant: counts
        ("a", 2 * HOUR + 1, "after"),  # after step n: does not count
        # failure: window [view, view + 1 d]
        ("b", 0, "view"),
        ("b", DAY, "at_end"),  # at the window's end: counts
        ("b", DAY + 1, "after"),  # after it: does not count
        ("z", 5 * DAY, "noise"),  # the data's end: b's window closed
    ]
    r = funnel_correlation(
        constructor(stream(rows)),
        constructor(pl.DataFrame({"account_id": ["a", "b"]})),
        steps=["view", "buy"],
        window="1d",
        period=PERIOD,
    )
    got = {e: (x["success_count"], x["failure_count"]) for e, x in rows_of(r.events).items()}
    assert got == {"at_start": (1, 0), "at_end": (1, 1)}
    assert (r.success_total, r.failure_total) == (1, 1)
    assert r.properties.height == 0  # no default property column in these accounts


def test_counted_attempt_is_the_first_completion(constructor):
    # two attempts: the first completes (view 0, buy 1 h), a later one starts at 1 d;
    # x after the first completion does not count even inside the later attempt
    rows = [
        ("a", 0, "view"),
        ("a", HOUR, "buy"),
        ("a", DAY, "view"),
        ("a", DAY + HOUR, "x"),
        ("a", DAY + 2 * HOUR, "buy"),
    ]
    r = funnel_correlation(
        constructor(stream(rows)),
        constructor(pl.DataFrame({"account_id": ["a"]})),
        steps=["view", "buy"],
        window="1d",
    )
    assert r.success_total == 1
    assert r.events.height == 0


def test_failure_uses_the_latest_attempt(constructor):
    # no completion: the counted attempt is the latest start reaching the furthest step (1)
    rows = [("a", 0, "view"), ("a", HOUR, "x"), ("a", 2 * DAY, "view"), ("a", 2 * DAY + 1, "y")]
    rows.append(("z", 10 * DAY, "buy"))  # the step exists; z never entered step 1
    r = funnel_correlation(
        constructor(stream(rows)),
        constructor(pl.DataFrame({"account_id": ["a"]})),
        steps=["view", "buy"],
        window="1d",
    )
    assert r.failure_total == 1
    assert r.events["event"].to_list() == ["y"]


def test_steps_may_be_derived_and_rows_without_source_are_raw(constructor):
    rows = [
        ("a", 0, "signed_up", "accounts"),
        ("a", HOUR, "demo"),
        ("a", 2 * HOUR, "subscription_started", "subscriptions"),
        ("b", 0, "signed_up", "accounts"),
        ("b", HOUR, "demo"),
        ("b", HOUR, "renewal", "subscriptions"),  # derived, not a candidate
        ("z", 10 * DAY, "noise"),
    ]
    r = funnel_correlation(
        constructor(stream(rows)),
        constructor(pl.DataFrame({"account_id": ["a", "b"]})),
        steps=["signed_up", "subscription_started"],
        window="1d",
    )
    assert (r.success_total, r.failure_total) == (1, 1)
    assert r.events["event"].to_list() == ["demo"]
    no_source = constructor(stream(rows).drop("source"))
    r2 = funnel_correlation(
        no_source,
        constructor(pl.DataFrame({"account_id": ["a", "b"]})),
        steps=["signed_up", "subscription_started"],
        window="1d",
    )
    assert sorted(r2.events["event"].to_list()) == ["demo", "renewal"]


def test_strict_mode(constructor):
    rows = [("a", 0, "view"), ("a", 60, "demo"), ("a", 120, "buy"), ("z", 10 * DAY, "noise")]
    args = {"steps": ["view", "buy"], "window": "1d"}
    accounts = constructor(pl.DataFrame({"account_id": ["a"]}))
    ordered = funnel_correlation(constructor(stream(rows)), accounts, **args)
    strict = funnel_correlation(constructor(stream(rows)), accounts, mode="strict", **args)
    assert (ordered.success_total, ordered.failure_total) == (1, 0)
    # demo between the steps breaks the strict attempt: a failure, demo in its window
    assert (strict.success_total, strict.failure_total) == (0, 1)
    assert strict.events.select("event", "success_count", "failure_count").rows() == [
        ("demo", 0, 1)
    ]


def test_default_properties_are_those_present(constructor):
    rows = [("a", 0, "view"), ("a", 60, "buy"), ("b", 0, "view"), ("z", 10 * DAY, "noise")]
    accounts = pl.DataFrame(
        {"account_id": ["a", "b"], "industry": ["saas", "retail"], "persona": ["x", "x"]}
    )
    r = funnel_correlation(
        constructor(stream(rows)), constructor(accounts), steps=["view", "buy"], window="1d"
    )
    assert sorted(set(r.properties["column"].to_list())) == ["industry", "persona"]
    assert (
        rows_of(r.properties.filter(pl.col("column") == "persona"), "value")["x"]["success_count"]
        == 1
    )


def test_empty_funnel():
    rows = [("a", 0, "view"), ("a", 60, "buy")]  # buy then no view: a is in progress
    r = funnel_correlation(
        stream(rows), pl.DataFrame({"account_id": ["a"]}), steps=["buy", "view"], window="1d"
    )
    assert (r.success_total, r.failure_total) == (0, 0)
    assert r.events.columns == [
        "event",
        "success_count",
        "failure_count",
        "odds_ratio",
        "p_value",
        "kind",
    ]
    assert correlation_json(r) == {
        "success_total": 0,
        "failure_total": 0,
        "events": [],
        "properties": [],
    }


# ---------------------------------------------------------------- errors
ACC = pl.DataFrame({"account_id": ["a"], "plan": ["x"]})
ROWS = [("a", 0, "view"), ("a", 60, "buy")]


@pytest.mark.parametrize(
    ("kwargs", "where", "names"),
    [
        ({"steps": ["view"]}, "steps:", "['view']"),
        ({"steps": ["view", "nope"]}, "steps:", "'nope'"),
        ({"steps": ["view", "buy"], "mode": "unordered"}, "mode:", "'unordered'"),
        ({"steps": ["view", "buy"], "mode": "sideways"}, "mode:", "'sideways'"),
        ({"steps": ["view", "buy"], "window": "soon"}, "window:", "'soon'"),
        ({"steps": ["view", "buy"], "properties": ["size"]}, "properties:", "'size'"),
    ],
)
def test_errors_are_one_line_and_name_the_problem(kwargs, where, names):
    with pytest.raises(ConfigError) as info:
        funnel_correlation(stream(ROWS), ACC, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(where)
    assert names in message


def test_a_derived_step_counts_as_present():
    rows = [*ROWS, ("a", 90, "subscribed", "subscriptions")]
    r = funnel_correlation(stream(rows), ACC, steps=["view", "subscribed"], window="1d")
    assert r.success_total == 1


# ---------------------------------------------------------------- property test
@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 12).flatmap(
        lambda n_s: st.integers(0, 12).flatmap(
            lambda n_f: st.tuples(
                st.just(n_s), st.just(n_f), st.integers(0, n_s), st.integers(0, n_f)
            )
        )
    )
)
def test_odds_ratio_above_one_exactly_when_the_smoothed_odds_are(case):
    n_s, n_f, s, f = case
    rows = []
    for i in range(n_s + n_f):
        a = f"a{i:02d}"
        rows.append((a, i * 10, "view"))
        has_x = i < s or n_s <= i < n_s + f
        if has_x:
            rows.append((a, i * 10 + 1, "x"))
        if i < n_s:
            rows.append((a, i * 10 + 2, "buy"))
    # both steps exist; z's row closes the others' windows, y is in progress
    rows += [("z", 10 * DAY, "buy"), ("y", 10 * DAY - 1, "view")]
    r = funnel_correlation(
        stream(rows), pl.DataFrame({"account_id": ["z"]}), steps=["view", "buy"], window="1h"
    )
    assert (r.success_total, r.failure_total) == (n_s, n_f)
    if s + f == 0:
        assert r.events.height == 0
        return
    x = r.events.row(0, named=True)
    assert (x["success_count"], x["failure_count"]) == (s, f)
    above = Fraction(s + 1, f + 1) > Fraction(n_s - s + 1, n_f - f + 1)
    assert (x["odds_ratio"] > 1) is above
    assert (x["kind"] == "success") is above
    assert x["odds_ratio"] == pytest.approx(odds(s, f, n_s, n_f), rel=1e-12)
    assert x["p_value"] == pytest.approx(fisher(s, f, n_s, n_f), rel=1e-12)


@given(st.integers(1, 40), st.integers(0, 40), st.integers(0, 40))
def test_reciprocal_odds_ratios_tie_and_the_names_decide(total, a, b):
    """(a, b) and (b, a) with S = F have reciprocal odds ratios: equally strong, sorted by name."""
    from journeylib.analysis.correlation import _stats

    a, b = min(a, total), min(b, total)
    schema = {"event": pl.String, "success_count": pl.Int64, "failure_count": pl.Int64,
              "odds_ratio": pl.Float64, "p_value": pl.Float64, "kind": pl.String}  # fmt: skip
    for names in (["x", "y"], ["y", "x"]):
        counts = pl.DataFrame({"event": names, "success_count": [a, b], "failure_count": [b, a]})
        assert _stats(counts, total, total, ["event"], schema)["event"].to_list() == ["x", "y"]
