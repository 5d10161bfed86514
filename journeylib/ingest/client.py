"""Load a client folder: ``client.yaml``, the journey template and every table, validated.

Two kinds of problems (``data.md``):

* **fatal** ones raise :class:`~journeylib.errors.DataError` (or
  ``ConfigError`` / ``TemplateError`` for client.yaml and the template) with a
  one-line message naming the file, the column or key, and the fix
  (:mod:`journeylib.ingest.read`); all of them are checked before any row is;
* **row-level** ones quarantine the whole row, unchanged as read, with a
  ``reason`` column naming every rule it broke (:mod:`journeylib.ingest.validate`).

Extra columns are kept in the quarantine output (``Client.rejected``) and
dropped from the valid frames, which have exactly the canonical columns and
dtypes of ``journeylib.schemas.TABLES``. A Parquet events table can be kept
lazy (:mod:`journeylib.ingest.lazy`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from journeylib.config import ClientConfig, JourneyTemplate, load_client_config, load_template
from journeylib.errors import ConfigError
from journeylib.ingest.lazy import lazy_schema, scan_events
from journeylib.ingest.personas import assign_personas
from journeylib.ingest.read import TableData, check_columns, read_table
from journeylib.ingest.validate import validate_table
from journeylib.paths import find_table_file, resolve_client_dir
from journeylib.schemas import TABLE_ORDER, TABLES

__all__ = [
    "STREAM_SOURCES",
    "Client",
    "StoredStream",
    "data_quality",
    "load_client",
    "load_settings",
    "stored_mart",
    "stored_stream",
    "with_stored_stream",
    "write_rejected",
]

#: The tables the journey stream is built from (raw events and the derived ones).
STREAM_SOURCES = ("events", "accounts", "subscriptions", "tickets", "surveys")


@dataclass(frozen=True, eq=False)
class StoredStream:
    """A client's journey stream as its store holds it, with what it was built from.

    Attributes:
        frame: the stream (``journeylib.stream.journey_events`` of the client),
            a LazyFrame over the store's files.
        made_from: the template and the :data:`STREAM_SOURCES` tables (the
            objects themselves, None for an absent table) of the client it
            belongs to: a client whose template or any of those tables was
            replaced since (filtered by hand, converted to another engine)
            no longer has it (:func:`stored_stream`).
        marts: marts of the same store that answer questions about the raw
            events (``account_days``, ``activity_months``), as LazyFrames
            (:func:`stored_mart`).
    """

    frame: pl.LazyFrame
    made_from: tuple[Any, ...]
    marts: dict[str, pl.LazyFrame] = field(default_factory=dict)


def _stream_inputs(client: Client) -> tuple[Any, ...]:
    return (client.template, *(client.tables.get(t) for t in STREAM_SOURCES))


def _current(client: Any) -> StoredStream | None:
    """The client's :class:`StoredStream` while its template and tables are those it was made from."""
    stored = getattr(client, "stream", None)
    if not isinstance(stored, StoredStream):
        return None
    now = _stream_inputs(client)
    if len(now) != len(stored.made_from) or any(
        a is not b for a, b in zip(now, stored.made_from, strict=True)
    ):
        return None
    return stored


def stored_stream(client: Any) -> pl.LazyFrame | None:
    """The client's stored journey stream, when it still matches its template and tables, else None.

    Examples:
        >>> import types
        >>> stored_stream(types.SimpleNamespace(tables={})) is None
        True
    """
    stored = _current(client)
    return None if stored is None else stored.frame


def stored_mart(client: Any, name: str) -> pl.LazyFrame | None:
    """A mart of the client's store, when its stream still matches its tables (else None)."""
    stored = _current(client)
    return None if stored is None else stored.marts.get(name)


def with_stored_stream(
    client: Client, frame: pl.LazyFrame, marts: dict[str, pl.LazyFrame] | None = None
) -> Client:
    """``client`` with ``frame`` (and ``marts``) as its stored stream, made from its tables as they are."""
    return replace(client, stream=StoredStream(frame, _stream_inputs(client), dict(marts or {})))


