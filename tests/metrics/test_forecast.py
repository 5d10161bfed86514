"""Retention forecast (analytics.md § 8): the sBG fit, survival table and forecast.

The hand client ``HAND`` (MRR per account and month, ``-`` = no row, E = 2024-06):

    account   01   02   03   04   05   06   07
    a         10   10   10   10   10   20   10    cohort 01 (table's first month), alive at E
    h         10   10   -    10   10   10   -     cohort 01, churns in 03: reactivation does not revive
    b         -    10   10   -    10   10   -     cohort 02, churns in 04, reactivates in 05
    c         -    10   10   10   10   10   -     cohort 02, alive at E
    d         -    -    10   0    -    -    -     cohort 03, churns in 04 (zero row)
    e         -    0    10   10   10   10   10    cohort 03 (its 02 row has mrr 0), alive at E
    f         -    -    -    -    -    -    10    first paid after E: in nothing

ARPA(2024-06) = (20 + 10 + 10 + 10 + 10) / 5 = 12 (h and b pay at E but are not in the base).
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betaln

from journeylib.metrics.forecast import (
    SURVIVAL_SCHEMA,
    fit_sbg,
    fit_sbg_pooled,
    fitted_survival,
    never_churned,
    retention_forecast,
    sbg_churn_probability,
    sbg_survival,
    survival_table,
)

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


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


HAND = subs(
    [("a", f"2024-0{m}", 20 if m == 6 else 10) for m in range(1, 8)]
    + [("h", f"2024-0{m}", 10) for m in (1, 2, 4, 5, 6)]
    + [("b", f"2024-0{m}", 10) for m in (2, 3, 5, 6)]
    + [("c", f"2024-0{m}", 10) for m in (2, 3, 4, 5, 6)]
    + [("d", "2024-03", 10), ("d", "2024-04", 0)]
    + [("e", "2024-02", 0)] + [("e", f"2024-0{m}", 10) for m in (3, 4, 5, 6, 7)]
    + [("f", "2024-07", 10)]
)  # fmt: skip


def log_likelihood(alpha: float, beta: float, series: list[list[int]]) -> float:
    """The spec's pooled sBG log-likelihood, written straight from its formula."""
    lb = betaln(alpha, beta)
    total = 0.0
    for n in series:
        T = len(n) - 1
        for t in range(1, T + 1):
            total += (n[t - 1] - n[t]) * (betaln(alpha + 1, beta + t - 1) - lb)
        total += n[T] * (betaln(alpha, beta + T) - lb)
    return total


def simulate_series(alpha: float, beta: float, n0: int, T: int, rng: np.random.Generator):
    """A survivor series n_0 … n_T drawn customer by customer: θ ~ Beta(α, β), churn month ~ Geom(θ)."""
    life = rng.geometric(rng.beta(alpha, beta, n0))  # months paid before the first churn, >= 1
    return [int((life > t).sum()) for t in range(T + 1)]


def fisher_information(alpha: float, beta: float, cohorts: list[tuple[int, int]]) -> np.ndarray:
    """Expected Fisher information of (ln α, ln β) for cohorts of (T, n_0).

    Per customer of a cohort observed T months the outcome is churn at t = 1 … T or
    survival past T; I = Σ n_0 Σ_k p_k ∇ln p_k ∇ln p_kᵀ (gradients by central differences).
    """

    def log_p(x: np.ndarray, T: int) -> np.ndarray:
        a, b = np.exp(x)
        t = np.arange(1, T + 1)
        return np.log(np.append(sbg_churn_probability(a, b, t), sbg_survival(a, b, T)))

    x, eps = np.log([alpha, beta]), 1e-5
    info = np.zeros((2, 2))
    for T, n0 in cohorts:
        p = np.exp(log_p(x, T))
        grad = np.stack(
            [(log_p(x + eps * e, T) - log_p(x - eps * e, T)) / (2 * eps) for e in np.eye(2)], axis=1
        )
        info += n0 * (grad.T * p) @ grad
    return info


