"""Retention forecast: the shifted-beta-geometric (sBG) model of analytics.md § 8.

Survival of a first-paid-month cohort s: ``n_0`` = its customers, ``n_t`` = those
still alive t months later, observed for t = 0 … T with T = E − s (E = the
period's last month). α, β > 0 are fitted by maximum likelihood of the sBG model
(Fader & Hardie 2007)::

    P(T = t) = B(α + 1, β + t − 1) / B(α, β)        S(t) = B(α, β + t) / B(α, β)
    ln L = Σ_{t=1..T} (n_{t−1} − n_t) ln P(T = t) + n_T ln S(T)

pooled over the cohorts of the period with T ≥ 3. The forecast advances today's
base: customers(h) = Σ_s alive_s × S(T_s + h) / S(T_s), MRR = customers × the
last month's ARPA, with a 5–95 % band from a parametric bootstrap.

Every function takes a native ``subscriptions`` frame of any narwhals-supported
engine (polars eager or lazy, DuckDB, PySpark) with the columns ``account_id``,
``month`` (a date, the 1st of the month) and ``mrr``. The engine counts
accounts per (first paid month, life length) and gives the last month's ARPA
(:func:`journeylib.metrics.revenue.arpa`); the fit, the forecast and the
bootstrap run in numpy on that small aggregate.

Readings of the spec chosen here (the "natural reading" rule):

* An account's cohort s is its first paid month (first month with mrr > 0), as
  in :func:`journeylib.metrics.revenue.revenue_retention`; the subscriptions
  table's first month forms a cohort like any other.
* Alive at s + t = paid (mrr > 0) in every month s, s + 1, …, s + t: an
  account's life ends at its first churn and a later reactivation does not
  revive it. Its life length L is its number of consecutive paid months from s,
  counting only months ≤ E (rows after the period are ignored), so
  n_t = #{accounts of the cohort with L > t}.
* The fit pools the cohorts with s in the period and T = E − s ≥ 3 (their
  ``cohorts_used`` number); it depends on them only through the number lost at
  each age t and the number surviving to each horizon T.
* The fit maximises over (ln α, ln β), each of α, β bounded to [1e-4, 1e4]
  (beyond, rounding swamps the likelihood's slope): a damped Newton method with
  the exact gradient and Hessian (digamma, trigamma), started from the best
  point of a coarse grid, or warm-started from the point fit in the bootstrap;
  Nelder–Mead takes over should Newton not converge. It reproduces Fader &
  Hardie's published fits to 3 decimals.
* Degenerate data: with *no customer lost* in any fitted series the likelihood
  grows toward S ≡ 1 without a maximum, so :func:`fit_sbg` and
  :func:`fit_sbg_pooled` raise ``ValueError`` and :func:`retention_forecast`
  returns ``alpha``/``beta`` null and no months (``cohorts_used`` still counts
  the cohorts). Other boundary maxima give finite, capped values: everyone
  lost in the first month drives β to its floor; churn as even as (or more even
  than) a constant-rate geometric law drives α and β up along the ridge
  α / (α + β) = churn rate, which forecasts as that geometric law.
* A survivor series is a sequence of integers ``n_0 … n_T`` with T ≥ 1,
  n_0 > 0, n_T ≥ 0 and non-increasing; anything else is a ``ValueError``.
* Today's base: every first-paid-month cohort with s ≤ E (cohorts before the
  period included) and its accounts alive at E (L ≥ E − s + 1), each advanced by
  S(T_s + h) / S(T_s). Reactivated accounts (paying at E after a churn) are not
  in the base: the model has no term for them, so the forecast is of the
  never-churned customers only and starts below |C(E)| when there are any.
* Forecast months h = 1 … horizon after E; ``mrr`` = customers × ARPA(E)
  (null when ARPA(E) is null: nobody pays at E).
* Band: a parametric bootstrap. Each of ``resamples`` draws resamples every
  fitted cohort's series from the fitted sBG (a multinomial of its n_0 customers
  over churn at t = 1 … T and survival past T), refits the pooled model (never
  raising: a resample without churn takes the capped boundary fit) and
  forecasts the real base with the refitted α*, β*; ``lo`` / ``hi`` are the
  numpy 5th / 95th percentiles (linear interpolation) of customers per month.
  The draws come from ``numpy.random.default_rng(seed)``: same seed, same band.
* No cohort with T ≥ 3 in the period: ``alpha`` and ``beta`` null,
  ``cohorts_used`` 0, ``months`` empty (not an error).
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import narwhals as nw
import numpy as np
import polars as pl

# scipy is imported in the functions that use it: at the top it cost every
# `journey` command, `journey ingest` included, 0.3–0.5 s of start-up.
from journeylib.frames import collect
from journeylib.metrics._ledger import paid_rows
from journeylib.metrics.revenue import arpa
from journeylib.months import month_from_index, period_index

__all__ = [
    "MIN_FIT_MONTHS",
    "SURVIVAL_SCHEMA",
    "fit_sbg",
    "fit_sbg_pooled",
    "fitted_survival",
    "never_churned",
    "retention_forecast",
    "sbg_churn_probability",
    "sbg_survival",
    "survival_table",
]

#: A cohort enters the fit when it is observed for at least this many months (T ≥ 3).
MIN_FIT_MONTHS = 3

SURVIVAL_SCHEMA: dict[str, pl.DataType] = {
    "cohort": pl.String(),
    "t": pl.Int64(),
    "customers": pl.Int64(),
    "alive": pl.Int64(),
}

# α and β are searched in [1e-4, 1e4], as ln α, ln β (beyond, rounding swamps the likelihood's slope).
_LOG_CAP = math.log(1e4)
_LO = np.array([-_LOG_CAP, -_LOG_CAP])
_HI = np.array([_LOG_CAP, _LOG_CAP])


# ---------------------------------------------------------------- the sBG model
def _check_params(alpha: float, beta: float) -> None:
    if not (alpha > 0 and beta > 0 and math.isfinite(alpha) and math.isfinite(beta)):
        raise ValueError(f"alpha and beta must be finite and > 0, got {alpha!r}, {beta!r}")


def sbg_survival(alpha: float, beta: float, t: Any) -> Any:
    """The sBG survival function ``S(t) = B(α, β + t) / B(α, β)``: P(still alive after t months).

    Args:
        alpha: α > 0.
        beta: β > 0.
        t: months, an int ≥ 0 or an array of them.

    Returns:
        A float for a scalar ``t``, else a numpy array of the shape of ``t``.

    Examples:
        >>> sbg_survival(1.0, 1.0, [0, 1, 2, 3]).round(4).tolist()  # α = β = 1: 1 / (t + 1)
        [1.0, 0.5, 0.3333, 0.25]
        >>> round(sbg_survival(0.704, 1.182, 7), 3)  # Fader & Hardie's "regular" fit: 241 of 1000 kept
        0.239
    """
    from scipy.special import betaln

    _check_params(alpha, beta)
    tt = np.asarray(t, dtype=float)
    if np.any(tt < 0):
        raise ValueError("t must be >= 0")
    out = np.exp(betaln(alpha, beta + tt) - betaln(alpha, beta))
    return float(out) if out.ndim == 0 else out


def sbg_churn_probability(alpha: float, beta: float, t: Any) -> Any:
    """The sBG churn probability ``P(T = t) = B(α + 1, β + t − 1) / B(α, β)`` (= S(t − 1) − S(t)).

    Args:
        alpha: α > 0.
        beta: β > 0.
        t: the month of the churn, an int ≥ 1 or an array of them.

    Returns:
        A float for a scalar ``t``, else a numpy array of the shape of ``t``.

    Examples:
        >>> sbg_churn_probability(1.0, 1.0, [1, 2, 3]).round(4).tolist()  # 1 / (t (t + 1))
        [0.5, 0.1667, 0.0833]
    """
    from scipy.special import betaln

    _check_params(alpha, beta)
    tt = np.asarray(t, dtype=float)
    if np.any(tt < 1):
        raise ValueError("t must be >= 1")
    out = np.exp(betaln(alpha + 1, beta + tt - 1) - betaln(alpha, beta))
    return float(out) if out.ndim == 0 else out


class _Pooled(NamedTuple):
    """Sufficient statistics of pooled survivor series.

    ``lost[t - 1]`` = customers lost at age t (t = 1 … K), ``kept[T]`` =
    customers surviving to the end T of their series (T = 0 … K), ``total`` = Σ n_0;
    ``t``, ``d`` (and ``tau``, ``r``) are the ages (horizons) with counts and those counts.
    """

    lost: np.ndarray
    kept: np.ndarray
    total: float
    t: np.ndarray
    d: np.ndarray
    tau: np.ndarray
    r: np.ndarray


def _pooled(lost: np.ndarray, kept: np.ndarray, total: float) -> _Pooled:
    """A :class:`_Pooled` of lost-per-age and kept-per-horizon counts."""
    ages, ends = np.flatnonzero(lost), np.flatnonzero(kept)
    return _Pooled(lost, kept, total, ages + 1.0, lost[ages], ends.astype(float), kept[ends])


def _validate(series: Sequence[int]) -> np.ndarray:
    """A survivor series as an int64 array, or a ``ValueError`` saying what is wrong."""
    try:
        raw = np.asarray(series, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a survivor series must be a sequence of integers: {exc}") from None
    if raw.ndim != 1 or raw.size < 2:
        raise ValueError(
            f"a survivor series needs n_0 … n_T with T >= 1 (at least 2 values), got {series!r}"
        )
    if not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
        raise ValueError(f"a survivor series holds integer counts, got {series!r}")
    if raw[0] <= 0:
        raise ValueError(f"a survivor series must start with n_0 > 0, got {series!r}")
    if np.any(raw < 0) or np.any(np.diff(raw) > 0):
        raise ValueError(f"a survivor series must be >= 0 and non-increasing, got {series!r}")
    return raw.astype(np.int64)


def _pool(series: Sequence[np.ndarray]) -> _Pooled:
    """Pool validated survivor series into lost-per-age and kept-per-horizon counts."""
    k = max(len(s) - 1 for s in series)
    lost = np.zeros(k)
    kept = np.zeros(k + 1)
    for s in series:
        horizon = len(s) - 1
        lost[:horizon] += s[:-1] - s[1:]
        kept[horizon] += s[-1]
    return _pooled(lost, kept, float(sum(int(s[0]) for s in series)))


def _value(x: np.ndarray, data: _Pooled) -> float:
    """−ln L / Σ n_0 at x = (ln α, ln β); only the ages with counts enter (cost ∝ T, not cohorts)."""
    from scipy.special import betaln

    a, b = math.exp(x[0]), math.exp(x[1])
    base = betaln(a, b)
    ll = data.d @ (betaln(a + 1, b + data.t - 1) - base) + data.r @ (betaln(a, b + data.tau) - base)
    return float(-ll / data.total)


def _derivatives(x: np.ndarray, data: _Pooled) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of :func:`_value` in x = (ln α, ln β), by digamma and trigamma."""
    from scipy.special import digamma, zeta

    a, b = math.exp(x[0]), math.exp(x[1])
    t, d, tau, r = data.t, data.d, data.tau, data.r
    ab = a + b
    # One call each: ψ(a+b), ψ(b), ψ(a+b+t), ψ(b+t−1), ψ(a+b+τ), ψ(b+τ).
    nt, nr = t.size, tau.size
    args = np.concatenate(([ab, b], ab + t, b + t - 1, ab + tau, b + tau))
    cut = (2, 2 + nt, 2 + 2 * nt, 2 + 2 * nt + nr)
    psi = digamma(args)
    p_ab, p_b = psi[0], psi[1]
    p_abt, p_bt1, p_abr, p_br = np.split(psi, cut)[1:]
    # ∂ ln P(t) / ∂a = 1/a − ψ(a+b+t) + ψ(a+b); ∂ / ∂b = ψ(b+t−1) − ψ(b) − ψ(a+b+t) + ψ(a+b);
    # ∂ ln S(τ) / ∂a = ψ(a+b) − ψ(a+b+τ); ∂ / ∂b = ψ(b+τ) − ψ(b) − ψ(a+b+τ) + ψ(a+b).
    la = d @ (1.0 / a - p_abt + p_ab) + r @ (p_ab - p_abr)
    lb = d @ (p_bt1 - p_b - p_abt + p_ab) + r @ (p_br - p_b - p_abr + p_ab)
    q = zeta(2.0, args)  # trigamma ψ1 = ψ'
    q_ab, q_b = q[0], q[1]
    q_abt, q_bt1, q_abr, q_br = np.split(q, cut)[1:]
    laa = d @ (-1.0 / a**2 - q_abt + q_ab) + r @ (q_ab - q_abr)
    lab = d @ (q_ab - q_abt) + r @ (q_ab - q_abr)
    lbb = d @ (q_bt1 - q_b - q_abt + q_ab) + r @ (q_br - q_b - q_abr + q_ab)
    n = data.total
    grad = -np.array([a * la, b * lb]) / n
    hess = -np.array([[a * la + a * a * laa, a * b * lab], [a * b * lab, b * lb + b * b * lbb]]) / n
    return grad, hess


