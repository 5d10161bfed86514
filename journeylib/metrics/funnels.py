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
at once (one pass per step, each a binary search; ``journeylib.metrics._attempts``),
so a million step events take a few seconds (mostly the sort).

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
from typing import Any, Literal, get_args

import narwhals as nw
import polars as pl

from journeylib.errors import ConfigError, check_choice
from journeylib.frames import collect, to_lazy
from journeylib.metrics._attempts import match_attempts
from journeylib.months import filter_period

__all__ = [
    "FunnelResult",
    "check_funnel_args",
    "funnel_json",
    "ordered_funnel",
    "parse_exclusion",
    "parse_window",
    "two_proportion_ztest",
    "wilson_interval",
]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_WINDOW = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)

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
    elif m := _WINDOW.match(str(window)):
        seconds = int(m.group(1)) * _UNITS[m.group(2).lower()]
    else:
        raise _bad_window(
            window,
            "a number and a unit s, m, h, d or w, like 14d or 300s",
            "write the window like 14d",
        )
    if seconds <= 0:
        raise _bad_window(window, "a positive duration", "give a window longer than 0, like 14d")
    return seconds


def _bad_window(window: str | int, expected: str, fix: str) -> ConfigError:
    # where= names the parameter; the CLI's errors name its flag instead (cli._name_flags)
    return ConfigError(
        "bad conversion window", where="window", expected=expected, found=repr(window), fix=fix
    )


def _bad_exclusions(what: str, expected: str, found: str, fix: str) -> ConfigError:
    # where= names the parameter, as in _bad_window
    return ConfigError(what, where="exclusions", expected=expected, found=found, fix=fix)


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
        or not parts[1].strip().isdecimal()
        or not parts[2].strip().isdecimal()
    ):
        raise _bad_exclusions(
            "bad exclusion",
            "EVENT:I:J with step indices counted from 0, like cancel:0:1",
            repr(text),
            "write the exclusion as EVENT:FROM_STEP:TO_STEP",
        )
    return parts[0], int(parts[1]), int(parts[2])


def check_funnel_args(
    steps: Sequence[str],
    *,
    window: str | int = "14d",
    mode: str = "ordered",
    exclusions: Sequence[Any] = (),
) -> tuple[list[str], int, list[tuple[str, int, int]]]:
    """The settings of :func:`ordered_funnel`, checked: ``(steps, window in seconds, exclusions)``.

    :func:`ordered_funnel` checks its settings with it; a caller that wants a
    bad setting reported before it loads any data (the CLI) calls it first.

    Raises:
        ConfigError: a bad setting; its ``where`` names the parameter
            (``steps``, ``window``, ``mode`` or ``exclusions``).

    Examples:
        >>> check_funnel_args(["view", "buy"], window="1h", exclusions=["cancel:0:1"])
        (['view', 'buy'], 3600, [('cancel', 0, 1)])
        >>> check_funnel_args(["view"], mode="sideways")
        Traceback (most recent call last):
        ...
        journeylib.errors.ConfigError: mode: unknown funnel mode (expected ordered, strict or unordered, found 'sideways'). Fix: use mode 'ordered'.
    """
    steps = [str(s) for s in steps]
    if not steps:
        raise ConfigError(
            "no funnel steps",
            where="steps",
            expected="at least one event name",
            found="nothing",
            fix="give the steps as a list of event names, like ['view', 'buy']",
        )
    check_choice(
        "funnel mode",
        mode,
        get_args(Mode),
        where="mode",
        fix="use mode 'ordered'",
        error=ConfigError,
    )
    return steps, parse_window(window), _check_exclusions(exclusions, len(steps), mode)


def _check_exclusions(
    exclusions: Sequence[Any], n_steps: int, mode: str
) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for ex in exclusions or []:
        x, i, j = (
            parse_exclusion(ex) if isinstance(ex, str) else (str(ex[0]), int(ex[1]), int(ex[2]))
        )
        if not 0 <= i < j <= n_steps - 1:
            raise _bad_exclusions(
                "bad exclusion step range",
                f"0 <= I < J <= {n_steps - 1} (step indices from 0)",
                f"{x}:{i}:{j}",
                "name two different steps of the funnel, the earlier first",
            )
        out.append((x, i, j))
    if out and mode == "unordered":
        raise _bad_exclusions(
            "exclusions are not supported in unordered mode",
            "mode 'ordered' or 'strict'",
            "mode 'unordered'",
            "drop the exclusions or use an ordered funnel",
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
    steps, w_sec, excl = check_funnel_args(steps, window=window, mode=mode, exclusions=exclusions)
    rows, data_end, variants = _collect_rows(
        stream_or_events, steps=steps, excl=excl, mode=mode, period=period, by_variant=by_variant
    )
    per = match_attempts(
        rows, steps=steps, excl=excl, mode=mode, w_us=w_sec * 1_000_000, data_end=data_end
    )
    # per already holds the columns of the accounts frame, in its order
    accounts = per.sort("account_id")
    var_df = tests_df = None
    if by_variant:
        accounts = accounts.join(variants, on="account_id", how="left")
        var_df, tests_df = _variant_tables(accounts, steps)
    return FunnelResult(
        steps=_step_table(per, steps),
        in_progress=per.filter(pl.col("in_progress")).height,
        accounts=accounts,
        excluded=per.filter(pl.col("excluded")).height,
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


_STEP_SCHEMA = {
    "step": pl.Int64,
    "event": pl.String,
    "count": pl.Int64,
    "conversion": pl.Float64,
    "conversion_from_previous": pl.Float64,
    "median_seconds_to_convert": pl.Float64,
    "mean_seconds_to_convert": pl.Float64,
}


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
    return pl.DataFrame(rows, schema=_STEP_SCHEMA, orient="row")


_VARIANT_SCHEMA = {
    "variant": pl.String,
    "step": pl.Int64,
    "event": pl.String,
    "count": pl.Int64,
    "conversion": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}

_TEST_SCHEMA = {
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
}


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
    var_df = pl.DataFrame(rows, schema=_VARIANT_SCHEMA, orient="row")
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
    tests_df = pl.DataFrame(tests, schema=_TEST_SCHEMA, orient="row")
    return var_df, tests_df