def fisher_se(alpha: float, beta: float, horizons: list[int], n0: int) -> np.ndarray:
    """Asymptotic standard errors of (ln α̂, ln β̂): the inverse expected Fisher information."""
    info = fisher_information(alpha, beta, [(T, n0) for T in horizons])
    return np.sqrt(np.diag(np.linalg.inv(info)))


def synthetic_client(
    alpha: float, beta: float, cohorts: int, per_cohort: int, seed: int, start: int = 2022
) -> pl.DataFrame:
    """Cohorts of ``per_cohort`` accounts from Jan of ``start``, lives drawn from the sBG, no returns."""
    rng = np.random.default_rng(seed)
    s = np.repeat(np.arange(cohorts), per_cohort)
    life = np.minimum(rng.geometric(rng.beta(alpha, beta, s.size)), cohorts - s)
    acc = np.repeat(np.arange(s.size), life)
    offset = np.arange(life.sum()) - np.repeat(np.cumsum(life) - life, life)
    mi = np.repeat(s, life) + offset
    dates = [dt.date(start + m // 12, m % 12 + 1, 1) for m in range(cohorts)]
    return pl.DataFrame(
        {
            "account_id": acc.astype(str),
            "month": pl.Series([dates[m] for m in mi], dtype=pl.Date),
            "mrr": rng.choice([29.0, 99.0, 299.0], mi.size),
        }
    )


# ---------------------------------------------------------------- the sBG functions
def test_survival_and_churn_probability_by_hand():
    # α = β = 1: θ uniform, S(t) = 1 / (t + 1) and P(T = t) = 1 / (t (t + 1)).
    t = np.arange(0, 8)
    assert sbg_survival(1.0, 1.0, t) == pytest.approx(1 / (t + 1), rel=1e-12)
    assert sbg_churn_probability(1.0, 1.0, t[1:]) == pytest.approx(
        1 / (t[1:] * (t[1:] + 1)), rel=1e-12
    )
    # α = 2, β = 1: S(t) = 2 / ((t + 1)(t + 2)).
    assert sbg_survival(2.0, 1.0, 3) == pytest.approx(2 / 20, rel=1e-12)
    assert isinstance(sbg_survival(2.0, 1.0, 3), float)
    assert isinstance(sbg_churn_probability(2.0, 1.0, 1), float)


@settings(max_examples=50, deadline=None)
@given(
    st.floats(0.05, 20.0),
    st.floats(0.05, 20.0),
    st.integers(1, 60),
)
def test_property_survival_is_a_distribution(alpha, beta, T):
    t = np.arange(0, T + 1)
    s = sbg_survival(alpha, beta, t)
    p = sbg_churn_probability(alpha, beta, t[1:])
    assert s[0] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(s) < 0)  # strictly decreasing
    assert np.all(p > 0)
    assert p.sum() + s[-1] == pytest.approx(1.0, abs=1e-9)  # churn by T or survive past T
    assert p == pytest.approx(s[:-1] - s[1:], rel=1e-7, abs=1e-300)


def test_sbg_parameters_and_months_are_checked():
    with pytest.raises(ValueError, match="alpha and beta"):
        sbg_survival(0.0, 1.0, 1)
    with pytest.raises(ValueError, match="alpha and beta"):
        sbg_survival(1.0, float("inf"), 1)
    with pytest.raises(ValueError, match="t must be >= 0"):
        sbg_survival(1.0, 1.0, -1)
    with pytest.raises(ValueError, match="t must be >= 1"):
        sbg_churn_probability(1.0, 1.0, 0)


# ---------------------------------------------------------------- the fit
@pytest.mark.parametrize(
    ("series", "expected"),
    [(REGULAR, (0.704, 1.182)), (HIGH_END, (0.668, 3.806))],
    ids=["regular", "high-end"],
)
def test_fit_reproduces_fader_hardie_2007(series, expected):
    alpha, beta = fit_sbg(series)
    assert alpha == pytest.approx(expected[0], abs=0.005)
    assert beta == pytest.approx(expected[1], abs=0.005)
    # The published three decimals exactly.
    assert (round(alpha, 3), round(beta, 3)) == expected


@pytest.mark.parametrize("series", [REGULAR, HIGH_END])
def test_fit_is_the_maximum_of_the_spec_likelihood(series):
    alpha, beta = fit_sbg(series)
    best = log_likelihood(alpha, beta, [series])
    for da in (-1e-3, 0.0, 1e-3):
        for db in (-1e-3, 0.0, 1e-3):
            if da or db:
                assert log_likelihood(alpha * (1 + da), beta * (1 + db), [series]) < best


def test_pooled_fit_of_one_series_is_fit_sbg_and_pools_the_likelihood():
    assert fit_sbg_pooled([REGULAR]) == fit_sbg(REGULAR)
    alpha, beta = fit_sbg_pooled([REGULAR, HIGH_END])
    # The maximum of the summed likelihood (mixing the segments adds heterogeneity: a lower α).
    assert alpha < 0.668
    best = log_likelihood(alpha, beta, [REGULAR, HIGH_END])
    for a, b in ((alpha * 1.01, beta), (alpha, beta * 0.99), (0.704, 1.182), (0.668, 3.806)):
        assert log_likelihood(a, b, [REGULAR, HIGH_END]) < best
    # Series of different lengths pool too.
    a2, b2 = fit_sbg_pooled([REGULAR, HIGH_END[:4]])
    assert (a2, b2) != (alpha, beta)
    assert log_likelihood(a2, b2, [REGULAR, HIGH_END[:4]]) > log_likelihood(
        alpha, beta, [REGULAR, HIGH_END[:4]]
    )


# Simulation: 3 cohorts × 20 000 customers observed T = 12 months. The MLE is
# asymptotically normal with the inverse Fisher information as covariance; on
# these ranges the standard errors of ln α̂, ln β̂ are 0.01–0.045 (fisher_se).
# A fit more than 5 standard errors away (probability ≈ 6e-7 per parameter and
# example) is a bug, not bad luck; the bound is also checked to be informative.
N0, T_SIM, COHORTS = 20_000, 12, 3


@settings(max_examples=25, deadline=None)
@given(
    st.floats(0.3, 3.0),
    st.floats(0.5, 8.0),
    st.integers(0, 2**32 - 1),
)
def test_property_fit_recovers_simulated_parameters(alpha, beta, seed):
    rng = np.random.default_rng(seed)
    series = [simulate_series(alpha, beta, N0, T_SIM, rng) for _ in range(COHORTS)]
    got_a, got_b = fit_sbg_pooled(series)
    se = fisher_se(alpha, beta, [T_SIM] * COHORTS, N0)
    assert np.all(5 * se < 0.25)  # the check is informative: within ±25 % at worst
    assert abs(math.log(got_a) - math.log(alpha)) <= 5 * se[0]
    assert abs(math.log(got_b) - math.log(beta)) <= 5 * se[1]


@pytest.mark.parametrize(("alpha", "beta"), [(0.7, 1.2), (0.67, 3.8), (2.0, 5.0)])
def test_fit_recovers_known_parameters_fixed_seed(alpha, beta):
    rng = np.random.default_rng(20070101)
    horizons = [12, 10, 8, 6]
    series = [simulate_series(alpha, beta, N0, T, rng) for T in horizons]
    got_a, got_b = fit_sbg_pooled(series)
    se = fisher_se(alpha, beta, horizons, N0)
    assert abs(math.log(got_a / alpha)) <= 4 * se[0]
    assert abs(math.log(got_b / beta)) <= 4 * se[1]
    assert got_a == pytest.approx(alpha, rel=0.15)
    assert got_b == pytest.approx(beta, rel=0.15)


@pytest.mark.parametrize(
    ("series", "match"),
    [
        ([], "at least 2 values"),
        ([10], "at least 2 values"),
        ([[10, 5], [5, 2]], "at least 2 values"),
        ([0, 0, 0], "n_0 > 0"),
        ([-3, -4], "n_0 > 0"),
        ([10, 11, 5], "non-increasing"),
        ([10, 5, -1], "non-increasing"),
        ([10, 5.5, 2], "integer"),
        ([10, float("nan")], "integer"),
        (["ten", "five"], "integers"),
        ([10, 10, 10], "no customer was lost"),
    ],
)
def test_bad_survivor_series_raise(series, match):
    with pytest.raises(ValueError, match=match):
        fit_sbg(series)


def test_bad_pooled_input_raises():
    with pytest.raises(ValueError, match="at least one"):
        fit_sbg_pooled([])
    with pytest.raises(ValueError, match="non-increasing"):
        fit_sbg_pooled([REGULAR, [5, 6]])
    with pytest.raises(ValueError, match="no customer was lost"):
        fit_sbg_pooled([[5, 5], [7, 7, 7]])
    # One series with churn is enough for a finite fit.
    alpha, beta = fit_sbg_pooled([[5, 5], [7, 6, 6]])
    assert math.isfinite(alpha) and math.isfinite(beta)


@pytest.mark.parametrize(
    "series",
    [[100, 0, 0, 0], [1000, 500, 250, 125, 62, 31, 15], [100, 99, 99, 99], [5, 5, 5, 4], [3, 0]],
    ids=["all-lost-at-once", "geometric", "one-percent", "tiny", "short"],
)
def test_boundary_maxima_give_finite_capped_values(series):
    alpha, beta = fit_sbg(series)
    assert 1e-4 * (1 - 1e-9) <= alpha <= 1e4 * (1 + 1e-9)
    assert 1e-4 * (1 - 1e-9) <= beta <= 1e4 * (1 + 1e-9)
    # Still a (capped) maximum: no better point nearby inside the caps.
    best = log_likelihood(alpha, beta, [series])
    for fa in (0.9, 1.0, 1.1):
        for fb in (0.9, 1.0, 1.1):
            a, b = alpha * fa, beta * fb
            if 1e-4 <= a <= 1e4 and 1e-4 <= b <= 1e4:
                assert log_likelihood(a, b, [series]) <= best + 1e-9 * abs(best), (fa, fb)


def test_geometric_data_fit_the_constant_churn_rate():
    # Halving each month: α / (α + β) → 1/2 on the ridge α, β → ∞.
    alpha, beta = fit_sbg([1024, 512, 256, 128, 64, 32, 16])
    assert alpha > 100
    assert alpha / (alpha + beta) == pytest.approx(0.5, abs=1e-3)


# ---------------------------------------------------------------- survival_table
def test_survival_table_by_hand(constructor):
    data = constructor(HAND)
    got = survival_table(data, period=("2024-02", "2024-06"))
    assert got.schema == pl.Schema(SURVIVAL_SCHEMA)
    assert got.rows() == [
        # 02: b and c; b churns in 04 (its return in 05 does not count).
        ("2024-02", 0, 2, 2), ("2024-02", 1, 2, 2), ("2024-02", 2, 2, 1),
        ("2024-02", 3, 2, 1), ("2024-02", 4, 2, 1),
        # 03: d (zero row in 04 = churn) and e (its mrr-0 row in 02 is not "paid").
        ("2024-03", 0, 2, 2), ("2024-03", 1, 2, 1), ("2024-03", 2, 2, 1), ("2024-03", 3, 2, 1),
    ]  # fmt: skip
    # The table's first month is a cohort like any other; h's return in 04 does not revive it.
    got = survival_table(data, period=("2024-01", "2024-06"))
    assert got.filter(pl.col("cohort") == "2024-01").rows() == [
        ("2024-01", 0, 2, 2), ("2024-01", 1, 2, 2), ("2024-01", 2, 2, 1),
        ("2024-01", 3, 2, 1), ("2024-01", 4, 2, 1), ("2024-01", 5, 2, 1),
    ]  # fmt: skip
    assert got.height == 6 + 5 + 4
    # Months after E are ignored: a and e stay alive, f (first paid in 07) is nowhere.
    got = survival_table(data, period=("2024-03", "2024-04"))
    assert got.rows() == [("2024-03", 0, 2, 2), ("2024-03", 1, 2, 1)]


def test_survival_table_empty():
    empty = subs([("a", "2024-01", 0)])
    got = survival_table(empty, period=("2024-01", "2024-06"))
    assert got.height == 0
    assert got.schema == pl.Schema(SURVIVAL_SCHEMA)


def brute_force_survival(rows: list[tuple[str, int, float]], first: int, last: int):
    """Cohort → [n_t], straight from the definition, over a month × account grid."""
    paid: dict[str, set[int]] = {}
    for acc, m, mrr in rows:
        if mrr > 0 and m <= last:
            paid.setdefault(acc, set()).add(m)
    out: dict[int, list[int]] = {}
    for months in paid.values():
        s = min(months)
        if s < first:
            continue
        n = out.setdefault(s, [0] * (last - s + 1))
        for t in range(last - s + 1):
            if all(s + k in months for k in range(t + 1)):
                n[t] += 1
    return out


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcdefg"), st.integers(1, 9), st.sampled_from([0.0, 5.0, 9.5])),
        unique_by=lambda r: (r[0], r[1]),
        max_size=40,
    ),
    st.integers(1, 9),
    st.integers(0, 8),
)
def test_property_survival_table_matches_brute_force(rows, first, length):
    last = min(first + length, 9)
    data = subs([(a, f"2024-0{m}", v) for a, m, v in rows])
    got = survival_table(data, period=(f"2024-0{first}", f"2024-0{last}"))
    expected = brute_force_survival(rows, first, last)
    want = [
        (f"2024-0{s}", t, expected[s][0], n_t)
        for s in sorted(expected)
        for t, n_t in enumerate(expected[s])
    ]
    assert got.rows() == want


