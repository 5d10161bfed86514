"""What drives conversion: events and account properties that go with completing a funnel.

Definitions: ``shared/spec/analytics.md`` § 4, over the ordered funnel of
``shared/spec/metrics.md`` § Ordered funnels. Each account's *counted attempt*
is the best attempt :func:`journeylib.metrics.funnels.ordered_funnel` reports
(its first completion, else the latest-starting attempt reaching its furthest
step); successes reached the last step, failures did not and their window has
closed (accounts still in progress are in neither group).

For each candidate (a raw event name that is not a step, or a value of an
account property) with ``s`` successes and ``f`` failures where it occurs, out
of ``S`` successes and ``F`` failures: ``odds_ratio = ((s + 1) / (f + 1)) /
((S − s + 1) / (F − f + 1))``, ``p_value`` = the two-sided Fisher exact test
on ``[[s, f], [S − s, F − f]]``, ``kind`` = ``success`` when the odds ratio is
above 1, else ``failure``.

How it runs: the funnel collects the step rows it needs (on the input's own
engine, through narwhals). The raw events are then filtered lazily on that
engine to the period and to the funnel's successes and failures, and only
``account_id, timestamp, event`` are collected; the windows are joined to
them in polars. Every window lies inside the period (a failure's window closed
before the funnel's end), so the period filter loses nothing.

Readings of the spec chosen here:

* "At or after the step-1 event" and "no later than" compare timestamps, both
  bounds inclusive: an event at the same instant as the step-1 event counts
  whatever its file order, as equal timestamps count between funnel steps.
* A success's window ends at its counted attempt's step-n event; a failure's
  at ``attempt_start + W`` (inclusive, as the funnel's window bound).
* Candidate events are the raw events (``source == "events"``; every row
  when the input has no ``source`` column) with an ``account_id``. The frames
  list the events and property values that occur for at least one success
  or failure (the others have ``s + f = 0``); :func:`correlation_json` then
  leaves out those with ``s + f < 5``.
* The odds ratio is computed as ``(s + 1)(F − f + 1) / ((f + 1)(S − s + 1))``,
  the spec's formula with one rounding, and ``kind`` compares those integers,
  so an odds ratio of exactly 1 is always ``failure``.
* A step must appear in some row of the input (raw or derived, any time).
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import polars as pl
from scipy.stats import fisher_exact

from journeylib.analysis._properties import DEFAULT_PROPERTIES, check_columns, property_values
from journeylib.errors import ConfigError, check_choice
from journeylib.frames import account_parts, added_up, collect, missing_values, to_lazy, whole
from journeylib.metrics.funnels import check_funnel_args, ordered_funnel
from journeylib.months import filter_period

__all__ = [
    "CONVERSION_WINDOW",
    "CorrelationResult",
    "conversion_funnel",
    "correlation_json",
    "funnel_correlation",
    "leading_events",
    "strength",
]

#: The window of :func:`conversion_funnel` (sign-up to first payment).
CONVERSION_WINDOW = "30d"

_EVENT_SCHEMA = {
    "event": pl.String,
    "success_count": pl.Int64,
    "failure_count": pl.Int64,
    "odds_ratio": pl.Float64,
    "p_value": pl.Float64,
    "kind": pl.String,
}
_PROPERTY_SCHEMA = {"column": pl.String, "value": pl.String} | {
    k: v for k, v in _EVENT_SCHEMA.items() if k != "event"
}
_MODES = ("ordered", "strict")
# Above this many accounts the raw events are not filtered by an id list on the engine
# (a huge IN list costs more than it saves); the join in polars keeps the right ones.
_MAX_ID_FILTER = 50_000


@dataclass(frozen=True)
class CorrelationResult:
    """The result of :func:`funnel_correlation`.

    Attributes:
        success_total: S, the accounts whose counted attempt reached the last step.
        failure_total: F, the accounts that entered step 1, did not reach the
            last step and whose window has closed.
        events: ``[event, success_count, failure_count, odds_ratio, p_value,
            kind]``, one row per raw event name (not a step) occurring for at
            least one success or failure, sorted by |ln odds_ratio| descending,
            then event.
        properties: ``[column, value, success_count, failure_count,
            odds_ratio, p_value, kind]``, one row per property value held by
            at least one success or failure, sorted by |ln odds_ratio|
            descending, then column, then value.
    """

    success_total: int
    failure_total: int
    events: pl.DataFrame
    properties: pl.DataFrame


def funnel_correlation(
    stream: Any,
    accounts: Any,
    *,
    steps: Sequence[str],
    window: str | int = "14d",
    mode: str = "ordered",
    period: tuple[str, str] | None = None,
    properties: Sequence[str] | None = None,
) -> CorrelationResult:
    """Which events and account properties go with completing an ordered funnel.

    See the module docstring for the definitions and the readings chosen.

    Args:
        stream: the journey stream (or raw events) on any narwhals-supported
            engine: ``account_id``, ``timestamp``, ``event``, and optionally
            ``source`` (raw events are ``events``) and ``seq``; or the store's
            stream in account parts (``Store.stream_parts``): the candidate
            events are then counted part by part, in the memory of one part.
        accounts: the accounts table (``account_id`` and the property columns), any engine.
        steps: event names e1 … en (raw or derived), at least two.
        window: conversion window (``14d``, ``300s``, ``5m``, ``1h`` or seconds).
        mode: ``ordered`` or ``strict``.
        period: closed range of calendar months; None means all rows.
        properties: account columns to study; None means those of
            ``persona, acquisition_channel, industry`` the accounts have.
            Numeric columns are banded in quartiles over the successes and failures.

    Returns:
        A :class:`CorrelationResult` (all candidates; :func:`correlation_json`
        applies the spec's ``s + f >= 5`` cut).

    Raises:
        ConfigError: fewer than two steps, a step in no row of the stream, an
            unknown or ``unordered`` mode, a bad window, or a property column
            the accounts lack.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> stream = pl.DataFrame({
        ...     "account_id": ["a", "a", "a", "b", "b", "c", "c"],
        ...     "timestamp": [t(1), t(2), t(3), t(1), t(2), t(1), t(20)],
        ...     "event": ["view", "demo", "buy", "view", "demo", "view", "login"]})
        >>> accounts = pl.DataFrame({"account_id": ["a", "b", "c"], "plan": ["pro", "pro", "free"]})
        >>> r = funnel_correlation(stream, accounts, steps=["view", "buy"], window="7d",
        ...                        properties=["plan"])
        >>> r.success_total, r.failure_total
        (1, 2)
        >>> r.events.rows()
        [('demo', 1, 1, 2.0, 1.0, 'success')]
        >>> r.properties.select("value", "success_count", "failure_count", "odds_ratio").rows()
        [('free', 0, 1, 0.5), ('pro', 1, 1, 2.0)]
    """
    step_list, w_sec = _check_args(steps, window=window, mode=mode)
    columns = _property_columns(accounts, properties)
    parts = account_parts(stream)
    lf = to_lazy(whole(stream))
    _check_steps_exist(lf, step_list)
    funnel = ordered_funnel(lf, steps=step_list, window=w_sec, mode=mode, period=period)
    groups = _groups(funnel.accounts, len(step_list), w_sec)
    totals = groups.group_by("success").len()
    s_total = int(totals.filter(pl.col("success"))["len"].sum())
    f_total = int(totals.filter(~pl.col("success"))["len"].sum())
    # the candidate events' counts, part by part for a stream in account parts (an
    # account's rows are all in one part, so the parts' counts add up)
    counted = [
        _counts(
            _occurred(to_lazy(part) if len(parts) > 1 else lf, groups, step_list, period), ["event"]
        )
        for part in parts
    ]
    events = _stats(added_up(counted, ["event"]), s_total, f_total, ["event"], _EVENT_SCHEMA)
    props = [
        property_values(accounts, column, among=groups["account_id"])
        .drop_nulls("value")
        .join(groups.select("account_id", "success"), on="account_id", how="inner")
        .select(pl.lit(column).alias("column"), "value", "success")
        for column in columns
    ]
    prop_counts = _counts(pl.concat(props), ["column", "value"]) if props else None
    return CorrelationResult(
        success_total=s_total,
        failure_total=f_total,
        events=events,
        properties=_stats(prop_counts, s_total, f_total, ["column", "value"], _PROPERTY_SCHEMA),
    )


def conversion_funnel(client: Any) -> list[str] | None:
    """The client's main funnel for "what drives conversion": sign-up, then first payment.

    ``["signed_up", "subscription_started"]`` (the journey stream's events for
    ``accounts.signup_at`` and the first paid month) when some account has a
    sign-up time and some subscription month is paid (MRR above 0); None
    otherwise (no such funnel to study). The
    configured activation event is left out of the steps on purpose: as a
    candidate event its odds ratio says how well it goes with paying. The
    notebooks run it with :data:`CONVERSION_WINDOW`.

    Examples:
        >>> import types
        >>> acc = pl.DataFrame({"account_id": ["a"], "signup_at": [dt.datetime(2024, 1, 2)]})
        >>> subs = pl.DataFrame({"account_id": ["a"], "mrr": [0.0]})
        >>> client = types.SimpleNamespace(tables={"accounts": acc, "subscriptions": subs})
        >>> conversion_funnel(client) is None
        True
        >>> client.tables["subscriptions"] = pl.DataFrame({"account_id": ["a"], "mrr": [49.0]})
        >>> conversion_funnel(client)
        ['signed_up', 'subscription_started']
    """
    tables = client.tables
    if tables.get("subscriptions") is None or tables.get("accounts") is None:
        return None
    signed = collect(
        to_lazy(tables["accounts"]).select((~nw.col("signup_at").is_null()).any().alias("any"))
    )
    paid = collect(to_lazy(tables["subscriptions"]).select((nw.col("mrr") > 0).any().alias("any")))
    if not (signed["any"][0] and paid["any"][0]):
        return None
    return ["signed_up", "subscription_started"]


def leading_events(doc: dict[str, Any], template: Any, *, last_step: str) -> dict[str, Any]:
    """The correlation document without the events that are part of converting.

    What drives a conversion happens before it. The events the journey
    template maps to the touchpoint of ``last_step`` (checkout and payment for
    ``subscription_started``) or to a stage after that touchpoint's stage (the
    onboarding and product use that follow paying) go with converting by
    construction and would lead any list by odds ratio; this view leaves them
    out, and keeps the other events of the conversion's stage (a demo, a sales
    call). Events the template maps to no touchpoint are left out too. When
    ``last_step`` maps to no touchpoint the document is returned unchanged.
    The properties are kept as they are. The report and the notebooks show
    this view; ``journey correlation`` lists every event, as analytics.md § 4
    says.

    Examples:
        >>> import types
        >>> t = types.SimpleNamespace(stage_ids=["a", "b", "c"], event_map=lambda: {
        ...     "demo": ("t1", "b"), "pay": ("t2", "b"), "paid": ("t2", "b"), "use": ("t3", "c")})
        >>> doc = {"events": [{"event": e} for e in ("pay", "demo", "use", "other")], "properties": []}
        >>> [e["event"] for e in leading_events(doc, t, last_step="paid")["events"]]
        ['demo']
    """
    mapped = template.event_map()
    if last_step not in mapped:
        return doc
    order = {stage: i for i, stage in enumerate(template.stage_ids)}
    touchpoint, stage = mapped[last_step]

    def before(event: str) -> bool:
        tp, st = mapped[event]
        return order[st] < order[stage] or (order[st] == order[stage] and tp != touchpoint)

    kept = [e for e in doc["events"] if e["event"] in mapped and before(e["event"])]
    return {**doc, "events": kept}


def correlation_json(result: CorrelationResult) -> dict[str, Any]:
    """The ``journey correlation --json`` shape of a result.

    ``{"success_total", "failure_total", "events": [{event, success_count,
    failure_count, odds_ratio, p_value, kind}], "properties": [{column, value,
    success_count, failure_count, odds_ratio, p_value, kind}]}``, each list
    sorted by |ln odds_ratio| descending, then event (or column, then value),
    items with ``success_count + failure_count < 5`` left out.

    Examples:
        >>> ev = pl.DataFrame({"event": ["x", "y"], "success_count": [4, 1],
        ...     "failure_count": [1, 1], "odds_ratio": [2.5, 1.2], "p_value": [0.2, 1.0],
        ...     "kind": ["success", "success"]})
        >>> r = CorrelationResult(5, 5, ev, pl.DataFrame(schema=_PROPERTY_SCHEMA))
        >>> correlation_json(r)
        {'success_total': 5, 'failure_total': 5, 'events': [{'event': 'x', 'success_count': 4, 'failure_count': 1, 'odds_ratio': 2.5, 'p_value': 0.2, 'kind': 'success'}], 'properties': []}
    """
    return {
        "success_total": result.success_total,
        "failure_total": result.failure_total,
        "events": _kept(result.events, ["event"]).to_dicts(),
        "properties": _kept(result.properties, ["column", "value"]).to_dicts(),
    }


# ---------------------------------------------------------------- checks
def _check_args(steps: Sequence[str], *, window: str | int, mode: str) -> tuple[list[str], int]:
    """The steps and window (seconds), checked; ``unordered`` has no counted attempt here."""
    if isinstance(steps, str) or len(list(steps)) < 2:
        raise ConfigError(
            "a funnel correlation needs at least two steps",
            where="steps",
            expected="two or more event names, like ['view', 'buy']",
            found=repr(steps if isinstance(steps, str) else list(steps)),
            fix="give the funnel's steps in order, at least two",
        )
    if mode == "unordered":
        # an unordered funnel has spans, not the counted attempt the occurrence window needs
        raise ConfigError(
            "funnel correlation has no unordered mode",
            where="mode",
            expected="ordered or strict",
            found=repr(mode),
            fix="use mode 'ordered'",
        )
    check_choice(
        "funnel mode", mode, _MODES, where="mode", fix="use mode 'ordered'", error=ConfigError
    )
    step_list, w_sec, _ = check_funnel_args(steps, window=window, mode=mode)
    return step_list, w_sec


def _property_columns(accounts: Any, properties: Sequence[str] | None) -> list[str]:
    """The property columns studied, checked against the accounts table."""
    if properties is None:
        names = to_lazy(accounts).collect_schema().names()
        return [c for c in DEFAULT_PROPERTIES if c in names]
    columns = [str(c) for c in properties]
    check_columns(accounts, columns)
    return columns


def _check_steps_exist(lf: nw.LazyFrame[Any], steps: list[str]) -> None:
    """A step that appears in no row of the stream is a one-line error naming it."""
    names = lf.collect_schema().names()
    if "event" not in names:
        return  # ordered_funnel reports the missing columns
    for step in missing_values(lf, "event", steps)[:1]:
        raise ConfigError(
            "funnel step appears in no row of the data",
            where="steps",
            expected="an event name of the stream, raw or derived",
            found=repr(step),
            fix="check the spelling of the step (event names are case-sensitive)",
        )


# ---------------------------------------------------------------- data
def _groups(per: pl.DataFrame, n: int, w_sec: int) -> pl.DataFrame:
    """Successes and failures with their occurrence windows ``[_lo, _hi]``."""
    last = pl.col(f"step_{n}_at")
    return per.filter(
        ~pl.col("excluded") & ~pl.col("in_progress") & (pl.col("furthest_step") >= 1)
    ).select(
        pl.col("account_id"),
        (pl.col("furthest_step") == n).alias("success"),
        pl.col("step_1_at").alias("_lo"),
        pl.when(pl.col("furthest_step") == n)
        .then(last)
        .otherwise(pl.col("attempt_start") + pl.duration(seconds=w_sec))
        .alias("_hi"),
    )


def _raw_events(
    lf: nw.LazyFrame[Any], groups: pl.DataFrame, steps: list[str], period: tuple[str, str] | None
) -> pl.DataFrame:
    """The raw events of the groups' accounts in the period (not steps), filtered on the engine."""
    names = lf.collect_schema().names()
    rows = filter_period(lf, "timestamp", period).filter(
        ~nw.col("account_id").is_null(), ~nw.col("event").is_in(steps)
    )
    if "source" in names:
        rows = rows.filter(nw.col("source") == "events")
    ids = groups["account_id"].to_list()
    if not ids:
        return pl.DataFrame(
            schema={
                "account_id": pl.String,
                "timestamp": pl.Datetime("us", "UTC"),
                "event": pl.String,
            }
        )
    account = nw.col("account_id").cast(nw.String)
    if len(ids) <= _MAX_ID_FILTER:
        rows = rows.filter(account.is_in(ids))
    out = collect(
        rows.select(account.alias("account_id"), "timestamp", nw.col("event").cast(nw.String))
    )
    return out.with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC")))


