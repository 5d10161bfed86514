"""Ordered funnels (metrics.md § Ordered funnels): hand-computed cases on every engine,
PostHog's public test cases, and property tests against brute-force oracles."""

from __future__ import annotations

import datetime as dt
import itertools

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.errors import ConfigError
from journeylib.metrics.funnels import (
    funnel_json,
    ordered_funnel,
    parse_exclusion,
    parse_window,
    two_proportion_ztest,
    wilson_interval,
)

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def events(rows, *, variant=None) -> pl.DataFrame:
    """``rows`` = [(account, seconds after T0, event)]; seq = row order (file order)."""
    data = {
        "account_id": [r[0] for r in rows],
        "timestamp": [T0 + dt.timedelta(seconds=r[1]) for r in rows],
        "event": [r[2] for r in rows],
        "seq": list(range(len(rows))),
    }
    schema = {
        "account_id": pl.String,
        "timestamp": pl.Datetime("us", "UTC"),
        "event": pl.String,
        "seq": pl.Int64,
    }
    if variant is not None:
        data["variant"] = [variant.get(r[0]) for r in rows]
        schema["variant"] = pl.String
    return pl.DataFrame(data, schema=schema)


def counts(result) -> list[int]:
    return result.steps["count"].to_list()


def furthest(result) -> dict[str, int]:
    return dict(result.accounts.select("account_id", "furthest_step").iter_rows())


# ---------------------------------------------------------------- parsing and statistics
def test_parse_window_units():
    assert [parse_window(w) for w in ["14d", "300s", "5m", "1h", "2w", 60]] == [
        1_209_600,
        300,
        300,
        3600,
        1_209_600,
        60,
    ]


@pytest.mark.parametrize("bad", ["", "14", "d", "1y", "-5m", "0s"])
def test_parse_window_rejects_bad_values(bad):
    with pytest.raises(ConfigError):
        parse_window(bad)


def test_parse_exclusion():
    assert parse_exclusion("cancel:0:1") == ("cancel", 0, 1)
    assert parse_exclusion("ns:event:1:3") == ("ns:event", 1, 3)
    with pytest.raises(ConfigError):
        parse_exclusion("cancel:1")
    with pytest.raises(ConfigError):  # a digit int() does not read
        parse_exclusion("cancel:²:1")


def test_exclusion_step_range_is_checked():
    ev = events([("a", 0, "a")])
    for bad in [("x", 1, 1), ("x", 2, 1), ("x", 0, 2)]:
        with pytest.raises(ConfigError):
            ordered_funnel(ev, steps=["a", "b"], exclusions=[bad])
    with pytest.raises(ConfigError):
        ordered_funnel(ev, steps=["a", "b"], mode="unordered", exclusions=[("x", 0, 1)])


def test_errors_name_the_functions_parameters_not_cli_flags():
    """The library speaks of its own parameters; the CLI translates them to its flags."""
    ev = events([("a", 0, "a")])
    cases = [
        (lambda: parse_window("two weeks"), "window"),
        (lambda: parse_exclusion("cancel"), "exclusions"),
        (lambda: ordered_funnel(ev, steps=[]), "steps"),
        (lambda: ordered_funnel(ev, steps=["a"], mode="sideways"), "mode"),
        (lambda: ordered_funnel(ev, steps=["a", "b"], exclusions=[("x", 1, 0)]), "exclusions"),
        (
            lambda: ordered_funnel(
                ev, steps=["a", "b"], mode="unordered", exclusions=[("x", 0, 1)]
            ),
            "exclusions",
        ),
    ]
    for call, where in cases:
        with pytest.raises(ConfigError) as info:
            call()
        assert info.value.where == where
        assert "--" not in str(info.value)


def test_wilson_interval_known_value():
    lo, hi = wilson_interval(8, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)
    assert wilson_interval(0, 0) == (None, None)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and round(hi, 4) == 0.2775


