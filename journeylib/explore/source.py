"""Where the explorer reads a client from: its store, or a client already loaded in memory.

A :class:`Source` is what every filter state and panel of the explorer reads:
the client (settings and tables), the journey stream as a polars
``LazyFrame`` sorted by account, time and seq, and the per-account marts
(:mod:`journeylib.store.marts`). :meth:`Source.from_store` opens a client
store (:func:`journeylib.store.ensure_store`): the events and the stream stay
Parquet scans, the marts are small files, and only the small tables are in
memory. :meth:`Source.from_client` builds the same from a client loaded in
memory (tests, a notebook that loaded one), with the stream and the marts
computed once in memory.

:func:`load_options` reads what the controls offer (personas, channels,
plans, variants, events, touchpoints, months, the default funnel steps, the
breakdown columns) in one parallel pass over the stream.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl

from journeylib import analysis
from journeylib.ingest.client import Client
from journeylib.metrics import resolve_period
from journeylib.metrics.period import data_months
from journeylib.months import month_range
from journeylib.store import Store
from journeylib.store.marts import build_marts
from journeylib.stream import DERIVED_EVENTS, journey_events

__all__ = [
    "BREAKDOWN_MAX_VALUES",
    "MARTS_READ",
    "Options",
    "Source",
    "breakdown_columns",
    "client_months",
    "load_options",
]

#: The marts the explorer reads (``account_days``: the lifecycle panel).
MARTS_READ = ("accounts", "account_months", "account_touchpoints", "account_days")

#: A text column of ``accounts`` is offered as a breakdown when it has 2 to this many values.
BREAKDOWN_MAX_VALUES = 20


@dataclasses.dataclass(frozen=True, eq=False)
class Source:
    """A client as the explorer reads it.

    Attributes:
        client: the client: settings and tables (``events`` may be a
            ``LazyFrame`` over the store's files; the other tables are in memory).
        stream: the journey event stream; collected, its rows are sorted by
            ``account_id``, ``timestamp``, ``seq`` (anonymous rows last), which
            :func:`journeylib.explore.compute.touchpoint_transitions` relies on.
        marts: :data:`MARTS_READ` by name, as ``LazyFrame`` s.
        store: the store read, or None for a client in memory.
    """

    client: Client
    stream: pl.LazyFrame
    marts: dict[str, pl.LazyFrame]
    store: Store | None = None

    @classmethod
    def from_store(cls, store: Store) -> Source:
        """A store's client, stream and marts (nothing of the events is read here)."""
        return cls(store.client(), store.stream(), {n: store.mart(n) for n in MARTS_READ}, store)

    @classmethod
    def from_client(cls, client: Client) -> Source:
        """A client in memory, with its stream (sorted) and marts built here once."""
        tables = {
            n: (f.collect() if isinstance(f, pl.LazyFrame) else f) for n, f in client.tables.items()
        }
        stream = journey_events(tables, client.template)
        marts = build_marts(tables, stream, client.config, client.template)
        return cls(client, stream.lazy(), {n: marts[n].lazy() for n in MARTS_READ})

    def mart(self, name: str) -> pl.LazyFrame:
        """A mart of :data:`MARTS_READ`."""
        return self.marts[name]


@dataclasses.dataclass(frozen=True)
class Options:
    """What the controls offer for one client.

    Attributes:
        personas, channels, plans, variants: the filter values, sorted.
        events: the events of the stream's account rows, sorted (the funnel steps).
        months: the months of the period slider (:func:`client_months`).
        default_steps: the funnel steps shown first.
        raw_events: those of ``events`` that are not derived (``signed_up``,
            ``subscription_started`` … of ``journeylib.stream.DERIVED_EVENTS``),
            sorted: the paths' items at event level.
        touchpoints: the template's touchpoints some account met (the
            ``account_touchpoints`` mart), in template order: the paths' items
            at touchpoint level.
        breakdowns: the ``accounts`` columns offered as breakdowns
            (:func:`breakdown_columns`).
    """

    personas: list[str]
    channels: list[str]
    plans: list[str]
    variants: list[str]
    events: list[str]
    months: list[str]
    default_steps: list[str]
    raw_events: list[str] = dataclasses.field(default_factory=list)
    touchpoints: list[str] = dataclasses.field(default_factory=list)
    breakdowns: list[str] = dataclasses.field(default_factory=list)


def client_months(client: Client) -> list[str]:
    """The months the period slider offers: the data's months and the configured period.

    From the first to the last month of ``events.timestamp`` and
    ``subscriptions.month``, widened to ``client.yaml: period`` when it reaches
    further.

    Examples:
        >>> import datetime as dt, types
        >>> ev = pl.DataFrame({"timestamp": [dt.datetime(2024, 1, 5, tzinfo=dt.UTC),
        ...                                  dt.datetime(2024, 3, 1, tzinfo=dt.UTC)]})
        >>> cfg = types.SimpleNamespace(period=None)
        >>> c = types.SimpleNamespace(tables={"events": ev}, config=cfg)
        >>> client_months(c)
        ['2024-01', '2024-02', '2024-03']
    """
    ends = [m for m in data_months(client.tables) if m]
    cfg = client.config.period
    ends += [m for m in (cfg.start if cfg else None, cfg.end if cfg else None) if m]
    if not ends:
        ends = list(resolve_period(client))
    return month_range(min(ends), max(ends))


def _onboarding_events(template: Any) -> list[str]:
    """Every raw event of a stage that may be the onboarding stage (a superset of its events)."""
    stages = [
        s
        for s in template.stages
        if s.id == "onboarding" or "onboarding" in [p.lower() for p in s.phases]
    ]
    return sorted(
        {e for s in stages for tp in s.touchpoints for e in tp.events if e not in DERIVED_EVENTS}
    )


def breakdown_columns(accounts: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """The ``accounts`` columns worth breaking a funnel or retention down by, in table order.

    Text columns with 2 to :data:`BREAKDOWN_MAX_VALUES` distinct non-blank
    values (persona, channel, industry, country …: not names or ids) and
    numeric columns with at least 2 distinct values (the breakdowns band
    them in quartiles). Dates and ``account_id`` are left out.

    Examples:
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"], "plan": ["pro", "free", " "],
        ...     "size": [3, 10, 40], "country": ["us", "us", None]})
        >>> breakdown_columns(acc)  # country has one value
        ['plan', 'size']
    """
    lf = accounts.lazy()
    schema = lf.collect_schema()
    text = [c for c, t in schema.items() if c != "account_id" and t in (pl.String, pl.Categorical)]
    numeric = [
        c for c, t in schema.items() if c != "account_id" and t.is_numeric() and t != pl.Boolean
    ]
    if not text and not numeric:
        return []
    distinct = [pl.col(c).drop_nulls().n_unique().alias(c) for c in numeric]
    for c in text:
        value = pl.col(c).cast(pl.String).str.strip_chars()
        distinct.append(value.filter(value != "").n_unique().alias(c))
    counts = lf.select(distinct).collect().row(0, named=True)
    keep = {c for c in text if 2 <= counts[c] <= BREAKDOWN_MAX_VALUES}
    keep |= {c for c in numeric if counts[c] >= 2}
    return [c for c in schema.names() if c in keep]


def _sorted_values(frame: pl.DataFrame) -> list[str]:
    return sorted(frame.to_series().drop_nulls().to_list())


def load_options(source: Source) -> Options:
    """The controls' options, read in one parallel pass (``pl.collect_all``).

    Personas and channels come from the ``accounts`` mart, plans from
    ``subscriptions`` (the plan filter keeps accounts with the plan in any
    month), variants from every row of the stream, events from its account
    rows, touchpoints from the ``account_touchpoints`` mart, breakdown columns
    from ``accounts``. The default funnel steps are
    :func:`journeylib.analysis.onboarding_steps` read on the stream's rows
    of the onboarding events only (the function keeps those rows first, so
    the steps are the same), else ``signed_up → subscription_started``.
    """
    client, stream = source.client, source.stream
    acc = source.mart("accounts")
    known = stream.filter(pl.col("account_id").is_not_null())
    queries = [
        acc.select(pl.col("persona").unique()),
        acc.select(pl.col("channel").unique()),
        stream.select(pl.col("variant").drop_nulls().unique()),
        known.select(pl.col("event").unique()),
        known.filter(
            pl.col("source") == "events",
            pl.col("event").is_in(_onboarding_events(client.template)),
        ).select("account_id", "timestamp", "event", "seq", "source"),
        source.mart("account_touchpoints").select(pl.col("touchpoint").unique()),
    ]
    personas, channels, variants, events, onboarding, touchpoints = pl.collect_all(queries)
    subs = client.table("subscriptions")
    plans = [] if subs is None else _sorted_values(subs.lazy().select("plan").unique().collect())
    event_list = _sorted_values(events)
    met = set(touchpoints["touchpoint"].drop_nulls())
    try:
        steps = analysis.onboarding_steps(client, onboarding)
    except Exception:  # a default is a convenience: never block loading on it
        steps = []
    if len(steps) < 2:
        steps = [e for e in ("signed_up", "subscription_started") if e in event_list]
    return Options(
        personas=_sorted_values(personas),
        channels=_sorted_values(channels),
        plans=plans,
        variants=_sorted_values(variants),
        events=event_list,
        months=client_months(client),
        default_steps=list(steps),
        raw_events=[e for e in event_list if e not in DERIVED_EVENTS],
        touchpoints=[tp.id for tp in client.template.touchpoints if tp.id in met],
        breakdowns=breakdown_columns(client.tables["accounts"]),
    )
