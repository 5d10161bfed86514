"""Ingest a client once into its store, and open the store for every reader.

:func:`ensure_store` is what every command calls: it returns the client's
current store, building it first when it is missing or stale (its key,
:func:`journeylib.store.key.store_key`, differs from the client's now).
``journey ingest`` calls it with ``rebuild=True`` to build anew whatever the
key says.

Building (:func:`_build`) reads and validates the raw client folder once with
the rules of :func:`journeylib.ingest.client.load_client` (same quarantine,
same reasons, rows in = valid + rejected), then writes, into a temporary
folder next to the store:

1. the valid tables as typed Parquet; the events with ``seq`` (their order in
   the raw export, which breaks ties between events at the same time exactly
   as before), split by month and each month sorted by account, time and seq.
   The events are written once unsorted into month folders, streaming, and
   each month is then sorted on its own, so memory holds one month at a time;
2. the quarantine and the quality counts;
3. the journey stream, split into buckets of consecutive account ids (the
   anonymous rows last), each bucket sorted: reading the buckets in order
   reads the stream sorted by account, time and seq, without a sort;
4. the marts (:mod:`journeylib.store.marts`) from the stored stream;
5. ``manifest.json`` last.

The folder is then renamed into place and ``current.json`` replaced in one
step, so a reader sees the old store or the new one, never half of one; an
interrupted build leaves the previous store as it was and removes its
temporary folder. A lock file serialises builds of one client: a second
command that finds a build under way waits for it and then uses its store.
Each version has a folder of its own (``v-<key[:16]>-<random>``), also when a
rebuild has the same key. The version before the current one is kept (a
reader that opened it just before the switch can finish); older ones are
removed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import math
import os
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from journeylib.ingest.client import (
    Client,
    data_quality,
    load_client,
    load_settings,
    with_stored_stream,
)
from journeylib.ingest.lazy import bound_scan_memory
from journeylib.paths import parquet_files, resolve_client_dir
from journeylib.schemas import TABLE_ORDER, TABLES
from journeylib.store.key import code_version, store_key
from journeylib.store.layout import MARTS, STORE_FORMAT, StoreFiles, store_root
from journeylib.store.marts import active_months, build_marts, stream_aggregates, with_keys
from journeylib.stream import journey_events

__all__ = ["Store", "ensure_store", "read_store"]

Progress = Callable[[str], None]

#: Rows of the journey stream per bucket (the unit sorted in memory).
STREAM_BUCKET_ROWS = 1_000_000
#: Rows per row group of the unsorted scratch files (each open part buffers one).
SCRATCH_ROW_GROUP = 65_536


@dataclasses.dataclass(frozen=True)
class Store:
    """One complete version of a client's store.

    Attributes:
        client_dir: the raw client folder.
        root: the client's store folder (``store_root``).
        files: the paths of this version's files.
        manifest: ``manifest.json``.
        built: True when this call built it, False when it was current already.
    """

    client_dir: Path
    root: Path
    files: StoreFiles
    manifest: dict[str, Any]
    built: bool = False

    @property
    def key(self) -> str:
        """The store's key."""
        return str(self.manifest["key"])

    def client(self) -> Client:
        """The client as every command reads it: settings from ``client.yaml``, tables from the store.

        ``events`` is a LazyFrame over the stored month files (the metrics read
        it streaming); the other tables are read into memory (they are small).
        Settings that do not shape the store (period, goals, currency …) come
        from ``client.yaml`` as it is now. The stored journey stream and the
        activity marts come with it (``Client.stream``) while the store is
        current (its key is the client's now): the metrics read them instead
        of building the stream from the tables again.
        """
        cfg, template = load_settings(self.client_dir)
        quality = json.loads(self.files.quality.read_text(encoding="utf-8"))["tables"]
        tables: dict[str, Any] = {}
        rejected: dict[str, pl.DataFrame] = {}
        for table in TABLE_ORDER:
            if table not in quality:
                continue
            tables[table] = self.table(table)
            q = self.files.quarantine(table)
            rejected[table] = pl.read_parquet(q) if q.exists() else pl.DataFrame()
        client = Client(
            name=self.client_dir.name,
            path=self.client_dir,
            config=cfg,
            template=template,
            tables=tables,
            rejected=rejected,
            quality=quality,
            sources={t: Path(p) for t, p in self.manifest["sources"].items()},
        )
        if store_key(self.client_dir, cfg, template) != self.key:
            return client  # edited since this version was built: its stream is not this template's
        marts = {
            "account_days": self.mart("account_days"),
            "activity_months": self.activity_months(),
        }
        return with_stored_stream(client, self.stream(), marts)

    def table(self, name: str) -> pl.DataFrame | pl.LazyFrame:
        """A stored valid table: ``events`` lazily (with ``seq``), the others in memory."""
        path = self.files.table(name)
        return _scan_parts(path) if name == "events" else pl.read_parquet(path)

    def stream(self) -> pl.LazyFrame:
        """The journey stream as a LazyFrame; collected, its rows are sorted by account, time, seq."""
        return _scan_parts(self.files.mart("stream"))

    def activity_months(self) -> pl.LazyFrame:
        """The months each account was active in (:func:`~journeylib.store.marts.active_months`).

        ``[account_id, timestamp]``, one row per account and month with a raw
        event: what activity retention reads of the raw events, from a
        twentieth of the rows (at 10 M events: 0.67 M).
        """
        return active_months(self.mart("account_months"))

    def mart(self, name: str) -> pl.LazyFrame:
        """A mart by name (``accounts``, ``account_months``, ``account_touchpoints``, ``account_days``, ``stream``)."""
        if name == "stream":
            return self.stream()
        if name not in MARTS:
            raise KeyError(f"no mart {name!r}; the marts are {', '.join(MARTS)}")
        return pl.scan_parquet(self.files.mart(name))