def test_two_proportion_ztest_known_value():
    # statsmodels proportions_ztest([45, 55], [100, 100]) -> z = -1.4142, p = 0.1573
    z, p = two_proportion_ztest(45, 100, 55, 100)
    assert (round(z, 4), round(p, 4)) == (-1.4142, 0.1573)
    assert two_proportion_ztest(0, 10, 0, 10) == (None, None)
    assert two_proportion_ztest(1, 0, 1, 10) == (None, None)


# ---------------------------------------------------------------- ordered funnel, every engine
def test_simple_conversion(constructor):
    ev = events(
        [
            ("a", 0, "view"), ("a", 10, "signup"), ("a", 20, "buy"),
            ("b", 0, "view"), ("b", 5, "signup"),
            ("c", 0, "view"), ("c", 1, "other"),
            ("d", 0, "buy"),  # never started: no first step
        ]
    )  # fmt: skip
    r = ordered_funnel(constructor(ev), steps=["view", "signup", "buy"])
    assert r.steps.select("step", "event", "count").rows() == [
        (1, "view", 3),
        (2, "signup", 2),
        (3, "buy", 1),
    ]
    assert r.steps["conversion"].to_list() == [1.0, 2 / 3, 1 / 3]
    assert r.steps["conversion_from_previous"].to_list() == [None, 2 / 3, 0.5]
    assert furthest(r) == {"a": 3, "b": 2, "c": 1}


def test_equal_timestamps_convert_whatever_the_file_order(constructor):
    # b's buy row comes before its view row in the file, at the same instant
    ev = events([("a", 0, "view"), ("a", 0, "buy"), ("b", 7, "buy"), ("b", 7, "view")])
    r = ordered_funnel(constructor(ev), steps=["view", "buy"])
    assert counts(r) == [2, 2]
    # a zero duration is not averaged into the time to convert
    assert r.steps["median_seconds_to_convert"].to_list() == [None, None]


def test_window_bound_is_inclusive(constructor):
    ev = events(
        [
            ("exact", 0, "view"), ("exact", 10, "buy"),
            ("late", 0, "view"), ("late", 11, "buy"),
        ]
    )  # fmt: skip
    r = ordered_funnel(constructor(ev), steps=["view", "buy"], window="10s")
    assert furthest(r) == {"exact": 2, "late": 1}
    # the bound is measured from the first step, not from the previous step
    ev = events([("a", 0, "view"), ("a", 6, "cart"), ("a", 12, "buy")])
    assert counts(ordered_funnel(constructor(ev), steps=["view", "cart", "buy"], window="10s")) == [
        1,
        1,
        0,
    ]


def test_repeated_step_needs_two_rows(constructor):
    ev = events(
        [
            ("one", 0, "pageview"),
            ("two", 0, "pageview"), ("two", 5, "pageview"),
            ("same_instant", 3, "pageview"), ("same_instant", 3, "pageview"),
        ]
    )  # fmt: skip
    r = ordered_funnel(constructor(ev), steps=["pageview", "pageview"])
    assert furthest(r) == {"one": 1, "two": 2, "same_instant": 2}


def test_best_attempt_counts_and_gives_time_to_convert(constructor):
    # first attempt times out (buy 105 s after view at 0, window 10 s); the view at 100 converts
    ev = events([("a", 0, "view"), ("a", 100, "view"), ("a", 105, "buy")])
    r = ordered_funnel(constructor(ev), steps=["view", "buy"], window="10s")
    assert counts(r) == [1, 1]
    assert r.steps["median_seconds_to_convert"].to_list() == [None, 5.0]
    assert r.accounts["attempt_start"].to_list() == [T0 + dt.timedelta(seconds=100)]


