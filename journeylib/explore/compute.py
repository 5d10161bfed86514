"""What the explorer's panels compute, from the store's marts and lazy scans of its stream.

Each panel computes only what it shows, on one filter state
(:class:`~journeylib.explore.filters.Scope`), with the library's own metric
functions, so its numbers are the report's. What makes that cheap on a
client of millions of events is the input each function is given:

* **Stage metrics** read, per account and stage, only the account's first
  event mapped to the stage (``metrics.stages``: "an account enters a stage at
  its first event mapped to it"). The ``accounts`` mart holds exactly those
  instants (``entered_<stage>``), so :func:`stage_entries` turns them into one
  stream row per account and stage entered, and the stage funnel runs on
  those rows instead of every event: the same result (checked in
  ``tests/explore``), a few hundred thousand rows instead of millions.
* **Activity retention** asks whether an account had a raw event in a month.
  The ``account_months`` mart counts each account's raw events per month, so
  :func:`active_months` gives one row per account and active month.
* **Touchpoint flow**: the stream is stored sorted by account, time and seq,
  so :func:`touchpoint_transitions` pairs consecutive rows by shifting them in
  that order instead of sorting every event per account (same pairs as
  :func:`journeylib.metrics.stages.touchpoint_transitions`, several times
  faster: the sort was its whole cost).
* **Journey map**: its KPI lane reads a metrics document, but only the
  sections its KPIs and the client's goals are read from
  (:func:`journeylib.analysis.map_sections`): :func:`map_doc` computes those with
  ``journeylib.metrics.document.document_sections`` and takes the stage funnel from the
  mart. Its other lanes read, from the stream, each account's stage entries
  and the touchpoints it met (:func:`map_stream` gives exactly those rows) and
  each touchpoint's events and accounts in the period (:func:`touchpoint_reach`,
  from the ``account_touchpoints`` mart).

* **Paths** (:func:`paths`): a path is made of an account's first items, or
  of the items around its first occurrence of an anchor, repeats collapsed.
  On the sorted stream the runs of one item are found by comparing each row
  with the one before it, with no sort; :func:`path_rows` keeps, per account,
  only the first row of each run that can be on its path (at most ``steps``
  rows), and :func:`journeylib.analysis.paths.paths` runs on those rows: the
  same nodes and edges as on every event (checked in ``tests/explore``).
* **Lifecycle** reads the ``account_days`` mart (one row per account and
  active day) instead of the events; the **breakdowns** of activity
  retention read the scope's active months once (:func:`active_months`).
* **Attribution** (:func:`attribution`) reads, of the events, only the
  columns the models read (account, time, channel and ``seq``, the raw
  order that breaks ties) of the rows with a channel in the only span any
  touch can come from: from ``attribution_window_days`` before the period to
  its end (:func:`attribution_touches`): one scan filtered on channel and
  time, the scope's accounts joined after it; the library then works on
  those rows in memory. The unfiltered scope's result is kept in the store,
  as the journey map is.

Everything here is polars: the store is Parquet that polars scans with the
filters pushed down, and the sorted stream lets it skip sorts. DuckDB was
measured on the same files (10 M events, 2 cores): the touchpoint flow took
3.5–7 s with window functions against 0.25–0.65 s for the ordered shift here,
and a filtered scan of the funnel steps 0.17 s against 0.10 s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import shutil
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from journeylib import analysis
from journeylib.analysis import breakdowns, correlation
from journeylib.analysis import paths as paths_module
from journeylib.explore.filters import STREAM, Scope
from journeylib.frames import to_lazy
from journeylib.i18n import current_language
from journeylib.metrics import acquisition, activity, retention, stages, with_period
from journeylib.metrics.document import document_sections
from journeylib.months import filter_period, month_end, month_start
from journeylib.store.key import package_source, source_digest
from journeylib.store.marts import active_months

__all__ = [
    "AUTO_ITEMS",
    "active_months",
    "activity_retention",
    "attribution",
    "attribution_touches",
    "auto_min_accounts",
    "breakdown_accounts",
    "cac_by_model",
    "driver_rows",
    "funnel_breakdown",
    "funnel_drivers",
    "lifecycle",
    "path_rows",
    "paths",
    "retention_breakdown",
    "journey_map",
    "map_doc",
    "map_stream",
    "stage_entries",
    "stage_funnel",
    "touchpoint_reach",
    "touchpoint_transitions",
]

_TS = pl.Datetime("us", "UTC")


def stage_entries(accounts: pl.LazyFrame, stage_ids: list[str]) -> pl.LazyFrame:
    """One stream row per account and stage entered, at its entry: ``[account_id, stage, timestamp]``.

    From the ``accounts`` mart's ``entered_<stage>`` columns (an account's
    first journey event mapped to the stage). The stage metrics read nothing
    else of the stream: fed these rows they give what they give on every event.

    Examples:
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
        >>> acc = pl.LazyFrame({"account_id": ["a", "b"], "entered_x": [t, None],
        ...                     "entered_y": [t, t]})
        >>> stage_entries(acc, ["x", "y"]).collect().select("account_id", "stage").rows()
        [('a', 'x'), ('a', 'y'), ('b', 'y')]
    """
    cols = [f"entered_{s}" for s in stage_ids]
    if not cols:
        return pl.LazyFrame(schema={"account_id": pl.String, "stage": pl.String, "timestamp": _TS})
    return (
        accounts.select("account_id", *cols)
        .unpivot(index="account_id", on=cols, variable_name="stage", value_name="timestamp")
        .filter(pl.col("timestamp").is_not_null())
        .select(
            "account_id",
            pl.col("stage").str.strip_prefix("entered_"),
            pl.col("timestamp").cast(_TS),
        )
    )


def stage_funnel(sc: Scope) -> pl.DataFrame:
    """:func:`journeylib.metrics.stages.stage_funnel` of the scope, on its stage entries (once per scope)."""

    def compute() -> pl.DataFrame:
        tpl = sc.base.template
        return stages.stage_funnel(
            stage_entries(sc.mart("accounts"), tpl.stage_ids),
            sc.lazy("accounts"),
            period=sc.period,
            stages=analysis.stage_pairs(tpl),
        )

    return sc.memo("stage_funnel", compute)


def activity_retention(sc: Scope) -> pl.DataFrame:
    """:func:`journeylib.metrics.retention.activity_retention` of the scope, on its active months."""
    return retention.activity_retention(
        sc.lazy("accounts"), active_months(sc.mart("account_months")), period=sc.period
    )


def touchpoint_transitions(stream: pl.LazyFrame, *, period: tuple[str, str]) -> pl.DataFrame:
    """:func:`journeylib.metrics.stages.touchpoint_transitions` of a stream sorted by account, time, seq.

    The store's stream (and a filter of it) is in that order: the pairs are
    found in the order the rows come (``presorted``), without a sort.

    Examples:
        >>> import datetime as dt
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> s = pl.LazyFrame({"account_id": ["a"] * 4 + ["b"] * 2,
        ...     "timestamp": [t(1), t(2), t(3), t(4), t(1), t(2)],
        ...     "touchpoint": ["ad", "ad", "demo", "ad", "demo", "demo"]})
        >>> touchpoint_transitions(s, period=("2024-01", "2024-01")).rows()
        [('ad', 'demo', 1, 1.0), ('demo', 'ad', 1, 1.0)]
    """
    return stages.touchpoint_transitions(stream, period=period, presorted=True)


# ---------------------------------------------------------------- paths
# Per source and item column, the items of its raw rows (whether an anchor's derived rows
# join the paths is judged over every row of the data, as paths() judges it).
_RAW_ITEMS: weakref.WeakKeyDictionary[Any, dict[str, frozenset[str]]] = weakref.WeakKeyDictionary()


def _raw_items(sc: Scope, item: str) -> frozenset[str]:
    """The values of ``item`` on the raw rows of the client's whole stream (once per source)."""
    kept = _RAW_ITEMS.setdefault(sc.source, {})
    if item not in kept:
        found = (
            sc.source.stream.filter(pl.col("source") == "events", pl.col(item).is_not_null())
            .select(pl.col(item).unique())
            .collect()
        )
        kept[item] = frozenset(found[item].to_list())
    return kept[item]


