"""The client data a journey map is drawn for, shared by the map and the service blueprint.

Private to :mod:`journeylib.analysis`: :mod:`~journeylib.analysis.journey_map`
and :mod:`~journeylib.analysis.blueprint` read the same scope (the period's
stream and surveys, every account's or one persona's) and the same
touchpoints of the template.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl

from journeylib.frames import collect, to_lazy, to_polars
from journeylib.ingest.restrict import restrict_to_accounts
from journeylib.metrics.period import resolve_period
from journeylib.months import filter_period
from journeylib.stream import touchpoint_inventory

__all__ = ["Scope", "scope", "touchpoint_frame"]


@dataclasses.dataclass(frozen=True)
class Scope:
    """The accounts, stream and surveys a map is drawn for (all accounts or one persona)."""

    accounts: pl.DataFrame
    stream: pl.DataFrame
    surveys: pl.DataFrame | None
    period: tuple[str, str]


def scope(client: Any, stream: Any, persona: str | None) -> Scope:
    """The period's client data for a map: every account's, or the accounts of ``persona``."""
    period = resolve_period(client)
    accounts = client.tables["accounts"]
    surveys = client.table("surveys")
    tables = {"stream": to_polars(stream), **({} if surveys is None else {"surveys": surveys})}
    if persona is not None:
        accounts = accounts.filter(pl.col("persona") == persona)
        tables = restrict_to_accounts(tables, accounts["account_id"])
    return Scope(accounts, tables["stream"], tables.get("surveys"), period)


def touchpoint_frame(client: Any, sc: Scope) -> pl.DataFrame:
    """The template's touchpoints with their events and accounts in the period."""
    inv = touchpoint_inventory(
        collect(filter_period(to_lazy(sc.stream), "timestamp", sc.period)), client.template
    )
    return inv.select("stage", "touchpoint", "label", "kind", "events", "accounts")
