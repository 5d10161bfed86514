"""The store's marts: small tables per account, per account × month and per account × day.

The heavy part of each mart, an aggregation over the journey stream of every
event, is a narwhals function (:func:`stage_entries`, :func:`first_events`,
:func:`day_activity`, :func:`touchpoint_months`): it runs on the engine of
the frames it is given (polars here, Spark for a client bigger than one
machine; ``tests/store/test_marts_spark.py`` checks they agree) and hands
back a polars frame of at most a few rows per account and day. The marts are
then finished in polars on those small results (:func:`build_marts`).

Definitions (UTC, as every metric):

``accounts`` (one row per account)
    ``account_key`` (UInt32, the account's position in ``account_id`` order:
    the integer key of the other marts' dictionary), ``account_id``,
    ``first_seen_at``, ``signup_at``, ``signup_month`` (``YYYY-MM``),
    ``persona``, ``channel`` (``acquisition_channel``), ``plan`` (the plan of
    the last paid month; the alphabetically first when it has several rows),
    ``first_paid_month`` and ``last_paid_month`` (months with ``mrr`` > 0),
    ``events`` (raw events of the account), one ``entered_<stage>`` per stage
    of the template (the first journey event mapped to that stage),
    ``activated_at`` (the first ``activation.event`` no later than
    ``activation.within_days`` after ``signup_at``; null when the account has
    no sign-up, none in time, or client.yaml sets no activation),
    ``first_value_at`` (the first ``first_value.event``) and one
    ``milestone_<id>`` per milestone of client.yaml (its event's first time).
``account_months`` (one row per account × month with events or MRR)
    ``account_id``, ``month`` (``YYYY-MM``), ``active_days`` (days with a raw
    event), ``events`` (raw events), ``mrr`` (0 when the account paid nothing
    that month), ``movement``: ``new`` (first paid month), ``reactivation``
    (paying again after at least one month at 0), ``expansion`` /
    ``contraction`` (more / less than the month before, both > 0), ``flat``
    (the same, > 0), ``churn`` (0 after a paid month: the month after the last
    paid one gets a row of its own), and null for a month without MRR that
    follows no paid month.
``account_touchpoints`` (one row per account × month × touchpoint)
    ``account_id``, ``month``, ``touchpoint``, ``events`` (journey events,
    derived ones included, mapped to the touchpoint).
``account_days`` (one row per account × day with a raw event)
    ``account_id``, ``day`` (Date), ``events``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.config import ClientConfig, JourneyTemplate
from journeylib.frames import collect, to_lazy
from journeylib.months import month_index_expr, month_index_of, month_label_expr

__all__ = [
    "active_months",
    "build_marts",
    "month_activity",
    "with_keys",
    "stream_aggregates",
    "sorted_stream_aggregates",
    "day_activity",
    "first_events",
    "stage_entries",
    "touchpoint_months",
]


def active_months(account_months: pl.LazyFrame) -> pl.LazyFrame:
    """One row per account and month with a raw event, at the month's first instant: ``[account_id, timestamp]``.

    From the ``account_months`` mart (``events > 0``): everything
    :func:`journeylib.metrics.retention.activity_retention` reads of the raw
    events, so it gives the same answer from far fewer rows.

    Examples:
        >>> m = pl.LazyFrame({"account_id": ["a", "a"], "month": ["2024-01", "2024-02"],
        ...                   "events": [3, 0]})
        >>> active_months(m).collect().rows()  # doctest: +ELLIPSIS
        [('a', datetime.datetime(2024, 1, 1, 0, 0, tzinfo=...))]
    """
    return account_months.filter(pl.col("events") > 0).select(
        "account_id",
        (pl.col("month") + "-01")
        .str.strptime(pl.Date, "%Y-%m-%d")
        .cast(pl.Datetime("us", "UTC"))
        .alias("timestamp"),
    )


def _known(stream: Any) -> nw.LazyFrame[Any]:
    return to_lazy(stream).filter(~nw.col("account_id").is_null())


def stage_entries(stream: Any) -> pl.DataFrame:
    """``[account_id, stage, entered_at]``: each account's first journey event of each stage.

    Examples:
        >>> t = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
        >>> s = pl.DataFrame({"account_id": ["a", "a", None], "stage": ["x", "x", "x"],
        ...                   "timestamp": [t, t - dt.timedelta(days=1), t]})
        >>> stage_entries(s).rows()
        [('a', 'x', datetime.datetime(2024, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')))]
    """
    lf = (
        _known(stream)
        .filter(~nw.col("stage").is_null())
        .group_by("account_id", "stage")
        .agg(nw.col("timestamp").min().alias("entered_at"))
    )
    return collect(lf).sort("account_id", "stage")


def first_events(stream: Any, events: list[str]) -> pl.DataFrame:
    """``[account_id, event, first_at]``: each account's first time of each of ``events``."""
    lf = (
        _known(stream)
        .filter(nw.col("event").is_in(list(events)))
        .group_by("account_id", "event")
        .agg(nw.col("timestamp").min().alias("first_at"))
    )
    return collect(lf).sort("account_id", "event")


def day_activity(stream: Any) -> pl.DataFrame:
    """``[account_id, day, events]``: raw events (``source == 'events'``) per account and UTC day."""
    lf = (
        _known(stream)
        .filter(nw.col("source") == "events")
        .with_columns(nw.col("timestamp").dt.date().alias("day"))
        .group_by("account_id", "day")
        .agg(nw.len().cast(nw.Int64).alias("events"))
    )
    return collect(lf).sort("account_id", "day")


def touchpoint_months(stream: Any) -> pl.DataFrame:
    """``[account_id, month, touchpoint, events]``: journey events per account, month and touchpoint."""
    lf = (
        _known(stream)
        .filter(~nw.col("touchpoint").is_null())
        .with_columns(month_index_of("timestamp").cast(nw.Int64).alias("mi"))
        .group_by("account_id", "mi", "touchpoint")
        .agg(nw.len().cast(nw.Int64).alias("events"))
    )
    out = collect(lf).sort("account_id", "mi", "touchpoint")
    return out.select("account_id", month_label_expr("mi").alias("month"), "touchpoint", "events")


def _movements(subscriptions: pl.DataFrame | None) -> pl.DataFrame:
    """``[account_id, mi, mrr, movement]`` from a subscriptions table (small: finished in polars)."""
    schema = {"account_id": pl.String, "mi": pl.Int64, "mrr": pl.Float64, "movement": pl.String}
    if subscriptions is None or subscriptions.height == 0:
        return pl.DataFrame(schema=schema)
    subs = subscriptions.select(
        "account_id",
        month_index_expr("month").alias("mi"),
        pl.col("mrr").fill_null(0.0),
    )
    subs = subs.group_by("account_id", "mi").agg(pl.col("mrr").sum())
    paid = subs.filter(pl.col("mrr") > 0)
    # every month from an account's first paid month to the month after its last one
    span = paid.group_by("account_id").agg(
        pl.col("mi").min().alias("lo"), (pl.col("mi").max() + 1).alias("hi")
    )
    grid = span.select("account_id", pl.int_ranges("lo", pl.col("hi") + 1).alias("mi")).explode(
        "mi"
    )
    full = (
        grid.join(subs, on=["account_id", "mi"], how="left")
        .with_columns(pl.col("mrr").fill_null(0.0))
        .sort("account_id", "mi")
    )
    prev = pl.col("mrr").shift(1).over("account_id")
    paid_before = (
        (pl.col("mrr") > 0).cast(pl.Int32).cum_sum().shift(1).over("account_id").fill_null(0)
    )
    movement = (
        pl.when((pl.col("mrr") > 0) & (paid_before == 0))
        .then(pl.lit("new"))
        .when((pl.col("mrr") > 0) & (prev == 0))
        .then(pl.lit("reactivation"))
        .when((pl.col("mrr") > 0) & (pl.col("mrr") > prev))
        .then(pl.lit("expansion"))
        .when((pl.col("mrr") > 0) & (pl.col("mrr") < prev))
        .then(pl.lit("contraction"))
        .when(pl.col("mrr") > 0)
        .then(pl.lit("flat"))
        .when(prev > 0)
        .then(pl.lit("churn"))
        .otherwise(None)
        .alias("movement")
    )
    full = full.with_columns(movement)
    # keep the paid months, the churn months, and months at 0 that the table lists
    listed = subs.select("account_id", "mi").with_columns(pl.lit(True).alias("_listed"))
    full = full.join(listed, on=["account_id", "mi"], how="left").filter(
        (pl.col("mrr") > 0) | pl.col("movement").is_not_null() | pl.col("_listed").fill_null(False)
    )
    unpaid = subs.join(
        paid.select("account_id").unique(), on="account_id", how="anti"
    ).with_columns(pl.lit(None, dtype=pl.String).alias("movement"))
    full = full.drop("_listed")
    return pl.concat([full, unpaid.select(full.columns)]).select(list(schema))


def _wanted_events(config: ClientConfig) -> dict[str, str | None]:
    """The mart columns that hold an event's first time, and their event."""
    return {
        "activation": config.activation.event if config.activation else None,
        "first_value": config.first_value.event if config.first_value else None,
        **{f"milestone_{m.id}": m.event for m in config.milestones},
    }


def stream_aggregates(stream: Any, config: ClientConfig) -> dict[str, pl.DataFrame]:
    """The aggregations of the stream the marts are made of (each a narwhals function).

    ``entries``, ``firsts``, ``days`` and ``touchpoints`` (the four functions
    above) and ``months``, the days summed per account and month
    (:func:`month_activity`). On a stream split into parts that each hold all
    the rows of their accounts (the store's buckets), the aggregates of the
    parts, concatenated in order, are the aggregates of the whole.
    """
    events = sorted({e for e in _wanted_events(config).values() if e})
    days = day_activity(stream)
    return {
        "entries": stage_entries(stream),
        "firsts": first_events(stream, events),
        "days": days,
        "months": month_activity(days),
        "touchpoints": touchpoint_months(stream),
    }


def sorted_stream_aggregates(stream: pl.DataFrame, config: ClientConfig) -> dict[str, pl.DataFrame]:
    """:func:`stream_aggregates` of a polars stream sorted by ``account_id``, grouped on integers.

    In a stream sorted by account (the store's buckets, in journey order)
    each account's rows are one run: the run's number (0, 1, … in the
    stream's order, null for the rows without an account) stands in for the
    ``account_id`` while the narwhals functions group, and the id is put back
    in their results, which are a few rows per account and day. The same
    frames as ``stream_aggregates(stream, config)``, in the same order:
    grouping on an integer instead of the text id took 5–20 % less CPU
    (the 10 M client's 21 buckets, three alternating rounds: 5.75 → 5.46,
    6.72 → 5.75 and 5.99 → 4.82 CPU-s), the wall time within the machine's
    noise. A stream not sorted by account gives wrong results: the caller
    sorts it.

    Examples:
        >>> from journeylib.config import ClientConfig
        >>> cfg = ClientConfig.model_validate({"client": "x", "journey": "y"})
        >>> t = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
        >>> s = pl.DataFrame({"account_id": ["a", "a", "b", None], "timestamp": [t] * 4,
        ...     "event": ["e"] * 4, "touchpoint": ["w"] * 4, "stage": ["x"] * 4,
        ...     "source": ["events"] * 4})
        >>> sorted_stream_aggregates(s, cfg)["days"].rows()
        [('a', datetime.date(2024, 1, 2), 2), ('b', datetime.date(2024, 1, 2), 1)]
    """
    account = stream.get_column("account_id")
    starts = account.ne_missing(account.shift(1))  # the first row of each run
    ids = account.filter(starts)
    run = pl.select(
        pl.when(account.is_not_null()).then(starts.cum_sum().cast(pl.Int64) - 1).cast(pl.UInt32)
    ).to_series()
    aggregates = stream_aggregates(stream.with_columns(run.alias("account_id")), config)
    return {
        name: frame.with_columns(ids.gather(frame.get_column("account_id")).alias("account_id"))
        for name, frame in aggregates.items()
    }


def month_activity(days: pl.DataFrame) -> pl.DataFrame:
    """``[account_id, mi, active_days, events]`` from :func:`day_activity` (mi: month index)."""
    return (
        days.with_columns(month_index_expr("day").alias("mi"))
        .group_by("account_id", "mi", maintain_order=True)
        .agg(pl.len().cast(pl.Int64).alias("active_days"), pl.col("events").sum())
    )


def build_marts(
    tables: dict[str, Any],
    stream: Any,
    config: ClientConfig,
    template: JourneyTemplate,
    *,
    aggregates: dict[str, pl.DataFrame] | None = None,
    keys: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The four small marts of a client, from its valid tables and journey stream.

    Args:
        tables: the valid tables (``accounts`` a polars DataFrame, ``subscriptions``
            one when present).
        stream: the journey event stream, a native frame of any engine (unused
            when ``aggregates`` are given).
        config: ``client.yaml`` (activation, first value, milestones).
        template: the journey template (its stages name the ``entered_*`` columns).
        aggregates: :func:`stream_aggregates` of the stream, when already computed;
            without ``days`` and ``touchpoints`` (a caller that wrote those marts
            itself, part by part) the result lacks ``account_days`` and
            ``account_touchpoints``.
        keys: ``[account_key, account_id]`` of the whole client, when ``tables``
            and ``aggregates`` hold some of its accounts only (the store builds
            the marts bucket by bucket); by default the keys are numbered here.

    Returns:
        ``{"accounts", "account_months", "account_touchpoints", "account_days"}``
        as polars DataFrames (module docstring: every column).
    """
    agg = aggregates if aggregates is not None else stream_aggregates(stream, config)
    accounts: pl.DataFrame = tables["accounts"]
    subs: pl.DataFrame | None = tables.get("subscriptions")
    ids = accounts.select("account_id").unique().sort("account_id")
    if keys is None:
        ids = ids.with_row_index("account_key")
    else:
        ids = ids.join(keys, on="account_id", how="left", maintain_order="left")
    acc = ids.join(accounts, on="account_id", how="left")
    acc = acc.select(
        pl.col("account_key").cast(pl.UInt32),
        "account_id",
        "first_seen_at",
        "signup_at",
        pl.col("signup_at").dt.strftime("%Y-%m").alias("signup_month"),
        "persona",
        pl.col("acquisition_channel").alias("channel"),
    ).unique("account_id", keep="first", maintain_order=True)

    moves = _movements(subs)
    paid = moves.filter(pl.col("mrr") > 0)
    if subs is not None and subs.height:
        last_paid = paid.group_by("account_id").agg(
            pl.col("mi").min().alias("first_mi"), pl.col("mi").max().alias("last_mi")
        )
        plan = (
            subs.filter(pl.col("mrr") > 0)
            .with_columns(month_index_expr("month").alias("mi"))
            .join(last_paid, on="account_id")
            .filter(pl.col("mi") == pl.col("last_mi"))
            .group_by("account_id")
            .agg(pl.col("plan").drop_nulls().sort().first().alias("plan"))
        )
        acc = (
            acc.join(last_paid, on="account_id", how="left")
            .join(plan, on="account_id", how="left")
            .with_columns(
                month_label_expr("first_mi").alias("first_paid_month"),
                month_label_expr("last_mi").alias("last_paid_month"),
            )
            .drop("first_mi", "last_mi")
        )
    else:
        acc = acc.with_columns(
            pl.lit(None, dtype=pl.String).alias(c)
            for c in ("plan", "first_paid_month", "last_paid_month")  # the order above
        )

    months = agg["months"]
    per_account = months.group_by("account_id").agg(pl.col("events").sum())
    acc = acc.join(per_account, on="account_id", how="left").with_columns(
        pl.col("events").fill_null(0)
    )

    entries = agg["entries"]
    for s in template.stages:
        col = f"entered_{s.id}"
        one = entries.filter(pl.col("stage") == s.id).select(
            "account_id", pl.col("entered_at").alias(col)
        )
        acc = acc.join(one, on="account_id", how="left")

    wanted = _wanted_events(config)
    firsts = agg["firsts"]
    ts_type = acc.schema["signup_at"]
    for col, event in wanted.items():
        if event is None:
            acc = acc.with_columns(pl.lit(None, dtype=ts_type).alias(col))
            continue
        one = firsts.filter(pl.col("event") == event).select(
            "account_id", pl.col("first_at").alias(col)
        )
        acc = acc.join(one, on="account_id", how="left")
    if config.activation is not None:
        within = dt.timedelta(days=config.activation.within_days)
        acc = acc.with_columns(
            pl.when(pl.col("activation") <= pl.col("signup_at") + within)
            .then(pl.col("activation"))
            .alias("activation")
        )
    acc = acc.rename({"activation": "activated_at", "first_value": "first_value_at"})

    account_months = (
        months.join(moves, on=["account_id", "mi"], how="full", coalesce=True)
        .with_columns(
            pl.col("active_days").fill_null(0),
            pl.col("events").fill_null(0),
            pl.col("mrr").fill_null(0.0),
        )
        .sort("account_id", "mi")
        .select(
            "account_id",
            month_label_expr("mi").alias("month"),
            "active_days",
            "events",
            "mrr",
            "movement",
        )
    )
    keyed = acc.select("account_id", "account_key")
    out = {
        "accounts": acc.sort("account_key"),
        "account_months": with_keys(account_months, keyed),
    }
    if "touchpoints" in agg:
        out["account_touchpoints"] = with_keys(agg["touchpoints"], keyed)
    if "days" in agg:
        out["account_days"] = with_keys(agg["days"], keyed)
    return out


def with_keys(frame: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the ``account_key`` of its ``account_id`` as its first column (rows kept in order)."""
    return keys.join(frame, on="account_id", how="right").select("account_key", *frame.columns)