def _damped_step(g: np.ndarray, h: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Newton step −(H + λI)⁻¹ g on the free coordinates, λ ≥ 0 making H + λI positive definite.

    Closed-form 2 × 2 algebra: no LAPACK call (and no BLAS threads) per iteration.
    """
    step = np.zeros(2)
    if free.all():
        p, q, r = float(h[0, 0]), float(h[0, 1]), float(h[1, 1])
        mid, rad = (p + r) / 2, math.hypot((p - r) / 2, q)
        low, scale = mid - rad, max(1.0, abs(mid) + rad)
        shift = 0.0 if low > 1e-10 * scale else 1e-6 * scale - low
        p, r = p + shift, r + shift
        det = p * r - q * q
        step[0] = -(r * g[0] - q * g[1]) / det
        step[1] = -(p * g[1] - q * g[0]) / det
    else:
        i = int(np.flatnonzero(free)[0])
        hi = float(h[i, i])
        scale = max(1.0, abs(hi))
        step[i] = -g[i] / (hi if hi > 1e-10 * scale else 1e-6 * scale + abs(hi))
    return step


def _newton(x: np.ndarray, data: _Pooled, max_iter: int = 100) -> tuple[np.ndarray, bool]:
    """Projected, damped Newton descent from x within the caps; returns (x, converged)."""
    f = _value(x, data)
    g, h = _derivatives(x, data)
    for _ in range(max_iter):
        free = ~(((x <= _LO) & (g > 0)) | ((x >= _HI) & (g < 0)))
        if not free.any() or np.max(np.abs(g[free])) < 1e-11:  # ~ the rounding floor of g
            return x, True
        step = _damped_step(g, h, free)
        if np.max(np.abs(step)) < 1e-10:
            return x, True
        move = 1.0
        while True:
            xn = np.clip(x + move * step, _LO, _HI)
            fn = _value(xn, data)
            if fn <= f + 1e-4 * float(g @ (xn - x)):
                break
            move *= 0.5
            if move < 1e-12:  # a descent direction without descent: the rounding floor
                return x, True
        dx = float(np.max(np.abs(xn - x)))
        x, f = xn, fn
        g, h = _derivatives(x, data)
        if dx < 1e-11:
            return x, True
    return x, False


# Starting points of a fit without a warm start: a grid over α, β ∈ [e^-3, e^3].
_GRID = np.array([(u, v) for u in np.linspace(-3, 3, 7) for v in np.linspace(-3, 3, 7)])


def _fit(data: _Pooled, start: np.ndarray | None = None) -> np.ndarray:
    """The maximum-likelihood (ln α, ln β) of pooled data (finite, within the caps).

    Newton from ``start`` (a warm start) or from the best point of a coarse grid;
    should it not converge, Nelder–Mead from where it stopped, then Newton again
    to polish.
    """
    from scipy.optimize import minimize

    if start is None:
        start = min(_GRID, key=lambda z: _value(z, data))
    x, ok = _newton(np.clip(start, _LO, _HI), data)
    if ok:
        return x
    res = minimize(
        lambda z: _value(np.clip(z, _LO, _HI), data),
        x,
        method="Nelder-Mead",
        bounds=list(zip(_LO, _HI, strict=True)),
        options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 4000},
    )
    x, _ = _newton(np.clip(np.asarray(res.x, dtype=float), _LO, _HI), data)
    return x


def fit_sbg_pooled(series: Sequence[Sequence[int]]) -> tuple[float, float]:
    """Maximum-likelihood α, β of the sBG model pooled over several survivor series.

    The log-likelihood is the sum over the series of
    ``Σ_{t=1..T} (n_{t−1} − n_t) ln P(T = t) + n_T ln S(T)``; each series may have
    its own T. Maximised over (ln α, ln β) with α, β capped to [1e-4, 1e4]
    (see the module's readings for boundary maxima).

    Args:
        series: survivor series ``[n_0, n_1, …, n_T]``: integers, n_0 > 0, non-increasing, T ≥ 1.

    Returns:
        ``(alpha, beta)``.

    Raises:
        ValueError: no series, a malformed series, or no customer lost in any series
            (the likelihood then has no maximum: S ≡ 1 at the limit).

    Examples:
        >>> a, b = fit_sbg_pooled([[1000, 631, 468, 382, 326, 289, 262, 241],
        ...                        [1000, 869, 743, 653, 593, 551, 517, 491]])
        >>> 0.5 < a / (a + b) * 2 < 0.6  # about 27 % of customers lost in the first month
        True
    """
    checked = [_validate(s) for s in series]
    if not checked:
        raise ValueError("fit_sbg_pooled needs at least one survivor series")
    data = _pool(checked)
    if not data.lost.any():
        raise ValueError(
            "no customer was lost in any survivor series: the sBG likelihood has no "
            "maximum (it grows toward S(t) = 1), so alpha and beta cannot be fitted"
        )
    x = _fit(data)
    return math.exp(x[0]), math.exp(x[1])


def fit_sbg(survivors: Sequence[int]) -> tuple[float, float]:
    """Maximum-likelihood α, β of the sBG model for one survivor series (``fit_sbg_pooled([survivors])``).

    Args:
        survivors: ``[n_0, n_1, …, n_T]``: integers, n_0 > 0, non-increasing, T ≥ 1.

    Returns:
        ``(alpha, beta)``.

    Raises:
        ValueError: a malformed series, or no customer lost (n_T = n_0).

    Examples:
        >>> a, b = fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241])  # Fader & Hardie 2007, "regular"
        >>> round(a, 3), round(b, 3)
        (0.704, 1.182)
    """
    return fit_sbg_pooled([survivors])


# ---------------------------------------------------------------- the data
def _life_counts(subscriptions: Any, last: int) -> dict[int, np.ndarray]:
    """Per first paid month s ≤ ``last``: ``counts[L − 1]`` accounts of life length L (1 … last − s + 1).

    L = the account's consecutive paid months from s, months ≤ ``last`` only. The
    account's paid rows are numbered in month order; the rows of its first run
    are those with ``mi − s == rank − 1``.
    """
    lives = (
        paid_rows(subscriptions)
        .filter(nw.col("mi") <= last)
        .select("account_id", "mi")
        .unique()
        .with_columns(nw.lit(1).alias("_one"))
        .with_columns(
            nw.col("mi").min().over("account_id").alias("s"),
            nw.col("_one").cum_sum().over("account_id", order_by="mi").alias("_rank"),
        )
        .filter(nw.col("mi") - nw.col("s") == nw.col("_rank") - 1)
        .group_by("account_id")
        .agg(nw.col("s").min(), nw.len().alias("life"))
        .group_by("s", "life")
        .agg(nw.len().alias("n"))
    )
    cells = collect(lives).with_columns(pl.col("s", "life", "n").cast(pl.Int64))
    counts: dict[int, np.ndarray] = {}
    for s, life, n in cells.iter_rows():  # one row per (cohort, life length): small
        arr = counts.setdefault(s, np.zeros(last - s + 1, dtype=np.int64))
        arr[life - 1] += n
    return counts


def _survivors(counts: np.ndarray) -> np.ndarray:
    """Life-length counts → n_t = #{L > t}, t = 0 … T."""
    return counts[::-1].cumsum()[::-1]


