"""Markov attribution (analytics.md § 6): the removal-effect model, hand cases and properties."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.metrics.acquisition import (
    MODELS,
    attribution,
    cac_by_model,
    markov_attribution,
    markov_model,
)

UTC = dt.UTC


def test_the_check_case_of_the_spec():
    # A→B→(conversion), A→(null), B→(conversion).
    m = markov_model([(["A", "B"], True), (["A"], False), (["B"], True)])
    assert m.conversion_probability() == pytest.approx(2 / 3)
    assert m.removal_effects() == pytest.approx({"A": 0.5, "B": 1.0})
    credits = m.credits(2)
    assert credits["A"] == pytest.approx(2 / 3) and credits["B"] == pytest.approx(4 / 3)
    assert round(credits["A"], 3) == 0.667 and round(credits["B"], 3) == 1.333


def test_a_three_channel_case_by_hand():
    # Paths: A A B → conv (the repeat collapses), B C → null, A C → conv, C → null.
    m = markov_model(
        [(["A", "A", "B"], True), (["B", "C"], False), (["A", "C"], True), (["C"], False)]
    )
    # (start): A 2/4, B 1/4, C 1/4. A → B, C ½ each; B → conv, C ½ each; C → conv ⅓, null ⅔.
    # x(C) = 1/3, x(B) = ½ + ½·⅓ = 2/3, x(A) = ½·⅔ + ½·⅓ = ½: P = (2·½ + ⅔ + ⅓) / 4 = ½.
    assert m.conversion_probability() == pytest.approx(0.5)
    assert m.moves == {("A", "B"): 1, ("B", "C"): 1, ("A", "C"): 1}
    # Without A: P = (⅔ + ⅓)/4 = ¼ → RE ½. Without B: x(A) = ½·⅓ = ⅙, P = (2·⅙ + ⅓)/4 = ⅙
    # → RE ⅔. Without C: x(B) = ½, x(A) = ¼, P = (2·¼ + ½)/4 = ¼ → RE ½.
    assert m.removal_effects() == pytest.approx({"A": 0.5, "B": 2 / 3, "C": 0.5})
    # Σ RE = 5/3; 2 conversions: A = 2·½/(5/3) = 0.6, B = 0.8, C = 0.6.
    assert m.credits(2) == pytest.approx({"A": 0.6, "B": 0.8, "C": 0.6})


def test_a_channel_that_never_leads_to_a_conversion_gets_exactly_nothing():
    m = markov_model([(["A"], True), (["A", "D"], False), (["D"], False)])
    assert m.removal_effects()["D"] == 0.0
    assert m.credits(1) == {"A": 1.0, "D": 0.0}


def test_no_conversion_gives_no_credit():
    m = markov_model([(["A"], False), (["A", "B"], False)])
    assert m.conversion_probability() == 0.0
    assert m.credits(0) == {"A": 0.0, "B": 0.0}


def test_an_empty_path_is_refused():
    with pytest.raises(ValueError, match="at least one channel"):
        markov_model([([], True)])


def _power_iteration(m, removed=None, steps=4000) -> float:
    """P by pushing the (start) distribution through the chain (tests only)."""
    names = m.channels
    idx = {c: i for i, c in enumerate(names)}
    k = len(names)
    t = np.zeros((k + 2, k + 2))  # states: channels, conversion, null
    for (a, b), n in m.moves.items():
        t[idx[a], idx[b]] += n
    for c, n in m.conversion.items():
        t[idx[c], k] += n
    for c, n in m.null.items():
        t[idx[c], k + 1] += n
    t[:k] /= t[:k].sum(axis=1, keepdims=True)
    if removed is not None:
        t[:, k + 1] += t[:, idx[removed]]
        t[:, idx[removed]] = 0
    t[k, k] = t[k + 1, k + 1] = 1
    v = np.zeros(k + 2)
    for c, n in m.start.items():
        v[idx[c]] += n
    v /= v.sum()
    if removed is not None:
        v[k + 1] += v[idx[removed]]
        v[idx[removed]] = 0
    for _ in range(steps):
        v = v @ t
    return float(v[k])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.sampled_from("ABCD"), min_size=1, max_size=6), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_property_the_exact_solution_is_the_chains_limit(paths):
    m = markov_model(paths)
    conversions = sum(ok for _, ok in paths)
    assert m.conversion_probability() == pytest.approx(_power_iteration(m), abs=1e-9)
    for c in m.channels:
        assert m.conversion_probability(c) == pytest.approx(_power_iteration(m, c), abs=1e-9)
    effects = m.removal_effects()
    assert all(0.0 <= e <= 1.0 for e in effects.values())
    credits = m.credits(conversions)
    assert sum(credits.values()) == pytest.approx(conversions)
    # Every path begins at A: without A nothing converts, RE = 1.
    if conversions and all(p[0] == "A" for p, _ in paths):
        assert effects["A"] == pytest.approx(1.0)


# ------------------------------------------------------------ paths from events
def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


EVENTS = pl.DataFrame(
    [
        # a converts in March: ads → email → email (collapsed) → (conversion)
        ("a", ts(2024, 2, 1), "ads"),
        ("a", ts(2024, 2, 10), "email"),
        ("a", ts(2024, 2, 11), "email"),
        # b never pays: its last touch in the period is 10 Mar, the window reaches into
        # December (before the period) and keeps seo; the April touch is after the period.
        ("b", ts(2023, 12, 20), "seo"),
        ("b", ts(2024, 3, 10), "ads"),
        ("b", ts(2024, 4, 2), "email"),
        # c paid in December (before the period): not a non-converting path.
        ("c", ts(2024, 1, 5), "ads"),
        # d pays in April (after the period): non-converting, email → (null)
        ("d", ts(2024, 3, 5), "email"),
        # e's touches are all before the period: no path.
        ("e", ts(2023, 11, 5), "ads"),
        # f converts in March with no touch: its acquisition channel partner.
    ],
    schema={"account_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "channel": pl.String},
    orient="row",
).with_row_index("seq")
SUBS = pl.DataFrame(
    [
        ("a", dt.date(2024, 3, 1), 10.0),
        ("c", dt.date(2023, 12, 1), 10.0),
        ("d", dt.date(2024, 4, 1), 10.0),
        ("f", dt.date(2024, 3, 1), 10.0),
    ],
    schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64},
    orient="row",
)
ACCOUNTS = pl.DataFrame(
    {
        "account_id": list("abcdef"),
        "acquisition_channel": [None, None, "ads", None, None, "partner"],
    }
)
PERIOD = ("2024-01", "2024-03")


def test_paths_from_events_follow_the_definition(constructor):
    got = markov_attribution(
        constructor(EVENTS), constructor(SUBS), constructor(ACCOUNTS), period=PERIOD
    )
    # Converting: a (ads → email), f (partner). Non-converting: b (seo → ads), d (email).
    assert got["conversions"] == 2
    assert got["paths"] == {"converting": 2, "non_converting": 2}
    # (start): ads, partner, seo, email ¼ each. ads → email (a) or (null) (b's last
    # touch), ½ each; email → conv (a) or (null) (d), ½ each; seo → ads; partner → conv.
    # x(email) = ½, x(ads) = x(seo) = ¼, x(partner) = 1: P = (¼ + 1 + ¼ + ½)/4 = ½.
    # Without ads: (1 + ½)/4 = 3/8 → RE ¼; without email: ¼ → RE ½;
    # without seo: 7/16 → RE ⅛; without partner: ¼ → RE ½.
    assert got["removal_effects"] == pytest.approx(
        {"ads": 0.25, "email": 0.5, "partner": 0.5, "seo": 0.125}
    )
    # Σ RE = 11/8: credit = 2 × RE × 8/11.
    assert got["credits"] == pytest.approx(
        {"ads": 4 / 11, "email": 8 / 11, "partner": 8 / 11, "seo": 2 / 11}
    )


def test_the_markov_column_lists_channels_seen_only_on_paths_that_did_not_convert(constructor):
    got = attribution(constructor(EVENTS), constructor(SUBS), constructor(ACCOUNTS), period=PERIOD)
    rows = {r[0]: r[1:] for r in got.rows()}
    # seo is only on b's path, which did not convert: Markov credit, 0 under the others.
    assert rows["seo"][:4] == (0.0, 0.0, 0.0, 0.0)
    assert rows["seo"][4] == pytest.approx(2 / 11)
    assert got.select(pl.exclude("channel").sum()).row(0) == pytest.approx((2,) * 5)


def test_the_window_bounds_the_non_converting_path(constructor):
    # With a 30-day window b's December seo touch falls out: b's path is ads → (null).
    got = markov_attribution(
        constructor(EVENTS),
        constructor(SUBS),
        constructor(ACCOUNTS),
        period=PERIOD,
        window_days=30,
    )
    assert "seo" not in got["removal_effects"]
    # a's touches are within 30 days of 1 Mar? 1 Feb is 29 days before: yes.
    assert got["paths"] == {"converting": 2, "non_converting": 2}


# ------------------------------------------------------------ CAC by model
def test_cac_by_model_by_hand(constructor):
    mkt = pl.DataFrame(
        {
            "month": [dt.date(2024, 1, 1), dt.date(2024, 3, 1)]
            + [dt.date(2024, 2, 1), dt.date(2024, 5, 1)],
            "channel": ["ads", "ads", "tv", "radio"],
            "spend": [100.0, 200.0, 50.0, 999.0],  # radio's spend is after the period
        }
    )
    att = pl.DataFrame(
        {
            "channel": ["ads", "seo"],
            "first_touch": [2.0, 0.0],
            "last_touch": [1.0, 1.0],
            "linear": [1.5, 0.5],
            "position_based": [1.6, 0.4],
            "markov": [1.2, 0.8],
        }
    )
    got = cac_by_model(constructor(mkt), att, period=PERIOD)
    assert got.columns == [
        "channel", "spend", "first_touch", "last_touch", "linear", "position_based", "markov"
    ]  # fmt: skip
    assert got.rows() == [
        ("ads", 300.0, 150.0, 300.0, 200.0, 187.5, 250.0),
        ("seo", 0.0, None, 0.0, 0.0, 0.0, 0.0),  # no marketing rows: spend 0
        ("tv", 50.0, None, None, None, None, None),  # a marketing channel without credit
    ]
    without = cac_by_model(None, att, period=PERIOD)
    assert without["channel"].to_list() == ["ads", "seo"]
    assert without["spend"].to_list() == [None, None]
    assert without.select(pl.exclude("channel", "spend")).null_count().row(0) == (2,) * 5


def test_cac_by_model_counts_marketing_rows_without_a_channel_as_none():
    mkt = pl.DataFrame(
        {"month": [dt.date(2024, 2, 1)] * 2, "channel": [None, "ads"], "spend": [40.0, 60.0]},
        schema={"month": pl.Date, "channel": pl.String, "spend": pl.Float64},
    )
    att = pl.DataFrame(
        {"channel": ["ads"], **{m: [2.0] for m in MODELS}},
    )
    got = cac_by_model(mkt, att, period=PERIOD)
    assert got.select("channel", "spend", "markov").rows() == [
        ("(none)", 40.0, None),
        ("ads", 60.0, 30.0),
    ]