def test_fitted_survival_adds_actual_and_model_shares():
    table = survival_table(HAND, period=("2024-02", "2024-06"))
    got = fitted_survival(table, 1.0, 1.0)
    assert got.columns == [*SURVIVAL_SCHEMA, "survival", "fitted"]
    assert got["survival"].to_list() == [1.0, 1.0, 0.5, 0.5, 0.5, 1.0, 0.5, 0.5, 0.5]
    assert got["fitted"].to_list() == pytest.approx([1 / (t + 1) for t in got["t"]])


# ---------------------------------------------------------------- retention_forecast
def test_forecast_by_hand(constructor):
    out = retention_forecast(
        constructor(HAND), period=("2024-02", "2024-06"), horizon=3, resamples=50
    )
    assert set(out) == {"alpha", "beta", "cohorts_used", "months"}
    # Fitted on the cohorts 02 (T = 4) and 03 (T = 3); 01 is before the period.
    assert out["cohorts_used"] == 2
    alpha, beta = fit_sbg_pooled([[2, 2, 1, 1, 1], [2, 1, 1, 1]])
    assert out["alpha"] == pytest.approx(alpha, rel=1e-9)
    assert out["beta"] == pytest.approx(beta, rel=1e-9)
    a, b = out["alpha"], out["beta"]

    def S(t: int) -> float:
        return sbg_survival(a, b, t)

    # Base at E = 06: a (cohort 01, T = 5), c (02, T = 4), e (03, T = 3); h and b returned
    # after a churn and are not in it.
    first = S(6) / S(5) + S(5) / S(4) + S(4) / S(3)
    third = S(8) / S(5) + S(7) / S(4) + S(6) / S(3)
    months = out["months"]
    assert [m["month"] for m in months] == ["2024-07", "2024-08", "2024-09"]
    assert months[0]["customers"] == pytest.approx(first, rel=1e-12)
    assert months[2]["customers"] == pytest.approx(third, rel=1e-12)
    assert months[0]["mrr"] == pytest.approx(first * 12.0, rel=1e-12)
    assert all(m["lo"] <= m["hi"] for m in months)
    assert all(0.0 <= m["lo"] and m["hi"] <= 3.0 for m in months)


