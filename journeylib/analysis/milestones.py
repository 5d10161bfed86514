"""Milestones of client.yaml: time to reach them, what reaching them is worth, who is stuck before them.

Each function reads the client's milestones and period and calls the milestone
metrics (:mod:`journeylib.metrics.milestones`,
:func:`journeylib.metrics.onboarding.first_value_times`), adding the
milestones' labels.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from journeylib.frames import collect, to_lazy, to_polars, write_csv_for_people
from journeylib.metrics import milestones as ms
from journeylib.metrics.onboarding import first_value_times
from journeylib.metrics.period import resolve_period
from journeylib.months import months_filter, period_index

__all__ = ["milestone_revenue", "milestone_table", "milestone_times", "stuck_table"]

_TS = pl.Datetime("us", "UTC")


def _by_milestone(
    client: Any,
    stream: Any,
    frame_of: Callable[[Any, pl.DataFrame, tuple[str, str], Any], pl.DataFrame],
) -> list[pl.DataFrame]:
    """``frame_of(accounts, stream, period, milestone)`` per milestone of client.yaml, led by its label.

    Each frame gets a first column ``milestone``: the milestone's label (its id without one).
    """
    if not client.config.milestones:
        return []
    period = resolve_period(client)
    accounts = client.tables["accounts"]
    if not isinstance(stream, pl.DataFrame | pl.LazyFrame):
        stream = to_polars(stream)  # another engine's: collected; a polars stream stays lazy
    return [
        frame_of(accounts, stream, period, m).select(
            pl.lit(m.label or m.id).alias("milestone"), pl.all()
        )
        for m in client.config.milestones
    ]


def milestone_times(client: Any, stream: Any) -> pl.DataFrame:
    """Per milestone and signup of the period: days from signup to the milestone's first event.

    Uses :func:`journeylib.metrics.onboarding.first_value_times` per
    milestone event (the same reading as ``metrics.milestones``: the first
    event at or after ``signup_at``, at any time in the data).

    Returns:
        ``pl.DataFrame[milestone (its label), id, account_id, days, reached]``;
        empty when client.yaml lists no milestones.
    """
    parts = _by_milestone(
        client,
        stream,
        lambda accounts, s, period, m: first_value_times(
            accounts, s, period=period, event=m.event
        ).select(
            pl.lit(m.id).alias("id"),
            "account_id",
            "days",
            pl.col("reached_at").is_not_null().alias("reached"),
        ),
    )
    schema = {
        "milestone": pl.String,
        "id": pl.String,
        "account_id": pl.String,
        "days": pl.Float64,
        "reached": pl.Boolean,
    }
    return pl.concat(parts).cast(schema) if parts else pl.DataFrame(schema=schema)


def milestone_table(client: Any, stream: Any) -> pl.DataFrame:
    """``metrics.milestones.milestones`` for the client's milestones, with their labels.

    Returns:
        ``pl.DataFrame[id, label, event, reached, signups, reached_share,
        median_days, retention_6m_reached, retention_6m_not_reached,
        paying_reached, paying_not_reached]``.
    """
    cfg = client.config.milestones
    out = ms.milestones(
        client.tables["accounts"],
        stream,
        client.table("subscriptions"),
        period=resolve_period(client),
        milestones=cfg,
    )
    labels = {m.id: m.label or m.id for m in cfg}
    return out.select(
        "id",
        pl.col("id")
        .replace_strict(labels, default=pl.col("id"), return_dtype=pl.String)
        .alias("label"),
        pl.exclude("id"),
    )


def milestone_revenue(client: Any, stream: Any) -> pl.DataFrame:
    """Revenue of the period's signups that reached each milestone against those that did not.

    Per milestone, over the period's signups (as :func:`milestone_times`):
    ``mrr_per_signup_*`` = the group's MRR in the period's last month
    divided by the group's signups (accounts not paying then count 0), and
    ``paying_share_*`` = the share of the group paying in that month. Null
    for an empty group; empty without subscriptions or milestones.

    Returns:
        ``pl.DataFrame[id, label, signups_reached, signups_not_reached,
        mrr_per_signup_reached, mrr_per_signup_not_reached,
        paying_share_reached, paying_share_not_reached]``.
    """
    schema = {
        "id": pl.String,
        "label": pl.String,
        "signups_reached": pl.Int64,
        "signups_not_reached": pl.Int64,
        "mrr_per_signup_reached": pl.Float64,
        "mrr_per_signup_not_reached": pl.Float64,
        "paying_share_reached": pl.Float64,
        "paying_share_not_reached": pl.Float64,
    }
    subs = client.table("subscriptions")
    times = milestone_times(client, stream)
    if subs is None or times.height == 0:
        return pl.DataFrame(schema=schema)
    last = period_index(resolve_period(client))[1]
    lf = to_lazy(subs)
    mrr = (
        collect(lf.filter(months_filter(lf, "month", last, last)))
        .group_by("account_id")
        .agg(pl.col("mrr").sum().alias("mrr"))
    )
    g = (
        times.join(mrr, on="account_id", how="left")
        .with_columns(pl.col("mrr").fill_null(0.0))
        .group_by("id", "milestone", "reached", maintain_order=True)
        .agg(
            pl.len().cast(pl.Int64).alias("n"),
            pl.col("mrr").mean().alias("mrr"),
            (pl.col("mrr") > 0).mean().alias("paying"),
        )
    )

    def pick(flag: bool, col: str) -> pl.Expr:
        return pl.col(col).filter(pl.col("reached") == flag).first()

    out = (
        g.group_by("id", "milestone", maintain_order=True)
        .agg(
            pick(True, "n").alias("signups_reached"),
            pick(False, "n").alias("signups_not_reached"),
            pick(True, "mrr").alias("mrr_per_signup_reached"),
            pick(False, "mrr").alias("mrr_per_signup_not_reached"),
            pick(True, "paying").alias("paying_share_reached"),
            pick(False, "paying").alias("paying_share_not_reached"),
        )
        .rename({"milestone": "label"})
    )
    return (
        out.with_columns(pl.col("signups_reached", "signups_not_reached").fill_null(0))
        .select(list(schema))
        .cast(schema)
    )


def stuck_table(client: Any, stream: Any, *, out_dir: str | Path | None = None) -> pl.DataFrame:
    """The period's signups that have not reached each milestone yet, for follow-up.

    ``metrics.milestones.stuck_before`` per milestone, stacked, with the
    account's name. When ``out_dir`` is given the whole table is also written
    to ``out_dir/tables/stuck_before_milestones.csv``.

    Returns:
        ``pl.DataFrame[milestone, account_id, name, persona, signup_at, days_since_signup]``.
    """
    accounts = client.tables["accounts"]
    names = accounts.select("account_id", *(["name"] if "name" in accounts.columns else []))
    parts = _by_milestone(
        client,
        stream,
        lambda accounts, s, period, m: ms.stuck_before(
            accounts, s, milestone_event=m.event, period=period
        ),
    )
    schema = {
        "milestone": pl.String,
        "account_id": pl.String,
        "name": pl.String,
        "persona": pl.String,
        "signup_at": _TS,
        "days_since_signup": pl.Float64,
    }
    if not parts:
        out = pl.DataFrame(schema=schema)
    else:
        out = pl.concat(parts).join(names, on="account_id", how="left")
        if "name" not in out.columns:
            out = out.with_columns(pl.lit(None, dtype=pl.String).alias("name"))
        out = out.select(list(schema)).cast(schema)
    if out_dir is not None:
        # for people: text cells that would open as formulas in a spreadsheet get a leading '
        write_csv_for_people(out, Path(out_dir) / "tables" / "stuck_before_milestones.csv")
    return out
