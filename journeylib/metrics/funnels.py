"""Ordered funnels (micro-journeys) with the semantics of the leading product-analytics tools.

Definitions: ``shared/spec/metrics.md`` § Ordered funnels. The numbers follow
PostHog's funnel engine (its ``aggregate_funnel`` UDF and public tests): every
first-step event starts an attempt, steps match greedily in time order within
a conversion window measured from the attempt's first event (bound
inclusive, equal timestamps convert), one event row completes at most one step
of an attempt, and each account is counted once at its furthest step.

How it runs: the rows that matter (account rows in the period of the step and
exclusion events; in strict mode every account row, because any other event
breaks an attempt) are filtered lazily through narwhals on the input's own
engine and only those columns are collected to polars. The attempt matching
then runs on the collected step events as vectorised numpy over all attempts
at once (one pass per step, each a binary search), so a million step events
take a few seconds (mostly the sort).

Readings of the spec chosen here (the "natural reading" rule):

* Exclusions ``(x, i, j)`` (step indices from 0, ``0 <= i < j < n``): an
  attempt is *excluded* when an ``x`` row falls strictly after its step-i
  event and strictly before its step-j event, or, when the attempt never
  completed step j, strictly after its step-i event and no later than the end
  of its window. As in PostHog, an excluded attempt stops at the first step it
  completes after ``x``. The account's furthest progress is the maximum over
  all its attempts; when only excluded attempts reach it the account is
  removed from the whole funnel (counted at no step); when a clean attempt
  reaches it too, that clean attempt counts.
* The *best attempt* of an account is a clean attempt reaching its furthest
  step: for accounts that completed the funnel the first to complete it
  (earliest last-step event, ties: the later start, as PostHog); for the
  others the most recent one (latest start), whose window is the last to
  close. Step timestamps and times to convert come from it.
* In progress: the best attempt has not completed the last step and its
  window end (start + W) is after the data's end, the latest timestamp of the
  input rows in the period. Such accounts are still counted at the steps they
  reached; ``in_progress`` reports how many there are.
* Strict mode: step k must be the row right after step k-1's row in the
  account's (timestamp, seq) order.
* Unordered mode: every row of a step event starts a span ``[t, t + W]``
  (times, inclusive); its progress is the number of steps whose events fall in
  the span (a step listed twice needs two rows); the account's result is its
  best span. Step timestamps are the span's matched events in time order.
  Exclusions are not supported in unordered mode.
* Per variant: an account's arm is the ``variant`` of its earliest row in the
  period with a non-null variant (ties: the alphabetically first); accounts
  without one are left out of the per-variant frame. The z-test compares each
  arm with the reference arm: ``control`` when present, else the
  alphabetically first arm.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import narwhals as nw
import numpy as np
import polars as pl

from journeylib.errors import ConfigError
from journeylib.frames import collect, to_lazy
from journeylib.months import filter_period

__all__ = [
    "FunnelResult",
    "funnel_json",
    "ordered_funnel",
    "parse_exclusion",
    "parse_window",
    "two_proportion_ztest",
    "wilson_interval",
]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_WINDOW = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_NEVER = np.iinfo(np.int64).max  # an unfilled step timestamp

Mode = Literal["ordered", "strict", "unordered"]


# ---------------------------------------------------------------- parsing
def parse_window(window: str | int) -> int:
    """A conversion window written ``300s``, ``5m``, ``1h``, ``14d`` (or ``2w``) → seconds.

    An int is taken as seconds.

    Examples:
        >>> parse_window("14d"), parse_window("300s"), parse_window("5m"), parse_window("1h")
        (1209600, 300, 300, 3600)
    """
    if isinstance(window, int) and not isinstance(window, bool):
        seconds = window
    else:
        m = _WINDOW.match(str(window))
        if not m:
            raise ConfigError(
                "bad conversion window",
                where="--window",
                expected="a number and a unit s, m, h, d or w, like 14d or 300s",
                found=repr(window),
                fix="write the window like 14d",
            )
        seconds = int(m.group(1)) * _UNITS[m.group(2).lower()]
    if seconds <= 0:
        raise ConfigError(
            "bad conversion window",
            where="--window",
            expected="a positive duration",
            found=repr(window),
            fix="give a window longer than 0, like 14d",
        )
    return seconds


def parse_exclusion(text: str) -> tuple[str, int, int]:
    """An exclusion written ``X:I:J`` → ``(event, i, j)``; step indices count from 0.

    The event name may itself contain ``:`` (the last two fields are the indices).

    Examples:
        >>> parse_exclusion("cancel:0:2")
        ('cancel', 0, 2)
    """
    parts = str(text).rsplit(":", 2)
    if (
        len(parts) != 3
        or not parts[0]
        or not parts[1].strip().isdigit()
        or not parts[2].strip().isdigit()
    ):
        raise ConfigError(
            "bad exclusion",
            where="--exclude",
            expected="EVENT:I:J with step indices counted from 0, like cancel:0:1",
            found=repr(text),
            fix="write the exclusion as EVENT:FROM_STEP:TO_STEP",
        )
    return parts[0], int(parts[1]), int(parts[2])


def _check_exclusions(
    exclusions: Sequence[Any], n_steps: int, mode: str
) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for ex in exclusions or []:
        x, i, j = (
            parse_exclusion(ex) if isinstance(ex, str) else (str(ex[0]), int(ex[1]), int(ex[2]))
        )
        if not 0 <= i < j <= n_steps - 1:
            raise ConfigError(
                "bad exclusion step range",
                where="--exclude",
                expected=f"0 <= I < J <= {n_steps - 1} (step indices from 0)",
                found=f"{x}:{i}:{j}",
                fix="name two different steps of the funnel, the earlier first",
            )
        out.append((x, i, j))
    if out and mode == "unordered":
        raise ConfigError(
            "exclusions are not supported in unordered mode",
            where="--exclude",
            expected="--mode ordered or strict",
            found="--mode unordered",
            fix="drop --exclude or use an ordered funnel",
        )
    return out


# ---------------------------------------------------------------- statistics
def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion; ``(None, None)`` when ``n = 0``.

    Examples:
        >>> tuple(round(v, 4) for v in wilson_interval(8, 10))
        (0.4902, 0.9433)
    """
    if n <= 0:
        return None, None
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, center - half), min(1.0, center + half)


