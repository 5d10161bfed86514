"""The cohort-value and the retention-forecast findings: hand-made inputs, the exact sentences."""

from __future__ import annotations

import pytest

from journeylib.analysis.findings import forecast_finding, value_curves_finding


def vc(cohort, channel, customers, cac, cumulative, payback):
    return {
        "cohort": cohort,
        "channel": channel,
        "customers": customers,
        "cac": cac,
        "cumulative": cumulative,
        "payback_month": payback,
    }


# Three months of cohorts. ads pays back in months 3 and 1 (median 2), mail in 0 and never
# (median: infinite), seo in 0 and 1 (median 0.5); direct had no spend (CAC 0): not compared.
ROWS = [
    vc("2025-01", "(all)", 5, None, [100.0, 200.0, 300.0], None),
    vc("2025-01", "ads", 5, None, [100.0, 200.0, 300.0], None),
    vc("2025-02", "(all)", 6, 300.0, [100.0, 200.0], None),
    vc("2025-02", "ads", 2, 400.0, [90.0, 180.0, 270.0, 410.0], 3),
    vc("2025-02", "direct", 1, 0.0, [50.0], 0),
    vc("2025-02", "mail", 1, 20.0, [25.0, 50.0], 0),
    vc("2025-02", "seo", 2, 80.0, [100.0], 0),
    vc("2025-03", "(all)", 4, 1200.0, [500.0, 1000.0, 1300.0], 2),
    vc("2025-03", "ads", 1, 900.0, [450.0, 950.0], 1),
    vc("2025-03", "mail", 1, 900.0, [100.0], None),
    vc("2025-03", "seo", 2, 150.0, [100.0, 200.0], 1),
]


# ------------------------------------------------------------------ value curves
def test_the_latest_cohort_paid_back_and_the_channels():
    assert value_curves_finding(ROWS, "USD") == (
        "Customers acquired in 2025-03 earned back their 1,200 USD acquisition cost 2 months "
        "after their first payment; seo's cohorts pay back fastest (median 0.5 months), "
        "mail's slowest (at least half of its cohorts not paid back yet)."
    )


def test_paid_back_in_the_first_month_or_one_month_after():
    first = [*ROWS[:7], vc("2025-03", "(all)", 4, 1200.0, [1300.0], 0)]
    assert value_curves_finding(first, "EUR").startswith(
        "Customers acquired in 2025-03 earned back their 1,200 EUR acquisition cost in the "
        "month of their first payment; "
    )
    one = [*ROWS[:7], vc("2025-03", "(all)", 4, 1200.0, [600.0, 1300.0], 1)]
    assert "acquisition cost 1 month after their first payment; " in value_curves_finding(
        one, "EUR"
    )


def test_the_latest_cohort_not_paid_back_yet():
    # 2025-02 is the latest cohort of all channels with a CAC
    assert value_curves_finding(ROWS[:7], "USD") == (
        "Customers acquired in 2025-02 have not yet earned back their 300 USD acquisition cost "
        "(200 USD of gross margin per customer so far); mail's cohorts pay back fastest "
        "(median 0 months), ads's slowest (median 3 months)."
    )


def test_without_two_channels_to_compare_only_the_cohort():
    alone = [r for r in ROWS if r["channel"] in ("(all)", "ads")]
    assert value_curves_finding(alone, "USD") == (
        "Customers acquired in 2025-03 earned back their 1,200 USD acquisition cost 2 months "
        "after their first payment."
    )
    assert value_curves_finding(alone[:3], "USD") == (
        "Customers acquired in 2025-02 have not yet earned back their 300 USD acquisition cost "
        "(200 USD of gross margin per customer so far)."
    )


def test_channels_with_the_same_median_are_not_compared():
    same = [
        vc("2025-02", "(all)", 2, 10.0, [20.0], 0),
        vc("2025-02", "ads", 1, 10.0, [20.0], 0),
        vc("2025-02", "seo", 1, 10.0, [20.0], 0),
    ]
    assert value_curves_finding(same, "USD") == (
        "Customers acquired in 2025-02 earned back their 10 USD acquisition cost in the month "
        "of their first payment."
    )


def test_ties_go_to_the_first_channel_and_one_month_is_singular():
    rows = [
        vc("2025-02", "(all)", 3, 10.0, [20.0], 0),
        vc("2025-02", "b", 1, 10.0, [5.0, 20.0], 1),
        vc("2025-02", "a", 1, 10.0, [5.0, 20.0], 1),
        vc("2025-02", "c", 1, 10.0, [5.0, 5.0, 20.0], 2),
    ]
    assert value_curves_finding(rows, "USD").endswith(
        "b's cohorts pay back fastest (median 1 month), c's slowest (median 2 months)."
    )


@pytest.mark.parametrize(
    "rows",
    [[], ROWS[:2], [vc("2025-02", "(all)", 6, float("nan"), [1.0], None)]],
    ids=["empty", "no-cac", "nan-cac"],
)
def test_nothing_to_say_without_a_cohort_with_a_cac(rows):
    assert value_curves_finding(rows, "USD") is None


# ------------------------------------------------------------------ forecast
FORECAST = {
    "alpha": 0.19,
    "beta": 3.7,
    "cohorts_used": 9,
    "base": 218,
    "months": [
        {"month": "2026-01", "customers": 213.5, "mrr": 350355.0, "lo": 212.0, "hi": 214.5},
        {"month": "2026-12", "customers": 185.8, "mrr": 304971.03, "lo": 170.01, "hi": 195.47},
    ],
}


def test_the_forecast_sentence():
    assert forecast_finding(FORECAST, "USD") == (
        "With no new customers and at today's retention, the 218 never-churned customers fall "
        "to about 186 by 2026-12 (90 % band 170–195), about 305,000 USD of MRR."
    )


def test_the_forecast_sentence_without_a_band_and_for_one_customer():
    last = {"month": "2026-12", "customers": 0.62, "mrr": 1234.5, "lo": None, "hi": None}
    assert forecast_finding({"base": 1, "months": [last]}, "EUR") == (
        "With no new customers and at today's retention, the 1 never-churned customer falls to "
        "about 1 by 2026-12, about 1,230 EUR of MRR."
    )


def test_small_amounts_keep_their_units():
    last = {"month": "2026-12", "customers": 3.2, "mrr": 96.4, "lo": 2.6, "hi": 3.9}
    assert forecast_finding({"base": 4, "months": [last]}, "EUR").endswith(
        "fall to about 3 by 2026-12 (90 % band 3–4), about 96 EUR of MRR."
    )


@pytest.mark.parametrize(
    "forecast",
    [
        None,
        {},
        {"alpha": None, "beta": None, "cohorts_used": 0, "months": []},
        {**FORECAST, "base": None},
        {**FORECAST, "base": 0},
        {**FORECAST, "months": [{**FORECAST["months"][-1], "mrr": None}]},
    ],
    ids=["none", "empty", "no-fit", "no-base", "zero-base", "no-mrr"],
)
def test_no_forecast_sentence(forecast):
    assert forecast_finding(forecast, "USD") is None