def test_later_first_step_starts_a_new_attempt_that_goes_further(constructor):
    ev = events(
        [
            ("a", 0, "view"), ("a", 10, "cart"),  # attempt 1: 2 steps, then the window closes
            ("a", 200, "view"), ("a", 210, "cart"), ("a", 220, "buy"),  # attempt 2: all 3
            ("b", 0, "view"), ("b", 10, "cart"), ("b", 200, "buy"),  # buy too late, no new view
        ]
    )  # fmt: skip
    r = ordered_funnel(constructor(ev), steps=["view", "cart", "buy"], window="100s")
    assert furthest(r) == {"a": 3, "b": 2}


def test_steps_must_follow_in_time(constructor):
    ev = events([("a", 0, "buy"), ("a", 5, "view")])
    assert counts(ordered_funnel(constructor(ev), steps=["view", "buy"])) == [1, 0]


def test_strict_mode_is_broken_by_another_event(constructor):
    ev = events(
        [
            ("a", 0, "view"), ("a", 1, "other"), ("a", 2, "buy"),
            ("b", 0, "view"), ("b", 2, "buy"), ("b", 3, "other"),
        ]
    )  # fmt: skip
    strict = ordered_funnel(constructor(ev), steps=["view", "buy"], mode="strict")
    ordered = ordered_funnel(constructor(ev), steps=["view", "buy"], mode="ordered")
    assert furthest(strict) == {"a": 1, "b": 2}
    assert furthest(ordered) == {"a": 2, "b": 2}


def test_unordered_mode_takes_any_order_within_one_window(constructor):
    ev = events(
        [
            ("a", 0, "buy"), ("a", 5, "view"),  # reversed, inside 10 s
            ("b", 0, "buy"), ("b", 20, "view"),  # reversed, too far apart
            ("c", 0, "cart"), ("c", 4, "buy"), ("c", 9, "view"),
        ]
    )  # fmt: skip
    r = ordered_funnel(
        constructor(ev), steps=["view", "cart", "buy"], window="10s", mode="unordered"
    )
    assert furthest(r) == {"a": 2, "b": 1, "c": 3}
    assert counts(r) == [3, 2, 1]
    # c's matched events in time order: 0, 4, 9 -> durations 4 and 5 s
    assert r.steps["median_seconds_to_convert"].to_list() == [None, 4.5, 5.0]
    ordered = ordered_funnel(constructor(ev), steps=["view", "cart", "buy"], window="10s")
    assert counts(ordered) == [3, 0, 0]


def test_in_progress(constructor):
    ev = events(
        [
            ("open", 95, "view"),  # window to 105 s, data ends at 100 s: still open
            ("done", 0, "view"), ("done", 3, "buy"),
            ("closed", 0, "view"),  # window ended at 10 s: dropped
            ("other", 100, "anything"),  # the data's end
        ]
    )  # fmt: skip
    r = ordered_funnel(constructor(ev), steps=["view", "buy"], window="10s")
    assert r.in_progress == 1
    assert counts(r) == [3, 1]  # the open account still counts at step 1
    flags = dict(r.accounts.select("account_id", "in_progress").iter_rows())
    assert flags == {"open": True, "done": False, "closed": False}
    assert funnel_json(r)["in_progress"] == 1


def test_time_to_convert_median_and_mean_ignore_zero_durations(constructor):
    ev = events(
        [
            ("a", 0, "view"), ("a", 0, "buy"),  # 0 s: ignored
            ("b", 0, "view"), ("b", 10, "buy"),
            ("c", 0, "view"), ("c", 30, "buy"),
            ("d", 0, "view"), ("d", 50, "buy"),
            ("e", 0, "view"),
        ]
    )  # fmt: skip
    r = ordered_funnel(constructor(ev), steps=["view", "buy"])
    assert r.steps.select("median_seconds_to_convert", "mean_seconds_to_convert").rows() == [
        (None, None),
        (30.0, 30.0),
    ]