def two_proportion_ztest(x1: int, n1: int, x2: int, n2: int) -> tuple[float | None, float | None]:
    """Two-proportion z-test with pooled variance: ``(z, two-sided p-value)``.

    ``z = (x1/n1 - x2/n2) / se``; ``(None, None)`` when a sample is empty or
    the pooled proportion is 0 or 1 (no variance).

    Examples:
        >>> z, p = two_proportion_ztest(45, 100, 55, 100)
        >>> round(z, 4), round(p, 4)
        (-1.4142, 0.1573)
    """
    if n1 <= 0 or n2 <= 0:
        return None, None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return None, None
    z = (x1 / n1 - x2 / n2) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


# ---------------------------------------------------------------- result
@dataclass(frozen=True)
class FunnelResult:
    """The result of :func:`ordered_funnel`.

    Attributes:
        steps: ``[step (1-based), event, count, conversion, conversion_from_previous,
            median_seconds_to_convert, mean_seconds_to_convert]``.
        in_progress: accounts whose best attempt is unfinished with its window still open.
        accounts: one row per account that started an attempt: ``[account_id,
            furthest_step (0 when excluded), excluded, in_progress, attempt_start,
            step_1_at … step_n_at]`` (+ ``variant`` when by variant).
        excluded: accounts removed by the exclusions.
        mode, window_seconds, data_end: the settings and the data's end used.
        variants: per arm and step ``[variant, step, event, count, conversion,
            ci_low, ci_high]`` (Wilson 95 %), or None.
        variant_tests: per arm other than the reference, the z-test on the
            last step ``[variant, reference, x, n, x_reference, n_reference,
            conversion, conversion_reference, z, p_value]``, or None.
    """

    steps: pl.DataFrame
    in_progress: int
    accounts: pl.DataFrame
    excluded: int = 0
    mode: str = "ordered"
    window_seconds: int = 14 * 86400
    data_end: Any = None
    variants: pl.DataFrame | None = None
    variant_tests: pl.DataFrame | None = field(default=None)


def funnel_json(result: FunnelResult) -> dict[str, Any]:
    """The ``journey funnel --json`` shape of a result.

    ``{steps: [{event, count, conversion, conversion_from_previous,
    median_seconds_to_convert}], in_progress}`` plus ``variants`` and
    ``variant_tests`` (lists of row dicts) when computed per variant.

    Examples:
        >>> t = lambda s: dt.datetime(2024, 1, 1, 0, 0, s, tzinfo=dt.UTC)
        >>> ev = pl.DataFrame({"account_id": ["a", "a"], "timestamp": [t(0), t(5)],
        ...                    "event": ["view", "buy"], "seq": [0, 1]})
        >>> funnel_json(ordered_funnel(ev, steps=["view", "buy"]))["steps"][1]
        {'event': 'buy', 'count': 1, 'conversion': 1.0, 'conversion_from_previous': 1.0, 'median_seconds_to_convert': 5.0}
    """
    keys = ["event", "count", "conversion", "conversion_from_previous", "median_seconds_to_convert"]
    out: dict[str, Any] = {
        "steps": [{k: row[k] for k in keys} for row in result.steps.iter_rows(named=True)],
        "in_progress": result.in_progress,
    }
    if result.variants is not None:
        out["variants"] = list(result.variants.iter_rows(named=True))
    if result.variant_tests is not None:
        out["variant_tests"] = list(result.variant_tests.iter_rows(named=True))
    return out