# ------------------------------------------------------------------ reading the pointer
def _current(root: Path) -> tuple[str, Path] | None:
    """``(key, folder)`` of the current version, or None when there is none (or it is unreadable)."""
    try:
        pointer = json.loads((root / "current.json").read_text(encoding="utf-8"))
        folder = root / pointer["folder"]
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != STORE_FORMAT or manifest.get("key") != pointer["key"]:
            return None
        return str(pointer["key"]), folder
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_store(client_arg: str | Path) -> Store | None:
    """The client's current store as it is (None when there is none), without checking its key."""
    client_dir = resolve_client_dir(client_arg)
    root = store_root(client_dir)
    found = _current(root)
    if found is None:
        return None
    folder = found[1]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return Store(client_dir, root, StoreFiles(folder), manifest)


@contextlib.contextmanager
def _lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_store(
    client_arg: str | Path, *, rebuild: bool = False, progress: Progress | None = None
) -> Store:
    """The client's current store, built first when it is missing, stale or ``rebuild`` is set.

    Args:
        client_arg: a client name under ``data/`` or the path of a client folder.
        rebuild: build anew even when the store is current.
        progress: called with one line per step of a build (nothing when the
            store is current).

    Raises:
        JourneyError: the client's fatal problems, as ``load_client`` raises them
            (no store version is written then; the current one stays).
    """
    client_dir = resolve_client_dir(client_arg)
    cfg, template = load_settings(client_dir)
    key = store_key(client_dir, cfg, template)
    root = store_root(client_dir)
    found = _current(root)
    if not rebuild and found is not None and found[0] == key:
        return _opened(client_dir, root, found[1])
    with _lock(root):
        _remove_leftovers(root)
        found = _current(root)  # built by another command while this one waited
        if not rebuild and found is not None and found[0] == key:
            return _opened(client_dir, root, found[1])
        with _interruptible():
            folder = _build(client_dir, root, key, progress)
    return dataclasses.replace(_opened(client_dir, root, folder), built=True)


def _opened(client_dir: Path, root: Path, folder: Path) -> Store:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return Store(client_dir, root, StoreFiles(folder), manifest)


# ------------------------------------------------------------------ building
_INTERRUPTED = threading.Event()


def _say(progress: Progress | None, text: str) -> None:
    _check_interrupt()
    if progress is not None:
        progress(text)


