"""Paths: the sequences of items accounts go through, as the nodes and edges of a Sankey.

Definitions: ``shared/spec/analytics.md`` § 3 Paths (and its common rules).

* :func:`paths`: each account's first N items, or the N items from (or up to)
  the first occurrence of an anchor item;
* :func:`drop_off_paths`: where the accounts lost between two stages of the
  stage funnel went instead;
* :func:`paths_json`: a result in the ``journey paths --json`` shape.

The sequence work is written once on narwhals (window functions ordered by
time and ``seq``), so it runs on polars, DuckDB and Spark; only the small
``(step, item, next item)`` counts are collected. A polars stream already in
``account_id``, ``timestamp``, ``seq`` order (the store's, ``presorted=True``)
skips those sorts: the runs are found row against row (:func:`path_rows`).

Readings of the spec chosen here:

* *Derived anchors.* Items are raw events only. When ``start``/``end`` names
  an event (a touchpoint at touchpoint level) that no raw row of the data has
  but derived rows of the journey stream do (notably ``signed_up``, the
  account's sign-up from ``accounts.signup_at``), those derived rows join the
  account's sequence as items, so that a path can start "from sign-up". For a
  ``start`` anchor they come before the raw rows of the same instant (the
  path from sign-up includes what the account did at that instant); for an
  ``end`` anchor they keep the stream's order, after them. When the name is
  also a raw event, only the raw rows count.
* Whether an anchor exists is judged over every row of the data (any month,
  any account); an anchor that exists but not in the period gives no paths.
* Input without a ``source`` column (the raw events table) has only raw
  rows. Without a ``seq`` column, polars frames number their rows in frame
  order; other engines (no row order) break ties at one instant by item name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt  # noqa: F401  (used by the doctests)
import math
from collections.abc import Sequence
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.analysis._shares import stage_ids
from journeylib.errors import ConfigError, check_choice
from journeylib.frames import account_parts, added_up, collect, engine_of, to_lazy, whole
from journeylib.metrics.stages import stage_entries
from journeylib.months import filter_period, months_filter, period_index

__all__ = [
    "LEVELS",
    "OTHER",
    "PathsResult",
    "drop_off_paths",
    "path_rows",
    "paths",
    "paths_json",
    "readable_paths",
    "regroup",
    "sankey_min_accounts",
]

#: The item levels: raw event names, or the touchpoints they map to.
LEVELS: tuple[str, ...] = ("event", "touchpoint")
#: The node that gathers a step's items with fewer than ``min_accounts`` accounts.
OTHER = "(other)"

_NODES = {"step": pl.Int64, "item": pl.String, "accounts": pl.Int64, "dropped": pl.Int64}
_EDGES = {"step": pl.Int64, "source": pl.String, "target": pl.String, "accounts": pl.Int64}
_COUNTS = {"step": pl.Int64, "item": pl.String, "next": pl.String, "n": pl.Int64}
# Added to a derived start anchor's seq: it sorts before every raw row of its instant.
_FIRST = 2**62


@dataclasses.dataclass(frozen=True)
class PathsResult:
    """The paths of a set of accounts, as Sankey nodes and edges.

    Attributes:
        nodes: ``pl.DataFrame[step, item, accounts, dropped]``: accounts whose
            path has ``item`` at ``step`` (1-based), and those of them whose
            path ends there; sorted by step, accounts descending, item.
        edges: ``pl.DataFrame[step, source, target, accounts]``: accounts going
            from ``source`` at ``step`` to ``target`` at ``step + 1``; sorted by
            step, accounts descending, source, target.
        accounts: accounts with a path.
        level: ``event`` or ``touchpoint``.
        start: the start anchor, or None.
        end: the end anchor, or None.
        steps: N, the longest path.
    """

    nodes: pl.DataFrame
    edges: pl.DataFrame
    accounts: int
    level: str
    start: str | None
    end: str | None
    steps: int


def paths(
    stream: Any,
    *,
    period: tuple[str, str] | None,
    start: str | None = None,
    end: str | None = None,
    steps: int = 5,
    level: str = "event",
    min_accounts: int = 1,
    accounts: Sequence[str] | None = None,
    presorted: bool = False,
) -> PathsResult:
    """The paths accounts take: their first N items, or N items from or up to an anchor.

    An account's *sequence* is its raw events (``source == "events"``) with
    an account, dated in the period, in time order with ties by ``seq`` (file
    order); its *items* are their event names (``level="event"``) or the
    touchpoints they map to (``level="touchpoint"``, unmapped events skipped),
    consecutive repeats of one item collapsed into one. The path is:

    * without anchor: the first ``steps`` items;
    * ``start=E``: the ``steps`` items beginning at the first occurrence of E;
    * ``end=E``: the up-to-``steps`` items ending at the first occurrence of
      E, numbered so that E is step ``steps``;

    accounts without E have no path. A ``start``/``end`` that no raw row has
    but derived rows of the stream do (``signed_up``: the sign-up) adds those
    derived rows to the sequence (see the module's readings). Nodes with
    fewer than ``min_accounts`` accounts become the node ``(other)`` of their
    step, accounts and dropped summed; edges are renamed through that mapping
    at both ends and summed, never dropped, so each node's accounts − dropped
    equals its outgoing edges.

    Args:
        stream: the journey stream (``account_id``, ``timestamp``, ``event``,
            ``touchpoint``, ``source``, ``seq``) or the raw events table, as a
            native frame of any engine; or the store's stream in account parts
            (``Store.stream_parts``, :func:`journeylib.frames.account_parts`):
            with ``presorted``, paths are found part by part, in the memory
            of one part, and their counts added.
        period: closed range of calendar months (None: every row).
        start: the item paths begin with (an event, or a touchpoint id at touchpoint level).
        end: the item paths end with; not together with ``start``.
        steps: N, the longest path (at least 1).
        level: ``event`` or ``touchpoint``.
        min_accounts: K, the fewest accounts a node of its own has (at least 1).
        accounts: only these account ids (default: every account).
        presorted: the input's rows are already in ``account_id``,
            ``timestamp``, ``seq`` order (the store's stream read in order:
            ``journeylib.store``); on polars the runs are found without
            sorting: the rows are cut to each account's path
            (:func:`path_rows`), which are counted as they come. Other
            engines ignore it. The same result.

    Returns:
        A :class:`PathsResult`.

    Raises:
        ConfigError: a bad level, steps or min_accounts; start and end
            together; an anchor in no row of the data; missing columns.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> events = pl.DataFrame({"account_id": ["a", "a", "a", "b"],
        ...     "timestamp": [t(1), t(2), t(3), t(1)], "event": ["view", "view", "buy", "view"]})
        >>> r = paths(events, period=("2024-01", "2024-01"))
        >>> r.nodes.rows()
        [(1, 'view', 2, 1), (2, 'buy', 1, 1)]
        >>> r.edges.rows()
        [(1, 'view', 'buy', 1)]
        >>> paths(events, period=None, end="buy", steps=3).nodes.rows()
        [(2, 'view', 1, 0), (3, 'buy', 1, 1)]
    """
    _check_options(level=level, steps=steps, min_accounts=min_accounts)
    if start is not None and end is not None:
        raise ConfigError(
            "start and end given together",
            where="start, end",
            expected="at most one of them",
            found=f"start={start!r}, end={end!r}",
            fix="give either a start or an end",
        )
    parts = account_parts(stream)
    stream = whole(stream)
    lf, item, raw = _prepared(stream, level)
    anchor = start if start is not None else end
    joins = False
    if anchor is not None:
        joins = _anchor_rows_join(lf, item, raw, anchor, where="start" if start else "end")
    if presorted and all(isinstance(p, pl.DataFrame | pl.LazyFrame) for p in parts):
        # each account's path, in order: its rows are counted as they come, part by part
        if len(parts) == 1:
            parts = [lf.to_native()]
        else:
            parts = [_prepared(part, level)[0].to_native() for part in parts]
        counts = []
        for part in parts:
            kept = _rows_in_order(
                part,
                item,
                ["account_id", item],
                period=period,
                accounts=accounts,
                start=start,
                end=end,
                steps=steps,
                derived=joins,
            )
            if kept is None:
                break
            counts.append(_step_counts(kept, item))
        else:
            return _result(
                added_up(counts, ["step", "item", "next"]),
                level=level,
                start=start,
                end=end,
                steps=steps,
                min_accounts=min_accounts,
            )
    rows, seq = _rows(
        lf,
        item,
        raw,
        period=period,
        accounts=accounts,
        derived=anchor if joins else None,
        derived_first=start is not None,
    )
    if anchor is None:
        counts = _first_items(rows, steps, seq=seq)
    else:
        counts = _anchored(rows, anchor, steps, end=end is not None, seq=seq)
    return _result(
        counts, level=level, start=start, end=end, steps=steps, min_accounts=min_accounts
    )


def drop_off_paths(
    stream: Any,
    accounts: Any,
    *,
    period: tuple[str, str],
    stages: Sequence[Any],
    stage_from: str,
    stage_to: str,
    steps: int = 4,
    level: str = "touchpoint",
    min_accounts: int = 1,
) -> PathsResult:
    """Where the accounts lost between two stages of the stage funnel went instead.

    The accounts and stage entries are those of the stage funnel
    (:func:`journeylib.metrics.stages.stage_entries`: accounts first seen in
    the period, an account entering a stage at its first journey event mapped
    to it, up to the period's end). The *lost* accounts are those the funnel
    counts as reaching ``stage_from`` but not ``stage_to``: their furthest
    stage (in template order) is ``stage_from`` or a stage after it and
    before ``stage_to``, so there are ``reached(from) − reached(to)`` of them.
    Each one's path starts at its *entry*: the earliest of its entries into
    ``stage_from`` and the stages between it and ``stage_to``. The path is its
    first ``steps`` items (as in :func:`paths`: raw events of the period, at
    ``level``, repeats collapsed) dated at or after that instant; a lost
    account with no such item has no path.

    Args:
        stream: the journey stream of any engine (``account_id``,
            ``timestamp``, ``event``, ``touchpoint``, ``stage``, ``source``, ``seq``).
        accounts: accounts table (``account_id``, ``first_seen_at``), same engine.
        period: closed range of calendar months.
        stages: ``(id, label)`` pairs (or bare ids) in template order.
        stage_from: the stage the accounts reached.
        stage_to: a later stage they did not reach.
        steps: N, the longest path.
        level: ``touchpoint`` (default) or ``event``.
        min_accounts: K, as in :func:`paths`.

    Returns:
        A :class:`PathsResult` (``start`` and ``end`` None).

    Raises:
        ConfigError: a stage not in ``stages``, ``stage_to`` not after
            ``stage_from``, or a bad option.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a", "b"], "first_seen_at": [t(1), t(1)]})
        >>> stream = pl.DataFrame({"account_id": ["a", "a", "a", "b", "b"],
        ...     "timestamp": [t(1), t(2), t(3), t(1), t(2)], "seq": [0, 1, 2, 3, 4],
        ...     "source": "events", "event": ["visit", "trial", "help", "visit", "buy"],
        ...     "touchpoint": ["site", "trial", "docs", "site", "checkout"],
        ...     "stage": ["aware", "consider", "consider", "aware", "decide"]})
        >>> r = drop_off_paths(stream, accounts, period=("2024-01", "2024-01"),
        ...     stages=["aware", "consider", "decide"], stage_from="consider", stage_to="decide")
        >>> r.nodes.rows(), r.edges.rows()
        ([(1, 'trial', 1, 0), (2, 'docs', 1, 1)], [(1, 'trial', 'docs', 1)])
    """
    _check_options(level=level, steps=steps, min_accounts=min_accounts)
    ids = stage_ids(stages)
    for where, sid in (("stage_from", stage_from), ("stage_to", stage_to)):
        check_choice(
            "stage", sid, ids, where=where, error=ConfigError, fix="name a stage of the template"
        )
    i_from, i_to = ids.index(stage_from) + 1, ids.index(stage_to) + 1
    if i_to <= i_from:
        raise ConfigError(
            "stage_to is not after stage_from",
            where="stage_to",
            expected=f"a stage after {stage_from!r} in the template's order",
            found=repr(stage_to),
            fix="pass the later stage as stage_to",
        )
    entries = stage_entries(stream, accounts, period=period, stages=stages)
    lost = (
        entries.group_by("account_id")
        .agg(pl.col("stage_index").max().alias("furthest"))
        .filter(pl.col("furthest") >= i_from, pl.col("furthest") < i_to)
    )["account_id"].to_list()
    lf, item, raw = _prepared(stream, level)
    if not lost:
        return _result(
            pl.DataFrame(schema=_COUNTS),
            level=level,
            start=None,
            end=None,
            steps=steps,
            min_accounts=min_accounts,
        )
    between = ids[i_from - 1 : i_to - 1]
    _, last = period_index(period)
    # The entry instant is computed next to the items (one engine, no join with a polars
    # frame): the earliest row mapped to a stage of `between`, up to the period's end, is
    # the earliest stage_entries() entry into those stages by their definition.
    lf = lf.filter(nw.col("account_id").is_in(lost), months_filter(lf, "timestamp", last=last))
    entered = (
        nw.when(nw.col("stage").is_in(between)).then(nw.col("timestamp")).min().over("account_id")
    )
    lf = lf.with_columns(entered.alias("_entered"))
    lf = lf.filter(nw.col("timestamp") >= nw.col("_entered"))
    rows, seq = _rows(
        lf, item, raw, period=period, accounts=None, derived=None, derived_first=False
    )
    counts = _first_items(rows, steps, seq=seq)
    return _result(
        counts, level=level, start=None, end=None, steps=steps, min_accounts=min_accounts
    )


def regroup(result: PathsResult, min_accounts: int) -> PathsResult:
    """The same paths with nodes of fewer than ``min_accounts`` accounts merged into ``(other)``.

    The rule of ``min_accounts`` in :func:`paths` applied to a computed result
    (edges renamed at both ends and summed, never dropped): regrouping a
    result of ``min_accounts=1`` gives what ``paths`` gives with the larger
    value, without reading the events again.

    Examples:
        >>> nodes = pl.DataFrame({"step": [1, 1, 2], "item": ["a", "b", "x"],
        ...     "accounts": [5, 1, 6], "dropped": [0, 0, 6]})
        >>> edges = pl.DataFrame({"step": [1, 1], "source": ["a", "b"], "target": ["x", "x"],
        ...     "accounts": [5, 1]})
        >>> r = PathsResult(nodes=nodes, edges=edges, accounts=6, level="event", start=None,
        ...                 end=None, steps=2)
        >>> regroup(r, 2).nodes.rows()
        [(1, 'a', 5, 0), (1, '(other)', 1, 0), (2, 'x', 6, 6)]
    """
    counts = pl.concat(
        [
            result.edges.select(
                "step",
                pl.col("source").alias("item"),
                pl.col("target").alias("next"),
                pl.col("accounts").alias("n"),
            ),
            result.nodes.filter(pl.col("dropped") > 0).select(
                "step",
                "item",
                pl.lit(None, dtype=pl.String).alias("next"),
                pl.col("dropped").alias("n"),
            ),
        ],
        how="vertical_relaxed",
    )
    nodes, edges = _nodes_edges(counts, min_accounts)
    return dataclasses.replace(result, nodes=nodes, edges=edges)


def readable_paths(result: PathsResult) -> PathsResult:
    """The paths regrouped for a Sankey a reader can follow (:func:`sankey_min_accounts` of its accounts).

    Items taken by fewer than 3 % of the paths (and at least 5 accounts) join
    ``(other)`` of their step; the report's appendix says so.
    """
    return regroup(result, sankey_min_accounts(result.accounts))


def sankey_min_accounts(accounts: int, *, share: float = 0.03, floor: int = 5) -> int:
    """The ``min_accounts`` that keeps a Sankey of ``accounts`` paths readable.

    Items taken by fewer than ``share`` of the accounts (and never fewer than
    ``floor``) join ``(other)`` of their step: a column then shows a dozen
    nodes or so, whatever the client's size. The notebooks and the report use
    it; ``journey paths`` keeps every item unless told otherwise.

    Examples:
        >>> sankey_min_accounts(831), sankey_min_accounts(40), sankey_min_accounts(200_000)
        (25, 5, 6000)
    """
    return max(floor, math.ceil(accounts * share))


def paths_json(result: PathsResult) -> dict[str, Any]:
    """A :class:`PathsResult` in the ``journey paths --json`` shape (plain JSON values).

    Returns:
        ``{"level", "start", "end", "steps", "accounts", "nodes": [{step,
        item, accounts, dropped}], "edges": [{step, source, target,
        accounts}]}``, the lists in the result's (the spec's) order.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> events = pl.DataFrame({"account_id": ["a", "a", "b"],
        ...     "timestamp": [t(1), t(2), t(1)], "event": ["view", "buy", "view"]})
        >>> paths_json(paths(events, period=None, steps=2))  # doctest: +NORMALIZE_WHITESPACE
        {'level': 'event', 'start': None, 'end': None, 'steps': 2, 'accounts': 2,
         'nodes': [{'step': 1, 'item': 'view', 'accounts': 2, 'dropped': 1},
                   {'step': 2, 'item': 'buy', 'accounts': 1, 'dropped': 1}],
         'edges': [{'step': 1, 'source': 'view', 'target': 'buy', 'accounts': 1}]}
    """
    return {
        "level": result.level,
        "start": result.start,
        "end": result.end,
        "steps": result.steps,
        "accounts": result.accounts,
        "nodes": result.nodes.to_dicts(),
        "edges": result.edges.to_dicts(),
    }


def path_rows(
    stream: pl.DataFrame | pl.LazyFrame,
    *,
    period: tuple[str, str] | None,
    start: str | None = None,
    end: str | None = None,
    steps: int = 5,
    level: str = "event",
    accounts: Sequence[str] | None = None,
    derived: bool = False,
) -> pl.DataFrame | None:
    """The rows of a sorted polars stream that :func:`paths` needs, and no others.

    The stream's rows are in ``account_id``, ``timestamp``, ``seq`` order
    (the store's stream read in order), the order of a path's items, so the
    runs of one item are found row against row, without a sort: a row begins
    a run when it is its account's first or its item differs from the row
    before. Only the rows that begin a run on an account's path are kept: its
    first ``steps`` runs, or the ``steps`` runs from (up to) the run of its
    first ``start`` (``end``). Fed these rows (``period=None``, no
    ``accounts``), :func:`paths` gives what it gives on the whole stream, on
    at most ``steps`` rows per account (``paths(..., presorted=True)`` counts
    them directly).

    ``derived`` says that the anchor's derived rows join the sequence (no raw
    row has it: ``paths``' reading). Placed in the stream's order they need
    nothing more for an end; for a start the single derived row of each
    account (``signed_up``) goes before the runs from its instant. A derived
    start some account has more than once in the period is not reduced: None
    (run :func:`paths` on the stream).

    Args:
        stream: the journey stream (``account_id``, ``timestamp``, ``event``
            or ``touchpoint``, ``seq``, and ``source`` when it has one), sorted.
        period: closed range of calendar months (None: every row).
        start: the anchor paths begin with, or None.
        end: the anchor paths end with, or None.
        steps: N, the longest path.
        level: ``event`` or ``touchpoint``.
        accounts: only these account ids (default: every account).
        derived: the anchor's derived rows join the sequence.

    Returns:
        ``[account_id, timestamp, <event or touchpoint>, source, seq]``
        (``source`` when the stream has one) in path order, or None (above).

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> s = pl.DataFrame({"account_id": ["a"] * 5 + ["b"] * 2, "seq": range(7),
        ...     "timestamp": [t(d) for d in (1, 2, 3, 4, 5, 1, 2)],
        ...     "event": ["x", "y", "y", "z", "x", "y", "x"]})
        >>> path_rows(s, period=None, start="y", steps=2)["event"].to_list()
        ['y', 'z', 'y', 'x']
    """
    item = "event" if level == "event" else "touchpoint"
    if "seq" not in stream.collect_schema().names():
        stream = stream.with_row_index("seq")  # frame order
    cols = ["account_id", "timestamp", item, "source", "seq"]
    cols = [c for c in cols if c in stream.collect_schema().names()]
    kept = _rows_in_order(
        stream,
        item,
        cols,
        period=period,
        accounts=accounts,
        start=start,
        end=end,
        steps=steps,
        derived=derived,
    )
    return None if kept is None else kept.select(cols)


def _rows_in_order(
    stream: pl.DataFrame | pl.LazyFrame,
    item: str,
    cols: list[str],
    *,
    period: tuple[str, str] | None,
    accounts: Sequence[str] | None,
    start: str | None,
    end: str | None,
    steps: int,
    derived: bool,
) -> pl.DataFrame | None:
    """:func:`path_rows`: the columns ``cols``, ``_g`` (account number) and ``_step``, in path order."""
    names = stream.collect_schema().names()
    anchor = start if start is not None else end
    acc, it, ts = pl.col("account_id"), pl.col(item), pl.col("timestamp")
    conds = [acc.is_not_null()]
    if "source" in names:
        raw = pl.col("source") == "events"
        conds.append(raw | (it == anchor) if derived and anchor is not None else raw)
    if item == "touchpoint":
        conds.append(it.is_not_null())
    if accounts is not None:
        conds.append(acc.is_in(list(accounts)))
    rows = filter_period(to_lazy(stream), "timestamp", period).to_native().filter(*conds)
    front = derived and start is not None and "source" in names
    read = list(dict.fromkeys([*cols, "account_id", item, *(["timestamp"] if front else [])]))
    # accounts numbered in order: the comparisons and fills below are on integers
    g = pl.col("_g")
    rows = rows.select(read).with_columns(
        (acc != acc.shift(1)).fill_null(True).cum_sum().alias("_g")
    )
    out = [*cols, "_g", "_step"]
    pos = pl.col("_pos")
    if anchor is None:
        runs = _run_starts(rows, item, 1).filter(pos <= steps)
        return runs.with_columns(pos.alias("_step")).select(out).collect()
    is_a = (it == anchor).fill_null(False)
    if front:
        # The rows from the instant of the account's first derived anchor row (the rows
        # before it in the stream at that instant go after it on the path): the derived
        # rows, then the runs of the raw rows numbered from 2.
        mark = pl.when(is_a)
        after = mark.then(g).forward_fill() == g
        at_instant = (mark.then(g).backward_fill() == g) & (mark.then(ts).backward_fill() == ts)
        kept = rows.filter((after | at_instant).fill_null(False))
        anchors = kept.filter(is_a).with_columns(pl.lit(1, pl.Int64).alias("_step"))
        runs = _run_starts(kept.filter(~is_a), item, 2).filter(pos <= steps)
        both = pl.concat([anchors.select(out), runs.with_columns(pos.alias("_step")).select(out)])
        found = both.collect()
        if found.filter(pl.col("_step") == 1)["_g"].is_duplicated().any():
            return None  # several derived anchors of an account split its raw runs
        return found.sort("_g", "_step")
    runs = _run_starts(rows, item, 1)
    # the first anchor row of each account (every later one has an anchor before it)
    runs = runs.with_columns((is_a & ~_seen_before(is_a)).alias("_first"))
    first = pl.col("_first")
    if start is not None:
        at = pl.when(first).then(pos).forward_fill()
        kept = runs.filter(_seen_before(first) | first, pos < at + steps)
        step = pos - at + 1
    else:
        at = pl.when(first).then(pos).backward_fill()
        ahead = pl.when(first).then(g).backward_fill() == g  # the account's first anchor
        kept = runs.filter(ahead, ~_seen_before(first), pos > at - steps)
        step = pos - at + steps
    return kept.with_columns(step.alias("_step")).select(out).collect()


def _seen_before(flag: pl.Expr) -> pl.Expr:
    """Whether an earlier row of the same account (``_g``, rows in account order) has ``flag``."""
    g = pl.col("_g")
    return (pl.when(flag).then(g).forward_fill().shift(1) == g).fill_null(False)


def _run_starts(rows: pl.LazyFrame, item: str, first: int) -> pl.LazyFrame:
    """The first row of every run of one item of rows in account (``_g``), time and seq order.

    ``_pos`` numbers the runs of each account from ``first``: a row starts a
    run when it is its account's first or its item differs from the row
    before (a null item always starts one, as in :func:`_runs`).
    """
    g, it = pl.col("_g"), pl.col(item)
    new = (g != g.shift(1)).fill_null(True)
    idx = pl.int_range(pl.len(), dtype=pl.Int64)
    return (
        rows.with_columns(
            new.alias("_new"), (new | (it.shift(1) != it).fill_null(True)).alias("_run")
        )
        .filter(pl.col("_run"))
        .with_columns(
            (idx - pl.when(pl.col("_new")).then(idx).forward_fill() + first).alias("_pos")
        )
    )


def _step_counts(kept: pl.DataFrame, item: str) -> pl.DataFrame:
    """``(step, item, next, n)`` of rows in path order with their ``_step``: a path's rows in a row."""
    g = pl.col("_g")
    nxt = pl.when(g.shift(-1) == g).then(pl.col(item).shift(-1))
    return (
        kept.select(
            pl.col("_step").alias("step"),
            pl.col(item).cast(pl.String).alias("item"),
            nxt.cast(pl.String).alias("next"),
        )
        .group_by("step", "item", "next")
        .agg(pl.len().alias("n"))
        .cast(_COUNTS)
        .select(list(_COUNTS))
    )


# ---------------------------------------------------------------- options and input
def _check_options(*, level: str, steps: int, min_accounts: int) -> None:
    check_choice(
        "paths level",
        level,
        LEVELS,
        where="level",
        error=ConfigError,
        fix="pass level='event' or level='touchpoint'",
    )
    for name, value in (("steps", steps), ("min_accounts", min_accounts)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(
                f"bad {name}",
                where=name,
                expected="a whole number of at least 1",
                found=repr(value),
                fix=f"pass {name}=5, say",
            )


def _prepared(stream: Any, level: str) -> tuple[nw.LazyFrame[Any], str, nw.Expr | None]:
    """The input as a LazyFrame with a ``seq`` where one can be made, its item column, raw rows."""
    item = "event" if level == "event" else "touchpoint"
    native = stream
    names = list(to_lazy(native).collect_schema().names())
    missing = [c for c in ("account_id", "timestamp", item) if c not in names]
    if missing:
        fix = f"add the column(s) {', '.join(missing)}"
        if item == "touchpoint" and "touchpoint" in missing:
            fix = "pass the journey stream (journeylib.stream.journey_events), which maps events to touchpoints"
        raise ConfigError(
            "missing columns for paths",
            where="stream",
            expected=f"columns account_id, timestamp, {item}",
            found=f"columns {', '.join(names)}",
            fix=fix,
        )
    if "seq" not in names and engine_of(native) == "polars":
        native = native.with_row_index("seq")  # polars keeps the frame's row order
    lf = to_lazy(native)
    raw = nw.col("source") == "events" if "source" in names else None
    return lf, item, raw


def _anchor_rows_join(
    lf: nw.LazyFrame[Any], item: str, raw: nw.Expr | None, anchor: str, *, where: str
) -> bool:
    """Whether the derived rows of ``anchor`` join the sequence; a ConfigError when no row has it."""
    hits = lf.filter(nw.col(item) == anchor)
    counted = [nw.len().alias("n")]
    if raw is not None:
        counted.append(raw.cast(nw.Int8()).max().alias("raw"))
    found = collect(hits.select(*counted))
    n = int(found["n"][0] or 0) if found.height else 0
    if n == 0:
        kind = "event" if item == "event" else "touchpoint"
        raise ConfigError(
            f"unknown {kind}",
            where=where,
            expected=f"{'an event' if kind == 'event' else 'a touchpoint id'} that appears in the data",
            found=repr(anchor),
            fix=f"name {'an event' if kind == 'event' else 'a touchpoint'} of the data ({_some(lf, item)})",
        )
    # every row is raw without a source column
    return raw is not None and not found["raw"][0]


def _some(lf: nw.LazyFrame[Any], item: str, n: int = 6) -> str:
    """A few of the data's most frequent items, for an error message."""
    top = collect(lf.filter(~nw.col(item).is_null()).group_by(item).agg(nw.len().alias("n"))).sort(
        ["n", item], descending=[True, False]
    )
    names = top[item].head(n).to_list()
    more = ", …" if top.height > n else ""
    return "e.g. " + ", ".join(names) + more if names else "the data has none"


def _rows(
    lf: nw.LazyFrame[Any],
    item: str,
    raw: nw.Expr | None,
    *,
    period: tuple[str, str] | None,
    accounts: Sequence[str] | None,
    derived: str | None,
    derived_first: bool,
) -> tuple[nw.LazyFrame[Any], bool]:
    """The rows of the sequences, ``[account_id, timestamp, item, _o]``, and whether there is a seq.

    Rows are ordered by (timestamp, _o): ``_o`` is ``seq`` (file order),
    lowered for a derived start anchor so it comes first at its instant;
    without a seq it is -1 and ties go by item (:func:`_runs`).
    """
    conds = [~nw.col("account_id").is_null()]
    if period is not None:
        conds.append(months_filter(lf, "timestamp", *period_index(period)))
    if accounts is not None:
        conds.append(nw.col("account_id").is_in(list(accounts)))
    if raw is not None:
        conds.append(raw | (nw.col(item) == derived) if derived is not None else raw)
    if item == "touchpoint":
        conds.append(~nw.col(item).is_null())
    lf = lf.filter(*conds)
    has_seq = "seq" in lf.collect_schema().names()
    order = nw.col("seq").cast(nw.Int64()) if has_seq else nw.lit(-1, dtype=nw.Int64())
    if derived is not None and derived_first and raw is not None:
        order = nw.when(raw).then(order).otherwise(order - _FIRST)
    rows = lf.select(
        "account_id",
        "timestamp",
        nw.col(item).cast(nw.String()).alias("item"),
        order.alias("_o"),
    )
    return rows, has_seq


# ---------------------------------------------------------------- the sequence work
def _runs(rows: nw.LazyFrame[Any], *, seq: bool, reverse: bool = False) -> nw.LazyFrame[Any]:
    """The first row of every run of one item, numbered ``_pos`` (1 = first; with reverse, 1 = last).

    Rows are in (timestamp, _o) order; without a ``seq`` (``seq`` False) ties
    at one instant go by item name, so the order is total.
    """
    order = ["timestamp", "_o"] if seq else ["timestamp", "_o", "item"]
    prev = nw.col("item").shift(1).over("account_id", order_by=order)
    # (one window: a first row's null comparison is filled, not tested with is_null again)
    starts = rows.filter((prev != nw.col("item")).fill_null(True))
    # numbered after the filter: the second window sorts only the runs' first rows
    pos = nw.col("_o").cum_count(reverse=reverse).over("account_id", order_by=order)
    return starts.with_columns(pos.cast(nw.Int64()).alias("_pos"))


def _counts(kept: nw.LazyFrame[Any], steps: int) -> pl.DataFrame:
    """``(step, item, next, n)``: accounts per step, item and the item of the next step."""
    nxt = nw.col("item").shift(-1).over("account_id", order_by="step")
    out = (
        kept.select("account_id", "step", "item")
        .with_columns(nw.when(nw.col("step") < steps).then(nxt).alias("next"))
        .group_by("step", "item", "next")
        .agg(nw.len().alias("n"))
    )
    return collect(out).cast(_COUNTS).select(list(_COUNTS))


def _first_items(rows: nw.LazyFrame[Any], steps: int, *, seq: bool) -> pl.DataFrame:
    """Counts of every account's first ``steps`` items."""
    runs = _runs(rows, seq=seq).filter(nw.col("_pos") <= steps)
    return _counts(runs.with_columns(nw.col("_pos").alias("step")), steps)


def _anchored(
    rows: nw.LazyFrame[Any], anchor: str, steps: int, *, end: bool, seq: bool
) -> pl.DataFrame:
    """Counts of the ``steps`` items from (or, with ``end``, up to) each account's first ``anchor``."""
    # The first anchor row of every account: its instant, then its place at that instant.
    hits = rows.filter(nw.col("item") == anchor).select("account_id", "timestamp", "_o")
    first_at = hits.group_by("account_id").agg(nw.col("timestamp").min().alias("_at"))
    first = (
        hits.join(first_at, on="account_id", how="inner")
        .filter(nw.col("timestamp") == nw.col("_at"))
        .group_by("account_id")
        .agg(nw.col("_at").min(), nw.col("_o").min().alias("_ao"))
    )
    ts, at, o, ao = nw.col("timestamp"), nw.col("_at"), nw.col("_o"), nw.col("_ao")
    rows = rows.join(first, on="account_id", how="inner")
    # The rows from (up to) the anchor row: the anchor row always begins a run of its item,
    # since no earlier row has it, so cutting the rows before (after) it changes no run.
    if end:
        rows = rows.filter((ts < at) | ((ts == at) & (o <= ao)))
        runs = _runs(rows.drop("_at", "_ao"), seq=seq, reverse=True).filter(nw.col("_pos") <= steps)
        step = steps + 1 - nw.col("_pos")
    else:
        rows = rows.filter((ts > at) | ((ts == at) & (o >= ao)))
        runs = _runs(rows.drop("_at", "_ao"), seq=seq).filter(nw.col("_pos") <= steps)
        step = nw.col("_pos")
    return _counts(runs.with_columns(step.alias("step")), steps)


# ---------------------------------------------------------------- nodes and edges
def _result(
    counts: pl.DataFrame,
    *,
    level: str,
    start: str | None,
    end: str | None,
    steps: int,
    min_accounts: int,
) -> PathsResult:
    nodes, edges = _nodes_edges(counts, min_accounts)
    return PathsResult(
        nodes=nodes,
        edges=edges,
        accounts=int(nodes["dropped"].sum()),
        level=level,
        start=start,
        end=end,
        steps=steps,
    )


def _nodes_edges(counts: pl.DataFrame, min_accounts: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Nodes and edges from the ``(step, item, next, n)`` counts, small nodes merged into (other).

    Examples:
        >>> c = pl.DataFrame({"step": [1, 1, 1, 2], "item": ["a", "b", "c", "x"],
        ...     "next": ["x", "x", None, None], "n": [5, 1, 1, 6]})
        >>> nodes, edges = _nodes_edges(c, 2)
        >>> nodes.rows(), edges.rows()
        ([(1, 'a', 5, 0), (1, '(other)', 2, 1), (2, 'x', 6, 6)], [(1, 'a', 'x', 5), (1, '(other)', 'x', 1)])
    """
    nodes = counts.group_by("step", "item").agg(
        pl.col("n").sum().alias("accounts"),
        pl.col("n").filter(pl.col("next").is_null()).sum().alias("dropped"),
    )
    # the next step's nodes come from their own rows: an account at step k+1 came from step k
    small = nodes.filter(pl.col("accounts") < min_accounts).select("step", "item")
    other = pl.lit(OTHER, dtype=pl.String)

    def renamed(frame: pl.DataFrame, step: pl.Expr, col: str) -> pl.DataFrame:
        flagged = small.with_columns(pl.lit(True).alias("_small"))
        keyed = frame.with_columns(step.alias("_k"))
        return (
            keyed.join(flagged.rename({"step": "_k", "item": col}), on=["_k", col], how="left")
            .with_columns(pl.when(pl.col("_small")).then(other).otherwise(pl.col(col)).alias(col))
            .drop("_k", "_small")
        )

    nodes = (
        renamed(nodes, pl.col("step"), "item")
        .group_by("step", "item")
        .agg(pl.col("accounts").sum(), pl.col("dropped").sum())
    )
    edges = counts.filter(pl.col("next").is_not_null()).select(
        "step", pl.col("item").alias("source"), pl.col("next").alias("target"), pl.col("n")
    )
    edges = renamed(edges, pl.col("step"), "source")
    edges = renamed(edges, pl.col("step") + 1, "target")
    edges = edges.group_by("step", "source", "target").agg(pl.col("n").sum().alias("accounts"))
    nodes = (
        nodes.cast(_NODES)
        .select(list(_NODES))
        .sort(["step", "accounts", "item"], descending=[False, True, False])
    )
    edges = (
        edges.cast(_EDGES)
        .select(list(_EDGES))
        .sort(["step", "accounts", "source", "target"], descending=[False, True, False, False])
    )
    return nodes, edges