def path_rows(
    sc: Scope,
    *,
    start: str | None = None,
    end: str | None = None,
    steps: int = 5,
    level: str = "event",
) -> pl.DataFrame | None:
    """The stream rows :func:`journeylib.analysis.paths.paths` needs for the scope's paths, and no others.

    :func:`journeylib.analysis.paths.path_rows` of the scope's stream, which
    is sorted by account, time and seq: the runs of one item are found row
    against row, without a sort, and only the rows that begin a run on an
    account's path are kept (its first ``steps`` runs, or the ``steps`` runs
    from (up to) the run of its first ``start`` (``end``)). Fed these rows,
    ``paths`` gives the nodes and edges it gives on the whole stream
    restricted to the scope's accounts (``accounts=``), on at most ``steps``
    rows per account. Whether an anchor's derived rows join the paths (no
    raw row of the client has it) is judged once per source (:func:`_raw_items`).
    A derived start some account has more than once in the period is not
    reduced: None is returned and the caller runs ``paths`` on the stream.

    Returns:
        ``[account_id, timestamp, <event or touchpoint>, source, seq]``, or None (above).
    """
    item = "event" if level == "event" else "touchpoint"
    anchor = start if start is not None else end
    return paths_module.path_rows(
        sc.lazy(STREAM),
        period=sc.period,
        start=start,
        end=end,
        steps=steps,
        level=level,
        derived=anchor is not None and anchor not in _raw_items(sc, item),
    )