def _check_interrupt() -> None:
    """Raise the Ctrl-C that polars' own work took in and did not hand on (see _interruptible)."""
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C during a build is noted as well as raised, and checked between the build's steps.

    Polars checks for signals inside its own work and may drop the
    KeyboardInterrupt it gets there: the build would then run to its end.
    The flag set by this handler is checked before every step and part, so
    the build stops at the next one. (In the main thread only: elsewhere
    signals never arrive.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        _INTERRUPTED.set()
        raise KeyboardInterrupt

    _INTERRUPTED.clear()
    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _INTERRUPTED.clear()


def _build(client_dir: Path, root: Path, key: str, progress: Progress | None) -> Path:
    """Build a version under ``root`` and make it current; returns its folder."""
    t0 = time.perf_counter()
    bound_scan_memory()
    tmp = root / f".tmp-{secrets.token_hex(6)}"
    try:
        tmp.mkdir()  # inside the try: a Ctrl-C right after it still removes the folder
        # Fatal problems stop here, before any line: their error is the one line the user sees.
        client = load_client(client_dir, lazy=True)
        q = client.quality.get("events", {})
        _say(
            progress,
            f"{client_dir.name}: validated {client_dir} ({q.get('rows_valid', 0):,} valid events, "
            f"{q.get('rows_rejected', 0):,} quarantined); writing its store …",
        )
        rows = _write(client, StoreFiles(tmp), progress)
        manifest = {
            "format": STORE_FORMAT,
            "key": key,
            "client": client_dir.name,
            "client_dir": str(client_dir),
            "code": code_version(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(time.perf_counter() - t0, 3),
            "rows": rows,
            "sources": {t: str(p) for t, p in client.sources.items()},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        _check_interrupt()
        # A name of its own, even when the key is the current one's (``rebuild``):
        # a reader may still be reading the version this one replaces.
        folder = root / f"v-{key[:16]}-{tmp.name.removeprefix('.tmp-')}"
        os.rename(tmp, folder)
        pointer = root / ".current.json.part"
        pointer.write_text(json.dumps({"key": key, "folder": folder.name}), encoding="utf-8")
        previous = _current(root)
        os.replace(pointer, root / "current.json")
        keep = {folder.name} | ({previous[1].name} if previous else set())
        for old in root.glob("v-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
        _say(
            progress,
            f"{client_dir.name}: store ready in {time.perf_counter() - t0:.1f} s "
            f"({rows.get('events', 0):,} events, {rows.get('stream', 0):,} journey events): {folder}",
        )
        return folder
    finally:
        _remove(tmp)


def _remove(folder: Path) -> None:
    """Remove a folder, until it stays gone: engine threads still finishing a write may recreate it.

    A Ctrl-C that lands during the removal (polars may hand the signal on
    after its own work ends) does not leave the folder half removed: the
    removal finishes first, then the KeyboardInterrupt goes on.
    """
    interrupted = False
    gone = 0  # checks in a row that found it gone: a writer thread may create it again
    for _ in range(100):
        try:
            shutil.rmtree(folder, ignore_errors=True)
            gone = gone + 1 if not folder.exists() else 0
            if gone >= 3:
                break
            time.sleep(0.1)
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:
        raise KeyboardInterrupt


def _remove_leftovers(root: Path) -> None:
    """Remove the temporary folders of builds that did not finish (the caller holds the lock)."""
    for tmp in root.glob(".tmp-*"):
        _remove(tmp)


def _write(client: Client, files: StoreFiles, progress: Progress | None) -> dict[str, int]:
    """Write a loaded client's tables, quarantine, quality, stream and marts under ``files``."""
    rows: dict[str, int] = {}
    (files.folder / "tables").mkdir()
    (files.folder / "quarantine").mkdir()
    (files.folder / "marts").mkdir()
    for table, frame in client.tables.items():
        if table == "events":
            continue
        frame = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
        frame.write_parquet(files.table(table))
        rows[table] = frame.height
    for table, bad in client.rejected.items():
        bad.write_parquet(files.quarantine(table))
    quality = data_quality(client)
    (files.quality).write_text(json.dumps(quality, indent=1, default=str), encoding="utf-8")

    events = client.tables["events"].lazy()
    events = events.select(list(TABLES["events"].columns)).with_row_index("seq")
    events = events.with_columns(pl.col("seq").cast(pl.Int64))
    _say(
        progress, f"{client.name}: writing the valid events, sorted by account and time, by month …"
    )
    rows["events"] = _write_sorted(
        events,
        files.table("events"),
        key=pl.col("timestamp").dt.strftime("%Y-%m"),
        name="month",
        scratch=files.folder / ".scratch-events",
    )

    stored = {**client.tables, "events": _scan_parts(files.table("events"))}
    stream = journey_events(stored, client.template, sort=False, lazy=True)
    # Buckets of consecutive account ids: bucket = how many boundaries an id reaches (a
    # per-row comparison, streaming; a join with a table of ids held ~0.5 GB more at 10 M).
    ids = client.tables["accounts"].get_column("account_id").drop_nulls().unique().sort()
    n_stream = client.quality.get("events", {}).get("rows_valid", 0) + 3 * ids.len()
    per_bucket = max(1, math.ceil(ids.len() / max(1, math.ceil(n_stream / STREAM_BUCKET_ROWS))))
    bounds = ids.gather(list(range(per_bucket, ids.len(), per_bucket))).to_list()
    bucket = pl.sum_horizontal(
        pl.lit(0, dtype=pl.Int32), *[(pl.col("account_id") >= b).cast(pl.Int32) for b in bounds]
    )
    anonymous = len(bounds) + 1  # the last bucket
    stream = stream.with_columns(
        pl.when(pl.col("account_id").is_null()).then(anonymous).otherwise(bucket).alias("_b")
    )
    _say(progress, f"{client.name}: writing the journey stream and the marts …")
    keys = (
        ids.to_frame()
        .with_row_index("account_key")
        .select(pl.col("account_key").cast(pl.UInt32), "account_id")
    )
    small: list[dict[str, pl.DataFrame]] = []
    with (
        _PartWriter(files.mart("account_days")) as days,
        _PartWriter(files.mart("account_touchpoints")) as touchpoints,
    ):

        def each(frame: pl.DataFrame) -> None:
            # a bucket holds every row of its accounts: its aggregates are final for them
            agg = stream_aggregates(frame, client.config)
            days.write(with_keys(agg.pop("days"), keys))
            touchpoints.write(with_keys(agg.pop("touchpoints"), keys))
            small.append(agg)

        rows["stream"] = _write_sorted(
            stream,
            files.mart("stream"),
            key=pl.format("{}", pl.col("_b").cast(pl.String).str.zfill(4)),
            name="bucket",
            scratch=files.folder / ".scratch-stream",
            drop=("_b",),
            each=each,
        )
        if not small:  # no journey event at all: the marts of an empty stream
            each(_scan_parts(files.mart("stream")).collect())
    aggregates = {k: pl.concat([p[k] for p in small]) for k in small[0]}
    marts = build_marts(client.tables, None, client.config, client.template, aggregates=aggregates)
    rows["mart_account_days"] = days.rows
    rows["mart_account_touchpoints"] = touchpoints.rows
    for name, frame in marts.items():
        frame.write_parquet(files.mart(name))
        rows[f"mart_{name}"] = frame.height
    return rows


def _write_sorted(
    lf: pl.LazyFrame,
    target: Path,
    *,
    key: pl.Expr,
    name: str,
    scratch: Path,
    drop: tuple[str, ...] = (),
    each: Callable[[pl.DataFrame], object] | None = None,
) -> int:
    """Write ``lf`` as ``target/<name>=<key>/part-0.parquet``, each part sorted by account, time, seq.

    Two passes: the rows go unsorted into one folder per key (streaming), then
    each folder is read, sorted and written on its own, so memory holds one
    part at a time; ``each`` is called with every sorted part. The scratch
    files are written uncompressed: they are read once, right away. Returns
    the rows written.
    """
    lf.with_columns(key.alias("_part")).sink_parquet(
        pl.PartitionBy(scratch, key="_part", include_key=False),
        mkdir=True,
        compression="uncompressed",
        # small row groups: every open part buffers one before writing it
        row_group_size=SCRATCH_ROW_GROUP,
    )
    total = 0
    target.mkdir(parents=True, exist_ok=True)
    _check_interrupt()
    for part in sorted(scratch.iterdir()) if scratch.exists() else []:
        _check_interrupt()
        label = part.name.split("=", 1)[1]
        frame = (
            pl.scan_parquet(sorted(part.glob("*.parquet")), hive_partitioning=False)
            .sort("account_id", "timestamp", "seq", nulls_last=True)
            .drop(*drop)
            .collect()
        )
        out = target / f"{name}={label}"
        out.mkdir()
        frame.write_parquet(out / "part-0.parquet")
        if each is not None:
            each(frame)
        total += frame.height
        shutil.rmtree(part)
    shutil.rmtree(scratch, ignore_errors=True)
    if total == 0:  # no rows: one empty part keeps the columns and types
        out = target / f"{name}=none"
        out.mkdir()
        schema = lf.collect_schema()
        pl.DataFrame(schema={c: t for c, t in schema.items() if c not in drop}).write_parquet(
            out / "part-0.parquet"
        )
    return total


class _PartWriter:
    """One Parquet file written a part at a time (one row group per part): memory holds one part."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> _PartWriter:
        return self

    def write(self, frame: pl.DataFrame) -> None:
        """Append ``frame`` (same columns and types as the first part)."""
        table = frame.to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows += frame.height

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()


def _scan_parts(folder: Path) -> pl.LazyFrame:
    """The parts of a partitioned store folder, in order, as one LazyFrame.

    Every part has the same columns (the store wrote them), so unlike
    ``paths.scan_parquet`` no schema is reconciled across files.
    """
    return pl.scan_parquet(parquet_files(folder), hive_partitioning=False)