def test_period_keeps_account_rows_of_the_period_months(constructor):
    ev = events(
        [
            ("a", 0, "view"), ("a", 86400 * 31, "buy"),  # buy in June: outside the period
            (None, 0, "view"),  # anonymous rows are not accounts
        ]
    )  # fmt: skip
    r = ordered_funnel(
        constructor(ev), steps=["view", "buy"], window="60d", period=("2024-05", "2024-05")
    )
    assert counts(r) == [1, 0]
    r = ordered_funnel(
        constructor(ev), steps=["view", "buy"], window="60d", period=("2024-05", "2024-06")
    )
    assert counts(r) == [1, 1]


def test_exclusion_removes_the_account_but_a_clean_attempt_still_counts(constructor):
    ev = events(
        [
            ("clean", 0, "view"), ("clean", 5, "buy"),
            ("dirty", 0, "view"), ("dirty", 2, "cancel"), ("dirty", 5, "buy"),
            # the first attempt is spoilt; the second one (after the window) is clean
            ("retry", 0, "view"), ("retry", 2, "cancel"), ("retry", 50, "view"), ("retry", 55, "buy"),
        ]
    )  # fmt: skip
    r = ordered_funnel(
        constructor(ev), steps=["view", "buy"], window="10s", exclusions=["cancel:0:1"]
    )
    assert counts(r) == [2, 2]
    assert r.excluded == 1
    assert dict(r.accounts.select("account_id", "excluded").iter_rows()) == {
        "clean": False,
        "dirty": True,
        "retry": False,
    }


def test_excluded_attempt_stops_at_the_next_step(constructor):
    # the spoilt attempt is credited with 'b' (2 steps) then stops, like PostHog; a clean
    # attempt that reaches 3 steps wins, one that reaches only 1 step does not
    ev = events(
        [
            ("wins", 0, "a"), ("wins", 1, "x"), ("wins", 2, "b"), ("wins", 3, "c"), ("wins", 4, "d"),
            ("wins", 100, "a"), ("wins", 101, "b"), ("wins", 102, "c"),
            ("loses", 0, "a"), ("loses", 1, "x"), ("loses", 2, "b"), ("loses", 100, "a"),
        ]
    )  # fmt: skip
    r = ordered_funnel(
        constructor(ev), steps=["a", "b", "c", "d"], window="1000s", exclusions=[("x", 0, 1)]
    )
    assert dict(r.accounts.select("account_id", "furthest_step").iter_rows()) == {
        "wins": 3,
        "loses": 0,
    }
    assert counts(r) == [1, 1, 1, 0]


# ---------------------------------------------------------------- PostHog's public test cases
def _ph(rows):
    """[(person, 'YYYY-MM-DD HH:MM:SS', event)] -> events frame."""
    return events(
        [
            (p, (dt.datetime.fromisoformat(ts).replace(tzinfo=dt.UTC) - T0).total_seconds(), e)
            for p, ts, e in rows
        ]
    )


def test_posthog_funnel_exclusion_no_end_event(constructor):
    ev = _ph(
        [
            ("person1", "2021-05-01 01:00:00", "user signed up"),
            ("person1", "2021-05-01 02:00:00", "paid"),
            ("person2", "2021-05-01 03:00:00", "user signed up"),
            ("person2", "2021-05-01 03:30:00", "x"),
            ("person2", "2021-05-01 04:00:00", "paid"),
            # discarded even though nothing happened after x: x is inside the window
            ("person3", "2021-05-01 05:00:00", "user signed up"),
            ("person3", "2021-05-01 06:00:00", "x"),
            # x outside the window: kept at step 1
            ("person4", "2021-05-01 07:00:00", "user signed up"),
            ("person4", "2021-05-02 08:00:00", "x"),
        ]
    )
    r = ordered_funnel(
        constructor(ev), steps=["user signed up", "paid"], window="1d", exclusions=[("x", 0, 1)]
    )
    assert counts(r) == [2, 1]
    assert furthest(r) == {"person1": 2, "person2": 0, "person3": 0, "person4": 1}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # test_funnel_exclusion_multiple_possible_no_end_event1: a later clean attempt counts
        ([(0, "step one"), (1, "exclusion"), (31, "step one")], [1, 0]),
        # ..._no_end_event2: the first attempt's window closed before the exclusion
        ([(0, "step one"), (31, "step one"), (32, "exclusion")], [1, 0]),
        # ..._no_end_event3: both attempts are spoilt
        ([(0, "step one"), (1, "step one"), (2, "exclusion")], [0, 0]),
    ],
)
def test_posthog_funnel_exclusion_multiple_possible_no_end_event(constructor, rows, expected):
    ev = events([("user_one", s, e) for s, e in rows])
    r = ordered_funnel(
        constructor(ev),
        steps=["step one", "step two"],
        window="10s",
        exclusions=[("exclusion", 0, 1)],
    )
    assert counts(r) == expected


