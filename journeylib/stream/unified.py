"""The unified journey event stream: raw and derived events, mapped to touchpoints and stages.

See :mod:`journeylib.stream` for the stream's columns, order and the readings chosen.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.config import JourneyTemplate
from journeylib.frames import collect, engine_of, to_lazy
from journeylib.ingest.client import stored_stream
from journeylib.stream.derived import DERIVED_COLUMNS, TS, derived_lazy, empty_frame, null_text

__all__ = ["STREAM_COLUMNS", "events", "journey_events", "map_events"]

#: The columns of the journey event stream, in order.
STREAM_COLUMNS: tuple[str, ...] = (
    "account_id",
    "anonymous_id",
    "user_id",
    "timestamp",
    "event",
    "touchpoint",
    "stage",
    "channel",
    "campaign",
    "variant",
    "source",
    "seq",
)

_RAW_OPTIONAL = ("account_id", "anonymous_id", "user_id", "channel", "campaign", "variant")


def _mapping_exprs(template: JourneyTemplate) -> tuple[nw.Expr, nw.Expr]:
    emap = template.event_map()
    if not emap:
        return null_text("touchpoint"), null_text("stage")
    names = list(emap)
    tps = [emap[e][0] for e in names]
    stages = [emap[e][1] for e in names]
    ev = nw.col("event")
    return (
        ev.replace_strict(names, tps, default=None, return_dtype=nw.String()).alias("touchpoint"),
        ev.replace_strict(names, stages, default=None, return_dtype=nw.String()).alias("stage"),
    )


def _lookup(values: pl.Series, old: pl.Series, new: pl.Series) -> pl.Series:
    """``values`` mapped from ``old`` to ``new``; values not in ``old`` become null."""
    return values.replace_strict(old, new, default=None, return_dtype=pl.String)


def _with_mapping(lf: nw.LazyFrame[Any], template: JourneyTemplate) -> nw.LazyFrame[Any]:
    """``lf`` with ``touchpoint`` and ``stage`` from the template (replacing existing ones).

    On polars each column is the lookup run batch by batch, as an elementwise
    batch function: polars' streaming engine runs it on each batch it reads
    (``replace_strict`` with literal lists is not run streaming, and holds the
    whole column in memory: about 3 GB for 50 M events), and leaves it out of
    any query that does not read the column. A left join with the mapping
    table also streams, but every query over the stream paid for it, stage or
    no stage: at 50 M events about 1.1 s of reading per metric query, against
    1.9 s for the lookup of a query that reads ``stage``. Other engines get the
    ``replace_strict`` expressions (a SQL CASE).
    """
    emap = template.event_map()
    native = lf.to_native()
    schema = native.collect_schema() if isinstance(native, pl.LazyFrame) else None
    if emap and schema is not None and schema.get("event") == pl.String:
        names = schema.names()
        order = [*names, *(c for c in ("touchpoint", "stage") if c not in names)]
        old = pl.Series(list(emap), dtype=pl.String)
        mapped = [
            pl.col("event")
            .map_batches(
                functools.partial(
                    _lookup, old=old, new=pl.Series([v[i] for v in emap.values()], dtype=pl.String)
                ),
                return_dtype=pl.String,
                is_elementwise=True,
            )
            .alias(name)
            for i, name in enumerate(("touchpoint", "stage"))
        ]
        return to_lazy(native.with_columns(mapped).select(order))
    tp, stage = _mapping_exprs(template)
    return lf.with_columns(tp, stage)


def map_events(frame: Any, template: JourneyTemplate) -> Any:
    """Attach ``touchpoint`` and ``stage`` to each row from the template's event mapping.

    An event listed under several touchpoints belongs to the first in
    template order (:meth:`JourneyTemplate.event_map`); an event no touchpoint
    covers keeps null touchpoint and stage. Existing touchpoint/stage columns
    are replaced. The mapping is a small value lookup, not a row loop.

    Args:
        frame: any native frame (polars eager/lazy, DuckDB, ...) with an ``event`` column.
        template: the journey template.

    Returns:
        The same kind of native frame, with ``touchpoint`` and ``stage`` (String).

    Examples:
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [
        ...     {"id": "awareness", "label": "Awareness",
        ...      "touchpoints": [{"id": "website", "events": ["pageview"]}]}]})
        >>> map_events(pl.DataFrame({"event": ["pageview", "login"]}), tpl).rows()
        [('pageview', 'website', 'awareness'), ('login', None, None)]
    """
    if isinstance(frame, pl.DataFrame):
        return _with_mapping(to_lazy(frame), template).to_native().collect()
    if isinstance(frame, pl.LazyFrame):
        return _with_mapping(to_lazy(frame), template).to_native()
    tp, stage = _mapping_exprs(template)
    return nw.from_native(frame).with_columns(tp, stage).to_native()


def _raw_lazy(events: Any) -> nw.LazyFrame[Any]:
    """Raw events in the stream shape (no touchpoint/stage), with seq = file row order."""
    if engine_of(events) == "polars" and "seq" not in events.collect_schema().names():
        events = events.with_row_index("seq")  # polars keeps the file's row order
    lf = to_lazy(events)
    names = set(lf.collect_schema().names())
    missing = [null_text(c) for c in _RAW_OPTIONAL if c not in names]
    if missing:
        lf = lf.with_columns(*missing)
    if "seq" not in names and engine_of(events) != "polars":
        # No row order on SQL engines: number rows by their content instead (documented).
        lf = lf.with_row_index("seq", order_by=["timestamp", *_RAW_OPTIONAL, "event"])
    return lf.select(
        nw.col("account_id").cast(nw.String()),
        nw.col("anonymous_id").cast(nw.String()),
        nw.col("user_id").cast(nw.String()),
        nw.col("timestamp").cast(TS),
        nw.col("event").cast(nw.String()),
        nw.col("channel").cast(nw.String()),
        nw.col("campaign").cast(nw.String()),
        nw.col("variant").cast(nw.String()),
        nw.lit("events", dtype=nw.String()).alias("source"),
        nw.col("seq").cast(nw.Int64()),
    )


def journey_events(
    tables: Mapping[str, Any] | Any,
    template: JourneyTemplate | None = None,
    *,
    lazy: bool = False,
    sort: bool = True,
) -> Any:
    """The unified journey event stream: raw and derived events, mapped to touchpoints and stages.

    Raw ``events`` rows (source ``'events'``, seq = file row order) and the
    :func:`derived_events` of accounts, subscriptions, tickets and surveys
    (whichever are present; derived seq continue after the raw rows, so at
    equal timestamps raw events come first), mapped by :func:`map_events`,
    sorted by (account_id, timestamp, seq) with the anonymous rows (null
    account_id) kept, last.

    Args:
        tables: a dict of table name → native frame, or a ``Client`` (any
            object with ``.tables`` and ``.template``; then ``template`` may be
            omitted).
        template: the journey template (required with a dict of tables).
        lazy: return the native lazy frame of the input engine (polars
            LazyFrame, DuckDB relation) instead of a collected polars DataFrame.
        sort: order the rows by (account_id, timestamp, seq). The metric
            functions never rely on row order (they order by ``seq`` where it
            matters), so the metric path passes False and skips the most
            expensive step of building the stream.

    Returns:
        Columns account_id, anonymous_id, user_id, timestamp (Datetime us UTC),
        event, touchpoint, stage, channel, campaign, variant, source, seq (Int64).

    Examples:
        >>> import datetime as dt
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [
        ...     {"id": "awareness", "label": "Awareness",
        ...      "touchpoints": [{"id": "website", "events": ["pageview"]}]},
        ...     {"id": "conversion", "label": "Conversion",
        ...      "touchpoints": [{"id": "signup", "events": ["signed_up"]}]}]})
        >>> t = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
        >>> ev = pl.DataFrame({"timestamp": [t, t], "account_id": ["a", None],
        ...     "anonymous_id": [None, "v1"], "event": ["pageview", "pageview"]})
        >>> acc = pl.DataFrame({"account_id": ["a"], "signup_at": [t + dt.timedelta(hours=1)]})
        >>> out = journey_events({"events": ev, "accounts": acc}, tpl)
        >>> out.select("account_id", "event", "stage", "source", "seq").rows()
        [('a', 'pageview', 'awareness', 'events', 0), ('a', 'signed_up', 'conversion', 'accounts', 2), (None, 'pageview', 'awareness', 'events', 1)]
    """
    if not isinstance(tables, Mapping) and hasattr(tables, "tables"):
        stored = _stored(tables, template, sort=sort)
        if stored is not None:
            return stored if lazy else stored.collect()
        if template is None:
            template = tables.template
        tables = tables.tables
    if template is None:
        raise TypeError("journey_events() needs a template (or a Client with .template)")
    tables = dict(tables)
    raw_native = tables.get("events")
    raw = _raw_lazy(raw_native) if raw_native is not None else None
    derived = derived_lazy(
        accounts=tables.get("accounts"),
        subscriptions=tables.get("subscriptions"),
        tickets=tables.get("tickets"),
        surveys=tables.get("surveys"),
    )
    parts: list[nw.LazyFrame[Any]] = []
    if raw is not None:
        parts.append(raw)
        if derived is not None:
            # Derived rows come after every raw row in seq: offset by the raw row count
            # (max seq + 1, so a given seq column with gaps stays unique). Computed
            # up front as a number: a plan that read the raw events twice (once for
            # the offset, once for the rows) would hold them all in memory.
            off = collect(
                raw.select((nw.col("seq").max() + 1).fill_null(0).cast(nw.Int64()).alias("o"))
            ).item()
            derived = derived.with_columns((nw.col("seq") + nw.lit(int(off or 0))).alias("seq"))
    if derived is not None:
        parts.append(derived.select(*DERIVED_COLUMNS))
    if not parts:
        empty = empty_frame(STREAM_COLUMNS)
        return empty.lazy() if lazy else empty
    stream = parts[0] if len(parts) == 1 else nw.concat(parts, how="vertical")
    stream = _with_mapping(stream, template).select(*STREAM_COLUMNS)
    if sort:
        stream = stream.sort("account_id", "timestamp", "seq", nulls_last=True)
    return stream.to_native() if lazy else collect(stream)


def _stored(client: Any, template: JourneyTemplate | None, *, sort: bool) -> pl.LazyFrame | None:
    """The stream a client's store keeps (``Client.stream``), when it answers this call.

    Only for ``sort=False`` (the stored files are sorted by account, time and
    seq when read in order, but a plan over them need not keep that order)
    and the client's own template. The rows are those :func:`journey_events`
    builds from the client's tables, read instead of derived and mapped again;
    for a client restricted to some accounts (``restrict_to_segment``), the
    derived rows keep the whole client's ``seq`` numbers, in the same order.
    """
    if sort or (template is not None and template is not client.template):
        return None
    frame = stored_stream(client)
    return None if frame is None else frame.select(*STREAM_COLUMNS)


#: ``stream.events(client)``: a short alias of :func:`journey_events`.
events = journey_events
