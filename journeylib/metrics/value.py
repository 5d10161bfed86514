"""Customer value curves: cumulative gross margin per customer of each acquisition cohort, and payback.

Definition (analytics.md §7): per acquisition cohort (first paid month s, in the
period) and per ``acquisition_channel`` (and all channels): ``customers``;
``cumulative[k]`` = Σ MRR × gross_margin of the cohort's accounts over months
s … s+k, divided by ``customers`` (k while s+k is not after the period's end);
``cac`` = that channel's spend in month s / new customers of that channel in s
(all channels: the month's CAC); ``payback_month`` = smallest k with
``cumulative[k] ≥ cac`` (null when not reached or cac null). In metrics.json as
``value_curves: [{cohort, channel, customers, cac, cumulative, payback_month}]``,
sorted by cohort then channel, ``(all)`` first.

Every function takes native frames of any narwhals-supported engine (polars
eager or lazy, DuckDB, PySpark), computes lazily down to small aggregates (one
row per cohort × channel × month, and per month × channel of marketing) and
finishes in plain Python. Undefined values are ``None``.

Readings of the spec chosen here (the "natural reading" rule), agreeing with
:mod:`journeylib.metrics.revenue` and :mod:`journeylib.metrics.acquisition`:

* The cohort of an account is its first paid month s (its first month with
  ``mrr > 0`` in the whole table, as ``revenue.revenue_retention``); cohorts
  whose s falls in the period and that have customers are listed. Accounts whose
  first paid month is the subscriptions table's first month form a cohort like
  any other.
* The channel of an account is its ``acquisition_channel`` in ``accounts``;
  ``(none)`` (``acquisition.NO_CHANNEL``) when it is null or the account is
  missing from ``accounts``. A cohort is listed per channel only for the
  channels with customers in it, and always for all channels, ``(all)``.
* ``customers`` is the number of the cohort's accounts (of that channel).
* Money is summed in integer micro-units (``_ledger.to_micro``):
  ``cumulative[k] = (Σ micro of the cohort's paid rows with s ≤ month ≤ s+k)
  / MICRO × gross_margin / customers`` for k = 0 … E − s (E = the period's
  last month), so the list has E − s + 1 entries and never decreases. Months
  after an account churns add 0; a reactivation's MRR counts (it is still the
  cohort's revenue); months after E are not read.
* ``cac`` of a channel = the spend of the marketing rows of that ``channel``
  in month s / the cohort's customers of that channel, as
  ``acquisition.cac_by_channel`` reads it: a channel without marketing rows
  in s has spend 0, so cac 0 and payback_month 0. ``cac`` of ``(all)`` is the
  month's CAC exactly as ``acquisition.cac_by_month`` gives it: all marketing
  rows of month s / the new customers of s (which are the cohort's customers).
* The subscriptions table's first month is the opening balance: it has no
  new customers (``acquisition._new_customers``), so its cohort's ``cac`` and
  ``payback_month`` are null for every channel, as ``cac_by_month`` is null.
* Without a marketing table (``marketing=None``) every ``cac`` and
  ``payback_month`` is null; ``customers`` and ``cumulative`` are unchanged.
* ``payback_month`` is compared exactly, free of float noise: cumulative[k]
  and cac share the denominator ``customers``, so ``cumulative[k] ≥ cac`` is
  evaluated as ``(Σ micro over s…s+k) × gross_margin ≥ spend micro`` in
  rational arithmetic (``fractions.Fraction``), ``gross_margin`` read as the
  decimal it is written as (``Fraction(str(gross_margin))``: 0.3 is 3/10, not
  the binary float just below it). So an MRR of 3 with a margin of 0.3 pays
  back a CAC of 0.9 in month 0, although the float ``3 × 0.3`` is
  0.8999999999999999. It is null when never reached within the observed
  months s … E, or when cac is null.
* DuckDB and Spark sessions must use the UTC time zone (the project's
  convention), as elsewhere.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
from fractions import Fraction
from itertools import accumulate
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import collect, to_lazy, with_optional
from journeylib.metrics._ledger import MICRO, paid_rows, table_bounds, to_micro
from journeylib.metrics._values import ratio
from journeylib.metrics.acquisition import NO_CHANNEL
from journeylib.months import in_months, month_from_index, month_index_of, period_index

__all__ = [
    "ALL_CHANNELS",
    "VALUE_CURVES_SCHEMA",
    "value_curves",
    "value_curves_rows",
]

ALL_CHANNELS = "(all)"
"""The channel label of a cohort's row over all channels."""