def _occurred(
    lf: nw.LazyFrame[Any], groups: pl.DataFrame, steps: list[str], period: tuple[str, str] | None
) -> pl.DataFrame:
    """One row per (account, candidate event) that occurred in the account's window, with ``success``."""
    raw = _raw_events(lf, groups, steps, period)
    return (
        raw.join(groups, on="account_id", how="inner")
        .filter((pl.col("timestamp") >= pl.col("_lo")) & (pl.col("timestamp") <= pl.col("_hi")))
        .select("account_id", "event", "success")
        .unique()
    )


def _counts(occurred: pl.DataFrame | None, keys: list[str]) -> pl.DataFrame | None:
    """Successes and failures per candidate, from one row per (account, candidate)."""
    if occurred is None:
        return None
    return occurred.group_by(keys).agg(
        pl.col("success").sum().cast(pl.Int64).alias("success_count"),
        (~pl.col("success")).sum().cast(pl.Int64).alias("failure_count"),
    )


def _stats(
    counts: pl.DataFrame | None,
    s_total: int,
    f_total: int,
    keys: list[str],
    schema: dict[str, Any],
) -> pl.DataFrame:
    """Odds ratios, Fisher p-values and kinds of the candidates, sorted as the spec lists them."""
    if counts is None or counts.height == 0:
        return pl.DataFrame(schema=schema)
    s, f = pl.col("success_count"), pl.col("failure_count")
    num = (s + 1) * (f_total - f + 1)
    den = (f + 1) * (s_total - s + 1)
    pairs = counts.select("success_count", "failure_count").unique()
    p_values = pairs.with_columns(
        pl.Series(
            "p_value",
            [
                _fisher(a, b, s_total, f_total)
                for a, b in zip(pairs["success_count"], pairs["failure_count"], strict=True)
            ],
            dtype=pl.Float64,
        )
    )
    out = counts.join(p_values, on=["success_count", "failure_count"], how="left").with_columns(
        (num.cast(pl.Float64) / den.cast(pl.Float64)).alias("odds_ratio"),
        pl.when(num > den).then(pl.lit("success")).otherwise(pl.lit("failure")).alias("kind"),
    )
    return _sorted(out.select(list(schema)).cast(schema), keys)