@dataclass(frozen=True, eq=False)
class Client:
    """A loaded client: configuration, template and validated tables.

    Attributes:
        name: the client folder's name.
        path: the client folder.
        config: the validated ``client.yaml``.
        template: the journey template, with ``event_mapping`` applied.
        tables: valid rows per table in canonical dtypes (absent optional tables
            are missing from the dict); ``accounts.persona`` is filled. With
            ``load_client(..., lazy=True)`` a Parquet events table is a
            :class:`polars.LazyFrame`; every other table is a DataFrame.
        rejected: per loaded table, the quarantined rows as read plus ``reason``
            (an empty frame when nothing was quarantined).
        quality: per loaded table, ``{rows_in, rows_valid, rows_rejected, reasons}``.
        sources: per loaded table, the file it was read from.
        stream: the journey stream kept with the client by its store
            (:func:`stored_stream` reads it: None once the tables it was built
            from were replaced); None for a client read from its raw files.
        events_parts: the lazily loaded events table and its parts
            (:meth:`event_parts` reads them); None for events read in memory.
    """

    name: str
    path: Path
    config: ClientConfig
    template: JourneyTemplate
    tables: dict[str, pl.DataFrame | pl.LazyFrame]
    rejected: dict[str, pl.DataFrame] = field(default_factory=dict)
    quality: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    stream: StoredStream | None = None
    events_parts: tuple[pl.LazyFrame, Callable[[int], list[pl.LazyFrame]]] | None = None

    def table(self, name: str) -> pl.DataFrame | pl.LazyFrame | None:
        """The valid rows of table ``name``, or None when the client has no such table."""
        return self.tables.get(name)

    def event_parts(self, rows: int) -> list[pl.LazyFrame] | None:
        """The valid events in parts of about ``rows`` file rows, in order, each with ``seq``.

        ``seq`` is a row's position among all the valid rows, as
        ``tables["events"].with_row_index("seq")`` numbers them
        (:class:`journeylib.ingest.lazy.LazyTable`). Only for an events table
        loaded lazily from Parquet and not replaced since; None otherwise.
        """
        if self.events_parts is None or self.tables.get("events") is not self.events_parts[0]:
            return None
        return self.events_parts[1](rows)


# ------------------------------------------------------------------ the client
def _load_template(cfg: ClientConfig, client_dir: Path) -> JourneyTemplate:
    template = load_template(cfg.journey, client_dir=client_dir, language=cfg.language)
    if cfg.event_mapping:
        try:
            template = template.with_event_mapping(cfg.event_mapping)
        except ValueError as exc:
            raise ConfigError(
                "bad event_mapping",
                where=f"{client_dir / 'client.yaml'}: event_mapping",
                expected="touchpoint ids of the journey template as keys",
                found=str(exc),
                fix="use touchpoint ids from the template (see its touchpoints: id entries)",
            ) from None
    return template


def load_settings(client_dir: Path) -> tuple[ClientConfig, JourneyTemplate]:
    """A client folder's ``client.yaml`` and journey template (``event_mapping`` applied), validated.

    Raises:
        ConfigError, TemplateError: one line naming the file, the key and the fix.
    """
    cfg = load_client_config(Path(client_dir) / "client.yaml")
    return cfg, _load_template(cfg, Path(client_dir))