# ---------------------------------------------------------------- the funnel
def ordered_funnel(
    stream_or_events: Any,
    *,
    steps: Sequence[str],
    window: str | int = "14d",
    mode: Mode = "ordered",
    exclusions: Sequence[Any] = (),
    period: tuple[str, str] | None = None,
    by_variant: bool = False,
) -> FunnelResult:
    """An ordered funnel over the account rows of the journey stream (or raw events).

    See the module docstring for the semantics and the readings chosen. The
    input needs ``account_id``, ``timestamp`` and ``event``; ``seq`` (tie
    order; 0 when absent) and ``variant`` (for ``by_variant``) are optional.
    ``count(k)`` = accounts whose furthest step ≥ k; ``conversion(k) =
    count(k) / count(1)``; ``conversion_from_previous(k) = count(k) /
    count(k-1)`` (null for step 1); times to convert (seconds) are median and
    mean over the best attempts' durations > 0 from the previous step.

    Args:
        stream_or_events: native frame of any narwhals-supported engine.
        steps: event names e1 … en (raw or derived).
        window: conversion window (``14d``, ``300s``, ``5m``, ``1h`` or seconds).
        mode: ``ordered``, ``strict`` or ``unordered``.
        exclusions: ``(event, i, j)`` triples or ``"X:I:J"`` strings (steps from 0).
        period: closed range of calendar months; None means all rows.
        by_variant: add the per-arm frame and the z-tests.

    Examples:
        >>> t = lambda h: dt.datetime(2024, 1, 1, h, tzinfo=dt.UTC)
        >>> ev = pl.DataFrame({"account_id": ["a", "a", "b"], "timestamp": [t(0), t(2), t(1)],
        ...                    "event": ["view", "buy", "view"], "seq": [0, 1, 2]})
        >>> ordered_funnel(ev, steps=["view", "buy"], window="1d").steps.select(
        ...     "step", "count", "conversion", "median_seconds_to_convert").rows()
        [(1, 2, 1.0, None), (2, 1, 0.5, 7200.0)]
    """
    steps = [str(s) for s in steps]
    if not steps:
        raise ConfigError(
            "no funnel steps",
            where="--steps",
            expected="at least one event name",
            found="nothing",
            fix="give the steps as --steps E1,E2",
        )
    if mode not in ("ordered", "strict", "unordered"):
        raise ConfigError(
            "unknown funnel mode",
            where="--mode",
            expected="ordered, strict or unordered",
            found=repr(mode),
            fix="use --mode ordered",
        )
    w_sec = parse_window(window)
    excl = _check_exclusions(exclusions, len(steps), mode)

    rows, data_end, variants = _collect_rows(
        stream_or_events, steps=steps, excl=excl, mode=mode, period=period, by_variant=by_variant
    )
    per = _match(rows, steps=steps, excl=excl, mode=mode, w_us=w_sec * 1_000_000, data_end=data_end)
    n = len(steps)
    steps_df = _step_table(per, steps)
    in_progress = int(per.filter(pl.col("in_progress")).height)
    excluded = int(per.filter(pl.col("excluded")).height)
    accounts = per.select(
        "account_id",
        "furthest_step",
        "excluded",
        "in_progress",
        "attempt_start",
        *[f"step_{k}_at" for k in range(1, n + 1)],
    ).sort("account_id")
    var_df = tests_df = None
    if by_variant:
        accounts = accounts.join(variants, on="account_id", how="left")
        var_df, tests_df = _variant_tables(accounts, steps)
    return FunnelResult(
        steps=steps_df,
        in_progress=in_progress,
        accounts=accounts,
        excluded=excluded,
        mode=mode,
        window_seconds=w_sec,
        data_end=data_end,
        variants=var_df,
        variant_tests=tests_df,
    )


