"""Attempt matching of the ordered funnel, vectorised over all attempts at once.

:func:`match_attempts` takes the collected step rows of
:func:`journeylib.metrics.funnels.ordered_funnel` and gives one row per account
that started an attempt: its furthest step, whether it was excluded or is still
in progress, and its best attempt's step timestamps. The semantics (PostHog's
funnel engine, the exclusions, the best attempt, strict and unordered modes)
are described in :mod:`journeylib.metrics.funnels`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

__all__ = ["match_attempts"]

_NEVER = np.iinfo(np.int64).max  # an unfilled step timestamp


def _empty_per(steps: list[str]) -> pl.DataFrame:
    """The per-account result with no rows (its columns and types)."""
    schema: dict[str, Any] = {
        "account_id": pl.String,
        "furthest_step": pl.Int64,
        "excluded": pl.Boolean,
        "in_progress": pl.Boolean,
        "attempt_start": pl.Datetime("us", "UTC"),
    }
    for k in range(1, len(steps) + 1):
        schema[f"step_{k}_at"] = pl.Datetime("us", "UTC")
    return pl.DataFrame(schema=schema)


def match_attempts(
    rows: pl.DataFrame,
    *,
    steps: list[str],
    excl: list[tuple[str, int, int]],
    mode: str,
    w_us: int,
    data_end: Any,
) -> pl.DataFrame:
    """Attempt matching on the collected rows → one row per account that started an attempt."""
    n = len(steps)
    if rows.height == 0:
        return _empty_per(steps)
    df = rows.with_columns(
        pl.col("timestamp").cast(pl.Datetime("us", "UTC")).dt.epoch("us").alias("_ts"),
        # sorting on a 64-bit hash groups the accounts 3x faster than sorting their names
        pl.col("account_id").hash().alias("_h"),
    ).sort("_h", "_ts", "seq", "event")
    same_h = (df["_h"] == df["_h"].shift(1)).fill_null(False)
    new_acc = (df["account_id"] != df["account_id"].shift(1)).fill_null(True)
    if (same_h & new_acc).any():  # a hash collision (about never): fall back to the names
        df = df.sort("account_id", "_ts", "seq", "event")
        new_acc = (df["account_id"] != df["account_id"].shift(1)).fill_null(True)
    acc = (new_acc.cast(pl.Int64).cum_sum() - 1).to_numpy()
    ts = df["_ts"].to_numpy()
    ev_s = df["event"]
    pos_of = {
        e: ev_s.eq(e).fill_null(False).arg_true().to_numpy().astype(np.int64)
        for e in set(steps) | {x for x, _, _ in excl}
    }
    data_end_us = _epoch_us(data_end)
    # rows of one account at one instant form a run; its first row and the row after it
    # answer "first row at or after t" and "first row after t" for a row's own time t
    change = np.ones(len(ts), dtype=bool)
    change[1:] = (acc[1:] != acc[:-1]) | (ts[1:] != ts[:-1])
    run_starts = np.flatnonzero(change)
    run = np.cumsum(change) - 1
    run_first = run_starts[run]
    run_next = np.append(run_starts, len(ts))[run + 1]

    if mode == "unordered":
        att = _unordered_attempts(steps, pos_of, acc, ts, run_first, w_us)
    else:
        ev = ev_s.to_numpy() if mode == "strict" else None
        att = _ordered_attempts(steps, excl, pos_of, acc, ts, ev, run_first, run_next, w_us, mode)
    if att is None:
        return _empty_per(steps)
    a_acc, start_pos, prog, eff, tainted, times = att

    tcols = {f"_t{k}": times[:, k] for k in range(n)}
    a = pl.DataFrame(
        {
            "_acc": a_acc,
            "_start": start_pos,
            "_start_ts": ts[start_pos],
            "_prog": prog,
            "_eff": eff,
            "_tainted": tainted,
            **tcols,
        }
    )
    a = a.with_columns(pl.col("_eff").max().over("_acc").alias("_F"))
    clean = a.filter(~pl.col("_tainted") & (pl.col("_prog") == pl.col("_F")))
    last = f"_t{n - 1}"
    # best attempt: first completion (earliest last step, later start) or the latest start
    best = (
        clean.with_columns(
            pl.when(pl.col("_F") == n).then(pl.col(last)).otherwise(0).alias("_k1"),
            (-pl.col("_start")).alias("_k2"),
        )
        .sort("_acc", "_k1", "_k2")
        .group_by("_acc", maintain_order=True)
        .first()
    )
    accounts = a.select("_acc").unique()
    per = accounts.join(best, on="_acc", how="left")
    first_row = np.searchsorted(acc, per["_acc"].to_numpy())
    open_ = pl.col("_start_ts") + w_us > data_end_us if data_end_us is not None else pl.lit(False)
    per = per.with_columns(
        df["account_id"].gather(first_row).cast(pl.String).alias("account_id"),
        pl.col("_F").is_null().alias("excluded"),
        pl.col("_F").fill_null(0).cast(pl.Int64).alias("furthest_step"),
    ).with_columns(
        (~pl.col("excluded") & (pl.col("furthest_step") < n) & open_)
        .fill_null(False)
        .alias("in_progress"),
        _from_epoch("_start_ts").alias("attempt_start"),
        *[
            pl.when(pl.col(f"_t{k}") != _NEVER)
            .then(_from_epoch(f"_t{k}"))
            .alias(f"step_{k + 1}_at")
            for k in range(n)
        ],
    )
    return per.select(_empty_per(steps).columns)


def _epoch_us(value: Any) -> int | None:
    if value is None:
        return None
    return int(pl.Series([value]).cast(pl.Datetime("us", "UTC")).dt.epoch("us")[0])


def _from_epoch(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _ordered_attempts(
    steps: list[str],
    excl: list[tuple[str, int, int]],
    pos_of: dict[str, np.ndarray],
    acc: np.ndarray,
    ts: np.ndarray,
    ev: np.ndarray | None,
    run_first: np.ndarray,
    run_next: np.ndarray,
    w_us: int,
    mode: str,
) -> tuple[np.ndarray, ...] | None:
    """Greedy matching of every attempt at once (ordered and strict modes).

    The earliest qualifying row is always the best choice for a step: it
    leaves the most time and rows for the later steps, so matching greedily
    step by step gives each attempt its furthest progress.
    """
    n = len(steps)
    n_rows = len(ts)
    starts = pos_of[steps[0]]
    if len(starts) == 0:
        return None
    n_att = len(starts)
    a_acc = acc[starts]
    deadline = ts[starts] + w_us
    rows_at = np.full((n_att, n), -1, dtype=np.int64)
    times = np.full((n_att, n), _NEVER, dtype=np.int64)
    rows_at[:, 0] = starts
    times[:, 0] = ts[starts]
    prog = np.ones(n_att, dtype=np.int64)
    alive = np.ones(n_att, dtype=bool)
    # the last row each event name used in the attempt: a repeated step needs a new row
    last_used = {e: np.full(n_att, -1, dtype=np.int64) for e in set(steps)}
    last_used[steps[0]] = starts.copy()
    for k in range(1, n):
        e = steps[k]
        prev = rows_at[:, k - 1]
        if mode == "strict":
            cand = np.where(alive, prev + 1, 0)
            valid = alive & (cand < n_rows)
            cand = np.minimum(cand, n_rows - 1)
            ok = valid & (acc[cand] == a_acc) & (ev[cand] == e)
        else:
            # rows at or after the previous step's time (equal timestamps count) …
            lo = run_first[np.maximum(prev, 0)]
            # … and after the rows this attempt already used for the same event
            need = np.maximum(lo, last_used[e] + 1)
            pe = pos_of[e]
            idx = np.searchsorted(pe, need, side="left")
            valid = alive & (idx < len(pe))
            cand = (
                pe[np.minimum(idx, max(len(pe) - 1, 0))] if len(pe) else np.zeros(n_att, np.int64)
            )
            ok = valid & (acc[cand] == a_acc)
        ok &= ts[cand] <= deadline  # the window bound is inclusive
        rows_at[ok, k] = cand[ok]
        times[ok, k] = ts[cand[ok]]
        last_used[e] = np.where(ok, cand, last_used[e])
        prog[ok] = k + 1
        alive = ok

    eff = prog.copy()
    tainted = np.zeros(n_att, dtype=bool)
    for x, i, j in excl:
        px = pos_of[x]
        if len(px) == 0:
            continue
        reached_i = prog >= i + 1
        # first row of the account strictly after the step-i event
        p0 = run_next[np.maximum(rows_at[:, i], 0)]
        idx = np.searchsorted(px, p0, side="left")
        has = idx < len(px)
        cx = px[np.minimum(idx, len(px) - 1)]
        tx = ts[cx]
        reached_j = prog >= j + 1
        inside = np.where(reached_j, tx < times[:, j], tx <= deadline)
        hit = reached_i & has & (acc[cx] == a_acc) & inside
        # PostHog: an excluded attempt still completes the step it was waiting for, then stops
        completed_before = (times < tx[:, None]).sum(axis=1)
        cut = np.minimum(prog, completed_before + 1)
        eff = np.where(hit, np.minimum(eff, cut), eff)
        tainted |= hit
    return a_acc, starts, prog, eff, tainted, times


def _unordered_attempts(
    steps: list[str],
    pos_of: dict[str, np.ndarray],
    acc: np.ndarray,
    ts: np.ndarray,
    run_first: np.ndarray,
    w_us: int,
) -> tuple[np.ndarray, ...] | None:
    """Every step-event row starts a span [t, t + W]; count the steps whose events fall in it."""
    n = len(steps)
    mult: dict[str, int] = {}
    for s in steps:
        mult[s] = mult.get(s, 0) + 1
    starts = np.sort(np.concatenate([pos_of[e] for e in mult]))  # one event per row: no repeats
    if len(starts) == 0:
        return None
    n_att = len(starts)
    a_acc = acc[starts]
    # key orders rows like (account, time); a binary search on it finds "the account's rows up
    # to t + W" without a lexicographic search
    sorted_ts = np.sort(ts)
    uniq = sorted_ts[np.concatenate(([True], sorted_ts[1:] != sorted_ts[:-1]))]
    big = len(uniq) + 1
    key = acc * big + np.searchsorted(uniq, ts)
    lo = run_first[starts]
    hi_rank = np.searchsorted(uniq, ts[starts] + w_us, side="right") - 1
    hi = np.searchsorted(key, a_acc * big + hi_rank, side="right")  # exclusive
    prog = np.zeros(n_att, dtype=np.int64)
    picked: list[np.ndarray] = []
    for e, m in mult.items():
        pe = pos_of[e]
        first = np.searchsorted(pe, lo, side="left")
        count = np.searchsorted(pe, hi, side="left") - first
        take = np.minimum(count, m)
        prog += take
        for r in range(m):
            got = take > r
            col = np.full(n_att, _NEVER, dtype=np.int64)
            if len(pe):
                col[got] = ts[pe[np.minimum(first + r, len(pe) - 1)][got]]
            picked.append(col)
    times = np.sort(np.stack(picked, axis=1), axis=1)[:, :n]
    tainted = np.zeros(n_att, dtype=bool)
    return a_acc, starts, prog, prog.copy(), tainted, times