VALUE_CURVES_SCHEMA: dict[str, pl.DataType] = {
    "cohort": pl.String(),
    "channel": pl.String(),
    "customers": pl.Int64(),
    "cac": pl.Float64(),
    "cumulative": pl.List(pl.Float64()),
    "payback_month": pl.Int64(),
}


# ---------------------------------------------------------------- helpers
def _cohort_cells(
    subscriptions: Any, accounts: Any, first_p: int, last_p: int
) -> dict[tuple[int, str], dict[int, tuple[int, int]]]:
    """``{(cohort, channel): {mi: (paying accounts, micro)}}`` for cohorts in ``[first_p, last_p]``.

    Only months up to ``last_p`` are read; every cohort's own month is present.
    """
    acc = with_optional(to_lazy(accounts), {"acquisition_channel": nw.String()})
    acc = acc.select("account_id", "acquisition_channel")
    cells = collect(
        paid_rows(subscriptions)
        .with_columns(nw.col("mi").min().over("account_id").alias("cohort"))
        .filter(
            (nw.col("cohort") >= first_p) & (nw.col("cohort") <= last_p) & (nw.col("mi") <= last_p)
        )
        .join(acc, on="account_id", how="left")
        .with_columns(
            # an Enum column cannot take a value outside its categories: text first
            nw.col("acquisition_channel").cast(nw.String()).fill_null(NO_CHANNEL).alias("channel")
        )
        .group_by("cohort", "channel", "mi")
        .agg(nw.len().alias("n"), nw.col("micro").sum().alias("micro"))
    ).with_columns(pl.col("cohort", "mi", "n", "micro").cast(pl.Int64))
    out: dict[tuple[int, str], dict[int, tuple[int, int]]] = {}
    for cohort, channel, mi, n, micro in cells.select(
        "cohort", "channel", "mi", "n", "micro"
    ).iter_rows():
        out.setdefault((cohort, channel), {})[mi] = (n, micro)
    return out


def _spend_cells(marketing: Any, first_p: int, last_p: int) -> dict[tuple[int, str | None], int]:
    """Marketing spend in micro-units per ``(month index, channel)`` of the period's months."""
    spend = collect(
        to_lazy(marketing)
        .filter(in_months("month", first_p, last_p))
        .with_columns(month_index_of("month").cast(nw.Int64).alias("mi"))
        .group_by("mi", "channel")
        .agg(to_micro("spend").sum().alias("spend"))
    ).with_columns(pl.col("mi", "spend").cast(pl.Int64))
    return {
        (mi, channel): int(s or 0)
        for mi, channel, s in spend.select("mi", "channel", "spend").iter_rows()
    }


def _payback(cum_micro: list[int], spend_micro: int, gross_margin: Fraction) -> int | None:
    """The first k with ``cum_micro[k] × gross_margin ≥ spend_micro`` (exact), or None."""
    for k, total in enumerate(cum_micro):
        if total * gross_margin >= spend_micro:
            return k
    return None