#: The items of a step an automatic ``min_accounts`` keeps as nodes of their own: a Sankey
#: of every item is unreadable, and on a large client heavy to draw.
AUTO_ITEMS = 6


def auto_min_accounts(nodes: pl.DataFrame, top: int = AUTO_ITEMS) -> int:
    """The fewest accounts that keeps at most ``top`` items of each step as nodes of their own.

    Examples:
        >>> n = pl.DataFrame({"step": [1, 1, 1, 2], "item": ["a", "b", "c", "a"],
        ...                   "accounts": [9, 5, 5, 7]})
        >>> auto_min_accounts(n, top=1), auto_min_accounts(n, top=2), auto_min_accounts(n, top=3)
        (6, 6, 1)
    """
    rank = pl.col("accounts").rank("ordinal", descending=True).over("step")
    beyond = nodes.filter(rank == top + 1)["accounts"].max()
    return 1 if beyond is None else int(beyond) + 1


def paths(
    sc: Scope,
    *,
    start: str | None = None,
    end: str | None = None,
    steps: int = 5,
    level: str = "event",
    min_accounts: int = 1,
) -> paths_module.PathsResult | None:
    """:func:`journeylib.analysis.paths.paths` of the scope's accounts in its period (once per scope).

    On :func:`path_rows`, computed once per scope with every item
    (``min_accounts=1``); a larger ``min_accounts`` regroups that result
    (:func:`journeylib.analysis.paths.regroup`, the same nodes and edges). None
    when the anchor is on no path of these accounts in the period.
    """
    item = "event" if level == "event" else "touchpoint"
    anchor = start if start is not None else end
    shape = (start, end, steps, level)

    def compute() -> paths_module.PathsResult | None:
        rows = sc.memo(
            ("path_rows", *shape),
            lambda: path_rows(sc, start=start, end=end, steps=steps, level=level),
        )
        given: Any = rows
        accounts = None
        if rows is None:  # not reduced: the whole stream, restricted to the accounts
            given = sc.source.stream
            accounts = None if sc.ids is None else sc.ids.to_list()
        elif anchor is not None and rows.filter(pl.col(item) == anchor).height == 0:
            return None
        return paths_module.paths(
            given,
            # the rows are the period's already: filtering them again costs half the time
            period=sc.period if rows is None else None,
            start=start,
            end=end,
            steps=steps,
            level=level,
            accounts=accounts,
        )

    every = sc.memo(("paths", *shape), compute)
    if every is None or min_accounts <= 1:
        return every
    return sc.memo(
        ("paths", *shape, min_accounts), lambda: paths_module.regroup(every, min_accounts)
    )


