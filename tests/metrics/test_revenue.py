"""Revenue metrics (metrics.md § Revenue): hand-computed cases on every engine, then properties.

The main scenario ``SCENARIO_A`` (MRR per account and month, ``-`` = no row):

    account   2024-01  2024-02  2024-03  2024-04  2024-05
    a         100      120      120      90       90      expansion Feb, contraction Apr
    b         50       50       -        -        60      churn Mar (missing row), reactivation May
    c         -        30       0 (row)  30       -       new Feb, churn Mar (zero row), react. Apr, churn May
    d         -        -        40       40       -       new Mar, churn May
    e         0 (row)  -        -        -        10      new May (a zero row is not "paid")

    MRR       150      200      160      160      160
    |C|       2        3        2        3        3

2024-01 is the opening balance (no movements row).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.metrics.revenue import (
    arpa,
    grr,
    grr_12m,
    ltv,
    nrr,
    nrr_12m,
    quick_ratio,
    revenue_months,
    revenue_retention,
)

COLUMNS = [
    "month",
    "mrr",
    "customers",
    "new_mrr",
    "expansion_mrr",
    "reactivation_mrr",
    "contraction_mrr",
    "churned_mrr",
    "net_new_mrr",
    "new_customers",
    "reactivated_customers",
    "churned_customers",
    "expansion_customers",
    "contraction_customers",
    "logo_churn_rate",
    "churn_rate_simple",
    "gross_mrr_churn_rate",
    "nrr_1m",
    "grr_1m",
    "arpa",
    "quick_ratio",
]


def subs(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    """(account, 'YYYY-MM', mrr) rows → a canonical subscriptions frame."""
    return pl.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "month": [dt.date(int(r[1][:4]), int(r[1][5:7]), 1) for r in rows],
            "mrr": [float(r[2]) for r in rows],
        },
        schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64},
    )


SCENARIO_A = subs(
    [
        ("a", "2024-01", 100), ("a", "2024-02", 120), ("a", "2024-03", 120),
        ("a", "2024-04", 90), ("a", "2024-05", 90),
        ("b", "2024-01", 50), ("b", "2024-02", 50), ("b", "2024-05", 60),
        ("c", "2024-02", 30), ("c", "2024-03", 0), ("c", "2024-04", 30),
        ("d", "2024-03", 40), ("d", "2024-04", 40),
        ("e", "2024-01", 0), ("e", "2024-05", 10),
    ]
)  # fmt: skip


def approx_rows(got: pl.DataFrame, expected: list[dict]) -> None:
    assert got.columns == COLUMNS
    assert got.height == len(expected)
    for row, exp in zip(got.iter_rows(named=True), expected, strict=True):
        for key, value in exp.items():
            if value is None or isinstance(value, str | int) and not isinstance(value, bool):
                assert row[key] == value, (row["month"], key, row[key], value)
            else:
                assert row[key] == pytest.approx(value, abs=1e-12), (row["month"], key)


# ---------------------------------------------------------------- revenue_months
def test_revenue_months_hand_computed_movements_and_rates(constructor):
    got = revenue_months(constructor(SCENARIO_A), period=("2024-01", "2024-05"))
    expected = [
        # Feb: c new +30, a expands +20; nothing lost. C(Jan) = {a, b}, MRR(Jan) = 150.
        dict(month="2024-02", mrr=200.0, customers=3, new_mrr=30.0, expansion_mrr=20.0,
             reactivation_mrr=0.0, contraction_mrr=0.0, churned_mrr=0.0, net_new_mrr=50.0,
             new_customers=1, reactivated_customers=0, churned_customers=0,
             expansion_customers=1, contraction_customers=0, logo_churn_rate=0.0,
             churn_rate_simple=(2 - 3) / 2, gross_mrr_churn_rate=0.0, nrr_1m=170 / 150,
             grr_1m=1.0, arpa=200 / 3, quick_ratio=None),
        # Mar: d new +40; b churns (missing row) -50, c churns (zero row) -30.
        dict(month="2024-03", mrr=160.0, customers=2, new_mrr=40.0, expansion_mrr=0.0,
             reactivation_mrr=0.0, contraction_mrr=0.0, churned_mrr=-80.0, net_new_mrr=-40.0,
             new_customers=1, reactivated_customers=0, churned_customers=2,
             expansion_customers=0, contraction_customers=0, logo_churn_rate=2 / 3,
             churn_rate_simple=1 / 3, gross_mrr_churn_rate=80 / 200, nrr_1m=120 / 200,
             grr_1m=120 / 200, arpa=80.0, quick_ratio=40 / 80),
        # Apr: c reactivates +30 (paid in Feb, before m-1 = Mar); a contracts -30.
        dict(month="2024-04", mrr=160.0, customers=3, new_mrr=0.0, expansion_mrr=0.0,
             reactivation_mrr=30.0, contraction_mrr=-30.0, churned_mrr=0.0, net_new_mrr=0.0,
             new_customers=0, reactivated_customers=1, churned_customers=0,
             expansion_customers=0, contraction_customers=1, logo_churn_rate=0.0,
             churn_rate_simple=-0.5, gross_mrr_churn_rate=30 / 160, nrr_1m=130 / 160,
             grr_1m=130 / 160, arpa=160 / 3, quick_ratio=1.0),
        # May: e new +10 (its Jan row has mrr 0), b reactivates +60; c -30 and d -40 churn.
        dict(month="2024-05", mrr=160.0, customers=3, new_mrr=10.0, expansion_mrr=0.0,
             reactivation_mrr=60.0, contraction_mrr=0.0, churned_mrr=-70.0, net_new_mrr=0.0,
             new_customers=1, reactivated_customers=1, churned_customers=2,
             expansion_customers=0, contraction_customers=0, logo_churn_rate=2 / 3,
             churn_rate_simple=0.0, gross_mrr_churn_rate=70 / 160, nrr_1m=90 / 160,
             grr_1m=90 / 160, arpa=160 / 3, quick_ratio=1.0),
    ]  # fmt: skip
    approx_rows(got, expected)
    assert got.schema["customers"] == pl.Int64
    assert got.schema["logo_churn_rate"] == pl.Float64


def test_first_table_month_is_the_opening_balance(constructor):
    # The period starts before the data: Dec (m-1 before the table) and Jan (the
    # opening balance itself) have no row; Feb is the first month with movements.
    got = revenue_months(constructor(SCENARIO_A), period=("2023-11", "2024-02"))
    assert got["month"].to_list() == ["2024-02"]
    assert got["net_new_mrr"].to_list() == [50.0]


def test_period_inside_the_data_uses_the_month_before_it(constructor):
    got = revenue_months(constructor(SCENARIO_A), period=("2024-03", "2024-03"))
    assert got.select("month", "mrr", "churned_mrr", "new_mrr").rows() == [
        ("2024-03", 160.0, -80.0, 40.0)
    ]


def test_zero_denominators_give_null(constructor):
    # a pays in Jan, nobody pays in Feb, a comes back in Mar.
    data = subs([("a", "2024-01", 10), ("a", "2024-03", 10)])
    got = revenue_months(constructor(data), period=("2024-01", "2024-03"))
    feb, mar = got.to_dicts()
    assert feb["churned_mrr"] == -10.0 and feb["churned_customers"] == 1
    assert feb["arpa"] is None  # no customers in Feb
    assert feb["quick_ratio"] == 0.0  # lost 10, gained 0
    assert feb["logo_churn_rate"] == 1.0
    # Mar: C(Feb) is empty and MRR(Feb) = 0: every rate over them is null.
    assert mar["reactivation_mrr"] == 10.0 and mar["reactivated_customers"] == 1
    for key in ("logo_churn_rate", "churn_rate_simple", "gross_mrr_churn_rate", "nrr_1m", "grr_1m"):
        assert mar[key] is None, key
    assert mar["quick_ratio"] is None  # nothing lost
    assert mar["arpa"] == 10.0


def test_month_after_the_data_reads_missing_rows_as_zero(constructor):
    data = subs([("a", "2024-01", 10), ("b", "2024-01", 5)])
    got = revenue_months(constructor(data), period=("2024-01", "2024-02"))
    assert got.select("month", "mrr", "churned_mrr", "churned_customers").rows() == [
        ("2024-02", 0.0, -15.0, 2)
    ]


def test_empty_subscriptions_give_an_empty_frame(constructor):
    got = revenue_months(constructor(subs([])), period=("2024-01", "2024-03"))
    assert got.columns == COLUMNS and got.height == 0


def test_net_new_equals_mrr_difference_with_cents(constructor):
    # Amounts that are not exact in binary floating point still balance exactly.
    data = subs(
        [("a", "2024-01", 0.1), ("b", "2024-01", 0.2), ("a", "2024-02", 0.3), ("c", "2024-02", 0.7)]
    )
    row = revenue_months(constructor(data), period=("2024-02", "2024-02")).row(0, named=True)
    assert row["mrr"] == 1.0
    assert row["net_new_mrr"] == pytest.approx(0.7, abs=1e-12)
    assert row["expansion_mrr"] == pytest.approx(0.2, abs=1e-12)
    assert row["churned_mrr"] == pytest.approx(-0.2, abs=1e-12)


# ---------------------------------------------------------------- vendor examples
def test_arpa_vendor_example(constructor):
    # ARPA of accounts paying $1, $1, $3, $5, $5 = 15 / 5 = $3.
    data = subs([(a, "2024-01", v) for a, v in zip("abcde", [1, 1, 3, 5, 5], strict=True)])
    assert arpa(constructor(data), month="2024-01") == 3.0
    assert arpa(constructor(data), month="2024-02") is None  # no customers


QUICK = subs(
    [
        ("x", "2024-01", 50_000), ("x", "2024-02", 60_000),  # expansion +10k
        ("ch", "2024-01", 8_000),  # churn -8k
        ("co", "2024-01", 20_000), ("co", "2024-02", 16_000),  # contraction -4k
        ("n", "2024-02", 25_000),  # new +25k
    ]
)  # fmt: skip


def test_quick_ratio_vendor_example(constructor):
    # (25k new + 10k expansion) / (8k churn + 4k contraction) = 35 / 12 ≈ 2.9167.
    assert quick_ratio(constructor(QUICK), month="2024-02") == pytest.approx(35 / 12)
    row = revenue_months(constructor(QUICK), period=("2024-02", "2024-02")).row(0, named=True)
    assert row["quick_ratio"] == pytest.approx(2.9167, abs=1e-4)
    assert quick_ratio(constructor(QUICK), month="2024-01") is None  # opening balance


# ---------------------------------------------------------------- NRR / GRR
def test_nrr_grr_hand_computed(constructor):
    native = constructor(SCENARIO_A)
    # C(Jan) = {a: 100, b: 50}; in May a = 90, b = 60.
    assert nrr(native, start="2024-01", horizon=4) == pytest.approx(150 / 150)
    assert grr(native, start="2024-01", horizon=4) == pytest.approx((90 + 50) / 150)
    # C(Feb) = {a: 120, b: 50, c: 30}; in Apr a = 90, b = 0, c = 30.
    assert nrr(native, start="2024-02", horizon=2) == pytest.approx(120 / 200)
    assert grr(native, start="2024-02", horizon=2) == pytest.approx(120 / 200)
    assert nrr(native, start="2024-02", horizon=0) == 1.0
    assert nrr(native, start="2023-06", horizon=1) is None  # nobody paid in s
    assert grr(native, start="2023-06", horizon=1) is None


def test_nrr_rejects_negative_horizon():
    with pytest.raises(ValueError):
        nrr(SCENARIO_A, start="2024-01", horizon=-1)


ANNUAL = subs(
    [
        ("a", "2023-01", 100), ("a", "2024-01", 150),
        ("b", "2023-01", 100),
        ("c", "2023-06", 50), ("c", "2024-01", 50),  # not in C(2023-01)
    ]
)  # fmt: skip


def test_nrr_12m_and_grr_12m(constructor):
    native = constructor(ANNUAL)
    # E = 2024-01, E-12 = 2023-01: C = {a: 100, b: 100}; a = 150, b = 0 a year later.
    assert nrr_12m(native, period=("2023-01", "2024-01")) == pytest.approx(150 / 200)
    assert grr_12m(native, period=("2023-01", "2024-01")) == pytest.approx(100 / 200)


def test_nrr_12m_null_without_a_year_of_history(constructor):
    native = constructor(ANNUAL)
    # E = 2023-12: E-12 = 2022-12 is before the table's first month 2023-01.
    assert nrr_12m(native, period=("2023-01", "2023-12")) is None
    assert grr_12m(native, period=("2023-01", "2023-12")) is None


# ---------------------------------------------------------------- LTV
def test_ltv_hand_computed(constructor):
    # Mean ARPA over Jan..May: (75 + 200/3 + 80 + 160/3 + 160/3) / 5 = 985/15.
    # Mean logo churn over Feb..May: (0 + 2/3 + 0 + 2/3) / 4 = 1/3.
    got = ltv(constructor(SCENARIO_A), period=("2024-01", "2024-05"), gross_margin=0.8)
    assert got == pytest.approx(985 / 15 * 0.8 * 3)  # 157.6


def test_ltv_null_without_churn(constructor):
    data = subs([("a", m, 10) for m in ("2024-01", "2024-02", "2024-03")])
    assert ltv(constructor(data), period=("2024-01", "2024-03"), gross_margin=0.8) is None
    # Only the opening balance in the period: churn undefined.
    assert ltv(constructor(SCENARIO_A), period=("2024-01", "2024-01")) is None


# ---------------------------------------------------------------- revenue retention
def test_revenue_retention_by_first_paid_month(constructor):
    got = revenue_retention(constructor(SCENARIO_A), period=("2024-01", "2024-05"))
    assert got.columns == ["cohort", "k", "size", "logo_retention", "nrr"]
    expected = [
        # cohort Jan = {a: 100, b: 50}
        ("2024-01", 0, 2, 1.0, 1.0),
        ("2024-01", 1, 2, 1.0, 170 / 150),
        ("2024-01", 2, 2, 0.5, 120 / 150),
        ("2024-01", 3, 2, 0.5, 90 / 150),
        ("2024-01", 4, 2, 1.0, 150 / 150),
        # cohort Feb = {c: 30}; its Mar row has mrr 0
        ("2024-02", 0, 1, 1.0, 1.0),
        ("2024-02", 1, 1, 0.0, 0.0),
        ("2024-02", 2, 1, 1.0, 1.0),
        ("2024-02", 3, 1, 0.0, 0.0),
        # cohort Mar = {d: 40}
        ("2024-03", 0, 1, 1.0, 1.0),
        ("2024-03", 1, 1, 1.0, 1.0),
        ("2024-03", 2, 1, 0.0, 0.0),
        # no cohort Apr; cohort May = {e: 10} (its Jan row has mrr 0)
        ("2024-05", 0, 1, 1.0, 1.0),
    ]
    assert len(got) == len(expected)
    for row, exp in zip(got.rows(), expected, strict=True):
        assert row[:3] == exp[:3]
        assert row[3:] == pytest.approx(exp[3:])


def test_revenue_retention_limits_cohorts_and_k_to_the_period(constructor):
    got = revenue_retention(constructor(SCENARIO_A), period=("2024-02", "2024-04"))
    assert got.select("cohort", "k").rows() == [
        ("2024-02", 0), ("2024-02", 1), ("2024-02", 2),
        ("2024-03", 0), ("2024-03", 1),
    ]  # fmt: skip


# ---------------------------------------------------------------- properties (polars only)
ACCOUNTS = list("abcdef")
N_MONTHS = 8
MONTHS = [f"2024-{i + 1:02d}" for i in range(N_MONTHS)]

amounts = st.one_of(
    st.just(0.0),
    st.integers(min_value=1, max_value=100_000).map(lambda c: c / 100),
)


@st.composite
def subscription_tables(draw) -> pl.DataFrame:
    cells = draw(
        st.dictionaries(
            st.tuples(st.sampled_from(ACCOUNTS), st.integers(0, N_MONTHS - 1)), amounts, max_size=40
        )
    )
    return subs([(a, MONTHS[m], v) for (a, m), v in cells.items()])


def brute_force(data: pl.DataFrame) -> dict[str, dict[str, float]]:
    """Movements from the full account × month grid (a straightforward reference)."""
    grid: dict[str, dict[int, float]] = defaultdict(dict)
    for a, m, v in data.iter_rows():
        grid[a][(m.year - 2024) * 12 + m.month - 1] = v
    first = min((m.year - 2024) * 12 + m.month - 1 for m in data["month"])
    out = {}
    for mi in range(first + 1, N_MONTHS):
        r = defaultdict(float)
        for row in grid.values():
            p, c = row.get(mi - 1, 0.0), row.get(mi, 0.0)
            paid_before = any(row.get(j, 0.0) > 0 for j in range(mi - 1))
            if p == 0 and c > 0:
                kind = "reactivation" if paid_before else "new"
                r[f"{kind}_mrr"] += c
                r["reactivated_customers" if paid_before else "new_customers"] += 1
            elif p > 0 and c > p:
                r["expansion_mrr"] += c - p
                r["expansion_customers"] += 1
            elif p > 0 and 0 < c < p:
                r["contraction_mrr"] += c - p
                r["contraction_customers"] += 1
            elif p > 0 and c == 0:
                r["churned_mrr"] -= p
                r["churned_customers"] += 1
            r["mrr"] += c
            r["mrr_prev"] += p
        out[MONTHS[mi]] = r
    return out


@settings(max_examples=50, deadline=None)
@given(subscription_tables())
def test_property_movements_match_brute_force_and_balance(data):
    got = revenue_months(data, period=(MONTHS[0], MONTHS[-1]))
    if data.height == 0:
        assert got.height == 0
        return
    ref = brute_force(data)
    assert got["month"].to_list() == list(ref)
    for row in got.iter_rows(named=True):
        r = ref[row["month"]]
        # MRR(m) − MRR(m−1) = net_new_mrr = the sum of the five movements.
        assert row["net_new_mrr"] == pytest.approx(r["mrr"] - r["mrr_prev"], abs=1e-6)
        five = sum(row[k] for k in COLUMNS[3:8])
        assert row["net_new_mrr"] == pytest.approx(five, abs=1e-6)
        for key in ("new", "reactivated", "churned", "expansion", "contraction"):
            assert row[f"{key}_customers"] == r[f"{key}_customers"], key
        for key in ("new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr"):
            assert row[key] == pytest.approx(r[key], abs=1e-6), key
        # Rates are fractions; the simple churn rate may be negative but never above 1.
        for key in ("logo_churn_rate", "gross_mrr_churn_rate", "grr_1m"):
            assert row[key] is None or 0.0 <= row[key] <= 1.0 + 1e-12, key
        assert row["churn_rate_simple"] is None or row["churn_rate_simple"] <= 1.0
        assert row["nrr_1m"] is None or row["nrr_1m"] >= 0.0
        for key in COLUMNS[1:]:
            assert row[key] is None or math.isfinite(row[key]), key


@settings(max_examples=50, deadline=None)
@given(subscription_tables(), st.integers(0, N_MONTHS - 1), st.integers(0, N_MONTHS - 1))
def test_property_grr_at_most_one_and_at_most_nrr(data, s, h):
    g = grr(data, start=MONTHS[s], horizon=h)
    n = nrr(data, start=MONTHS[s], horizon=h)
    assert (g is None) == (n is None)
    if g is not None:
        assert 0.0 <= g <= 1.0 + 1e-12
        assert g <= n + 1e-12


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(ACCOUNTS),
        st.integers(min_value=1, max_value=100_000).map(lambda c: c / 100),
        min_size=1,
    ),
    st.integers(0, N_MONTHS - 1),
    st.integers(0, N_MONTHS - 1),
)
def test_property_constant_mrr_retains_everything(levels, s, h):
    data = subs([(a, m, v) for a, v in levels.items() for m in MONTHS])
    if s + h < N_MONTHS:
        assert nrr(data, start=MONTHS[s], horizon=h) == pytest.approx(1.0)
        assert grr(data, start=MONTHS[s], horizon=h) == pytest.approx(1.0)
    got = revenue_months(data, period=(MONTHS[0], MONTHS[-1]))
    assert got["nrr_1m"].to_list() == [1.0] * (N_MONTHS - 1)
    assert got["grr_1m"].to_list() == [1.0] * (N_MONTHS - 1)
    assert got["logo_churn_rate"].to_list() == [0.0] * (N_MONTHS - 1)


def test_shared_results_aggregate_each_frame_once(monkeypatch):
    """Inside shared_results() a frame's ledger is computed once; other frames and later calls are not served from it."""
    from journeylib.metrics import _ledger, _memo

    computed: list[int] = []
    real = _ledger.compute_ledger

    def counting(frame):
        computed.append(id(frame))
        return real(frame)

    monkeypatch.setattr(_ledger, "compute_ledger", counting)
    period = ("2024-02", "2024-03")
    other = SCENARIO_A.filter(pl.col("account_id") != "a")
    expected = (revenue_months(SCENARIO_A, period=period), ltv(SCENARIO_A, period=period))
    computed.clear()
    with _memo.shared_results():
        months = revenue_months(SCENARIO_A, period=period)
        value = ltv(SCENARIO_A, period=period)
        assert computed == [id(SCENARIO_A)]
        revenue_months(other, period=period)  # another frame: its own ledger
        assert computed == [id(SCENARIO_A), id(other)]
    assert months.equals(expected[0]) and value == expected[1]
    ltv(SCENARIO_A, period=period)  # after the block: computed again
    assert computed == [id(SCENARIO_A), id(other), id(SCENARIO_A)]