def never_churned(subscriptions: Any, *, month: str) -> int:
    """Today's base of the forecast: the customers paying in every month since their first, up to ``month``.

    The accounts of every first-paid-month cohort s ≤ ``month`` (the months
    before a period's start too) alive at ``month``; reactivated customers (who
    stopped paying once) are not counted.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "a", "b", "b", "c"],
        ...     "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 1, 1),
        ...               dt.date(2024, 3, 1), dt.date(2024, 3, 1)],
        ...     "mrr": [10.0, 10.0, 10.0, 10.0, 5.0]})
        >>> never_churned(subs, month="2024-02"), never_churned(subs, month="2024-03")
        (1, 1)
    """
    last = period_index((month, month))[1]
    return int(sum(_survivors(c)[-1] for c in _life_counts(subscriptions, last).values()))


def survival_table(subscriptions: Any, *, period: tuple[str, str]) -> pl.DataFrame:
    """Survival of each first-paid-month cohort of the period: n_0 and n_t for t = 0 … E − s.

    The cohort s of an account is its first paid month; it is alive at s + t when
    it paid in every month s … s + t (a reactivation after a churn does not
    revive it). Cohorts whose s falls in the period are listed, t up to E − s
    (E = the period's last month); months after E are ignored.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Returns:
        Long format ``[cohort, t, customers, alive]`` (``customers`` = n_0,
        ``alive`` = n_t) sorted by cohort and t.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a", "a", "b"],
        ...     "month": [dt.date(2024, m, 1) for m in (1, 1, 2, 3, 3)],
        ...     "mrr": [10.0, 10.0, 10.0, 10.0, 10.0]})
        >>> survival_table(subs, period=("2024-01", "2024-03")).rows()  # b's return does not count
        [('2024-01', 0, 2, 2), ('2024-01', 1, 2, 1), ('2024-01', 2, 2, 1)]
    """
    first_p, last_p = period_index(period)
    counts = _life_counts(subscriptions, last_p)
    rows = []
    for s in sorted(c for c in counts if c >= first_p):
        alive = _survivors(counts[s])
        label = month_from_index(s)
        rows.extend((label, t, int(alive[0]), int(n)) for t, n in enumerate(alive))
    return pl.DataFrame(rows, schema=SURVIVAL_SCHEMA, orient="row")