# ---------------------------------------------------------------- lifecycle and breakdowns
def lifecycle(sc: Scope, interval: str = "week") -> pl.DataFrame:
    """:func:`journeylib.metrics.activity.lifecycle` of the scope, on its ``account_days`` mart."""
    return sc.memo(
        ("lifecycle", interval),
        lambda: activity.lifecycle(sc.mart("account_days"), period=sc.period, interval=interval),
    )


def breakdown_accounts(sc: Scope) -> pl.DataFrame:
    """The scope's accounts, personas by their client.yaml label (what the groups show)."""

    def compute() -> pl.DataFrame:
        acc = sc.table("accounts")
        labels = analysis.persona_labels(sc.base)
        if "persona" in acc.columns and labels:
            persona = pl.col("persona").cast(pl.String).replace(labels)
            acc = acc.with_columns(persona.alias("persona"))
        return acc

    return sc.memo("breakdown_accounts", compute)


def retention_breakdown(sc: Scope, column: str) -> dict[str, Any]:
    """:func:`journeylib.analysis.breakdowns.retention_breakdown` of the scope.

    On its active months (:func:`active_months`) in the period, collected
    once: the breakdown computes activity retention once per group.
    """

    def compute() -> dict[str, Any]:
        lo, hi = sc.period
        in_period = pl.col("month").is_between(pl.lit(lo), pl.lit(hi))
        months = active_months(sc.mart("account_months").filter(in_period)).collect()
        return breakdowns.retention_breakdown(
            breakdown_accounts(sc), months, period=sc.period, column=column
        )

    return sc.memo(("retention_breakdown", column), compute)


def funnel_breakdown(sc: Scope, funnel: Any, column: str) -> dict[str, Any]:
    """:func:`journeylib.analysis.breakdowns.funnel_breakdown` of an ordered funnel of the scope."""
    return breakdowns.funnel_breakdown(funnel, breakdown_accounts(sc), column=column)


def driver_rows(sc: Scope, steps: tuple[str, ...], window: str) -> pl.DataFrame | None:
    """The stream rows an ordered funnel's correlation needs, and no others.

    :func:`journeylib.analysis.correlation.funnel_correlation` computes the
    funnel again (from its step rows and the data's end: the latest row of
    the period) and then reads the raw events of the accounts that converted
    or dropped out, in each one's window (from its step-1 event to its last
    step, or to the end of its window). Given the scope's ordered funnel
    (:meth:`Scope.funnel`, shared with the ordered-funnel panel), these rows
    are: every step row of the period, those raw events (in
    ``[attempt start, attempt start + window]``, which holds each window),
    and one anonymous row at the data's end; fed them, the function gives
    what it gives on the whole stream, from one filtered scan instead of four.

    Returns:
        ``[account_id, timestamp, event, source, seq]``, or None when a step
        has no row in the period (the function's check of the steps reads
        every month: the caller gives it the whole stream).
    """
    funnel = sc.funnel(steps, window, "ordered", False)
    windows = funnel.accounts.filter(
        ~pl.col("excluded"), ~pl.col("in_progress"), pl.col("furthest_step") >= 1
    ).select(
        pl.col("account_id").cast(pl.String),
        pl.min_horizontal("attempt_start", "step_1_at").alias("_lo"),
        (pl.col("attempt_start") + pl.duration(seconds=funnel.window_seconds)).alias("_hi"),
    )
    stream = filter_period(to_lazy(sc.lazy(STREAM)), "timestamp", sc.period).to_native()
    stream = stream.filter(pl.col("account_id").is_not_null())
    cols = ["account_id", "timestamp", "event", "source", "seq"]
    is_step = pl.col("event").is_in(list(steps))
    in_window = (pl.col("source") == "events") & pl.col("timestamp").is_between(
        pl.col("_lo"), pl.col("_hi")
    )
    # one scan: the step rows, and the raw events of the accounts in their window
    found = (
        stream.select(cols)
        .join(windows.lazy(), on="account_id", how="left")
        .filter(is_step | in_window)
        .select(cols)
        .collect()
    )
    if found.filter(is_step)["event"].n_unique() < len(set(steps)):
        return None
    if funnel.data_end is not None:
        end = pl.DataFrame(
            {"account_id": [None], "timestamp": [funnel.data_end], "event": [""]},
            schema={c: found.schema[c] for c in ("account_id", "timestamp", "event")},
        )
        found = pl.concat([found, end], how="diagonal")
    return found


