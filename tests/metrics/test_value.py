"""Customer value curves (analytics.md §7): hand-computed client on every engine, and properties.

Client (subscriptions, MRR per month, ``-`` = no row; the table starts 2024-01):

    account  2024-01  2024-02  2024-03  2024-04  acquisition_channel
    o1       20       20       20       20       ads      opening balance (table's first month)
    o2       10       10       -        -        seo      opening balance, churns in Mar
    a1       -        100      150      150      ads      cohort Feb, expansion in Mar
    a2       -        50       -        50       ads      cohort Feb, churn Mar, reactivation Apr
    s1       -        40       40       40       seo      cohort Feb
    n1       -        30       30       0        null     cohort Feb → "(none)"; an mrr-0 row in Apr
    a3       -        -        60       60       ads      cohort Mar
    s2       -        -        25.50    25.50    seo      cohort Mar
    s3       -        -        10       -        seo      cohort Mar
    x1       -        -        20       20       (missing from accounts) cohort Mar → "(none)"

Marketing spend: Jan ads 500; Feb ads 300, seo 90, email 70 (email has no
customers: it only counts in "(all)"); Mar ads 100, seo 120 + 80 (two rows);
Apr ads 1000 (no cohort in April).
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.metrics.acquisition import cac_by_month
from journeylib.metrics.value import (
    ALL_CHANNELS,
    VALUE_CURVES_SCHEMA,
    value_curves,
    value_curves_rows,
)
from journeylib.months import month_index


def date(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:7]), 1)


def subs(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "month": [date(r[1]) for r in rows],
            "mrr": [float(r[2]) for r in rows],
        },
        schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64},
    )


def accounts(channels: dict[str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {"account_id": list(channels), "acquisition_channel": list(channels.values())},
        schema={"account_id": pl.String, "acquisition_channel": pl.String},
    )


def marketing(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    """(YYYY-MM, channel, spend) rows."""
    return pl.DataFrame(
        [(date(m), ch, float(s)) for m, ch, s in rows],
        schema={"month": pl.Date, "channel": pl.String, "spend": pl.Float64},
        orient="row",
    )


SUBS = subs(
    [
        ("o1", "2024-01", 20), ("o1", "2024-02", 20), ("o1", "2024-03", 20), ("o1", "2024-04", 20),
        ("o2", "2024-01", 10), ("o2", "2024-02", 10),
        ("a1", "2024-02", 100), ("a1", "2024-03", 150), ("a1", "2024-04", 150),
        ("a2", "2024-02", 50), ("a2", "2024-04", 50),
        ("s1", "2024-02", 40), ("s1", "2024-03", 40), ("s1", "2024-04", 40),
        ("n1", "2024-02", 30), ("n1", "2024-03", 30), ("n1", "2024-04", 0),
        ("a3", "2024-03", 60), ("a3", "2024-04", 60),
        ("s2", "2024-03", 25.5), ("s2", "2024-04", 25.5),
        ("s3", "2024-03", 10),
        ("x1", "2024-03", 20), ("x1", "2024-04", 20),
    ]
)  # fmt: skip
ACC = accounts(
    {
        "o1": "ads", "o2": "seo", "a1": "ads", "a2": "ads", "s1": "seo", "n1": None,
        "a3": "ads", "s2": "seo", "s3": "seo", "z9": "email",
    }
)  # fmt: skip
MKT = marketing(
    [
        ("2024-01", "ads", 500),
        ("2024-02", "ads", 300), ("2024-02", "seo", 90), ("2024-02", "email", 70),
        ("2024-03", "ads", 100), ("2024-03", "seo", 120), ("2024-03", "seo", 80),
        ("2024-04", "ads", 1000),
    ]
)  # fmt: skip
PERIOD = ("2024-01", "2024-04")

# (cohort, channel, customers, cac, cumulative, payback_month), worked out by hand:
EXPECTED = [
    # Opening balance: no new customers in the table's first month → cac and payback null.
    # Month sums: all 30, 30, 20, 20; ads 20 each; seo 10, 10, 0, 0.
    ("2024-01", "(all)", 2, None, [15.0, 30.0, 40.0, 50.0], None),
    ("2024-01", "ads", 1, None, [20.0, 40.0, 60.0, 80.0], None),
    ("2024-01", "seo", 1, None, [10.0, 20.0, 20.0, 20.0], None),
    # Feb: month sums all 220, 220, 240 (a2 churned in Mar, back in Apr; n1 at 0 in Apr).
    # (all) cac = (300 + 90 + 70) / 4 = 115: 55 < 115, 110 < 115, 170 ≥ 115 → 2.
    ("2024-02", "(all)", 4, 115.0, [55.0, 110.0, 170.0], 2),
    ("2024-02", "(none)", 1, 0.0, [30.0, 60.0, 60.0], 0),  # no "(none)" spend: cac 0
    ("2024-02", "ads", 2, 150.0, [75.0, 150.0, 250.0], 1),  # 150 ≥ 150: reached on equality
    ("2024-02", "seo", 1, 90.0, [40.0, 80.0, 120.0], 2),
    # Mar: month sums all 115.5, 105.5; cac (all) = 300 / 4 = 75, never reached by Apr.
    ("2024-03", "(all)", 4, 75.0, [28.875, 55.25], None),
    ("2024-03", "(none)", 1, 0.0, [20.0, 40.0], 0),  # x1, missing from accounts
    ("2024-03", "ads", 1, 100.0, [60.0, 120.0], 1),
    ("2024-03", "seo", 2, 100.0, [17.75, 30.5], None),  # 200 / 2; (35.5, 61) / 2
]


def test_hand_computed_client(constructor):
    got = value_curves(constructor(SUBS), constructor(ACC), constructor(MKT), period=PERIOD)
    assert got.schema == pl.Schema(VALUE_CURVES_SCHEMA)
    assert got.rows() == EXPECTED


def test_period_limits_cohorts_and_months(constructor):
    """Cohorts before the period are left out; cumulative stops at the period's end, and so may payback."""
    got = value_curves(
        constructor(SUBS), constructor(ACC), constructor(MKT), period=("2024-02", "2024-03")
    )
    assert got.rows() == [
        ("2024-02", "(all)", 4, 115.0, [55.0, 110.0], None),  # 170 would come in Apr
        ("2024-02", "(none)", 1, 0.0, [30.0, 60.0], 0),
        ("2024-02", "ads", 2, 150.0, [75.0, 150.0], 1),
        ("2024-02", "seo", 1, 90.0, [40.0, 80.0], None),
        ("2024-03", "(all)", 4, 75.0, [28.875], None),
        ("2024-03", "(none)", 1, 0.0, [20.0], 0),
        ("2024-03", "ads", 1, 100.0, [60.0], None),
        ("2024-03", "seo", 2, 100.0, [17.75], None),
    ]