def fitted_survival(table: pl.DataFrame, alpha: float, beta: float) -> pl.DataFrame:
    """A :func:`survival_table` with the actual and the fitted survival share, for charts.

    Adds ``survival`` = alive / customers and ``fitted`` = S(t) of the sBG (α, β).

    Args:
        table: the output of :func:`survival_table`.
        alpha: α > 0 (e.g. ``retention_forecast(...)["alpha"]``).
        beta: β > 0.

    Returns:
        ``table`` with the columns ``survival`` and ``fitted`` (floats) added.

    Examples:
        >>> table = pl.DataFrame({"cohort": ["2024-01"] * 3, "t": [0, 1, 2],
        ...     "customers": [4, 4, 4], "alive": [4, 2, 1]})
        >>> fitted_survival(table, 1.0, 1.0).select("survival", "fitted").rows()
        [(1.0, 1.0), (0.5, 0.5), (0.25, 0.3333333333333333)]
    """
    fitted = sbg_survival(alpha, beta, table["t"].to_numpy())
    return table.with_columns(
        (pl.col("alive") / pl.col("customers")).alias("survival"),
        pl.Series("fitted", np.atleast_1d(fitted), dtype=pl.Float64),
    )


# ---------------------------------------------------------------- the forecast
def _base_customers(x: np.ndarray, alive: np.ndarray, age: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Σ_s alive_s × S(T_s + h) / S(T_s) for each h, at x = (ln α, ln β)."""
    from scipy.special import betaln

    if alive.size == 0:
        return np.zeros(h.size)
    a, b = math.exp(x[0]), math.exp(x[1])
    ratio = np.exp(betaln(a, b + age[:, None] + h[None, :]) - betaln(a, b + age[:, None]))
    return alive @ ratio


def _resample_fits(
    x: np.ndarray, n0: np.ndarray, horizons: np.ndarray, resamples: int, seed: int
) -> np.ndarray:
    """(ln α*, ln β*) of ``resamples`` parametric-bootstrap refits, one row each.

    Each fitted cohort (n_0 customers, horizon T) is redrawn as a multinomial over
    churn at t = 1 … T (columns 0 … T − 1) and survival past T (the last column).
    """
    a, b = math.exp(x[0]), math.exp(x[1])
    k = int(horizons.max())
    t = np.arange(1, k + 1)
    churn = sbg_churn_probability(a, b, t)
    pvals = np.zeros((n0.size, k + 1))
    for i, horizon in enumerate(horizons):
        pvals[i, :horizon] = churn[:horizon]
    pvals[:, k] = np.clip(1.0 - pvals[:, :k].sum(axis=1), 0.0, 1.0)
    pvals /= pvals.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n0, pvals, size=(resamples, n0.size))  # (B, C, k + 1)
    lost = draws[:, :, :k].sum(axis=1).astype(float)  # zero past each cohort's horizon
    onehot = np.zeros((n0.size, k + 1))
    onehot[np.arange(n0.size), horizons] = 1.0
    kept = draws[:, :, k] @ onehot  # (B, k + 1): survivors by horizon
    total = float(n0.sum())
    out = np.empty((resamples, 2))
    for i in range(resamples):
        out[i] = _fit(_pooled(lost[i], kept[i], total), start=x)
    return out


def retention_forecast(
    subscriptions: Any,
    *,
    period: tuple[str, str],
    horizon: int = 12,
    resamples: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Forecast today's customers and MRR by the sBG model after the period, with a band.

    α, β are fitted on the period's first-paid-month cohorts observed for T ≥ 3
    months (pooled maximum likelihood, see :func:`fit_sbg_pooled`). Today's base
    is every cohort s ≤ E's accounts alive at E (never churned); month E + h
    expects ``customers = Σ_s alive_s × S(T_s + h) / S(T_s)`` (T_s = E − s) and
    ``mrr = customers × ARPA(E)``. ``lo`` / ``hi`` are the 5th / 95th percentiles
    of customers over a seeded parametric bootstrap (see the module's readings).

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``; E = its last month.
        horizon: number of months forecast after E (>= 0).
        resamples: bootstrap resamples (>= 0; 0 leaves ``lo`` / ``hi`` null).
        seed: seed of ``numpy.random.default_rng`` for the bootstrap.

    Returns:
        ``{"alpha", "beta", "cohorts_used", "months": [{"month", "customers", "mrr",
        "lo", "hi"}]}`` in plain Python values; ``alpha``/``beta`` null and
        ``months`` empty when no cohort has T ≥ 3 or no fitted customer churned.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a"] * 4 + ["b"] * 2 + ["c"],
        ...     "month": [dt.date(2024, m, 1) for m in (1, 2, 3, 4, 1, 2, 1)],
        ...     "mrr": [10.0] * 7})
        >>> out = retention_forecast(subs, period=("2024-01", "2024-04"), horizon=2, resamples=20)
        >>> out["cohorts_used"], [m["month"] for m in out["months"]]
        (1, ['2024-05', '2024-06'])
        >>> 0 < out["months"][1]["customers"] < out["months"][0]["customers"] < 1
        True
        >>> retention_forecast(subs, period=("2024-02", "2024-04"))
        {'alpha': None, 'beta': None, 'cohorts_used': 0, 'months': []}
    """
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0 months, got {horizon}")
    if resamples < 0:
        raise ValueError(f"resamples must be >= 0, got {resamples}")
    first_p, last_p = period_index(period)
    counts = _life_counts(subscriptions, last_p)
    fitted = sorted(s for s in counts if first_p <= s <= last_p - MIN_FIT_MONTHS)
    empty: dict[str, Any] = {
        "alpha": None,
        "beta": None,
        "cohorts_used": len(fitted),
        "months": [],
    }
    if not fitted:
        return empty
    data = _pool([_survivors(counts[s]) for s in fitted])
    if not data.lost.any():
        return empty
    x = _fit(data)

    base = sorted(s for s in counts if _survivors(counts[s])[-1] > 0)
    alive = np.array([_survivors(counts[s])[-1] for s in base], dtype=float)
    age = np.array([last_p - s for s in base], dtype=float)
    h = np.arange(1, horizon + 1, dtype=float)
    point = _base_customers(x, alive, age, h)

    lo = hi = [None] * horizon
    if resamples > 0 and horizon > 0:
        n0 = np.array([counts[s].sum() for s in fitted], dtype=np.int64)
        horizons = np.array([last_p - s for s in fitted], dtype=np.int64)
        fits = _resample_fits(x, n0, horizons, resamples, seed)
        boot = np.stack([_base_customers(xb, alive, age, h) for xb in fits])
        lo_arr, hi_arr = np.percentile(boot, [5.0, 95.0], axis=0)
        lo, hi = [float(v) for v in lo_arr], [float(v) for v in hi_arr]

    unit = arpa(subscriptions, month=month_from_index(last_p))
    months = [
        {
            "month": month_from_index(last_p + i + 1),
            "customers": float(point[i]),
            "mrr": None if unit is None else float(point[i] * unit),
            "lo": lo[i],
            "hi": hi[i],
        }
        for i in range(horizon)
    ]
    return {
        "alpha": math.exp(x[0]),
        "beta": math.exp(x[1]),
        "cohorts_used": len(fitted),
        "months": months,
    }
