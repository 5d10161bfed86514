"""Revenue: MRR movements, churn rates, NRR/GRR, ARPA, quick ratio, LTV, revenue retention.

Definitions: ``shared/spec/metrics.md`` § Revenue. Every function takes a native
``subscriptions`` frame of any narwhals-supported engine (polars eager or lazy,
DuckDB, PySpark) with the columns ``account_id``, ``month`` (a date, the 1st of
the month) and ``mrr``; it computes lazily and returns a small polars frame or a
plain Python value. Undefined values (zero denominators) are ``None``.

Readings of the spec chosen here (the "natural reading" rule):

* A month with no row for an account means MRR 0 (data.md); no account × month
  grid is built: each paid row is compared with the account's previous and next
  *paid* row (window functions), which gives every movement.
* Money is summed in integer micro-units (``mrr`` rounded to 1e-6) so that the
  sums are exact, do not depend on the summation order and are identical on
  every engine: ``net_new_mrr`` is then exactly the sum of the five movements
  and exactly ``MRR(m) - MRR(m-1)`` before the final conversion to float. An
  ``mrr`` below half a micro-unit counts as 0 (not paying).
* "The first month of the subscriptions table" is its earliest ``month``,
  including rows with ``mrr = 0``.
* Months after the table's last month are read literally: no row means MRR 0.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
import math
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.config import parse_month
from journeylib.frames import collect
from journeylib.metrics._ledger import Ledger, ledger_of, money, paid_rows, table_bounds
from journeylib.metrics._values import ratio
from journeylib.months import month_from_index, month_index, period_index

__all__ = [
    "arpa",
    "grr",
    "grr_12m",
    "ltv",
    "nrr",
    "nrr_12m",
    "quick_ratio",
    "revenue_months",
    "revenue_retention",
]

REVENUE_MONTH_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.String(),
    "mrr": pl.Float64(),
    "customers": pl.Int64(),
    "new_mrr": pl.Float64(),
    "expansion_mrr": pl.Float64(),
    "reactivation_mrr": pl.Float64(),
    "contraction_mrr": pl.Float64(),
    "churned_mrr": pl.Float64(),
    "net_new_mrr": pl.Float64(),
    "new_customers": pl.Int64(),
    "reactivated_customers": pl.Int64(),
    "churned_customers": pl.Int64(),
    "expansion_customers": pl.Int64(),
    "contraction_customers": pl.Int64(),
    "logo_churn_rate": pl.Float64(),
    "churn_rate_simple": pl.Float64(),
    "gross_mrr_churn_rate": pl.Float64(),
    "nrr_1m": pl.Float64(),
    "grr_1m": pl.Float64(),
    "arpa": pl.Float64(),
    "quick_ratio": pl.Float64(),
}

RETENTION_SCHEMA: dict[str, pl.DataType] = {
    "cohort": pl.String(),
    "k": pl.Int64(),
    "size": pl.Int64(),
    "logo_retention": pl.Float64(),
    "nrr": pl.Float64(),
}


# ---------------------------------------------------------------- helpers
def _month_row(ledger: Ledger, mi: int) -> dict[str, Any]:
    """One row of :func:`revenue_months` for month index ``mi`` (which has movements)."""
    mv = ledger.movements(mi)
    mrr, mrr_prev = ledger.get(mi, "mrr"), ledger.get(mi - 1, "mrr")
    cust, cust_prev = ledger.get(mi, "customers"), ledger.get(mi - 1, "customers")
    gained = mv["new_mrr"] + mv["expansion_mrr"] + mv["reactivation_mrr"]
    lost = mv["contraction_mrr"] + mv["churned_mrr"]  # <= 0
    net_new = gained + lost  # == mrr - mrr_prev exactly (integer micro-units)
    row: dict[str, Any] = {"month": month_from_index(mi), "mrr": money(mrr), "customers": cust}
    for key in ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr"):
        row[key] = money(mv[key])
    row["net_new_mrr"] = money(net_new)
    for key in (
        "new_customers",
        "reactivated_customers",
        "churned_customers",
        "expansion_customers",
        "contraction_customers",
    ):
        row[key] = mv[key]
    row["logo_churn_rate"] = ratio(mv["churned_customers"], cust_prev)
    row["churn_rate_simple"] = ratio(cust_prev - cust, cust_prev)
    row["gross_mrr_churn_rate"] = ratio(-lost, mrr_prev)
    # The cohort C(m-1) keeps, in m: MRR(m-1) + expansion + contraction + churn (NRR)
    # and MRR(m-1) + contraction + churn when expansion is capped (GRR).
    row["nrr_1m"] = ratio(mrr_prev + mv["expansion_mrr"] + lost, mrr_prev)
    row["grr_1m"] = ratio(mrr_prev + lost, mrr_prev)
    row["arpa"] = ratio(money(mrr), cust)
    row["quick_ratio"] = ratio(gained, -lost)
    return row


# ---------------------------------------------------------------- public API
def revenue_months(subscriptions: Any, *, period: tuple[str, str]) -> pl.DataFrame:
    """MRR, its movements and the monthly rates, one row per month of the period with movements.

    A month has movements when its month m-1 is not before the first month of
    the subscriptions table (that first month is the opening balance). Movement
    amounts are signed (contraction and churn negative); ``net_new_mrr`` is their
    sum, which equals ``MRR(m) - MRR(m-1)``. Rates with a zero denominator are null.
    Beyond the columns of metrics.json, the counts of expanding and contracting
    accounts are given.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Returns:
        A polars DataFrame with the columns of ``REVENUE_MONTH_SCHEMA``, sorted by month.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "a", "b"],
        ...     "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 2, 1)],
        ...     "mrr": [10.0, 15.0, 5.0]})
        >>> revenue_months(subs, period=("2024-01", "2024-02")).select(
        ...     "month", "mrr", "new_mrr", "expansion_mrr", "net_new_mrr", "nrr_1m").rows()
        [('2024-02', 20.0, 5.0, 5.0, 10.0, 1.5)]
    """
    first_p, last_p = period_index(period)
    ledger = ledger_of(subscriptions)
    rows = [_month_row(ledger, mi) for mi in range(first_p, last_p + 1) if ledger.has_movements(mi)]
    return pl.DataFrame(rows, schema=REVENUE_MONTH_SCHEMA)


def _cohort_sums(subscriptions: Any, start: int, horizon: int) -> tuple[int, int, int]:
    """Σ mrr(s), Σ mrr(s+h) and Σ min(mrr(s+h), mrr(s)) over the cohort C(s), micro-units."""
    paid = paid_rows(subscriptions)
    base = paid.filter(nw.col("mi") == start).select("account_id", nw.col("micro").alias("c0"))
    later = paid.filter(nw.col("mi") == start + horizon).select(
        "account_id", nw.col("micro").alias("c1")
    )
    out = collect(
        base.join(later, on="account_id", how="left")
        .with_columns(nw.col("c1").fill_null(0))
        .select(
            nw.col("c0").sum().alias("c0"),
            nw.col("c1").sum().alias("c1"),
            nw.min_horizontal("c0", "c1").sum().alias("kept"),
        )
    )
    return tuple(int(v or 0) for v in out.row(0))  # type: ignore[return-value]


def _check_horizon(horizon: int) -> None:
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0 months, got {horizon}")


def nrr(subscriptions: Any, *, start: str, horizon: int) -> float | None:
    """Net revenue retention ``NRR(s, h)`` of the cohort of customers paying in ``start``.

    ``Σ_{a ∈ C(s)} mrr_a(s+h) / Σ_{a ∈ C(s)} mrr_a(s)``; null when nobody paid in
    ``s`` (for instance ``s`` before the data). A month ``s+h`` after the data is
    read literally (no row means MRR 0).

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        start: the start month s, ``"YYYY-MM"``.
        horizon: h, in months (>= 0).

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a"],
        ...     "month": [dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
        ...     "mrr": [10.0, 10.0, 15.0]})
        >>> nrr(subs, start="2024-01", horizon=1)
        0.75
    """
    _check_horizon(horizon)
    c0, c1, _ = _cohort_sums(subscriptions, month_index(parse_month(start)), horizon)
    return ratio(c1, c0)


def grr(subscriptions: Any, *, start: str, horizon: int) -> float | None:
    """Gross revenue retention ``GRR(s, h)``: NRR with each account capped at its MRR in s.

    ``Σ_{a ∈ C(s)} min(mrr_a(s+h), mrr_a(s)) / Σ_{a ∈ C(s)} mrr_a(s)``; null when
    nobody paid in ``s``.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        start: the start month s, ``"YYYY-MM"``.
        horizon: h, in months (>= 0).

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "a"],
        ...     "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)], "mrr": [10.0, 20.0]})
        >>> grr(subs, start="2024-01", horizon=1), nrr(subs, start="2024-01", horizon=1)
        (1.0, 2.0)
    """
    _check_horizon(horizon)
    c0, _, kept = _cohort_sums(subscriptions, month_index(parse_month(start)), horizon)
    return ratio(kept, c0)


def _annual(subscriptions: Any, period: tuple[str, str], which: int) -> float | None:
    _, end = period_index(period)
    first, _ = table_bounds(subscriptions)
    if first is None or end - 12 < first:
        return None
    sums = _cohort_sums(subscriptions, end - 12, 12)
    return ratio(sums[which], sums[0])


def nrr_12m(subscriptions: Any, *, period: tuple[str, str]) -> float | None:
    """Annual NRR: ``NRR(E-12, 12)``, E = the period's last month.

    Null when E-12 is before the first month of the subscriptions table, or
    when nobody paid in E-12.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "a", "a"],
        ...     "month": [dt.date(2023, 1, 1), dt.date(2023, 6, 1), dt.date(2024, 1, 1)],
        ...     "mrr": [10.0, 10.0, 12.0]})
        >>> nrr_12m(subs, period=("2023-06", "2024-01")), nrr_12m(subs, period=("2023-06", "2023-12"))
        (1.2, None)
    """
    return _annual(subscriptions, period, 1)


def grr_12m(subscriptions: Any, *, period: tuple[str, str]) -> float | None:
    """Annual GRR: ``GRR(E-12, 12)``, E = the period's last month; null as :func:`nrr_12m`.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a"], "mrr": [10.0, 10.0, 12.0],
        ...     "month": [dt.date(2023, 1, 1)] * 2 + [dt.date(2024, 1, 1)]})
        >>> grr_12m(subs, period=("2023-01", "2024-01")), nrr_12m(subs, period=("2023-01", "2024-01"))
        (0.5, 0.6)
    """
    return _annual(subscriptions, period, 2)


def arpa(subscriptions: Any, *, month: str) -> float | None:
    """Average revenue per account in a month: ``MRR(m) / |C(m)|``; null with no customers.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        month: the month, ``"YYYY-MM"``.

    Examples:
        >>> subs = pl.DataFrame({"account_id": list("abcde"), "month": [dt.date(2024, 1, 1)] * 5,
        ...     "mrr": [1.0, 1.0, 3.0, 5.0, 5.0]})
        >>> arpa(subs, month="2024-01")
        3.0
    """
    mi = month_index(parse_month(month))
    out = collect(
        paid_rows(subscriptions)
        .filter(nw.col("mi") == mi)
        .select(nw.col("micro").sum().alias("mrr"), nw.len().alias("n"))
    )
    total, n = out.row(0)
    return ratio(money(int(total or 0)), int(n or 0))


def quick_ratio(subscriptions: Any, *, month: str) -> float | None:
    """SaaS quick ratio of a month: (new + expansion + reactivation) / −(contraction + churn).

    Null when nothing was lost in the month, or when the month has no movements
    (it is the table's first month or before it).

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        month: the month, ``"YYYY-MM"``.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a", "c"],
        ...     "month": [dt.date(2024, 1, 1)] * 2 + [dt.date(2024, 2, 1)] * 2,
        ...     "mrr": [10.0, 4.0, 12.0, 6.0]})
        >>> quick_ratio(subs, month="2024-02")  # (6 new + 2 expansion) / 4 churned
        2.0
    """
    mi = month_index(parse_month(month))
    ledger = ledger_of(subscriptions)
    if not ledger.has_movements(mi):
        return None
    return _month_row(ledger, mi)["quick_ratio"]


def ltv(subscriptions: Any, *, period: tuple[str, str], gross_margin: float = 1.0) -> float | None:
    """Customer lifetime value: mean ARPA × gross margin / mean monthly logo churn rate.

    The mean ARPA is over the period's months that have paying customers (the
    table's first month included when it is in the period); the mean logo churn
    rate over the period's months where it is defined. Null when that churn
    rate is 0 or undefined.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.
        gross_margin: fraction of revenue kept after cost of service.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a"],
        ...     "month": [dt.date(2024, 1, 1)] * 2 + [dt.date(2024, 2, 1)],
        ...     "mrr": [100.0, 100.0, 100.0]})
        >>> ltv(subs, period=("2024-01", "2024-02"), gross_margin=0.5)  # 100 * 0.5 / 0.5
        100.0
    """
    first_p, last_p = period_index(period)
    ledger = ledger_of(subscriptions)
    arpas: list[float] = []
    churns: list[float] = []
    for mi in range(first_p, last_p + 1):
        cust = ledger.get(mi, "customers")
        if cust > 0:
            arpas.append(money(ledger.get(mi, "mrr")) / cust)
        if ledger.has_movements(mi):
            rate = ratio(ledger.movements(mi)["churned_customers"], ledger.get(mi - 1, "customers"))
            if rate is not None:
                churns.append(rate)
    if not arpas or not churns:
        return None
    mean_churn = math.fsum(churns) / len(churns)
    if mean_churn == 0:
        return None
    return math.fsum(arpas) / len(arpas) * gross_margin / mean_churn


def revenue_retention(subscriptions: Any, *, period: tuple[str, str]) -> pl.DataFrame:
    """Revenue retention by first paid month: logo retention and cohort NRR per month k.

    The cohort of an account is its first paid month s (its first month with
    mrr > 0 in the table); cohorts whose s falls in the period are listed, each
    for k = 0, 1, … while s + k is not after the period's last month.
    ``logo_retention(s, k)`` = share of the cohort paying in s + k;
    ``nrr(s, k)`` = the cohort's MRR in s + k / its MRR in s. Accounts whose first
    paid month is the table's first month form a cohort like any other.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Returns:
        Long format ``[cohort, k, size, logo_retention, nrr]`` sorted by cohort and k.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a"],
        ...     "month": [dt.date(2024, 1, 1)] * 2 + [dt.date(2024, 2, 1)],
        ...     "mrr": [10.0, 30.0, 20.0]})
        >>> revenue_retention(subs, period=("2024-01", "2024-02")).rows()
        [('2024-01', 0, 2, 1.0, 1.0), ('2024-01', 1, 2, 0.5, 0.5)]
    """
    first_p, last_p = period_index(period)
    cells = collect(
        paid_rows(subscriptions)
        .with_columns(nw.col("mi").min().over("account_id").alias("cohort"))
        .filter(
            (nw.col("cohort") >= first_p) & (nw.col("cohort") <= last_p) & (nw.col("mi") <= last_p)
        )
        .group_by("cohort", "mi")
        .agg(nw.len().alias("n"), nw.col("micro").sum().alias("mrr"))
    ).with_columns(pl.col("cohort", "mi", "n", "mrr").cast(pl.Int64))
    grid = {(r["cohort"], r["mi"]): (r["n"], r["mrr"]) for r in cells.iter_rows(named=True)}
    rows = []
    for cohort in sorted({c for c, _ in grid}):
        size, base = grid[(cohort, cohort)]
        for k in range(last_p - cohort + 1):
            n, mrr = grid.get((cohort, cohort + k), (0, 0))
            rows.append((month_from_index(cohort), k, size, ratio(n, size), ratio(mrr, base)))
    return pl.DataFrame(rows, schema=RETENTION_SCHEMA, orient="row")