def _fisher(s: int, f: int, s_total: int, f_total: int) -> float:
    """Two-sided Fisher exact test on ``[[s, f], [S − s, F − f]]``."""
    return float(fisher_exact([[s, f], [s_total - s, f_total - f]], alternative="two-sided").pvalue)


def strength() -> pl.Expr:
    """The sort key of § 4: |ln odds_ratio| as the ratio max(OR, 1/OR), to 12 significant digits.

    Reciprocal odds ratios (a/b and b/a) are equally strong; computed in floats
    their logarithms differ in the last bit, which would order them by rounding
    noise instead of by name. Rounded, equal strengths tie and the names decide.

    Examples:
        >>> pl.DataFrame({"odds_ratio": [15 / 8, 8 / 15, 2.0]}).select(strength()).to_series().to_list()
        [1.875, 1.875, 2.0]
    """
    odds = pl.col("odds_ratio")
    return pl.max_horizontal(odds, 1 / odds).round_sig_figs(12)


def _sorted(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """By |ln odds_ratio| descending (:func:`strength`), then the keys ascending."""
    return (
        frame.with_columns(strength().alias("_strength"))
        .sort(["_strength", *keys], descending=[True] + [False] * len(keys))
        .drop("_strength")
    )


def _kept(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The spec's list: ``s + f >= 5``, sorted."""
    kept = frame.filter(pl.col("success_count") + pl.col("failure_count") >= 5)
    return _sorted(kept, keys)