def test_forecast_json_shape_and_plain_values():
    out = retention_forecast(HAND, period=("2024-01", "2024-06"), horizon=12, resamples=20)
    assert out["cohorts_used"] == 3
    assert len(out["months"]) == 12
    assert out["months"][-1]["month"] == "2025-06"
    for m in out["months"]:
        assert list(m) == ["month", "customers", "mrr", "lo", "hi"]
        assert all(type(m[k]) is float for k in ("customers", "mrr", "lo", "hi"))
    assert type(out["alpha"]) is float and type(out["cohorts_used"]) is int
    assert json.loads(json.dumps(out)) == out


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_client(0.7, 1.2, cohorts=24, per_cohort=300, seed=7)


SYNTH_PERIOD = ("2022-01", "2023-12")


def test_band_contains_the_point_forecast(synthetic):
    out = retention_forecast(synthetic, period=SYNTH_PERIOD)
    assert out["cohorts_used"] == 21  # cohorts 2022-01 … 2023-09 have T >= 3
    assert out["alpha"] == pytest.approx(0.7, rel=0.3)
    assert out["beta"] == pytest.approx(1.2, rel=0.3)
    months = out["months"]
    assert len(months) == 12
    for m in months:
        assert m["lo"] <= m["customers"] <= m["hi"], m
        assert m["lo"] < m["hi"]
    # The forecast decreases, and the band widens with the horizon.
    customers = [m["customers"] for m in months]
    assert customers == sorted(customers, reverse=True)
    assert months[-1]["hi"] - months[-1]["lo"] > months[0]["hi"] - months[0]["lo"]


