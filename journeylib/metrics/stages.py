"""Journey stages and touchpoints: the stage funnel, where accounts stall, transitions.

Definitions: ``shared/spec/metrics.md`` § Journey stages and touchpoints. Every
function takes the unified journey event stream (``journeylib.stream``) as a
native frame of any narwhals-supported engine (polars eager or lazy, DuckDB,
PySpark), computes lazily and collects only small per-account or per-stage
results to polars; undefined values (zero denominators, nothing to take a
median of) are ``None``.

Stages are passed as a list of ``(id, label)`` pairs in template order (a bare
id means label = id); the stream's ``stage`` column holds the stage id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import US_PER_DAY, collect, to_lazy
from journeylib.metrics._keys import (
    account_key,
    account_month_key,
    account_part,
    keyed,
    month_part,
)
from journeylib.metrics._memo import keeping, once
from journeylib.months import (
    filter_period,
    in_period,
    month_from_index,
    month_start,
    months_filter,
    period_index,
)

__all__ = [
    "stage_entries",
    "stage_funnel",
    "stall_summary",
    "stalled_accounts",
    "touchpoint_transitions",
    "visitors",
]

_FUNNEL_SCHEMA = {
    "id": pl.String,
    "label": pl.String,
    "reached": pl.Int64,
    "conversion_from_previous": pl.Float64,
    "median_days_from_previous": pl.Float64,
}


# ---------------------------------------------------------------- private helpers
def _stage_pairs(stages: Sequence[Any]) -> list[tuple[str, str]]:
    """``[(id, label)]`` from pairs or bare ids (label = id)."""
    out: list[tuple[str, str]] = []
    for s in stages:
        if isinstance(s, str):
            out.append((s, s))
        else:
            sid, label = s
            out.append((str(sid), str(label) if label is not None else str(sid)))
    ids = [s for s, _ in out]
    if len(set(ids)) != len(ids):
        raise ValueError(f"stage ids must be unique, found {ids}")
    return out


def _period_entries(
    stream: Any,
    accounts: Any,
    *,
    period: tuple[str, str],
    stages: Sequence[Any],
    by: str | None = None,
) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """Per account × stage its entry instant, for the accounts first seen in the period.

    Returns a polars frame ``[account_id, (by), stage, stage_index, entered_at]``
    (one row per stage the account entered; ``stage_index`` 0-based in template
    order) and the normalised stage pairs. The stage funnel, the stalled
    accounts and the stage entries of one stream and accounts table share it
    (``_memo.once``: in the metrics document, and in a notebook's kernel).
    """
    pairs = _stage_pairs(stages)
    return once(
        ("period_entries", tuple(period), tuple(pairs), by),
        (stream, accounts),
        lambda: (_compute_period_entries(stream, accounts, period, pairs, by), pairs),
    )


def remember_period_entries(
    stream: Any,
    accounts: pl.DataFrame,
    entered: pl.LazyFrame,
    *,
    period: tuple[str, str],
    stages: Sequence[Any],
) -> bool:
    """Hand the kept results the period entries of ``stream`` read from each account's stage entries.

    ``entered``: one row per account with ``account_id`` and one
    ``entered_<stage>`` column per stage: its first journey event of that
    stage, over the whole stream (the store's ``accounts`` mart). An account
    entered a stage by the period's end exactly when that first event is before
    the end, so the entries of :func:`_period_entries` are these, kept to the
    accounts first seen in the period: what the stage funnel, the stalled
    accounts and the stage entries of this ``stream`` and ``accounts`` then
    read, without a pass over the stream. Only where results are kept
    (``_memo.keep_results``: a notebook's kernel). Returns False, remembering
    nothing, when they are not or a stage has no column.
    """
    pairs = _stage_pairs(stages)
    names = entered.collect_schema().names()
    cols = [f"entered_{s}" for s, _ in pairs]
    if not keeping() or "account_id" not in names or any(c not in names for c in cols):
        return False
    _, last = period_index(period)
    end = pl.lit(month_start(month_from_index(last + 1)), dtype=pl.Datetime("us", "UTC"))

    def compute() -> tuple[pl.DataFrame, list[tuple[str, str]]]:
        firsts = (
            entered.select("account_id", *cols)
            .join(_period_accounts(accounts, period, ["account_id"]).to_native(), on="account_id")
            .unpivot(index="account_id", on=cols, variable_name="stage", value_name="entered_at")
            .filter(pl.col("entered_at").is_not_null(), pl.col("entered_at") < end)
            .with_columns(pl.col("stage").str.strip_prefix("entered_"))
            .collect()
        )
        return _indexed(firsts, pairs, ["account_id"]), pairs

    once(("period_entries", tuple(period), tuple(pairs), None), (stream, accounts), compute)
    return True


def _compute_period_entries(
    stream: Any,
    accounts: Any,
    period: tuple[str, str],
    pairs: list[tuple[str, str]],
    by: str | None,
) -> pl.DataFrame:
    _, last = period_index(period)
    acc_cols = ["account_id"] + ([by] if by is not None else [])
    acc = _period_accounts(accounts, period, acc_cols)
    lf = to_lazy(stream)
    ev = lf.filter(
        ~nw.col("account_id").is_null(),
        nw.col("stage").is_in([s for s, _ in pairs]),
        months_filter(lf, "timestamp", last=last),
    ).select("account_id", "stage", "timestamp")
    # A lazy polars stream (one too big to hold) groups by an account-stage key:
    # the stage's index packed into the account key's low bits (needs the
    # accounts' account parts distinct and at most 2**MONTH_BITS stages).
    packed = isinstance(stream, pl.LazyFrame)
    if keyed(accounts, stream, months=len(pairs) if packed else None):
        df = _entries_by_key(
            ev.to_native(), acc.to_native(), [s for s, _ in pairs], acc_cols, packed=packed
        )
    else:
        # First entry per account and stage, then the period's accounts: grouping
        # before the join makes the join one row per account × stage, not per event.
        entries = (
            ev.group_by("account_id", "stage")
            .agg(nw.col("timestamp").min().alias("entered_at"))
            .join(acc, on="account_id", how="inner")
            .select(*acc_cols, "stage", "entered_at")
        )
        df = collect(entries)
    return _indexed(df, pairs, acc_cols)


def _period_accounts(accounts: Any, period: tuple[str, str], acc_cols: list[str]) -> Any:
    """The accounts first seen in the period, one row each: ``acc_cols`` (narwhals, lazy)."""
    return (
        to_lazy(accounts)
        .filter(in_period("first_seen_at", period))
        .select(*acc_cols)
        .unique(subset=["account_id"])
    )


def _indexed(df: pl.DataFrame, pairs: list[tuple[str, str]], acc_cols: list[str]) -> pl.DataFrame:
    """``[*acc_cols, stage, stage_index, entered_at]``: entries with their stage's 0-based index."""
    index = pl.DataFrame(
        {"stage": [s for s, _ in pairs], "stage_index": list(range(len(pairs)))},
        schema={"stage": pl.String, "stage_index": pl.Int64},
    )
    return df.join(index, on="stage", how="inner").select(
        *acc_cols, "stage", "stage_index", pl.col("entered_at").cast(pl.Datetime("us", "UTC"))
    )


def _entries_by_key(
    ev: pl.LazyFrame,
    acc: pl.LazyFrame,
    stage_ids: list[str],
    acc_cols: list[str],
    *,
    packed: bool = False,
) -> pl.DataFrame:
    """The entries frame of :func:`_period_entries` on polars, grouped by account key.

    One group per account (its 64-bit key, see ``_keys``) with one first-entry
    column per stage, instead of one group per account × stage keyed by text:
    at 50 M events about a third less memory and time. The period's accounts
    are joined back by key, and the stage columns unpivoted to rows.

    ``packed``: one group per account × stage instead, keyed by the account
    part of the key with the stage's index in its low bits, and a single
    minimum per group. On a stream read streaming (50 M events) its group-by
    peaked at 1.04–1.13 GiB against 1.06–1.30 GiB for the per-stage columns,
    in the same time; on a stream in memory (10 M) the stage lookup made it
    about 0.2 s slower, so it is used for lazy streams only.
    """
    if packed:
        index = dict(zip(stage_ids, range(len(stage_ids)), strict=True))
        stage_index = pl.col("stage").map_batches(
            lambda s: s.replace_strict(index, return_dtype=pl.UInt8),
            return_dtype=pl.UInt8,
            is_elementwise=True,
        )
        firsts = (
            ev.group_by(account_month_key(stage_index).alias("_k"))
            .agg(pl.col("timestamp").min().alias("entered_at"))
            .select(
                account_part(pl.col("_k")).alias("_a"),
                month_part(pl.col("_k")).alias("_i"),
                "entered_at",
            )
        )
        ids = pl.DataFrame(
            {"_i": list(index.values()), "stage": stage_ids},
            schema={"_i": pl.Int64, "stage": pl.String},
        )
        return (
            acc.with_columns(account_part(account_key()).alias("_a"))
            .join(firsts, on="_a", how="inner")
            .join(ids.lazy(), on="_i", how="inner")
            .select(*acc_cols, "stage", "entered_at")
            .collect()
        )
    cols = [f"_s{i}" for i in range(len(stage_ids))]
    wide = ev.group_by(account_key().alias("_k")).agg(
        pl.when(pl.col("stage") == sid).then(pl.col("timestamp")).min().alias(c)
        for sid, c in zip(stage_ids, cols, strict=True)
    )
    names = pl.DataFrame(
        {"_s": cols, "stage": stage_ids}, schema={"_s": pl.String, "stage": pl.String}
    )
    return (
        acc.with_columns(account_key().alias("_k"))
        .join(wide, on="_k", how="inner")
        .unpivot(index=acc_cols, on=cols, variable_name="_s", value_name="entered_at")
        .filter(pl.col("entered_at").is_not_null())
        .join(names.lazy(), on="_s", how="inner")
        .select(*acc_cols, "stage", "entered_at")
        .collect()
    )


def _funnel_from_entries(df: pl.DataFrame, pairs: list[tuple[str, str]]) -> pl.DataFrame:
    """The stage funnel of one group of accounts from its entries frame."""
    n = len(pairs)
    furthest = (
        df.group_by("account_id")
        .agg(pl.col("stage_index").max().alias("furthest"))
        .group_by("furthest")
        .agg(pl.len().alias("n"))
    )
    # accounts whose furthest stage is i or later: counted per furthest stage, summed from the end
    at = dict(zip(furthest["furthest"].to_list(), furthest["n"].to_list(), strict=True))
    reached = [sum(at.get(j, 0) for j in range(i, n)) for i in range(n)]
    # entry(i) - entry(i-1) for accounts that entered both, not negative
    cur = df.select("account_id", "stage_index", pl.col("entered_at").alias("t"))
    prev = cur.with_columns(pl.col("stage_index") + 1).rename({"t": "t_prev"})
    gaps = (
        cur.join(prev, on=["account_id", "stage_index"], how="inner")
        .filter(pl.col("t") >= pl.col("t_prev"))
        .group_by("stage_index")
        .agg(
            ((pl.col("t") - pl.col("t_prev")).dt.total_microseconds() / US_PER_DAY)
            .median()
            .alias("median")
        )
    )
    medians = dict(zip(gaps["stage_index"].to_list(), gaps["median"].to_list(), strict=True))
    rows = []
    for i, (sid, label) in enumerate(pairs):
        conv = None if i == 0 or reached[i - 1] == 0 else reached[i] / reached[i - 1]
        med = medians.get(i) if i > 0 else None
        rows.append((sid, label, reached[i], conv, med))
    return pl.DataFrame(rows, schema=_FUNNEL_SCHEMA, orient="row")


# ---------------------------------------------------------------- stage funnel
def stage_entries(
    stream: Any,
    accounts: Any,
    *,
    period: tuple[str, str],
    stages: Sequence[Any],
) -> pl.DataFrame:
    """Per account the stages it entered and when (its first event mapped to each stage).

    Covers the accounts whose ``first_seen_at`` falls in the period, with all
    their journey events (raw and derived) up to the end of the period's last
    month. Stages never entered have no row.

    Args:
        stream: the journey event stream (``account_id``, ``timestamp``, ``stage``).
        accounts: accounts table (``account_id``, ``first_seen_at``).
        period: closed range of calendar months.
        stages: ``(id, label)`` pairs (or bare ids) in template order.

    Returns:
        ``pl.DataFrame[account_id, stage_index, stage, label, entered_at]``
        sorted by account_id, stage_index (``stage_index`` 1-based).

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a"], "first_seen_at": [t(1)]})
        >>> stream = pl.DataFrame({"account_id": ["a", "a", "a"],
        ...     "timestamp": [t(1), t(2), t(5)], "stage": ["aware", "aware", "buy"]})
        >>> stage_entries(stream, accounts, period=("2024-01", "2024-01"),
        ...     stages=[("aware", "Awareness"), ("buy", "Purchase")]).rows()  # doctest: +ELLIPSIS
        [('a', 1, 'aware', 'Awareness', datetime.datetime(2024, 1, 1, ...)), ('a', 2, 'buy', ...)]
    """
    df, pairs = _period_entries(stream, accounts, period=period, stages=stages)
    labels = pl.DataFrame(
        {"stage": [s for s, _ in pairs], "label": [lab for _, lab in pairs]},
        schema={"stage": pl.String, "label": pl.String},
    )
    return (
        df.join(labels, on="stage", how="left")
        .select(
            "account_id",
            (pl.col("stage_index") + 1).alias("stage_index"),
            "stage",
            "label",
            "entered_at",
        )
        .sort("account_id", "stage_index")
    )


def stage_funnel(
    stream: Any,
    accounts: Any,
    *,
    period: tuple[str, str],
    stages: Sequence[Any],
    by: str | None = None,
) -> pl.DataFrame:
    """The stage funnel: accounts that reached each stage, conversion and median days between.

    Covers the accounts whose ``first_seen_at`` falls in the period, with all
    their journey events (raw and derived) up to the end of the period's last
    month. An account *enters* a stage at its first event mapped to it;
    ``reached(i)`` counts accounts that entered stage i **or any later stage**,
    so the funnel never rises (a skipped stage still counts for the stages
    before it). ``conversion_from_previous(i) = reached(i) / reached(i-1)``,
    null for the first stage and when ``reached(i-1) = 0``.
    ``median_days_from_previous(i)`` is the median of ``entry(i) - entry(i-1)``
    in days over the accounts that entered both stages with entry(i) not
    before entry(i-1); null when there are none. Accounts with no mapped event
    enter no stage and are not counted. Anonymous visitors are never counted
    (see :func:`visitors`). On polars frames the events are grouped by an
    integer key of ``account_id`` (``metrics._keys``; same result, less memory).

    Args:
        stream: the journey event stream (``account_id``, ``timestamp``, ``stage``).
        accounts: accounts table (``account_id``, ``first_seen_at`` and the ``by`` column).
        period: closed range of calendar months.
        stages: ``(id, label)`` pairs (or bare ids) in template order.
        by: optional column of ``accounts`` (e.g. ``persona``) to give the same per group.

    Returns:
        ``pl.DataFrame[(by), id, label, reached, conversion_from_previous,
        median_days_from_previous]`` in stage order (per group, groups sorted,
        null group last; every stage listed for every group).

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a", "b"], "first_seen_at": [t(1), t(1)]})
        >>> stream = pl.DataFrame({"account_id": ["a", "a", "b"],
        ...     "timestamp": [t(1), t(3), t(2)], "stage": ["aware", "buy", "aware"]})
        >>> stage_funnel(stream, accounts, period=("2024-01", "2024-01"),
        ...     stages=[("aware", "Awareness"), ("buy", "Purchase")]).rows()
        [('aware', 'Awareness', 2, None, None), ('buy', 'Purchase', 1, 0.5, 2.0)]
    """
    df, pairs = _period_entries(stream, accounts, period=period, stages=stages, by=by)
    if by is None:
        return _funnel_from_entries(df, pairs)
    # groups come from the accounts of the period, so a group with no stage entered still shows
    groups = collect(
        to_lazy(accounts).filter(in_period("first_seen_at", period)).select(by).unique()
    )[by]
    parts = []
    for g in groups.sort(nulls_last=True).to_list():
        sub = df.filter(pl.col(by).is_null() if g is None else pl.col(by) == g)
        part = _funnel_from_entries(sub, pairs)
        parts.append(part.select(pl.lit(g, dtype=groups.dtype).alias(by), pl.all()))
    if not parts:
        schema = {by: groups.dtype, **_FUNNEL_SCHEMA}
        return pl.DataFrame(schema=schema)
    return pl.concat(parts)


def visitors(stream: Any, *, period: tuple[str, str] | None = None) -> int:
    """Anonymous visitors: distinct ``anonymous_id`` of the period's rows without an account.

    Reading: the rows are those with a timestamp in the period, a null
    ``account_id`` and a non-null ``anonymous_id``; an anonymous id whose
    other rows carry an account is still counted for its account-less rows
    (identity stitching is the stream's job, not this count's).

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> stream = pl.DataFrame({"account_id": [None, None, "a", None],
        ...     "anonymous_id": ["v1", "v1", "v2", "v3"],
        ...     "timestamp": [t(1), t(2), t(3), dt.datetime(2024, 2, 1, tzinfo=dt.UTC)]})
        >>> visitors(stream, period=("2024-01", "2024-01"))
        1
    """
    lf = filter_period(to_lazy(stream), "timestamp", period).filter(
        nw.col("account_id").is_null(), ~nw.col("anonymous_id").is_null()
    )
    out = collect(lf.select(nw.col("anonymous_id").n_unique().alias("n")))
    # n_unique of no rows is null on DuckDB (0 on polars)
    return int(out["n"][0] or 0) if out.height else 0


# ---------------------------------------------------------------- where accounts stall
def stalled_accounts(
    stream: Any,
    accounts: Any,
    *,
    period: tuple[str, str],
    stages: Sequence[Any],
    as_of: dt.datetime | None = None,
) -> pl.DataFrame:
    """Per account its furthest stage and how long since its last journey event.

    Covers the accounts of :func:`stage_funnel` (first seen in the period,
    events up to the period's end) that entered at least one stage. The
    furthest stage is the latest stage in template order the account entered.
    ``days_since_last_event`` is measured from the account's last journey
    event (mapped or not, up to the period's end) to ``as_of``, by default the
    latest timestamp of the stream up to the period's end (the data's end).

    Returns:
        ``pl.DataFrame[account_id, furthest_index (1-based), furthest_stage,
        furthest_label, last_event_at, days_since_last_event]`` sorted by account.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a", "b"], "first_seen_at": [t(1), t(1)]})
        >>> stream = pl.DataFrame({"account_id": ["a", "a", "b", "b"],
        ...     "timestamp": [t(1), t(3), t(2), t(11)], "stage": ["aware", "buy", "aware", None]})
        >>> stalled_accounts(stream, accounts, period=("2024-01", "2024-01"),
        ...     stages=["aware", "buy"]).select("account_id", "furthest_stage",
        ...     "days_since_last_event").rows()
        [('a', 'buy', 8.0), ('b', 'aware', 0.0)]
    """
    df, pairs = _period_entries(stream, accounts, period=period, stages=stages)
    _, last = period_index(period)
    lf = to_lazy(stream)
    lf = lf.filter(months_filter(lf, "timestamp", last=last))
    if as_of is None:
        end = collect(lf.select(nw.col("timestamp").max().alias("t")))["t"]
        as_of = end[0] if end.len() else None
    acc = to_lazy(accounts).filter(in_period("first_seen_at", period)).select("account_id")
    lasts = collect(
        lf.filter(~nw.col("account_id").is_null())
        .join(acc, on="account_id", how="inner")
        .group_by("account_id")
        .agg(nw.col("timestamp").max().alias("last_event_at"))
    ).with_columns(pl.col("last_event_at").cast(pl.Datetime("us", "UTC")))
    labels = pl.DataFrame(
        {
            "furthest_index": list(range(1, len(pairs) + 1)),
            "furthest_stage": [s for s, _ in pairs],
            "furthest_label": [lab for _, lab in pairs],
        },
        schema={
            "furthest_index": pl.Int64,
            "furthest_stage": pl.String,
            "furthest_label": pl.String,
        },
    )
    as_of_lit = pl.lit(as_of, dtype=pl.Datetime("us", "UTC"))
    return (
        df.group_by("account_id")
        .agg((pl.col("stage_index").max() + 1).alias("furthest_index"))
        .join(labels, on="furthest_index", how="left")
        .join(lasts, on="account_id", how="left")
        .with_columns(
            ((as_of_lit - pl.col("last_event_at")).dt.total_microseconds() / US_PER_DAY).alias(
                "days_since_last_event"
            )
        )
        .select(
            "account_id",
            "furthest_index",
            "furthest_stage",
            "furthest_label",
            "last_event_at",
            "days_since_last_event",
        )
        .sort("account_id")
    )


_STALL_SCHEMA = {
    "id": pl.String,
    "label": pl.String,
    "accounts": pl.Int64,
    "share": pl.Float64,
    "median_days_since_last_event": pl.Float64,
}


def stall_summary(
    stream: Any,
    accounts: Any,
    *,
    period: tuple[str, str],
    stages: Sequence[Any],
    as_of: dt.datetime | None = None,
    stalled: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Where accounts stall: per stage, the accounts whose furthest stage it is.

    ``stalled``: the :func:`stalled_accounts` of the same arguments, when the
    caller has them already (they are not computed again).

    ``share`` = those accounts / the accounts that entered any stage (null
    when none did); ``median_days_since_last_event`` over them (see
    :func:`stalled_accounts`). The last stage's accounts went all the way.

    Returns:
        ``pl.DataFrame[id, label, accounts, share, median_days_since_last_event]``
        in stage order.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a", "b"], "first_seen_at": [t(1), t(1)]})
        >>> stream = pl.DataFrame({"account_id": ["a", "a", "b"],
        ...     "timestamp": [t(1), t(3), t(2)], "stage": ["aware", "buy", "aware"]})
        >>> stall_summary(stream, accounts, period=("2024-01", "2024-01"),
        ...     stages=["aware", "buy"]).rows()
        [('aware', 'aware', 1, 0.5, 1.0), ('buy', 'buy', 1, 0.5, 0.0)]
    """
    per = (
        stalled
        if stalled is not None
        else stalled_accounts(stream, accounts, period=period, stages=stages, as_of=as_of)
    )
    pairs = _stage_pairs(stages)
    total = per.height
    agg = per.group_by("furthest_index").agg(
        pl.len().alias("accounts"), pl.col("days_since_last_event").median().alias("median")
    )
    got = {r[0]: (r[1], r[2]) for r in agg.iter_rows()}
    rows = []
    for i, (sid, label) in enumerate(pairs, start=1):
        n, med = got.get(i, (0, None))
        rows.append((sid, label, int(n), n / total if total else None, med))
    return pl.DataFrame(rows, schema=_STALL_SCHEMA, orient="row")


# ---------------------------------------------------------------- touchpoint transitions
def touchpoint_transitions(
    stream: Any, *, period: tuple[str, str] | None = None, presorted: bool = False
) -> pl.DataFrame:
    """Touchpoint transitions: how accounts move from one touchpoint to the next.

    Per account, its mapped events (``touchpoint`` not null; rows with an
    account only; in the period when one is given) in time order, ties by
    ``seq`` (file order); consecutive repeats of one touchpoint are collapsed
    and every consecutive pair (from, to) is counted. ``share = count / all
    transitions out of from``.

    With ``presorted`` (a polars stream already in (account_id, timestamp,
    seq) order, as the client store's stream is: ``journeylib.store``) the
    pairs are found by shifting the rows in the order they come instead of
    sorting every account's events: the same result, several times faster at
    10 M events. Other engines ignore it.

    Returns:
        ``pl.DataFrame[from, to, count, share]`` sorted by from, to.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> stream = pl.DataFrame({"account_id": ["a"] * 4,
        ...     "timestamp": [t(1), t(2), t(3), t(4)], "seq": [0, 1, 2, 3],
        ...     "touchpoint": ["ad", "ad", "demo", "ad"]})
        >>> touchpoint_transitions(stream).rows()
        [('ad', 'demo', 1, 1.0), ('demo', 'ad', 1, 1.0)]
    """
    if presorted and isinstance(stream, pl.DataFrame | pl.LazyFrame):
        return _transitions_in_order(
            filter_period(to_lazy(stream), "timestamp", period).to_native()
        )
    order = ["timestamp", "seq"]
    lf = (
        filter_period(to_lazy(stream), "timestamp", period)
        .filter(~nw.col("account_id").is_null(), ~nw.col("touchpoint").is_null())
        .select("account_id", "timestamp", "seq", "touchpoint")
        .with_columns(
            nw.col("touchpoint").shift(1).over("account_id", order_by=order).alias("_prev")
        )
        # keep the first row of every run of one touchpoint
        .filter(nw.col("_prev").is_null() | (nw.col("_prev") != nw.col("touchpoint")))
        .with_columns(
            nw.col("touchpoint").shift(1).over("account_id", order_by=order).alias("from")
        )
        .filter(~nw.col("from").is_null())
        .with_columns(nw.col("touchpoint").alias("to"))
        .group_by("from", "to")
        .agg(nw.len().alias("count"))
    )
    df = collect(lf)
    return (
        df.select(
            pl.col("from").cast(pl.String),
            pl.col("to").cast(pl.String),
            pl.col("count").cast(pl.Int64),
        )
        .with_columns((pl.col("count") / pl.col("count").sum().over("from")).alias("share"))
        .sort("from", "to")
    )


def _transitions_in_order(stream: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """:func:`touchpoint_transitions` of rows already in (account_id, timestamp, seq) order."""
    acc, tp = pl.col("account_id"), pl.col("touchpoint")
    rows = (
        stream.lazy().filter(acc.is_not_null(), tp.is_not_null()).select("account_id", "touchpoint")
    )
    # the first row of every run of one touchpoint within an account
    runs = rows.filter(~((acc == acc.shift(1)) & (tp == tp.shift(1))).fill_null(False))
    counts = (
        runs.select(
            pl.when(acc == acc.shift(1)).then(tp.shift(1)).alias("from"),
            tp.alias("to"),
        )
        .filter(pl.col("from").is_not_null())
        .group_by("from", "to")
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .collect()
    )
    return (
        counts.select(pl.col("from").cast(pl.String), pl.col("to").cast(pl.String), "count")
        .with_columns((pl.col("count") / pl.col("count").sum().over("from")).alias("share"))
        .sort("from", "to")
    )