def _collect_rows(
    native: Any,
    *,
    steps: list[str],
    excl: list[tuple[str, int, int]],
    mode: str,
    period: tuple[str, str] | None,
    by_variant: bool,
) -> tuple[pl.DataFrame, Any, pl.DataFrame | None]:
    """Filter lazily on the input's engine; collect only the rows the matching needs."""
    lf = to_lazy(native)
    names = lf.collect_schema().names()
    missing = [c for c in ("account_id", "timestamp", "event") if c not in names]
    if by_variant and "variant" not in names:
        missing.append("variant")
    if missing:
        raise ConfigError(
            "missing columns for the funnel",
            where="events",
            expected="columns account_id, timestamp, event (and variant for a per-variant funnel)",
            found=f"columns {', '.join(names)}",
            fix=f"add the column(s) {', '.join(missing)}",
        )
    lf = filter_period(lf, "timestamp", period)
    end = collect(lf.select(nw.col("timestamp").max().alias("t")))
    data_end = end["t"][0] if end.height else None
    acc_rows = lf.filter(~nw.col("account_id").is_null())
    wanted = sorted(set(steps) | {x for x, _, _ in excl})
    # strict mode needs every row of the account: any other event breaks an attempt
    sel = acc_rows if mode == "strict" else acc_rows.filter(nw.col("event").is_in(wanted))
    seq = nw.col("seq") if "seq" in names else nw.lit(0)
    rows = collect(
        sel.select(
            nw.col("account_id").cast(nw.String),
            "timestamp",
            nw.col("event").cast(nw.String),
            seq.cast(nw.Int64).alias("seq"),
        )
    )
    variants = None
    if by_variant:
        v = acc_rows.filter(~nw.col("variant").is_null()).select(
            "account_id", "timestamp", nw.col("variant").cast(nw.String)
        )
        first = v.group_by("account_id").agg(nw.col("timestamp").min().alias("_first"))
        variants = collect(
            v.join(first, on="account_id", how="inner")
            .filter(nw.col("timestamp") == nw.col("_first"))
            .group_by("account_id")
            .agg(nw.col("variant").min())
        ).select(pl.col("account_id").cast(pl.String), pl.col("variant").cast(pl.String))
    return rows, data_end, variants


def _empty_per(steps: list[str]) -> pl.DataFrame:
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


def _match(
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


def _step_table(per: pl.DataFrame, steps: list[str]) -> pl.DataFrame:
    """Counts, conversions and times to convert per step from the per-account results."""
    n = len(steps)
    counted = per.filter(~pl.col("excluded"))
    f = counted["furthest_step"].to_numpy()
    counts = [int((f >= k).sum()) for k in range(1, n + 1)]
    rows = []
    for k in range(1, n + 1):
        c = counts[k - 1]
        conv = c / counts[0] if counts[0] else None
        prev = None if k == 1 or not counts[k - 2] else c / counts[k - 2]
        med = mean = None
        if k > 1:
            d = counted.filter(pl.col("furthest_step") >= k).select(
                (pl.col(f"step_{k}_at") - pl.col(f"step_{k - 1}_at")).dt.total_microseconds()
                / 1_000_000
            )
            d = d.to_series().filter(d.to_series() > 0)
            if d.len():
                med, mean = float(d.median()), float(d.mean())
        rows.append((k, steps[k - 1], c, conv, prev, med, mean))
    return pl.DataFrame(
        rows,
        schema={
            "step": pl.Int64,
            "event": pl.String,
            "count": pl.Int64,
            "conversion": pl.Float64,
            "conversion_from_previous": pl.Float64,
            "median_seconds_to_convert": pl.Float64,
            "mean_seconds_to_convert": pl.Float64,
        },
        orient="row",
    )


def _variant_tables(accounts: pl.DataFrame, steps: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-arm counts with Wilson intervals, and z-tests on the last step against the reference."""
    n = len(steps)
    counted = accounts.filter(~pl.col("excluded") & pl.col("variant").is_not_null())
    arms = sorted(counted["variant"].unique().to_list())
    rows = []
    lastc: dict[str, tuple[int, int]] = {}
    for arm in arms:
        f = counted.filter(pl.col("variant") == arm)["furthest_step"].to_numpy()
        base = int((f >= 1).sum())
        for k in range(1, n + 1):
            c = int((f >= k).sum())
            lo, hi = wilson_interval(c, base)
            rows.append((arm, k, steps[k - 1], c, c / base if base else None, lo, hi))
        lastc[arm] = (int((f >= n).sum()), base)
    var_df = pl.DataFrame(
        rows,
        schema={
            "variant": pl.String,
            "step": pl.Int64,
            "event": pl.String,
            "count": pl.Int64,
            "conversion": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
        },
        orient="row",
    )
    ref = "control" if "control" in arms else (arms[0] if arms else None)
    tests = []
    for arm in arms:
        if arm == ref:
            continue
        x1, n1 = lastc[arm]
        x2, n2 = lastc[ref]
        z, p = two_proportion_ztest(x1, n1, x2, n2)
        tests.append(
            (arm, ref, x1, n1, x2, n2, x1 / n1 if n1 else None, x2 / n2 if n2 else None, z, p)
        )
    tests_df = pl.DataFrame(
        tests,
        schema={
            "variant": pl.String,
            "reference": pl.String,
            "x": pl.Int64,
            "n": pl.Int64,
            "x_reference": pl.Int64,
            "n_reference": pl.Int64,
            "conversion": pl.Float64,
            "conversion_reference": pl.Float64,
            "z": pl.Float64,
            "p_value": pl.Float64,
        },
        orient="row",
    )
    return var_df, tests_df