def test_band_width_matches_the_delta_method(synthetic):
    # The bootstrap's 5–95 % band of customers(h) should be about ±1.645 standard errors of
    # the delta method: SE² = ∇cᵀ I⁻¹ ∇c, I the Fisher information of the fitted cohorts.
    out = retention_forecast(synthetic, period=SYNTH_PERIOD)
    a, b = out["alpha"], out["beta"]
    table = survival_table(synthetic, period=SYNTH_PERIOD)
    ends = table.group_by("cohort").agg(pl.col("t").max(), pl.col("customers").first(),
                                        pl.col("alive").last())  # fmt: skip
    fitted = [(T, n0) for T, n0 in ends.select("t", "customers").rows() if T >= 3]
    cov = np.linalg.inv(fisher_information(a, b, fitted))
    ages, alive = ends["t"].to_numpy(), ends["alive"].to_numpy()

    def customers(x: np.ndarray, h: int) -> float:
        al, be = np.exp(x)
        return float(alive @ (sbg_survival(al, be, ages + h) / sbg_survival(al, be, ages)))

    x, eps = np.log([a, b]), 1e-6
    for h in (1, 6, 12):
        grad = np.array([(customers(x + eps * e, h) - customers(x - eps * e, h)) / (2 * eps)
                         for e in np.eye(2)])  # fmt: skip
        width = 2 * 1.645 * math.sqrt(grad @ cov @ grad)
        month = out["months"][h - 1]
        assert month["customers"] == pytest.approx(customers(x, h), rel=1e-9)
        assert month["hi"] - month["lo"] == pytest.approx(width, rel=0.3), h


