"""The client data a journey map is drawn for, shared by the map and the service blueprint.

Private to :mod:`journeylib.analysis`: :mod:`~journeylib.analysis.journey_map`
and :mod:`~journeylib.analysis.blueprint` read the same scope (the period's
stream and surveys, every account's or one persona's) and the same
touchpoints of the template.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import narwhals as nw
import polars as pl

from journeylib.frames import to_lazy, to_polars
from journeylib.ingest.restrict import restrict_to_accounts
from journeylib.metrics.period import resolve_period
from journeylib.months import filter_period
from journeylib.stream import touchpoint_inventory, touchpoint_table
from journeylib.stream.inventory import distinct_counts

T = TypeVar("T")

__all__ = ["Scope", "remembered", "scope", "touchpoint_frame"]

#: How many results :func:`remembered` keeps (a notebook draws a few maps of one client).
_REMEMBER = 32
_RESULTS: collections.OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = (
    collections.OrderedDict()
)


@dataclasses.dataclass(frozen=True)
class Scope:
    """The accounts, stream and surveys a map is drawn for (all accounts or one persona)."""

    accounts: pl.DataFrame
    stream: Any
    surveys: pl.DataFrame | None
    period: tuple[str, str]
    #: what the scope was made from: the stream as given and the persona (see remembered)
    origin: tuple[Any, str | None] = (None, None)


def scope(client: Any, stream: Any, persona: str | None) -> Scope:
    """The period's client data for a map: every account's, or the accounts of ``persona``.

    A polars stream stays as it comes, lazy or not (a store's stream is read
    from disk by each function that uses it); another engine's is collected.
    """
    period = resolve_period(client)
    accounts = client.tables["accounts"]
    surveys = client.table("surveys")
    if not isinstance(stream, pl.DataFrame | pl.LazyFrame):
        stream = to_polars(stream)
    tables = {"stream": stream, **({} if surveys is None else {"surveys": surveys})}
    if persona is not None:
        accounts = accounts.filter(pl.col("persona") == persona)
        tables = restrict_to_accounts(tables, accounts["account_id"])
    return Scope(accounts, tables["stream"], tables.get("surveys"), period, (stream, persona))


def remembered(kind: str, client: Any, sc: Scope, compute: Callable[[], T]) -> T:
    """``compute()`` for a scope, or its result already computed for an equal scope.

    A notebook draws the current and future-state maps, the service blueprint
    and the opportunity table of one client from the same stream: each needs
    the same stalled accounts, touchpoint counts and comment sentiment. Equal
    scopes are those of the same stream, accounts table, client settings and
    template objects (kept alive here, so their ids are not reused), persona
    and period; the last few results are kept.
    """
    stream, persona = sc.origin
    if stream is None:
        return compute()
    held = (stream, sc.accounts, client.config, client.template)
    key = (kind, persona, sc.period, *(id(x) for x in held))
    hit = _RESULTS.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], held, strict=True)):
        _RESULTS.move_to_end(key)
        return hit[1]
    result = compute()
    _RESULTS[key] = (held, result)
    while len(_RESULTS) > _REMEMBER:
        _RESULTS.popitem(last=False)
    return result


def touchpoint_frame(client: Any, sc: Scope) -> pl.DataFrame:
    """The template's touchpoints with their events and accounts in the period.

    A persona's counts come from one pass over the whole client's stream,
    grouped by touchpoint and persona, kept for every persona's map.
    """
    columns = ["stage", "touchpoint", "label", "kind", "events", "accounts"]
    stream, persona = sc.origin
    if persona is not None and stream is not None:
        whole = scope(client, stream, None)
        counts = remembered("touchpoints_by_persona", client, whole, lambda: _by_persona(whole))
        mine = counts.filter(pl.col("persona") == persona).drop("persona")
        return touchpoint_table(client.template, mine).select(columns)

    def compute() -> pl.DataFrame:
        inv = touchpoint_inventory(
            filter_period(to_lazy(sc.stream), "timestamp", sc.period).to_native(), client.template
        )
        return inv.select(columns)

    return remembered("touchpoints", client, sc, compute)


def _by_persona(sc: Scope) -> pl.DataFrame:
    """``[touchpoint, persona, rows, accounts]`` of the scope's period (accounts with a persona)."""
    personas = to_lazy(sc.accounts.select("account_id", "persona").drop_nulls("persona"))
    rows = filter_period(to_lazy(sc.stream), "timestamp", sc.period)
    mapped = rows.filter(~nw.col("touchpoint").is_null()).select("account_id", "touchpoint")
    return distinct_counts(mapped.join(personas, on="account_id"), ["touchpoint", "persona"])