def test_without_marketing_cac_and_payback_are_null(constructor):
    got = value_curves(constructor(SUBS), constructor(ACC), None, period=PERIOD)
    assert got.rows() == [(c, ch, n, None, cum, None) for c, ch, n, _, cum, _ in EXPECTED]


def test_gross_margin_scales_cumulative(constructor):
    got = value_curves(
        constructor(SUBS), constructor(ACC), constructor(MKT), period=PERIOD, gross_margin=0.5
    )
    assert got["cumulative"].to_list() == [[v * 0.5 for v in row[4]] for row in EXPECTED]
    assert got["cac"].to_list() == [row[3] for row in EXPECTED]  # the CAC does not change
    # Half the margin: Feb (all) 27.5, 55, 85 < 115; Feb ads 37.5, 75, 125 ≥ 150? no;
    # Feb seo 20, 40, 60 < 90; Mar ads 30, 60 < 100; cac 0 is still reached at once.
    assert got["payback_month"].to_list() == [None] * 4 + [0, None, None, None, 0, None, None]


def test_all_channels_cac_is_the_month_cac(constructor):
    data, mkt = constructor(SUBS), constructor(MKT)
    months = cac_by_month(mkt, data, period=PERIOD)
    month_cac = dict(zip(months["month"], months["cac"], strict=True))
    got = value_curves(data, constructor(ACC), mkt, period=PERIOD).filter(
        pl.col("channel") == ALL_CHANNELS
    )
    assert got["cohort"].to_list() == ["2024-01", "2024-02", "2024-03"]
    for cohort, cac in got.select("cohort", "cac").iter_rows():
        assert cac == month_cac[cohort]