def test_seed_reproduces_the_band(synthetic):
    one = retention_forecast(synthetic, period=SYNTH_PERIOD, horizon=4, resamples=60, seed=3)
    two = retention_forecast(synthetic, period=SYNTH_PERIOD, horizon=4, resamples=60, seed=3)
    other = retention_forecast(synthetic, period=SYNTH_PERIOD, horizon=4, resamples=60, seed=4)
    assert one == two
    assert [m["customers"] for m in other["months"]] == [m["customers"] for m in one["months"]]
    assert [(m["lo"], m["hi"]) for m in other["months"]] != [
        (m["lo"], m["hi"]) for m in one["months"]
    ]


def test_base_includes_cohorts_before_the_period(synthetic):
    late = retention_forecast(synthetic, period=("2023-06", "2023-12"), horizon=1, resamples=0)
    full = retention_forecast(synthetic, period=SYNTH_PERIOD, horizon=1, resamples=0)
    assert late["cohorts_used"] == 4  # 2023-06 … 2023-09
    alive = (
        survival_table(synthetic, period=SYNTH_PERIOD)
        .group_by("cohort")
        .agg(pl.col("alive").last())
    )
    base = int(alive["alive"].sum())
    # Both forecasts advance the whole base (every cohort's customers alive at E).
    for out in (late, full):
        assert base * 0.8 < out["months"][0]["customers"] < base


