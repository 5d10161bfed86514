"""Onboarding steps: the path of the onboarding map and the steps of the A/B micro-journey."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import collect, to_lazy
from journeylib.metrics.funnels import ordered_funnel
from journeylib.stream import DERIVED_EVENTS

__all__ = ["onboarding_steps", "variant_steps"]


def _onboarding_stage(template: Any) -> Any | None:
    for s in template.stages:
        if s.id == "onboarding":
            return s
    for s in template.stages:
        if "onboarding" in [p.lower() for p in s.phases]:
            return s
    return None


def _typical_order(stream: pl.DataFrame, events: list[str]) -> pl.DataFrame:
    """Per event: accounts doing it and the median days from the account's first of ``events``."""
    s = stream.filter(pl.col("account_id").is_not_null(), pl.col("event").is_in(events))
    firsts = s.group_by("account_id", "event").agg(pl.col("timestamp").min().alias("t"))
    return (
        firsts.with_columns(pl.col("t").min().over("account_id").alias("t0"))
        .group_by("event")
        .agg(
            pl.len().alias("accounts"),
            ((pl.col("t") - pl.col("t0")).dt.total_seconds() / 86400).median().alias("offset"),
        )
        .sort(["offset", "accounts", "event"], descending=[False, True, False])
    )


def onboarding_steps(
    client: Any, stream: Any, *, max_steps: int = 5, window: str = "30d", keep: float = 0.5
) -> list[str]:
    """The onboarding stage's steps for the onboarding map: its entry, then its key moments.

    Candidates are the raw events the template lists under the onboarding
    stage (id ``onboarding``, else the stage whose phases include
    "onboarding", e.g. the five-stage model's conversion). The path starts at
    the candidate that comes first in a typical account's onboarding (least
    median time from the account's first candidate event, among those done by
    at least ``keep`` of the accounts doing the most common one). Then come
    the candidates client.yaml names as key moments (the activation event,
    the first-value event, milestone events), in their typical order. Without
    such events the path is built greedily: the candidate that keeps the most
    accounts in an ordered funnel (``window``) is appended until the next
    step would keep fewer than ``keep`` of the previous step's accounts.
    Optional side steps taken in any order (an email opened, a tutorial
    watched) would otherwise break an ordered funnel.

    Returns:
        Event names (at most ``max_steps``); empty when the template has no
        onboarding stage or nobody onboarded.
    """
    stage = _onboarding_stage(client.template)
    if stage is None:
        return []
    events = list(
        dict.fromkeys(e for tp in stage.touchpoints for e in tp.events if e not in DERIVED_EVENTS)
    )
    s = collect(  # filtered where the stream lives: only the candidates' rows are read
        to_lazy(stream).filter(
            nw.col("source") == "events",
            nw.col("event").is_in(events),
            ~nw.col("account_id").is_null(),
        )
    )
    order = _typical_order(s, events)
    if order.height == 0:
        return []
    top = order["accounts"].max()
    first = order.filter(pl.col("accounts") >= keep * top).row(0, named=True)
    cfg = client.config
    key = {m.event for m in cfg.milestones}
    key |= {x.event for x in (cfg.activation, cfg.first_value) if x is not None}
    named = [e for e in order["event"].to_list() if e in key and e != first["event"]]
    if named:
        return [first["event"], *named][:max_steps]
    path, n_prev = [first["event"]], first["accounts"]
    rest = [e for e in order["event"].to_list() if e != first["event"]]
    s = s.select("account_id", "timestamp", "event", "seq")
    while rest and len(path) < max_steps:
        counts = {
            e: int(ordered_funnel(s, steps=[*path, e], window=window).steps["count"][-1])
            for e in rest
        }
        best = max(rest, key=lambda e: (counts[e], -rest.index(e)))
        if counts[best] < keep * n_prev:
            break
        path.append(best)
        rest.remove(best)
        n_prev = counts[best]
    return path


def variant_steps(stream: Any, *, max_steps: int = 5) -> list[str]:
    """The events that carry an A/B ``variant``, in their typical order (the micro-journey).

    Ordered by the median time from the account's first variant-carrying
    event, then by accounts; empty when no event has a variant.

    Examples:
        >>> import datetime as dt
        >>> t = lambda h: dt.datetime(2024, 1, 1, h, tzinfo=dt.timezone.utc)
        >>> s = pl.DataFrame({"account_id": ["a", "a", "a"], "timestamp": [t(2), t(1), t(3)],
        ...     "event": ["pay", "checkout", "login"], "variant": ["B", "B", None]})
        >>> variant_steps(s)
        ['checkout', 'pay']
    """
    s = collect(
        to_lazy(stream).filter(~nw.col("variant").is_null(), ~nw.col("account_id").is_null())
    )
    events = s["event"].unique().to_list()
    return _typical_order(s, events)["event"].head(max_steps).to_list()