_ADVANCED = [
    ("person1", "2021-05-01 01:00:00", "user signed up"),
    ("person1", "2021-05-01 02:00:00", "$pageview"),
    ("person1", "2021-05-01 03:00:00", "x"),
    ("person1", "2021-05-01 04:00:00", "insight viewed"),
    ("person1", "2021-05-01 04:30:00", "x"),
    ("person1", "2021-05-01 05:00:00", "invite teammate"),
    ("person1", "2021-05-01 05:30:00", "x"),
    ("person1", "2021-05-01 06:00:00", "pageview2"),
    ("person2", "2021-05-01 01:00:00", "user signed up"),
    ("person2", "2021-05-01 02:00:00", "$pageview"),
    ("person2", "2021-05-01 04:00:00", "insight viewed"),
    ("person2", "2021-05-01 04:30:00", "x"),
    ("person2", "2021-05-01 05:00:00", "invite teammate"),
    ("person2", "2021-05-01 05:30:00", "x"),
    ("person2", "2021-05-01 06:00:00", "pageview2"),
    ("person3", "2021-05-01 01:00:00", "user signed up"),
    ("person3", "2021-05-01 01:30:00", "x"),
    ("person3", "2021-05-01 02:00:00", "$pageview"),
    ("person3", "2021-05-01 04:00:00", "insight viewed"),
    ("person3", "2021-05-01 05:00:00", "invite teammate"),
    ("person3", "2021-05-01 05:30:00", "x"),
    ("person3", "2021-05-01 06:00:00", "pageview2"),
]


@pytest.mark.parametrize(
    ("i", "j", "kept"),
    [
        (0, 1, ["person1", "person2"]),
        (1, 2, ["person2", "person3"]),
        (2, 3, ["person3"]),
        (3, 4, []),
    ],
)
def test_posthog_advanced_funnel_exclusions_between_steps(constructor, i, j, kept):
    steps = ["user signed up", "$pageview", "insight viewed", "invite teammate", "pageview2"]
    r = ordered_funnel(constructor(_ph(_ADVANCED)), steps=steps, exclusions=[("x", i, j)])
    assert counts(r) == [len(kept)] * 5
    assert sorted(k for k, f in furthest(r).items() if f == 5) == kept


def test_posthog_funnel_conversion_window_seconds(constructor):
    rows = []
    for i in range(25):
        rows += [(f"user_{i}", 0, "step one"), (f"user_{i}", 10 if i < 10 else 20, "step two")]
    r = ordered_funnel(
        constructor(events(rows)), steps=["step one", "step two", "step three"], window="15s"
    )
    assert counts(r) == [25, 10, 0]