def funnel_drivers(
    sc: Scope, steps: tuple[str, ...], window: str, mode: str
) -> correlation.CorrelationResult:
    """:func:`journeylib.analysis.correlation.funnel_correlation` of the scope (once per scope).

    In ordered mode on :func:`driver_rows`; in strict mode (every row of an
    account can break an attempt) on the scope's stream.
    """

    def compute() -> correlation.CorrelationResult:
        rows = driver_rows(sc, steps, window) if mode == "ordered" else None
        return correlation.funnel_correlation(
            sc.lazy(STREAM) if rows is None else rows,
            breakdown_accounts(sc),
            steps=list(steps),
            window=window,
            mode=mode,
            period=sc.period,
        )

    return sc.memo(("funnel_drivers", steps, window, mode), compute)


# ---------------------------------------------------------------- attribution
def attribution_touches(sc: Scope, *, window_days: int) -> pl.DataFrame | None:
    """The scope's events :func:`journeylib.metrics.acquisition.attribution` reads, and no others.

    Its touches are raw events with an account and a channel: a conversion's,
    in the ``window_days`` up to its instant (the first instant of a paid
    month in the period); an account that did not convert, in the
    ``window_days`` up to its last touch in the period. Every one of them lies
    from ``window_days`` before the period's first instant to the period's
    end, so only those rows are read, and of them only the columns the models
    read: one filtered scan of four columns (the store's events are split by
    month, so a short period reads a few of their files). ``seq`` orders
    events at one instant as the raw export did: the store's events carry it;
    a client in memory has its rows numbered here, in their order (what the
    library does to a polars frame without one).

    The scope's accounts are kept by a join after the scan, not by the
    scope's restricted events (:meth:`Scope.lazy`): that filter is pushed into
    the scan and tests every event's account, where the join tests only the
    rows with a channel in the span (a fifth of them). At 10 M events, a
    persona's touches: 0.99 s read through the restricted events, 0.39 s so
    (a busy machine; the same rows).

    Returns:
        ``[account_id, timestamp, channel, seq]``, or None when the events have
        no ``channel`` column.
    """
    events = sc.base.tables["events"].lazy()
    schema = events.collect_schema()
    if "channel" not in schema:
        return None
    if "seq" not in schema:
        events = events.with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64))
    keep = [pl.col("account_id").is_not_null(), pl.col("channel").is_not_null()]
    ts = schema["timestamp"]
    if isinstance(ts, pl.Datetime) and ts.time_zone == "UTC":  # else every row: still exact
        lo = month_start(sc.period[0]) - dt.timedelta(days=window_days)
        hi = month_end(sc.period[1])
        keep += [pl.col("timestamp") >= lo, pl.col("timestamp") < hi]
    touches = events.filter(*keep).select(
        "account_id", "timestamp", pl.col("channel").cast(pl.String), "seq"
    )
    if sc.ids is not None:
        touches = touches.join(sc.ids.to_frame("account_id").lazy(), on="account_id", how="semi")
    return touches.collect()