# ---------------------------------------------------------------- public API
def value_curves(
    subscriptions: Any,
    accounts: Any,
    marketing: Any | None,
    *,
    period: tuple[str, str],
    gross_margin: float = 1.0,
) -> pl.DataFrame:
    """Cumulative gross margin per customer of each acquisition cohort and channel, with CAC payback.

    Per cohort s (the accounts' first paid month, in the period) and per
    ``acquisition_channel`` (``(none)`` when unknown) plus ``(all)``:
    ``customers``; ``cumulative[k]`` = Σ MRR × ``gross_margin`` of the cohort's
    accounts over months s … s+k / ``customers``, for k = 0 … E − s (E = the
    period's last month); ``cac`` = the channel's spend in s / its customers in
    the cohort (``(all)``: the month's CAC of ``acquisition.cac_by_month``);
    ``payback_month`` = the first k with ``cumulative[k] ≥ cac``. ``cac`` and
    ``payback_month`` are null in the subscriptions table's first month (the
    opening balance has no new customers), without a marketing table, and
    ``payback_month`` is null when the CAC is not earned back by E. The
    readings are those of the module docstring.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        accounts: native frame with ``account_id`` and optionally ``acquisition_channel``.
        marketing: native frame with ``month``, ``channel``, ``spend``; or ``None``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.
        gross_margin: fraction of revenue kept after cost of service.

    Returns:
        ``[cohort, channel, customers, cac, cumulative, payback_month]``
        (``VALUE_CURVES_SCHEMA``), sorted by cohort then channel, ``(all)`` first.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "c", "b", "c"],
        ...     "month": [dt.date(2024, 1, 1)] + [dt.date(2024, 2, 1)] * 2
        ...     + [dt.date(2024, 3, 1)] * 2, "mrr": [10.0, 100.0, 50.0, 100.0, 50.0]})
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"],
        ...     "acquisition_channel": ["ads", "ads", None]})
        >>> mkt = pl.DataFrame({"month": [dt.date(2024, 2, 1)], "channel": ["ads"],
        ...     "spend": [150.0]})
        >>> for row in value_curves(subs, acc, mkt, period=("2024-01", "2024-03"),
        ...         gross_margin=0.5).rows():
        ...     print(row)
        ('2024-01', '(all)', 1, None, [5.0, 5.0, 5.0], None)
        ('2024-01', 'ads', 1, None, [5.0, 5.0, 5.0], None)
        ('2024-02', '(all)', 2, 75.0, [37.5, 75.0], 1)
        ('2024-02', '(none)', 1, 0.0, [25.0, 50.0], 0)
        ('2024-02', 'ads', 1, 150.0, [50.0, 100.0], None)
    """
    first_p, last_p = period_index(period)
    table_first, _ = table_bounds(subscriptions)
    if table_first is None:
        return pl.DataFrame(schema=VALUE_CURVES_SCHEMA)
    cells = _cohort_cells(subscriptions, accounts, first_p, last_p)
    spend = None if marketing is None else _spend_cells(marketing, first_p, last_p)
    margin = Fraction(str(gross_margin))  # the decimal as written: 0.3 is 3/10

    # (all) = the sum of the channels, in integer micro-units; kept apart from the channels'
    # rows, so that a channel literally named "(all)" stays a channel row of its own.
    totals: dict[int, dict[int, tuple[int, int]]] = {}
    for (cohort, _channel), by_month in cells.items():
        total = totals.setdefault(cohort, {})
        for mi, (n, micro) in by_month.items():
            n0, m0 = total.get(mi, (0, 0))
            total[mi] = (n0 + n, m0 + micro)
    curves = [(cohort, True, ALL_CHANNELS, by_month) for cohort, by_month in totals.items()]
    curves += [(cohort, False, channel, by_month) for (cohort, channel), by_month in cells.items()]

    rows = []
    for cohort, is_all, channel, by_month in sorted(curves, key=lambda c: (c[0], not c[1], c[2])):
        customers = by_month[cohort][0]
        cum_micro = list(
            accumulate(by_month.get(mi, (0, 0))[1] for mi in range(cohort, last_p + 1))
        )
        cumulative = [c / MICRO * gross_margin / customers for c in cum_micro]
        cac: float | None = None
        payback: int | None = None
        if spend is not None and cohort > table_first:  # the table's first month: no new customers
            if is_all:
                spend_micro = sum(s for (mi, _), s in spend.items() if mi == cohort)
            else:
                spend_micro = spend.get((cohort, channel), 0)
            cac = ratio(spend_micro / MICRO, customers)
            payback = _payback(cum_micro, spend_micro, margin)
        rows.append((month_from_index(cohort), channel, customers, cac, cumulative, payback))
    return pl.DataFrame(rows, schema=VALUE_CURVES_SCHEMA, orient="row")


def value_curves_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The ``value_curves`` entries of metrics.json: one dict per row of :func:`value_curves`.

    Keys ``cohort, channel, customers, cac, cumulative, payback_month`` in that
    order; ``cumulative`` is a list of floats, nulls are ``None``; the frame's
    order (cohort, then channel with ``(all)`` first) is kept.

    Args:
        frame: a result of :func:`value_curves`.

    Returns:
        A list of JSON-ready dicts.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a"], "month": [dt.date(2024, 1, 1)],
        ...     "mrr": [10.0]})
        >>> acc = pl.DataFrame({"account_id": ["a"], "acquisition_channel": ["ads"]})
        >>> value_curves_rows(value_curves(subs, acc, None, period=("2024-01", "2024-01")))
        [{'cohort': '2024-01', 'channel': '(all)', 'customers': 1, 'cac': None, 'cumulative': [10.0], 'payback_month': None}, {'cohort': '2024-01', 'channel': 'ads', 'customers': 1, 'cac': None, 'cumulative': [10.0], 'payback_month': None}]
    """
    return frame.select(list(VALUE_CURVES_SCHEMA)).to_dicts()