# ---------------------------------------------------------------- variants
def test_per_variant_counts_wilson_bounds_and_ztest(constructor):
    rows, variant = [], {}
    for i in range(10):
        variant[f"t{i}"], variant[f"c{i}"] = "test", "control"
        rows.append((f"t{i}", i, "view"))
        rows.append((f"c{i}", i, "view"))
        if i < 8:
            rows.append((f"t{i}", i + 1, "buy"))
        if i < 5:
            rows.append((f"c{i}", i + 1, "buy"))
    r = ordered_funnel(
        constructor(events(rows, variant=variant)), steps=["view", "buy"], by_variant=True
    )
    v = r.variants.filter(pl.col("step") == 2).sort("variant")
    assert v.select("variant", "count", "conversion").rows() == [
        ("control", 5, 0.5),
        ("test", 8, 0.8),
    ]
    lo, hi = v.filter(pl.col("variant") == "test").select("ci_low", "ci_high").row(0)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)
    t = r.variant_tests
    assert t.select("variant", "reference", "x", "n", "x_reference", "n_reference").rows() == [
        ("test", "control", 8, 10, 5, 10)
    ]
    # statsmodels proportions_ztest([8, 5], [10, 10]) -> z = 1.4064, p = 0.1596
    assert (round(t["z"][0], 4), round(t["p_value"][0], 4)) == (1.4064, 0.1596)
    js = funnel_json(r)
    assert set(js) == {"steps", "in_progress", "variants", "variant_tests"}


def test_reference_arm_is_alphabetically_first_without_control(constructor):
    rows = [("a", 0, "view"), ("b", 0, "view"), ("b", 1, "buy"), ("c", 0, "view")]
    variant = {"a": "blue", "b": "red", "c": "green"}
    r = ordered_funnel(
        constructor(events(rows, variant=variant)), steps=["view", "buy"], by_variant=True
    )
    assert r.variant_tests.select("variant", "reference").rows() == [
        ("green", "blue"),
        ("red", "blue"),
    ]


def test_funnel_json_shape(constructor):
    ev = events([("a", 0, "view"), ("a", 4, "buy"), ("b", 0, "view")])
    js = funnel_json(ordered_funnel(constructor(ev), steps=["view", "buy"]))
    assert js == {
        "steps": [
            {
                "event": "view",
                "count": 2,
                "conversion": 1.0,
                "conversion_from_previous": None,
                "median_seconds_to_convert": None,
            },
            {
                "event": "buy",
                "count": 1,
                "conversion": 0.5,
                "conversion_from_previous": 0.5,
                "median_seconds_to_convert": 4.0,
            },
        ],
        "in_progress": 1,  # b's 14-day window is still open at the data's end
    }


def test_no_matching_events_gives_zero_counts_and_null_conversions(constructor):
    ev = events([("a", 0, "other")])
    r = ordered_funnel(constructor(ev), steps=["view", "buy"])
    assert r.steps.select("count", "conversion", "conversion_from_previous").rows() == [
        (0, None, None),
        (0, None, None),
    ]
    assert r.accounts.height == 0


# ---------------------------------------------------------------- properties (polars only)
EVENTS = ["a", "b", "c", "x"]


@st.composite
def event_sets(draw, unique_times=False, max_time=30, names=EVENTS):
    n = draw(st.integers(1, 25))
    if unique_times:
        times = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n, unique=True))
    else:
        times = draw(st.lists(st.integers(0, max_time), min_size=n, max_size=n))
    accs = draw(st.lists(st.sampled_from(["p", "q", "r"]), min_size=n, max_size=n))
    evs = draw(st.lists(st.sampled_from(names), min_size=n, max_size=n))
    return list(zip(accs, times, evs, strict=True))


steps_st = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4)


def _brute_furthest(rows, steps, w):
    """Max progress per account over every attempt and every choice of rows (no greed)."""
    out = {}
    by_acc = {}
    for k, (acc, t, e) in enumerate(rows):
        by_acc.setdefault(acc, []).append((t, k, e))
    for acc, evs in by_acc.items():
        best = 0

        def extend(step, prev_t, start, used, evs=evs):
            nonlocal best
            best = max(best, step)
            if step == len(steps):
                return
            for t, k, e in evs:
                if e == steps[step] and k not in used and t >= prev_t and t <= start + w:
                    extend(step + 1, t, start, used | {k}, evs)

        for t, k, e in evs:
            if e == steps[0]:
                extend(1, t, t, {k})
        if any(e == steps[0] for _, _, e in evs):
            out[acc] = best
    return out