_ATTRIBUTION_SCHEMA = {"channel": pl.String, **{m: pl.Float64 for m in acquisition.MODELS}}


def attribution(sc: Scope) -> pl.DataFrame | None:
    """:func:`journeylib.metrics.acquisition.attribution` of the scope's accounts in its period (once per scope).

    On :func:`attribution_touches` (the same credits as on every event: no
    touch any model reads is left out), the scope's subscriptions and
    accounts, with ``client.yaml``'s ``attribution_window_days``. The
    unfiltered scope's result is kept in the store (:func:`_kept_path`).

    Returns:
        ``[channel, first_touch, last_touch, linear, position_based, markov]``,
        or None when the client has no subscriptions or its events no channel.
    """
    subscriptions = sc.table("subscriptions")
    if subscriptions is None:
        return None
    window = sc.base.config.attribution_window_days

    def credits() -> dict[str, Any]:
        touches = attribution_touches(sc, window_days=window)
        if touches is None:
            return {"attribution": None}
        frame = acquisition.attribution(
            touches,
            subscriptions,
            sc.table("accounts"),
            period=sc.period,
            window_days=window,
            order_by="seq",
        )
        return {"attribution": frame.to_dicts()}

    def compute() -> pl.DataFrame | None:
        rows = _kept(sc, "attribution", credits)["attribution"]
        return None if rows is None else pl.DataFrame(rows, schema=_ATTRIBUTION_SCHEMA)

    return sc.memo("attribution", compute)


def cac_by_model(sc: Scope, credits: pl.DataFrame) -> pl.DataFrame | None:
    """:func:`journeylib.metrics.acquisition.cac_by_model` of the client's marketing in the period.

    Marketing spend is by month and channel, not by account: it is the whole
    client's whatever the filters (the panel shows it without filters only).
    None without a marketing table.
    """
    marketing = sc.table("marketing")
    if marketing is None:
        return None
    return acquisition.cac_by_model(marketing, credits, period=sc.period)


