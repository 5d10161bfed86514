"""Breakdowns with intervals: retention, the stage funnel and ordered funnels by an account column.

Definitions: ``shared/spec/analytics.md`` § 5 (banding as § 4), over the
metrics of ``shared/spec/metrics.md``: activity retention, logo retention of
the revenue view, the stage funnel and ordered funnels. Every rate cell
carries its denominator ``n`` and a Wilson 95 % interval (``lo``, ``hi``;
z = 1.959964); a breakdown with two or more groups carries the p-value of
Pearson's chi-square test without continuity correction.

How it runs: the account column becomes one value per account through
:func:`journeylib.analysis._properties.property_values` (text values as they
are, numeric columns in quartile bands over the accounts studied by that
breakdown). Each group's numbers come from the metric functions themselves,
which run on the input's own engine through narwhals (polars eager or lazy,
DuckDB, Spark): the retentions call
:func:`~journeylib.metrics.retention.activity_retention` and
:func:`~journeylib.metrics.revenue.revenue_retention` once per group, on the
accounts (or subscriptions) of that group; the stage funnel reads
:func:`~journeylib.metrics.stages.stage_entries` once; an ordered funnel's
breakdown reads the per-account frame of the
:class:`~journeylib.metrics.funnels.FunnelResult` it is given, so the
funnel is computed once.

Readings of the spec chosen here:

* Accounts without a value of the column (null, blank text, or a number
  outside the bands) are left out of every group, of the group sizes and of
  the tests; there is no "(none)" group.
* The accounts studied (over which numeric bands are computed) are those the
  metric counts: the period's signups for activity retention, the accounts
  whose first paid month is in the period for logo retention, the accounts
  first seen in the period for the stage funnel, the accounts that entered
  step 1 (not excluded) for an ordered funnel. One column may therefore band
  differently in two breakdowns of one document.
* Groups are sorted by value: text values alphabetically, numeric bands in
  ascending order of their lower edge (as text, ``"10–20"`` would come
  before ``"2–10"``).
* Retention is pooled over each group's cohorts in the period: for month k,
  ``n`` = the group's accounts whose cohort month + k is not after the
  period's end, ``rate`` = those active (paying, for logo retention) in month
  k / ``n``. Months k with ``n = 0`` are not listed.
* The chi-square table has one column per group with at least one account in
  the test (a group with ``n = 0`` has no observation to contribute); the
  p-value is None with fewer than two such groups, or when everyone (or no
  one) was kept, which leaves a row of the table empty.
* Ordered funnels: ``conversion(k) = count(k) / count(1)`` with ``n =
  count(1)``, the group's accounts that entered step 1 (``journey funnel``'s
  ``conversion``); step 1 carries its Wilson interval too (as the per-variant
  funnel does). Accounts still in progress count as entered and not (yet)
  converted, as in the funnel's own counts.
* Stage funnel: ``n`` of stage i is the group's ``reached(i−1)``; the first
  stage has ``n = reached`` and no conversion or interval. Its test
  (:func:`stage_breakdown_p_value`) compares reaching the last stage among the
  accounts that reached the first one.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
from collections.abc import Sequence
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl
from scipy.stats import chi2_contingency

from journeylib.analysis._properties import check_columns, property_values
from journeylib.analysis._shares import stage_ids
from journeylib.frames import collect, engine_of, to_lazy
from journeylib.metrics._ledger import paid_rows
from journeylib.metrics._signups import signups
from journeylib.metrics.funnels import FunnelResult, wilson_interval
from journeylib.metrics.period import period_view, resolve_period
from journeylib.metrics.retention import activity_retention
from journeylib.metrics.revenue import revenue_retention
from journeylib.metrics.stages import stage_entries
from journeylib.months import in_period, months_filter, period_index
from journeylib.stream import journey_events

__all__ = [
    "SMALL_N",
    "Z95",
    "funnel_breakdown",
    "logo_retention_breakdown",
    "metrics_breakdowns",
    "proportions_p_value",
    "retention_breakdown",
    "stage_breakdown",
    "stage_breakdown_p_value",
]

#: The normal quantile of a two-sided 95 % interval, as analytics.md § 5 writes it.
Z95 = 1.959964

#: Rates over fewer accounts than this are shown greyed out: too few to compare (§ 5).
SMALL_N = 30

#: The month whose activity retention the groups are tested on (analytics.md § 5).
_TEST_MONTH = 3

#: The stream columns the stage breakdown reads.
_STREAM_USED = ["account_id", "timestamp", "stage"]


# ---------------------------------------------------------------- statistics
def proportions_p_value(counts: Sequence[tuple[int, int]]) -> float | None:
    """Pearson chi-square p-value (no continuity correction) of one proportion across groups.

    ``counts`` holds ``(successes, n)`` per group; the test runs on the
    [successes, failures] × group table. Groups with ``n = 0`` are left out of
    the table (they hold no observation).

    Args:
        counts: ``(successes, n)`` per group, ``0 <= successes <= n``.

    Returns:
        The p-value, or None with fewer than two groups with ``n > 0`` or when
        the table is degenerate (no successes at all, or no failures at all).

    Examples:
        >>> round(proportions_p_value([(30, 50), (20, 50)]), 6)  # chi-square 4.0, 1 dof
        0.0455
        >>> proportions_p_value([(3, 5)]) is None, proportions_p_value([(5, 5), (2, 2)]) is None
        (True, True)
    """
    table = []
    for successes, n in counts:
        if not 0 <= successes <= n:
            raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
        if n > 0:
            table.append((int(successes), int(n - successes)))
    if len(table) < 2:
        return None
    arr = np.array(table, dtype=np.int64).T  # rows: kept, lost; columns: groups
    if (arr.sum(axis=1) == 0).any():
        return None
    return float(chi2_contingency(arr, correction=False).pvalue)


def _cell(successes: int, n: int) -> dict[str, Any]:
    """``rate, lo, hi, n`` of a proportion (all None but n when ``n = 0``).

    The Wilson interval always holds the rate (at a rate of 0 or 1 it ends
    there exactly); its floating-point bound can miss by one ulp (1 of 1 gives
    ``hi = 0.9999999999999999``), so the bounds are set to hold the rate.
    """
    if n <= 0:
        return {"rate": None, "lo": None, "hi": None, "n": n}
    rate = successes / n
    lo, hi = wilson_interval(successes, n, Z95)
    return {"rate": rate, "lo": min(lo, rate), "hi": max(hi, rate), "n": n}


# ---------------------------------------------------------------- groups
def _numeric(accounts: Any, column: str) -> bool:
    return bool(to_lazy(accounts).collect_schema()[column].is_numeric())


def _group_order(values: Sequence[str], numeric: bool) -> list[str]:
    """Text values alphabetically; numeric bands (``"lo–hi"``) by their lower edge."""
    distinct = set(values)
    if numeric:
        return sorted(distinct, key=lambda v: (float(v.split("–", 1)[0]), v))
    return sorted(distinct)


def _values(accounts: Any, column: str, ids: pl.Series) -> tuple[pl.DataFrame, list[str]]:
    """``[account_id, value]`` of the studied accounts that have a value, and the groups in order."""
    vals = property_values(accounts, column, among=ids).drop_nulls("value")
    return vals, _group_order(vals["value"].to_list(), _numeric(accounts, column))


def _members(vals: pl.DataFrame, value: str) -> list[str]:
    return vals.filter(pl.col("value") == value)["account_id"].to_list()


def _only(native: Any, ids: list[str]) -> Any:
    """The rows of ``native`` (any engine) whose ``account_id`` is one of ``ids``, same engine."""
    if isinstance(native, pl.DataFrame):
        return native.filter(pl.col("account_id").cast(pl.String).is_in(ids))
    return to_lazy(native).filter(nw.col("account_id").cast(nw.String).is_in(ids)).to_native()


def _pooled(long: pl.DataFrame, kept: pl.Expr) -> pl.DataFrame:
    """``[k, n, kept]`` summed over the cohorts of a long retention frame (cohort, k, size)."""
    return (
        long.group_by("k")
        .agg(pl.col("size").sum().alias("n"), kept.sum().alias("kept"))
        .filter(pl.col("n") > 0)
        .sort("k")
    )


def _rates(pooled: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {"k": int(k), **_cell(int(kept), int(n))}
        for k, n, kept in pooled.select("k", "n", "kept").iter_rows()
    ]


# ---------------------------------------------------------------- retention
def retention_breakdown(
    accounts: Any, events: Any, *, period: tuple[str, str], column: str
) -> dict[str, Any]:
    """Activity retention per value of an account column, with intervals and a test.

    The accounts are the period's signups (as
    :func:`~journeylib.metrics.retention.activity_retention`), grouped by
    their value of ``column`` (numeric columns in quartile bands over them);
    accounts without a value are left out. Per group, activity retention is
    pooled over the group's signup cohorts: for month k, ``n`` = the group's
    accounts whose cohort month + k is not after the period's end and
    ``rate`` = those active in month k / ``n``, with a Wilson 95 % interval.
    ``p_value``: Pearson's chi-square (no continuity correction) on the
    [kept, lost] × group table of month-3 retention over the cohorts whose
    month 3 is in the period; None with fewer than two groups or a
    degenerate table (see :func:`proportions_p_value`).

    Args:
        accounts: accounts table (``account_id``, ``signup_at``, ``column``), any engine.
        events: the raw events table (``account_id``, ``timestamp``), same engine.
        period: closed range of calendar months.
        column: the account column to break down by.

    Returns:
        ``{"column", "p_value", "activity_retention": [{value, size, rates:
        [{k, rate, lo, hi, n}]}]}``, groups sorted by value (numeric bands by
        their lower edge), ``size`` the group's signups.

    Raises:
        ConfigError: ``column`` is not a column of the accounts table.

    Examples:
        >>> t = lambda m, d=1: dt.datetime(2024, m, d, tzinfo=dt.UTC)
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"], "signup_at": [t(1), t(1), t(2)],
        ...                     "plan": ["pro", "free", "pro"]})
        >>> ev = pl.DataFrame({"account_id": ["a", "b", "a", "c"],
        ...                    "timestamp": [t(1, 2), t(1, 3), t(2, 2), t(2, 5)]})
        >>> out = retention_breakdown(acc, ev, period=("2024-01", "2024-02"), column="plan")
        >>> [(g["value"], g["size"], [(r["k"], r["rate"], r["n"]) for r in g["rates"]])
        ...  for g in out["activity_retention"]]
        [('free', 1, [(0, 1.0, 1), (1, 0.0, 1)]), ('pro', 2, [(0, 1.0, 2), (1, 1.0, 1)])]
        >>> out["p_value"] is None  # no cohort reaches month 3 in the period
        True
    """
    check_columns(accounts, [column], where="column")
    first, last = period_index(period)
    ids = collect(signups(accounts, first, last).select(nw.col("account_id").cast(nw.String)))
    vals, order = _values(accounts, column, ids["account_id"])
    active = _active_months(events, first, last)
    groups = []
    tested: list[tuple[int, int]] = []
    for value in order:
        members = _members(vals, value)
        long = activity_retention(_only(accounts, members), active, period=period)
        pooled = _pooled(long, pl.col("active"))
        month3 = pooled.filter(pl.col("k") == _TEST_MONTH)
        tested.append((int(month3["kept"].sum()), int(month3["n"].sum())))
        groups.append({"value": value, "size": len(members), "rates": _rates(pooled)})
    return {
        "column": column,
        "p_value": proportions_p_value(tested),
        "activity_retention": groups,
    }


def _active_months(events: Any, first: int, last: int) -> Any:
    """The (account, month) pairs with a raw event in months ``first``..``last``, one row each.

    All :func:`activity_retention` reads of the events (``account_id`` and the
    month of ``timestamp``, as the month's first instant): computed once for
    every group instead of reading the raw events once per group. On polars
    it is collected (one row per active account-month, a small frame next to
    the events); DuckDB and Spark keep their events, read per group.
    """
    if engine_of(events) != "polars":
        return events
    lf = to_lazy(events)
    return collect(
        lf.filter(~nw.col("account_id").is_null(), months_filter(lf, "timestamp", first, last))
        .select("account_id", nw.col("timestamp").dt.truncate("1mo"))
        .unique()
    )


def logo_retention_breakdown(
    accounts: Any, subscriptions: Any, *, period: tuple[str, str], column: str
) -> list[dict[str, Any]]:
    """Logo retention (the revenue view, by first paid month) per value of an account column.

    The accounts are those whose first paid month s (first month with MRR >
    0) is in the period, as in
    :func:`~journeylib.metrics.revenue.revenue_retention`, grouped by their
    value of ``column`` (numeric columns in quartile bands over them);
    accounts without a value, or without a row in ``accounts``, are left
    out. Per group and month k, pooled over the group's cohorts: ``n`` = the
    group's accounts whose s + k is not after the period's end, ``rate`` =
    those paying in s + k / ``n``, with a Wilson 95 % interval.

    Args:
        accounts: accounts table (``account_id``, ``column``), any engine.
        subscriptions: ``account_id``, ``month``, ``mrr``, same engine.
        period: closed range of calendar months.
        column: the account column to break down by.

    Returns:
        ``[{value, size, rates: [{k, rate, lo, hi, n}]}]`` sorted by value,
        ``size`` the group's customers whose first paid month is in the period.

    Raises:
        ConfigError: ``column`` is not a column of the accounts table.

    Examples:
        >>> m = lambda i: dt.date(2024, i, 1)
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"], "plan": ["pro", "pro", "free"]})
        >>> subs = pl.DataFrame({"account_id": ["a", "a", "b", "c", "c"],
        ...     "month": [m(1), m(2), m(1), m(1), m(2)], "mrr": [10.0, 10.0, 5.0, 3.0, 3.0]})
        >>> [(g["value"], g["size"], [(r["k"], r["rate"], r["n"]) for r in g["rates"]])
        ...  for g in logo_retention_breakdown(acc, subs, period=("2024-01", "2024-02"),
        ...                                    column="plan")]
        [('free', 1, [(0, 1.0, 1), (1, 1.0, 1)]), ('pro', 2, [(0, 1.0, 2), (1, 0.5, 2)])]
    """
    check_columns(accounts, [column], where="column")
    first, last = period_index(period)
    cohorts = (
        paid_rows(subscriptions)
        .group_by("account_id")
        .agg(nw.col("mi").min().alias("s"))
        .filter((nw.col("s") >= first) & (nw.col("s") <= last))
        .select(nw.col("account_id").cast(nw.String))
    )
    vals, order = _values(accounts, column, collect(cohorts)["account_id"])
    groups = []
    for value in order:
        members = _members(vals, value)
        long = revenue_retention(_only(subscriptions, members), period=period)
        kept = (pl.col("logo_retention") * pl.col("size")).round(0).cast(pl.Int64)
        groups.append({"value": value, "size": len(members), "rates": _rates(_pooled(long, kept))})
    return groups


# ---------------------------------------------------------------- stages
def stage_breakdown(
    stream: Any,
    accounts: Any,
    *,
    period: tuple[str, str],
    stages: Sequence[Any],
    column: str,
) -> list[dict[str, Any]]:
    """The stage funnel per value of an account column, each conversion with its interval.

    The accounts are those first seen in the period (as
    :func:`~journeylib.metrics.stages.stage_funnel`), grouped by their value
    of ``column`` (numeric columns in quartile bands over them); accounts
    without a value are left out. Per group, ``reached(i)`` = its accounts
    that entered stage i or a later one; ``conversion_from_previous(i) =
    reached(i) / reached(i−1)`` with ``n = reached(i−1)`` and a Wilson 95 %
    interval. The first stage has ``n = reached`` and null conversion, lo and
    hi. :func:`stage_breakdown_p_value` tests the last stage across groups.

    Args:
        stream: the journey event stream (``account_id``, ``timestamp``, ``stage``), any engine.
        accounts: accounts table (``account_id``, ``first_seen_at``, ``column``), same engine.
        period: closed range of calendar months.
        stages: ``(id, label)`` pairs (or bare ids) in template order.
        column: the account column to break down by.

    Returns:
        ``[{value, stages: [{id, reached, conversion_from_previous, lo, hi, n}]}]``
        sorted by value, every stage listed for every group.

    Raises:
        ConfigError: ``column`` is not a column of the accounts table.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"], "first_seen_at": [t(1)] * 3,
        ...                     "plan": ["pro", "pro", "free"]})
        >>> stream = pl.DataFrame({"account_id": ["a", "a", "b", "c"],
        ...     "timestamp": [t(1), t(3), t(2), t(2)], "stage": ["aware", "buy", "aware", "buy"]})
        >>> rows = stage_breakdown(stream, acc, period=("2024-01", "2024-01"),
        ...                        stages=["aware", "buy"], column="plan")
        >>> [(g["value"], [(s["reached"], s["conversion_from_previous"], s["n"])
        ...   for s in g["stages"]]) for g in rows]
        [('free', [(1, None, 1), (1, 1.0, 1)]), ('pro', [(2, None, 2), (1, 0.5, 2)])]
    """
    check_columns(accounts, [column], where="column")
    ids = collect(
        to_lazy(accounts)
        .filter(in_period("first_seen_at", period))
        .select(nw.col("account_id").cast(nw.String))
        .unique()
    )
    vals, order = _values(accounts, column, ids["account_id"])
    order_ids = stage_ids(stages)
    entries = stage_entries(stream, accounts, period=period, stages=stages)
    furthest = (
        entries.group_by(pl.col("account_id").cast(pl.String))
        .agg(pl.col("stage_index").max().alias("furthest"))
        .join(vals, on="account_id", how="inner")
    )
    counts = furthest.group_by("value", "furthest").agg(pl.len().alias("accounts"))
    at = {(v, f): c for v, f, c in counts.iter_rows()}
    out = []
    for value in order:
        # furthest stage i (1-based) or later: summed from the last stage back
        reached = [
            sum(at.get((value, j), 0) for j in range(i, len(order_ids) + 1))
            for i in range(1, len(order_ids) + 1)
        ]
        rows = []
        for i, sid in enumerate(order_ids):
            if i == 0:
                rows.append(
                    {
                        "id": sid,
                        "reached": reached[0],
                        "conversion_from_previous": None,
                        "lo": None,
                        "hi": None,
                        "n": reached[0],
                    }
                )
                continue
            cell = _cell(reached[i], reached[i - 1])
            rows.append(
                {
                    "id": sid,
                    "reached": reached[i],
                    "conversion_from_previous": cell["rate"],
                    "lo": cell["lo"],
                    "hi": cell["hi"],
                    "n": cell["n"],
                }
            )
        out.append({"value": value, "stages": rows})
    return out


def stage_breakdown_p_value(rows: Sequence[dict[str, Any]]) -> float | None:
    """The chi-square p-value of reaching the last stage across the groups of :func:`stage_breakdown`.

    The [reached the last stage, did not] × group table, among each group's
    accounts that reached the first stage; None as :func:`proportions_p_value`.

    Examples:
        >>> rows = [{"value": v, "stages": [{"reached": n}, {"reached": x}]}
        ...         for v, n, x in [("free", 50, 20), ("pro", 50, 30)]]
        >>> round(stage_breakdown_p_value(rows), 4)
        0.0455
    """
    return proportions_p_value(
        [(g["stages"][-1]["reached"], g["stages"][0]["reached"]) for g in rows if g["stages"]]
    )


# ---------------------------------------------------------------- ordered funnels
def funnel_breakdown(result: FunnelResult, accounts: Any, *, column: str) -> dict[str, Any]:
    """An ordered funnel per value of an account column, with intervals and a test on the last step.

    Takes the result of :func:`~journeylib.metrics.funnels.ordered_funnel`
    (the funnel is computed once). The accounts are those that entered step 1
    (accounts removed by exclusions are out of the funnel), grouped by their
    value of ``column`` (numeric columns in quartile bands over them);
    accounts without a value are left out. Per group and step k: ``count`` =
    accounts whose furthest step is k or later; ``conversion = count(k) /
    count(1)`` (the funnel's ``conversion``, from step 1) with ``n =
    count(1)`` and a Wilson 95 % interval. ``p_value``: Pearson's chi-square
    (no continuity correction) on the [reached the last step, did not] ×
    group table among those accounts; None with fewer than two groups or a
    degenerate table.

    Args:
        result: an ordered funnel's result.
        accounts: accounts table (``account_id``, ``column``), any engine.
        column: the account column to break down by.

    Returns:
        ``{"breakdown": [{value, steps: [{step, event, count, conversion, lo,
        hi, n}]}], "p_value"}``, groups sorted by value.

    Raises:
        ConfigError: ``column`` is not a column of the accounts table.

    Examples:
        >>> from journeylib.metrics.funnels import ordered_funnel
        >>> t = lambda h: dt.datetime(2024, 1, 1, h, tzinfo=dt.UTC)
        >>> ev = pl.DataFrame({"account_id": ["a", "a", "b", "c"],
        ...     "timestamp": [t(0), t(1), t(2), t(3)], "event": ["view", "buy", "view", "view"]})
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"], "plan": ["pro", "pro", "free"]})
        >>> out = funnel_breakdown(ordered_funnel(ev, steps=["view", "buy"]), acc, column="plan")
        >>> [(g["value"], [(s["count"], s["conversion"], s["n"]) for s in g["steps"]])
        ...  for g in out["breakdown"]]
        [('free', [(1, 1.0, 1), (0, 0.0, 1)]), ('pro', [(2, 1.0, 2), (1, 0.5, 2)])]
        >>> round(out["p_value"], 4)
        0.3865
    """
    check_columns(accounts, [column], where="column")
    events = result.steps.sort("step")["event"].to_list()
    n_steps = len(events)
    entered = result.accounts.filter(~pl.col("excluded") & (pl.col("furthest_step") >= 1)).select(
        pl.col("account_id").cast(pl.String), "furthest_step"
    )
    vals, order = _values(accounts, column, entered["account_id"])
    per = entered.join(vals, on="account_id", how="inner")
    counts = per.group_by("value", "furthest_step").agg(pl.len().alias("accounts"))
    at = {(v, f): c for v, f, c in counts.iter_rows()}
    groups = []
    tested = []
    for value in order:
        count = [
            sum(at.get((value, j), 0) for j in range(k, n_steps + 1)) for k in range(1, n_steps + 1)
        ]
        steps = []
        for k in range(1, n_steps + 1):
            cell = _cell(count[k - 1], count[0])
            steps.append(
                {
                    "step": k,
                    "event": events[k - 1],
                    "count": count[k - 1],
                    "conversion": cell["rate"],
                    "lo": cell["lo"],
                    "hi": cell["hi"],
                    "n": cell["n"],
                }
            )
        tested.append((count[-1], count[0]))
        groups.append({"value": value, "steps": steps})
    return {"breakdown": groups, "p_value": proportions_p_value(tested)}


# ---------------------------------------------------------------- the metrics document's object
def metrics_breakdowns(
    client: Any,
    column: str,
    *,
    period: tuple[str, str] | None = None,
    stream: Any = None,
) -> dict[str, Any]:
    """The ``breakdowns`` object of ``journey metrics --breakdown COLUMN --json``.

    The client's tables, period and template stages are those of
    :func:`journeylib.metrics.document.metrics_document`: the period resolved
    from the client (:func:`~journeylib.metrics.period.resolve_period`, on
    any engine) unless given, the journey stream built from the client unless
    given, the stages of its template.

    Args:
        client: a loaded client (``tables``, ``config``, ``template``), any engine.
        column: the account column to break down by.
        period: closed range of calendar months (default: the client's period).
        stream: the client's journey stream, when the caller has built it.

    Returns:
        ``{"column", "p_value", "activity_retention", "logo_retention",
        "stages", "stages_p_value"}``: ``p_value`` and ``activity_retention``
        as :func:`retention_breakdown`, ``logo_retention`` as
        :func:`logo_retention_breakdown` (None without subscriptions),
        ``stages`` as :func:`stage_breakdown` and ``stages_p_value`` as
        :func:`stage_breakdown_p_value`.

    Raises:
        ConfigError: ``column`` is not a column of the accounts table.
    """
    t = client.tables
    accounts = t["accounts"]
    check_columns(accounts, [column], where="column")
    if period is None:
        period = resolve_period(period_view(client))
    if stream is None:
        stream = journey_events(client, sort=False, lazy=True)
    stream = to_lazy(stream).select(_STREAM_USED).to_native()
    retention = retention_breakdown(accounts, t["events"], period=period, column=column)
    subs = t.get("subscriptions")
    logo = (
        None
        if subs is None
        else logo_retention_breakdown(accounts, subs, period=period, column=column)
    )
    pairs = [(s.id, s.label) for s in client.template.stages]
    stage_rows = stage_breakdown(stream, accounts, period=period, stages=pairs, column=column)
    return {
        "column": column,
        "p_value": retention["p_value"],
        "activity_retention": retention["activity_retention"],
        "logo_retention": logo,
        "stages": stage_rows,
        "stages_p_value": stage_breakdown_p_value(stage_rows),
    }