@settings(max_examples=60, deadline=None)
@given(event_sets(), steps_st, st.integers(1, 20))
def test_property_counts_never_rise_and_conversions_in_unit_interval(rows, steps, w):
    r = ordered_funnel(events(rows), steps=steps, window=w)
    c = counts(r)
    assert all(x >= y for x, y in itertools.pairwise(c))
    for col in ["conversion", "conversion_from_previous"]:
        assert all(v is None or 0 <= v <= 1 for v in r.steps[col].to_list())


@settings(max_examples=60, deadline=None)
@given(event_sets(), steps_st, st.integers(1, 20))
def test_property_unordered_ge_ordered_ge_strict(rows, steps, w):
    ev = events(rows)
    o = counts(ordered_funnel(ev, steps=steps, window=w))
    u = counts(ordered_funnel(ev, steps=steps, window=w, mode="unordered"))
    s = counts(ordered_funnel(ev, steps=steps, window=w, mode="strict"))
    assert all(uu >= oo >= ss for uu, oo, ss in zip(u, o, s, strict=True))


@settings(max_examples=80, deadline=None)
@given(event_sets(), steps_st, st.integers(1, 20))
def test_property_greedy_matching_equals_brute_force(rows, steps, w):
    r = ordered_funnel(events(rows), steps=steps, window=w)
    assert furthest(r) == _brute_furthest(rows, steps, w)


def _posthog_oracle(rows, steps, w, excl):
    """A transcription of PostHog's aggregate_funnel state machine (one event per instant):
    furthest step per account, -1 when excluded."""
    n = len(steps)
    out = {}
    for acc in sorted({r[0] for r in rows}):
        evs = sorted((t, e) for a, t, e in rows if a == acc)
        if not any(e == steps[0] for _, e in evs):
            continue
        entered = [None] * (n + 1)  # (start, excluded)
        max_step = (0, None)
        for t, e in evs:
            codes = [k + 1 for k in range(n) if steps[k] == e]
            for x, i, j in excl:
                if e == x:
                    codes += [-(m + 1) for m in range(i + 1, j + 1)]
            entered[0] = (t, False)
            for code in sorted(codes, key=abs, reverse=True):
                step = abs(code)
                prev = entered[step - 1]
                if prev is None or t - prev[0] > w:
                    continue
                if entered[step] is not None and entered[step][0] == prev[0]:
                    continue
                if code < 0:
                    if not prev[1]:
                        entered[step - 1] = (prev[0], True)
                        if max_step[0] == step - 1 and t - max_step[1][0] <= w:
                            max_step = (max_step[0], (max_step[1][0], True))
                    continue
                new = (prev[0], prev[1])
                if not prev[1]:
                    entered[step] = new
                if step > max_step[0] or (step == max_step[0] and max_step[1][1]):
                    max_step = (step, new)
            if entered[n] is not None:
                break
        out[acc] = -1 if max_step[1][1] else max_step[0]
    return out