def test_accounts_without_the_channel_column_are_none(constructor):
    acc = ACC.select("account_id")
    got = value_curves(constructor(SUBS), constructor(acc), constructor(MKT), period=PERIOD)
    assert got.select("cohort", "channel", "customers").rows() == [
        ("2024-01", "(all)", 2), ("2024-01", "(none)", 2),
        ("2024-02", "(all)", 4), ("2024-02", "(none)", 4),
        ("2024-03", "(all)", 4), ("2024-03", "(none)", 4),
    ]  # fmt: skip
    assert got["cac"].to_list() == [None, None, 115.0, 0.0, 75.0, 0.0]


def test_all_channels_come_first_even_before_channels_that_sort_earlier(constructor):
    data = subs([("o", "2024-01", 1), ("p", "2024-02", 10), ("q", "2024-02", 10)])
    acc = accounts({"o": "ads", "p": "!promo", "q": "ads"})  # "!" sorts before "("
    got = value_curves(constructor(data), constructor(acc), None, period=("2024-02", "2024-02"))
    assert got.select("channel", "customers").rows() == [("(all)", 2), ("!promo", 1), ("ads", 1)]


def test_empty_subscriptions_give_an_empty_frame(constructor):
    got = value_curves(constructor(subs([])), constructor(ACC), constructor(MKT), period=PERIOD)
    assert got.height == 0
    assert got.schema == pl.Schema(VALUE_CURVES_SCHEMA)


def test_payback_compares_exactly_without_float_noise(constructor):
    """3 × 0.3 is 0.8999999999999999 in floats: the CAC of 0.9 is still paid back in month 0."""
    data = subs([("o", "2024-01", 1), ("b", "2024-02", 3), ("b", "2024-03", 3)])
    acc = accounts({"o": "ads", "b": "ads"})
    mkt = marketing([("2024-02", "ads", 0.9)])
    got = value_curves(
        constructor(data),
        constructor(acc),
        constructor(mkt),
        period=("2024-02", "2024-03"),
        gross_margin=0.3,
    )
    assert got.rows() == [
        ("2024-02", "(all)", 1, 0.9, [3 / 1 * 0.3 / 1, 6 / 1 * 0.3 / 1], 0),
        ("2024-02", "ads", 1, 0.9, [3 / 1 * 0.3 / 1, 6 / 1 * 0.3 / 1], 0),
    ]
    assert got["cumulative"][0][0] < 0.9  # the float alone would say month 1


def test_rows_for_metrics_json():
    rows = value_curves_rows(value_curves(SUBS, ACC, MKT, period=PERIOD))
    assert [tuple(r.values()) for r in rows] == EXPECTED
    assert list(rows[0]) == ["cohort", "channel", "customers", "cac", "cumulative", "payback_month"]


# ---------------------------------------------------------------- properties
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
ACCOUNTS = [f"u{i}" for i in range(12)]
CHANNELS = ["ads", "seo", None]
amounts = st.one_of(
    st.just(0.0), st.integers(min_value=1, max_value=100_000).map(lambda c: c / 100)
)


@st.composite
def clients(draw) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, tuple[str, str]]:
    cells = draw(
        st.dictionaries(
            st.tuples(st.sampled_from(ACCOUNTS), st.integers(0, len(MONTHS) - 1)),
            amounts,
            max_size=40,
        )
    )
    data = subs([(a, MONTHS[m], v) for (a, m), v in cells.items()])
    # Some accounts are missing from `accounts`; channels may be null.
    known = draw(st.lists(st.sampled_from(ACCOUNTS), unique=True))
    acc = accounts({a: draw(st.sampled_from(CHANNELS)) for a in known})
    spend = draw(
        st.dictionaries(
            st.tuples(st.integers(0, len(MONTHS) - 1), st.sampled_from(["ads", "seo", "tv"])),
            st.integers(0, 50_000).map(lambda c: c / 100),
            max_size=12,
        )
    )
    mkt = marketing([(MONTHS[m], ch, s) for (m, ch), s in spend.items()])
    lo = draw(st.integers(0, len(MONTHS) - 1))
    hi = draw(st.integers(lo, len(MONTHS) - 1))
    return data, acc, mkt, (MONTHS[lo], MONTHS[hi])