def test_no_cohort_with_three_months_gives_no_forecast():
    empty = {"alpha": None, "beta": None, "cohorts_used": 0, "months": []}
    assert retention_forecast(HAND, period=("2024-04", "2024-06")) == empty
    assert retention_forecast(subs([("a", "2024-01", 0)]), period=("2024-01", "2024-12")) == empty


def test_no_churn_gives_no_fit():
    # Cohorts 01 (a, b: T = 4) and 02 (c: T = 3) keep everyone.
    data = subs([(a, f"2024-0{m}", 10) for a in "ab" for m in range(1, 6)])
    data = pl.concat([data, subs([("c", f"2024-0{m}", 10) for m in range(2, 6)])])
    out = retention_forecast(data, period=("2024-01", "2024-05"))
    assert out == {"alpha": None, "beta": None, "cohorts_used": 2, "months": []}


def test_forecast_without_bootstrap_and_bad_arguments():
    out = retention_forecast(HAND, period=("2024-01", "2024-06"), horizon=2, resamples=0)
    assert [(m["lo"], m["hi"]) for m in out["months"]] == [(None, None), (None, None)]
    assert retention_forecast(HAND, period=("2024-01", "2024-06"), horizon=0)["months"] == []
    with pytest.raises(ValueError, match="horizon"):
        retention_forecast(HAND, period=("2024-01", "2024-06"), horizon=-1)
    with pytest.raises(ValueError, match="resamples"):
        retention_forecast(HAND, period=("2024-01", "2024-06"), resamples=-1)


def test_mrr_is_null_without_arpa():
    # Nobody pays at E = 2024-06 (a zero row keeps the month in the table): empty base, no ARPA.
    data = subs(
        [(a, f"2024-0{m}", 10) for a in "ab" for m in range(1, 4)]
        + [("c", "2024-01", 10), ("c", "2024-02", 10), ("a", "2024-06", 0)]
    )
    out = retention_forecast(data, period=("2024-01", "2024-06"), horizon=2, resamples=10)
    assert out["cohorts_used"] == 1
    assert [(m["customers"], m["mrr"]) for m in out["months"]] == [(0.0, None), (0.0, None)]


def test_never_churned_is_the_base_alive_at_the_month(constructor):
    data = subs(
        [
            ("a", "2024-01", 10), ("a", "2024-02", 10), ("a", "2024-03", 10),  # alive
            ("b", "2024-01", 10), ("b", "2024-03", 10),  # churned in Feb, back in Mar: not
            ("c", "2024-02", 10), ("c", "2024-03", 0),  # churned (mrr 0) in Mar
            ("d", "2024-03", 10),  # new in Mar: alive
            ("e", "2024-04", 10),  # after the month: not yet a customer
        ]
    )  # fmt: skip
    assert never_churned(constructor(data), month="2024-03") == 2
    assert never_churned(constructor(data), month="2024-02") == 2  # a and c
    assert never_churned(constructor(data), month="2023-12") == 0
    # Over a period holding every cohort, it is the survival table's last alive count.
    table = survival_table(data, period=("2024-01", "2024-03"))
    last = table.filter(pl.col("t") == pl.col("t").max().over("cohort"))
    assert last["alive"].sum() == never_churned(data, month="2024-03")