# ---------------------------------------------------------------- the journey map
def touchpoint_reach(sc: Scope) -> pl.DataFrame:
    """Every touchpoint of the template with its events and accounts in the period.

    What the journey map's touchpoint lane draws
    (``analysis``'s ``touchpoint_frame``: ``touchpoint_inventory`` over the
    period's stream rows), from the ``account_touchpoints`` mart, plus the
    anonymous rows of the stream when no filter is set (a filter keeps
    accounts only; the store keeps anonymous rows in the stream's last
    bucket, so their scan skips the others).

    Returns:
        ``pl.DataFrame[stage, touchpoint, label, kind, events, accounts]`` in
        template order.
    """
    lo, hi = sc.period
    known = (
        sc.mart("account_touchpoints")
        .filter(pl.col("month") >= lo, pl.col("month") <= hi)
        .group_by("touchpoint")
        .agg(
            pl.col("events").sum().cast(pl.Int64).alias("events"),
            pl.col("account_id").drop_nulls().n_unique().cast(pl.Int64).alias("accounts"),
        )
    )
    queries = [known]
    if sc.ids is None:
        anonymous = (
            filter_period(to_lazy(sc.lazy(STREAM)), "timestamp", sc.period)
            .to_native()
            .filter(pl.col("account_id").is_null(), pl.col("touchpoint").is_not_null())
            .group_by("touchpoint")
            .agg(pl.len().cast(pl.Int64).alias("events"))
        )
        queries.append(anonymous)
    found = pl.collect_all(queries)
    by_tp = {r["touchpoint"]: [r["events"], r["accounts"]] for r in found[0].iter_rows(named=True)}
    if len(found) > 1:
        for tp, n in found[1].iter_rows():
            by_tp.setdefault(tp, [0, 0])[0] += n
    rows = [
        (stage.id, tp.id, tp.display, tp.kind, *by_tp.get(tp.id, [0, 0]))
        for stage in sc.base.template.stages
        for tp in stage.touchpoints
    ]
    schema = {
        "stage": pl.String,
        "touchpoint": pl.String,
        "label": pl.String,
        "kind": pl.String,
        "events": pl.Int64,
        "accounts": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def map_stream(sc: Scope) -> pl.DataFrame:
    """The stream rows the journey map's stage and opportunity lanes read, and no others.

    Those lanes read, per account, its first event in each stage (the stage
    funnel, where accounts stall) and which touchpoints it met up to the
    period's end (with the touchpoint's stage). This gives one row per account
    and stage entered (:func:`stage_entries`) and one per account and
    touchpoint met by the period's end (from the ``account_touchpoints`` mart),
    dated at the account's entry into the touchpoint's stage: no later than
    its first event there, so it moves no stage entry. Only the accounts first
    seen in the period have rows: those lanes read no other.

    Returns:
        ``pl.DataFrame[account_id, anonymous_id, stage, touchpoint, timestamp]``
        (``anonymous_id`` null: the rows are accounts').
    """
    tpl = sc.base.template
    first_seen = pl.col("first_seen_at").dt.strftime("%Y-%m")
    accounts = sc.mart("accounts").filter(
        first_seen.is_between(pl.lit(sc.period[0]), pl.lit(sc.period[1]))
    )
    entries = stage_entries(accounts, tpl.stage_ids)
    stage_of = tpl.stage_of_touchpoint()
    met = (
        sc.mart("account_touchpoints")
        .filter(pl.col("month") <= sc.period[1])
        .select("account_id", "touchpoint")
        .unique()
        .with_columns(
            pl.col("touchpoint")
            .replace_strict(stage_of, default=None, return_dtype=pl.String)
            .alias("stage")
        )
        .join(entries, on=["account_id", "stage"], how="inner")
    )
    rows = pl.concat(
        [entries.with_columns(pl.lit(None, dtype=pl.String).alias("touchpoint")), met],
        how="diagonal",
    )
    return rows.select(
        "account_id",
        pl.lit(None, dtype=pl.String).alias("anonymous_id"),
        "stage",
        "touchpoint",
        "timestamp",
    ).collect()


def map_doc(sc: Scope) -> dict[str, Any]:
    """The part of the scope's metrics document the journey map reads (once per scope).

    The sections of :func:`journeylib.analysis.map_sections` as ``metrics_document`` computes
    them (:func:`journeylib.metrics.document.document_sections`), except the stage funnel,
    taken from :func:`stage_funnel` (the same rows), and the goals evaluated
    on it as the document evaluates them (a goal on a segment computes the
    sections of its metric on the segment). The anonymous visitors are those
    of the raw events when no filter is set, and 0 under a filter (it keeps
    account rows only), as in the document of the filtered client.
    """

    def compute() -> dict[str, Any]:
        client = sc.client()
        period = sc.period
        events = client.tables["events"]
        if sc.ids is not None or "anonymous_id" not in events.lazy().collect_schema().names():
            visitors = 0  # a filter keeps the accounts' rows only: no anonymous visitor is left
        else:
            visitors = stages.visitors(events, period=period)
        return document_sections(
            client,
            period,
            analysis.map_sections(client) - {"stages"},
            given={"stages": stage_funnel(sc).to_dicts(), "visitors": visitors},
        )

    return sc.memo("map_doc", lambda: _kept(sc, "map_doc", compute))


@functools.cache
def _code_version() -> str:
    """A digest of the package's source: a kept result is reused only by the code that made it."""
    return source_digest(package_source())


def _kept_path(sc: Scope, name: str, suffix: str) -> Path | None:
    """Where a result of the unfiltered scope is kept in the store, or None (not kept).

    The explorer opens on the unfiltered client, and at 10 M events its
    journey map costs seconds: that result is kept beside the store version it
    was computed from, keyed by the store, the period, client.yaml, the
    template, the language and the package's code, so the next opening reads
    it. A filtered scope, or a client in memory, always computes.
    """
    store = sc.source.store
    if store is None or sc.ids is not None:
        return None
    base = sc.base
    key = hashlib.sha256(
        json.dumps(
            [
                store.key,
                list(sc.period),
                base.config.model_dump(mode="json"),
                base.template.model_dump(mode="json"),
                current_language(),
                _code_version(),
            ],
            sort_keys=True,
        ).encode()
    ).hexdigest()[:24]
    return store.files.folder / "cache" / f"{name}-{key}{suffix}"


def _write_kept(path: Path, write: Callable[[Path], None]) -> None:
    """Write a kept result atomically; a store folder that cannot be written to only loses it."""
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        path.parent.mkdir(exist_ok=True)
        write(part)
        os.replace(part, path)
        name = path.name.split("-", 1)[0]
        for old in path.parent.glob(f"{name}-*"):  # one kept per kind: the latest
            if old != path:
                shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(True)
    except (OSError, TypeError, ValueError):  # read-only, or a value JSON cannot hold
        shutil.rmtree(part, ignore_errors=True) if part.is_dir() else part.unlink(missing_ok=True)


def _kept(sc: Scope, name: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``compute()``, a JSON document, kept for the unfiltered scope (see :func:`_kept_path`)."""
    path = _kept_path(sc, name, ".json")
    if path is None:
        return compute()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    result = compute()
    _write_kept(path, lambda p: p.write_text(json.dumps(result), encoding="utf-8"))
    return result


_MAP_FRAMES = ("stages", "touchpoints", "emotion", "texts", "kpis")


def _kept_map(sc: Scope, compute: Callable[[], analysis.JourneyMapData]) -> analysis.JourneyMapData:
    """The journey map's data kept for the unfiltered scope: one Arrow file a frame."""
    path = _kept_path(sc, "journey_map", "")
    if path is None:
        return compute()
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        frames = {
            f: pl.read_ipc(path / f"{f}.arrow") if f in meta["frames"] else None
            for f in _MAP_FRAMES
        }
        return analysis.JourneyMapData(**frames, persona=meta["persona"], title=meta["title"])
    except (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError):
        pass
    data = compute()

    def write(folder: Path) -> None:
        folder.mkdir()
        kept = [f for f in _MAP_FRAMES if getattr(data, f) is not None]
        for f in kept:
            getattr(data, f).write_ipc(folder / f"{f}.arrow")
        meta = {"frames": kept, "persona": data.persona, "title": data.title}
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    if not path.exists():
        _write_kept(path, write)
    return data


def journey_map(sc: Scope) -> analysis.JourneyMapData:
    """:func:`journeylib.analysis.journey_map_data` of the scope (all its accounts, its period).

    Given :func:`map_doc`, :func:`map_stream` and a client of the scope's
    small tables (accounts and surveys); its touchpoint lane is then
    :func:`touchpoint_reach` (the rows of :func:`map_stream` do not count
    events). The unfiltered client's map is kept in the store (:func:`_kept_path`):
    the explorer opens on it.
    """

    def compute() -> analysis.JourneyMapData:
        base = sc.base
        small = {n: sc.table(n) for n in ("accounts", "surveys") if n in base.tables}
        client = with_period(dataclasses.replace(base, tables=small), *sc.period)
        data = analysis.journey_map_data(client, map_doc(sc), map_stream(sc))
        return dataclasses.replace(data, touchpoints=touchpoint_reach(sc))

    return _kept_map(sc, compute)