@settings(max_examples=60, deadline=None)
@given(clients(), st.sampled_from([1.0, 0.8, 0.3]))
def test_property_curves(client, margin):
    data, acc, mkt, period = client
    got = value_curves(data, acc, mkt, period=period, gross_margin=margin)
    end = month_index(period[1])
    months = cac_by_month(mkt, data, period=period)
    month_cac = dict(zip(months["month"], months["cac"], strict=True))
    by_cohort: dict[str, list[dict]] = {}
    for row in got.iter_rows(named=True):
        by_cohort.setdefault(row["cohort"], []).append(row)
        cum, cac = row["cumulative"], row["cac"]
        assert row["customers"] > 0
        assert len(cum) == end - month_index(row["cohort"]) + 1
        assert all(a <= b for a, b in pairwise(cum))
        k = row["payback_month"]
        if cac is None:
            assert k is None
        elif k is None:  # never reached (up to float noise: the comparison is exact)
            assert all(c < cac * (1 + 1e-9) for c in cum)
        else:
            assert cum[k] >= cac * (1 - 1e-9)
            assert all(c < cac * (1 + 1e-9) for c in cum[:k])
    assert list(by_cohort) == sorted(by_cohort)
    for cohort, rows in by_cohort.items():
        assert month_index(period[0]) <= month_index(cohort) <= end
        everyone, *channels = rows
        assert everyone["channel"] == ALL_CHANNELS
        assert [r["channel"] for r in channels] == sorted(r["channel"] for r in channels)
        assert everyone["customers"] == sum(r["customers"] for r in channels)
        # (all) cumulative × customers = Σ over the channels of cumulative × customers.
        for k, value in enumerate(everyone["cumulative"]):
            total = sum(r["cumulative"][k] * r["customers"] for r in channels)
            assert value * everyone["customers"] == pytest.approx(total, rel=1e-9, abs=1e-9)
        # (all) cac = the month's CAC of acquisition.cac_by_month.
        assert everyone["cac"] == month_cac[cohort]


@settings(max_examples=30, deadline=None)
@given(clients(), st.sampled_from([0.0, 0.25, 0.7, 2.0]))
def test_property_gross_margin_is_linear(client, margin):
    data, acc, mkt, period = client
    one = value_curves(data, acc, mkt, period=period)
    scaled = value_curves(data, acc, mkt, period=period, gross_margin=margin)
    assert scaled.drop("cumulative", "payback_month").equals(
        one.drop("cumulative", "payback_month")
    )
    for a, b in zip(one["cumulative"], scaled["cumulative"], strict=True):
        assert b.to_list() == pytest.approx([v * margin for v in a], rel=1e-12, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(clients())
def test_property_no_marketing_only_drops_cac(client):
    data, acc, mkt, period = client
    with_mkt = value_curves(data, acc, mkt, period=period)
    without = value_curves(data, acc, None, period=period)
    assert without.drop("cac", "payback_month").equals(with_mkt.drop("cac", "payback_month"))
    assert without["cac"].null_count() == without["payback_month"].null_count() == without.height


def test_a_channel_named_all_stays_apart_from_the_all_channels_row():
    subs = pl.DataFrame(
        {
            "account_id": ["a", "b"],
            "month": [dt.date(2024, 2, 1)] * 2,
            "mrr": [10.0, 30.0],
        }
    )
    acc = pl.DataFrame({"account_id": ["a", "b"], "acquisition_channel": ["(all)", "seo"]})
    got = value_curves(subs, acc, None, period=("2024-02", "2024-02"))
    # the all-channels row first, then the channels by name: "(all)" (a) and seo (b)
    assert got.select("channel", "customers", "cumulative").rows() == [
        ("(all)", 2, [20.0]),
        ("(all)", 1, [10.0]),
        ("seo", 1, [30.0]),
    ]


def test_an_enum_channel_column_reads_as_text():
    subs = pl.DataFrame(
        {"account_id": ["a", "b"], "month": [dt.date(2024, 2, 1)] * 2, "mrr": [10.0, 30.0]}
    )
    acc = pl.DataFrame(
        {"account_id": ["a", "b"], "acquisition_channel": ["seo", None]},
        schema={"account_id": pl.String, "acquisition_channel": pl.Enum(["seo"])},
    )
    got = value_curves(subs, acc, None, period=("2024-02", "2024-02"))
    assert got["channel"].to_list() == ["(all)", "(none)", "seo"]
