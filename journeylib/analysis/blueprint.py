"""The service blueprint's data: the touchpoints customers meet, and the tickets behind each stage.

It reads the same scope as the journey map
(:mod:`journeylib.analysis._scope`: the period's stream and the template's
touchpoints) and places each ticket on the stage its account was in
when it opened it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from journeylib.analysis._scope import scope, touchpoint_frame
from journeylib.analysis.stages import stage_pairs
from journeylib.frames import collect, to_lazy
from journeylib.months import filter_period

__all__ = ["blueprint_frames"]

_DERIVED_SOURCES = ("tickets", "surveys")  # derived moments that are not a stage step


def _ticket_stages(
    client: Any, stream: pl.DataFrame | pl.LazyFrame, tickets: pl.DataFrame
) -> pl.DataFrame:
    """Each ticket with the stage its account was in when it opened it (or null)."""
    order = client.template.stage_ids
    entries = (
        stream.lazy()
        .filter(
            pl.col("account_id").is_not_null(),
            pl.col("stage").is_in(order),
            ~pl.col("source").is_in(_DERIVED_SOURCES),
        )
        .group_by("account_id", "stage")
        .agg(pl.col("timestamp").min().alias("entered_at"))
        .collect()
        .with_columns(
            pl.col("stage")
            .replace_strict(order, list(range(len(order))), return_dtype=pl.Int64)
            .alias("idx")
        )
    )
    at = (
        tickets.select("ticket_id", "account_id", "opened_at")
        .join(entries, on="account_id", how="inner")
        .filter(pl.col("entered_at") <= pl.col("opened_at"))
        .group_by("ticket_id")
        .agg(pl.col("idx").max())
        .with_columns(
            pl.col("idx")
            .replace_strict(list(range(len(order))), order, return_dtype=pl.String)
            .alias("stage")
        )
    )
    return tickets.join(at.select("ticket_id", "stage"), on="ticket_id", how="left")


def blueprint_frames(
    client: Any, doc: Mapping[str, Any], stream: Any
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The front and back stage of the service blueprint.

    * **front**: every touchpoint met by at least one account in the period
      (``touchpoint_inventory`` over the period's rows): ``stage,
      touchpoint`` (its label), ``accounts``.
    * **back**: the tickets opened in the period, each placed on the stage its
      account was in when it opened it: the latest stage (in template order)
      the account had entered at or before ``opened_at``, counting stage
      entries from raw events and the accounts and subscriptions moments only
      (a ticket's own ``ticket_opened`` event would otherwise place it on the
      support touchpoint's stage). Tickets without an account or opened
      before any stage entry are left out. Per stage: ``tickets``,
      ``top_category`` (most tickets; ties by name) and
      ``resolution_hours_median`` (resolved tickets).

    ``doc`` is accepted for symmetry with the other builders; nothing is read from it.
    Stages are given by their label (pass ``stages=[label, …]`` in template
    order to the chart), categories with spaces for underscores.

    Returns:
        ``(front, back)`` as :func:`journeylib.charts.chart_service_blueprint` takes them.
    """
    del doc
    sc = scope(client, stream, None)
    inv = touchpoint_frame(client, sc)
    front = inv.filter(pl.col("accounts") > 0).select(
        "stage", pl.col("label").alias("touchpoint"), "accounts"
    )
    back_schema = {
        "stage": pl.String,
        "tickets": pl.Int64,
        "top_category": pl.String,
        "resolution_hours_median": pl.Float64,
    }
    tickets = client.table("tickets")
    if tickets is None:
        return front, pl.DataFrame(schema=back_schema)
    opened = collect(filter_period(to_lazy(tickets), "opened_at", sc.period))
    t = _ticket_stages(client, sc.stream, opened)
    t = t.filter(pl.col("stage").is_not_null()).with_columns(
        ((pl.col("resolved_at") - pl.col("opened_at")).dt.total_microseconds() / 3.6e9).alias(
            "hours"
        )
    )
    top = (
        t.group_by("stage", "category")
        .agg(pl.len().alias("n"))
        .sort(["stage", "n", "category"], descending=[False, True, False], nulls_last=True)
        .group_by("stage", maintain_order=True)
        .first()
        .select("stage", pl.col("category").alias("top_category"))
    )
    back = (
        t.group_by("stage")
        .agg(
            pl.len().cast(pl.Int64).alias("tickets"),
            pl.col("hours").median().alias("resolution_hours_median"),
        )
        .join(top, on="stage", how="left")
        .with_columns(
            pl.col("stage")
            .replace_strict(
                client.template.stage_ids,
                list(range(len(client.template.stage_ids))),
                return_dtype=pl.Int64,
            )
            .alias("_o")
        )
        .sort("_o")
        .select(list(back_schema))
        .cast(back_schema)
        .with_columns(pl.col("top_category").str.replace_all("_", " "))
    )
    labels = dict(stage_pairs(client.template))
    relabel = pl.col("stage").replace_strict(
        labels, default=pl.col("stage"), return_dtype=pl.String
    )
    return front.with_columns(relabel), back.with_columns(relabel)