def _attempts_oracle(rows, steps, w, excl):
    """The module's reading, attempt by attempt in plain Python: furthest step, -1 when excluded."""
    out = {}
    for acc in sorted({r[0] for r in rows}):
        evs = sorted((t, k, e) for k, (a, t, e) in enumerate(rows) if a == acc)
        attempts = []  # (effective progress, clean progress or None)
        for t0, k0, e0 in evs:
            if e0 != steps[0]:
                continue
            times, used = [t0], {k0}
            for step in steps[1:]:
                nxt = [
                    (t, k) for t, k, e in evs
                    if e == step and k not in used and times[-1] <= t <= t0 + w
                    and (t, k) > max(((tt, kk) for tt, kk, ee in evs if kk in used and ee == step),
                                     default=(-1, -1))
                ]  # fmt: skip
                if not nxt:
                    break
                t, k = min(nxt)
                times.append(t)
                used.add(k)
            prog, eff, tainted = len(times), len(times), False
            for x, i, j in excl:
                if prog < i + 1:
                    continue
                xs = [
                    t for t, _, e in evs
                    if e == x and t > times[i] and (t < times[j] if prog > j else t <= t0 + w)
                ]  # fmt: skip
                if xs:
                    tainted = True
                    eff = min(eff, prog, sum(tt < min(xs) for tt in times) + 1)
            attempts.append((eff, None if tainted else prog))
        if attempts:
            f = max(a[0] for a in attempts)
            out[acc] = f if any(c == f for _, c in attempts) else -1
    return out


def _result(r):
    return {
        a: (-1 if ex else f)
        for a, f, ex in r.accounts.select("account_id", "furthest_step", "excluded").iter_rows()
    }


@settings(max_examples=200, deadline=None)
@given(
    # few names and instants, so that ties and window edges are common
    event_sets(max_time=12, names=["a", "b", "x"]),
    st.lists(st.sampled_from(["a", "b"]), min_size=2, max_size=4),
    st.integers(1, 8),
    st.data(),
)
def test_property_exclusions_equal_attempt_by_attempt_oracle(rows, steps, w, data):
    i = data.draw(st.integers(0, len(steps) - 2))
    j = data.draw(st.integers(i + 1, len(steps) - 1))
    r = ordered_funnel(events(rows), steps=steps, window=w, exclusions=[("x", i, j)])
    assert _result(r) == _attempts_oracle(rows, steps, w, [("x", i, j)])


@settings(max_examples=150, deadline=None)
@given(
    event_sets(unique_times=True),
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=2, max_size=4),
    st.integers(1, 30),
    st.data(),
)
def test_property_exclusions_agree_with_posthog(rows, steps, w, data):
    i = data.draw(st.integers(0, len(steps) - 2))
    j = data.draw(st.integers(i + 1, len(steps) - 1))
    got = _result(ordered_funnel(events(rows), steps=steps, window=w, exclusions=[("x", i, j)]))
    expected = _posthog_oracle(rows, steps, w, [("x", i, j)])
    assert got.keys() == expected.keys()
    for acc, e in expected.items():
        # the one known divergence: PostHog keeps only the latest attempt per step, so it can
        # exclude an account whose older, clean attempt reached the same step (see
        # test_clean_older_attempt_counts_where_posthog_excludes)
        assert got[acc] == e or (e == -1 and got[acc] >= 1)


def test_clean_older_attempt_counts_where_posthog_excludes(constructor):
    # attempt from 0 s reaches b and its window (0-4 s) closes before x at 5 s: clean, 2 steps.
    # attempt from 1 s reaches b too and has x inside its window: excluded. The account counts
    # at step 2 (metrics.md: "another attempt without x can still count"); PostHog, which keeps
    # only the later attempt at step 2, would remove it.
    ev = events([("p", 0, "a"), ("p", 1, "a"), ("p", 2, "b"), ("p", 5, "x")])
    r = ordered_funnel(constructor(ev), steps=["a", "b", "c"], window="4s", exclusions=["x:0:2"])
    assert _result(r) == {"p": 2}
    assert _posthog_oracle([("p", 0, "a"), ("p", 1, "a"), ("p", 2, "b"), ("p", 5, "x")],
                           ["a", "b", "c"], 4, [("x", 0, 2)]) == {"p": -1}  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(event_sets(unique_times=True), steps_st, st.integers(1, 30))
def test_property_no_exclusions_agree_with_posthog(rows, steps, w):
    r = ordered_funnel(events(rows), steps=steps, window=w)
    assert furthest(r) == _posthog_oracle(rows, steps, w, [])