def load_client(arg: str | Path, *, lazy: bool = False) -> Client:
    """Load a client: ``client.yaml``, the journey template and every table, validated.

    Args:
        arg: a client name under ``data/`` or the path of a client folder.
        lazy: keep an events table stored as Parquet (a file or a folder of
            partitions) as a :class:`polars.LazyFrame` of its valid rows
            instead of reading it into memory (:mod:`journeylib.ingest.lazy`): the
            metric path reads it streaming. Quarantine and quality counts are
            the same as the eager loader's. CSV events are read eagerly.

    Returns:
        The :class:`Client`, with valid rows in ``tables`` and quarantined rows in
        ``rejected``.

    Raises:
        JourneyError: ``ClientNameError``, ``ConfigError``, ``TemplateError`` or
            ``DataError`` for every fatal problem; all fatal checks run before any
            row is validated.

    Examples:
        >>> import tempfile
        >>> from journeylib.sources.scaffold import init_client
        >>> d = Path(tempfile.mkdtemp()) / "acme"
        >>> _ = init_client(d, template="./journey.yaml", name="Acme")
        >>> _ = (d / "journey.yaml").write_text(
        ...     "stages: [{id: s, label: S, touchpoints: [{id: t, events: [login]}]}]")
        >>> c = load_client(d)
        >>> c.name, c.quality["accounts"]["rows_in"], sorted(c.tables)[:2]
        ('acme', 0, ['accounts', 'events'])
    """
    path = resolve_client_dir(arg)
    cfg, template = load_settings(path)
    read: dict[str, TableData] = {}
    scanned: Path | None = None  # the events file loaded lazily
    for table in TABLE_ORDER:  # every fatal check first: read and parse all tables
        if lazy and table == "events":
            found = find_table_file(path, table)
            schema = lazy_schema(found, timezone=cfg.timezone) if found is not None else None
            if found is not None and schema is not None:
                check_columns(pl.DataFrame(schema=schema), TABLES[table], found)
                scanned = found
                continue
        data = read_table(path, table, timezone=cfg.timezone)
        if data is not None:
            read[table] = data
    tables: dict[str, Any] = {}
    rejected: dict[str, pl.DataFrame] = {}
    quality: dict[str, dict[str, Any]] = {}
    valid_ids: pl.Series | None = None
    events_parts: tuple[pl.LazyFrame, Callable[[int], list[pl.LazyFrame]]] | None = None
    sources = {t: d.path for t, d in read.items()}
    # Accounts first: the others check against its valid rows. Then the smallest
    # first: each table as read is let go once validated (holding every table twice,
    # as read and validated, would double the load's peak memory), so the largest is
    # validated with the fewest tables still held as read (at 50 M events the peak
    # of the load, the subscriptions' validation, held the tickets and surveys as read).
    order = sorted(read, key=lambda t: (t != "accounts", read[t].parsed.height))
    for table in order:
        data = read.pop(table)
        valid, bad, q = validate_table(data, valid_account_ids=valid_ids)
        del data
        if table == "accounts":
            valid = assign_personas(valid, cfg.personas)
            valid_ids = valid.get_column("account_id")
        tables[table], rejected[table], quality[table] = valid, bad, q
    if scanned is not None:
        lt = scan_events(
            scanned,
            timezone=cfg.timezone,
            valid_account_ids=valid_ids,
        )
        assert lt is not None  # lazy_schema said it can be scanned
        tables["events"], rejected["events"], quality["events"] = lt.valid, lt.rejected, lt.quality
        sources["events"] = scanned
        if lt.parts is not None:
            events_parts = (lt.valid, lt.parts)
    order = {t: i for i, t in enumerate(TABLE_ORDER)}

    def in_order(d: dict[str, Any]) -> dict[str, Any]:
        return dict(sorted(d.items(), key=lambda kv: order[kv[0]]))

    return Client(
        name=path.name,
        path=path,
        config=cfg,
        template=template,
        tables=in_order(tables),
        rejected=in_order(rejected),
        quality=in_order(quality),
        sources=in_order(sources),
        events_parts=events_parts,
    )


def data_quality(client: Client) -> dict[str, Any]:
    """The data-quality section of ``metrics.json``: rows in, valid, rejected and reasons per table.

    A row with two reasons counts once under each; tables and reasons are sorted
    by name; absent optional tables are left out.

    Examples:
        >>> import tempfile
        >>> from journeylib.sources.scaffold import init_client
        >>> d = Path(tempfile.mkdtemp()) / "acme"
        >>> _ = init_client(d, template="./journey.yaml")
        >>> _ = (d / "journey.yaml").write_text(
        ...     "stages: [{id: s, label: S, touchpoints: [{id: t, events: [login]}]}]")
        >>> data_quality(load_client(d))["tables"]["events"]
        {'rows_in': 0, 'rows_valid': 0, 'rows_rejected': 0, 'reasons': {}}
    """
    return {
        "tables": {
            t: {**client.quality[t], "reasons": dict(sorted(client.quality[t]["reasons"].items()))}
            for t in sorted(client.quality)
        }
    }


def write_rejected(client: Client, out_dir: str | Path) -> list[Path]:
    """Write ``rejected/<table>.csv`` under ``out_dir`` for each table with quarantined rows.

    Returns:
        The files written, in table order (none when nothing was quarantined).
    """
    written: list[Path] = []
    for table in TABLE_ORDER:
        frame = client.rejected.get(table)
        if frame is None or frame.height == 0:
            continue
        target = Path(out_dir) / "rejected" / f"{table}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(target)
        written.append(target)
    return written
