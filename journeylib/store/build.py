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

1. the valid tables but the events as typed Parquet, the quarantine and the
   quality counts;
2. the valid events with ``seq`` (their order in the raw export, which breaks
   ties between events at the same time exactly as before), split unsorted
   into buckets of consecutive account ids (streaming: one pass over the raw
   files, in parts of about ``SPLIT_PART_ROWS`` rows where the files' row
   groups allow it); the rows without an account go last, one bucket per
   month;
3. bucket by bucket, in order: the bucket's journey stream (its raw events
   and the derived events of its accounts, mapped to the template) sorted
   once, by account, time and seq (:func:`_in_journey_order`), and written as
   the bucket's stream file; and its rows of the marts
   (:mod:`journeylib.store.marts`), final since a bucket holds every row of
   its accounts. Memory holds about three buckets: the one written, the next
   one read and sorted, and the one whose marts are computed, on two threads
   beside the main one (a bucket's marts are written after the next
   bucket's stream, so the main thread does not wait for them);
   then the events table: the stream's raw rows, in its order, split by
   month in one streaming pass (:func:`_write_months`), so each month is
   sorted by account, time and seq;
4. ``manifest.json`` last.

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
import itertools
import json
import math
import os
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
from polars.io.partition import FileProviderArgs

from journeylib.config import JourneyTemplate
from journeylib.frames import collect
from journeylib.ingest.client import (
    Client,
    data_quality,
    load_client,
    load_settings,
    with_stored_stream,
)
from journeylib.ingest.lazy import bound_scan_memory
from journeylib.months import month_from_index, month_index_expr
from journeylib.paths import parquet_files, resolve_client_dir
from journeylib.schemas import TABLE_ORDER, TABLES
from journeylib.store.key import code_version, store_key
from journeylib.store.layout import MARTS, STORE_FORMAT, StoreFiles, store_root
from journeylib.store.marts import active_months, build_marts, sorted_stream_aggregates
from journeylib.stream import STREAM_COLUMNS, journey_events, map_events
from journeylib.stream.derived import derived_lazy

__all__ = ["Store", "ensure_store", "read_store"]

Progress = Callable[[str], None]

#: Rows of the journey stream per bucket (the unit sorted in memory). At 50 M
#: events the build held 1.2 GB with buckets of 0.5 M rows, 1.6 GB with 1 M.
STREAM_BUCKET_ROWS = 500_000
#: Rows per row group of the unsorted scratch files: every open part (one per
#: bucket, about 130 at 50 M events with the months of the rows without an
#: account) buffers one (64 Ki rows: 1.45 GB at 50 M; 16 Ki: 1.1 GB, both
#: measured when the split was one pass).
SCRATCH_ROW_GROUP = 16_384
#: File rows of the events split in one streaming pass (``Client.event_parts``).
#: One pass over all of them let rows pile up before polars' partitioned writer
#: as it pleased: the same 50 M build peaked at 1.15 to 1.81 GiB in the split
#: (five builds); by parts of 1 M rows, at 0.89 to 0.95 GiB (three). A part
#: is a run of whole row groups: a file of one huge row group is one part.
SPLIT_PART_ROWS = 1_000_000
#: The codec of the stream's, the events' and the marts' files: snappy writes a
#: bucket's stream in 0.10 s and its months in 0.13 s where zstd took 0.17 s and
#: 0.26 s (0.5 M rows), and reads as fast, for files about 1.4 times as big.
COMPRESSION = "snappy"
#: Rows of a per-account mart per part (Store.mart_parts): at 100 M events the
#: account_days mart has about 60 M rows; a part of 4 M is read in about 0.1 GB.
MART_PART_ROWS = 4_000_000
#: Rows per row group of the events' month files: each open month (up to 128)
#: buffers one while the stream's raw rows are split by month.
MONTH_ROW_GROUP = 32_768
#: Threads beside the main one while the buckets are written (see _write).
_WORKERS = 2


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
        quality = self.quality()
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

    def quality(self) -> dict[str, Any]:
        """Rows in, valid, rejected and reasons per table (``quality.json``), tables read or not."""
        return dict(json.loads(self.files.quality.read_text(encoding="utf-8"))["tables"])

    def table(self, name: str) -> pl.DataFrame | pl.LazyFrame:
        """A stored valid table: ``events`` lazily (with ``seq``), the others in memory."""
        path = self.files.table(name)
        return _scan_parts(path) if name == "events" else pl.read_parquet(path)

    def stream(self) -> pl.LazyFrame:
        """The journey stream as a LazyFrame; collected, its rows are sorted by account, time, seq."""
        return _scan_parts(self.files.mart("stream"))

    def stream_parts(self) -> list[pl.LazyFrame]:
        """The journey stream in account parts: one LazyFrame per bucket file, in order.

        Each part holds every row of its accounts, sorted by account, time,
        seq (the rows without an account are in parts of their own, one or
        more months each): what :func:`journeylib.frames.account_parts` reads. Functions
        that compute per account (``paths``, ``funnel_correlation``,
        ``health_scores``) read one part at a time, in the memory of one.
        """
        return [
            pl.scan_parquet(f, hive_partitioning=False)
            for f in parquet_files(self.files.mart("stream"))
        ]

    def mart_parts(self, name: str, *, rows: int = MART_PART_ROWS) -> list[pl.LazyFrame]:
        """A per-account mart in account parts of about ``rows`` rows (at least one part).

        The marts are written bucket by bucket, one row group (or more) per
        bucket, in account-key order: a part is a run of row groups, read as
        the mart filtered to their ``account_key`` range (the other row groups
        are skipped by their statistics). Each part holds every row of its
        accounts, since an account's rows are all in one bucket. A mart whose
        row groups have no key statistics, a null key, or overlapping ranges
        is one part, read whole.
        """
        path = self.files.mart(name)
        meta = pq.read_metadata(path)
        col = meta.schema.names.index("account_key")
        ranges: list[list[int]] = []
        size = 0
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            stats = group.column(col).statistics
            if group.num_rows == 0:
                continue
            if stats is None or not stats.has_min_max or stats.null_count:
                return [pl.scan_parquet(path)]  # no range, or rows a range would not keep
            lo, hi = int(stats.min), int(stats.max)
            if ranges and size + group.num_rows <= rows and lo > ranges[-1][1]:
                ranges[-1][1] = hi
                size += group.num_rows
            else:
                ranges.append([lo, hi])
                size = group.num_rows
        if len(ranges) < 2 or any(a[1] >= b[0] for a, b in itertools.pairwise(ranges)):
            return [pl.scan_parquet(path)]  # one part, or not in key order: read whole
        key = pl.col("account_key")
        return [pl.scan_parquet(path).filter(key.is_between(lo, hi)) for lo, hi in ranges]

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
    """Write a loaded client's tables, quarantine, quality, events, stream and marts under ``files``.

    The tables the derived journey events come from are taken out of
    ``client.tables`` (memory holds them once, split by bucket).
    """
    rows: dict[str, int] = {}
    for sub in ("tables", "quarantine", "marts"):
        (files.folder / sub).mkdir()
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

    ids = client.tables["accounts"].get_column("account_id").drop_nulls().unique().sort()
    n_stream = client.quality.get("events", {}).get("rows_valid", 0) + 3 * ids.len()
    # anonymous: the base of the buckets of the rows without an account (+ their month's index)
    bucket, anonymous = _bucket_of(ids, n_stream)
    columns = ["seq", *TABLES["events"].columns]
    events = client.tables["events"].lazy().with_row_index("seq")
    events = events.with_columns(pl.col("seq").cast(pl.Int64)).select(columns)
    event_schema = events.collect_schema()
    # the events read from Parquet in parts, one streaming pass each; in memory, whole
    parts = client.event_parts(SPLIT_PART_ROWS)
    parts = [events] if parts is None else [p.select(columns) for p in parts]
    # first: the columns of the smaller tables that no later step reads are let go
    split = _Split(client, bucket, anonymous)
    _say(progress, f"{client.name}: splitting the valid events by account …")
    scratch = files.folder / ".scratch"
    for i, part in enumerate(parts):
        _check_interrupt()
        part.with_columns(bucket("timestamp")).sink_parquet(
            pl.PartitionBy(scratch / f"p={i:06d}", key="_b", include_key=False),
            mkdir=True,
            compression="uncompressed",  # read once, right away
            # small row groups: every open part buffers one before writing it
            row_group_size=SCRATCH_ROW_GROUP,
        )
    # each bucket's files, part after part: its rows in seq order
    raw_parts: dict[int, list[Path]] = {}
    for folder in sorted(scratch.glob("p=*")):
        for found in folder.glob("_b=*"):
            b = int(found.name.split("=", 1)[1])
            raw_parts.setdefault(b, []).extend(sorted(found.glob("*.parquet")))
    sizes = {b: sum(pq.read_metadata(f).num_rows for f in fs) for b, fs in raw_parts.items()}
    n_events = sum(sizes.values())
    units = _units(sorted(raw_parts.keys() | split.buckets()), sizes, anonymous)
    _say(
        progress,
        f"{client.name}: writing the valid events, the journey stream and the marts, by account …",
    )
    keys = (
        ids.to_frame()
        .with_row_index("account_key")
        .select(pl.col("account_key").cast(pl.UInt32), "account_id")
    )
    events_dir, stream_dir = files.table("events"), files.mart("stream")
    events_dir.mkdir()
    stream_dir.mkdir()
    rows["events"] = rows["stream"] = 0

    def sorted_bucket(unit: tuple[int, ...]) -> tuple[pl.DataFrame, int]:
        """The buckets' journey stream, sorted, and how many of its rows are derived.

        The derived rows' seq count from ``n_events`` here: the caller adds
        those of the buckets before (:meth:`_Split.derived_seq`). One sort:
        seq breaks every tie.
        """
        scratch_files = [f for b in unit for f in raw_parts.get(b, [])]
        if scratch_files:
            raw = pl.read_parquet(scratch_files, hive_partitioning=False)
        else:
            raw = pl.DataFrame(schema=event_schema)
        parts = [journey_events({"events": raw}, client.template, sort=False)]
        derived = split.derived(unit, client.template)
        if derived is not None:
            # in seq order after the raw rows (which come in it): what the sort keeps
            parts.append(derived.with_columns(pl.col("seq") + n_events).sort("seq"))
        stream = _in_journey_order(pl.concat(parts))
        return stream, 0 if derived is None else derived.height

    def marts(stream: pl.DataFrame, unit: tuple[int, ...]) -> dict[str, pl.DataFrame]:
        # a bucket holds every row of its accounts: its marts are final for them
        return build_marts(
            split.tables(unit),
            None,
            client.config,
            client.template,
            aggregates=sorted_stream_aggregates(stream, client.config),
            keys=keys,
        )

    with contextlib.ExitStack() as open_files:
        writers = {
            name: open_files.enter_context(_PartWriter(files.mart(name)))
            for name in ("accounts", "account_months", "account_touchpoints", "account_days")
        }

        def write(label: str, stream: pl.DataFrame) -> None:
            folder = stream_dir / f"bucket={label}"
            folder.mkdir()
            stream.write_parquet(folder / "part-0.parquet", compression=COMPRESSION)
            rows["stream"] += stream.height
            rows["events"] += int((stream.get_column("source") == "events").sum())

        def write_marts(unit: tuple[int, ...], done: Future[dict[str, pl.DataFrame]]) -> None:
            for name, frame in done.result().items():
                writers[name].write(frame)
            split.done(unit)

        # Two threads beside this one: while a bucket's stream is written here,
        # its marts are computed and the next bucket is read and sorted; the
        # marts are written once the next bucket's stream is (no wait for them).
        with ThreadPoolExecutor(_WORKERS) as pool:
            ahead = pool.submit(sorted_bucket, units[0]) if units else None
            pending: tuple[tuple[int, ...], Future[dict[str, pl.DataFrame]]] | None = None
            for i, unit in enumerate(units):
                _check_interrupt()
                assert ahead is not None
                stream, n_derived = ahead.result()
                ahead = pool.submit(sorted_bucket, units[i + 1]) if i + 1 < len(units) else None
                if n_derived:
                    stream = stream.with_columns(
                        pl.when(pl.col("source") != "events")
                        .then(pl.col("seq") + split.derived_seq(unit, n_derived))
                        .otherwise(pl.col("seq"))
                    )
                done = pool.submit(marts, stream, unit)
                write(f"{unit[0]:06d}", stream)
                del stream
                for b in unit:
                    for f in raw_parts.get(b, []):
                        f.unlink(missing_ok=True)
                if pending is not None:
                    write_marts(*pending)
                pending = (unit, done)
            if pending is not None:
                write_marts(*pending)
            # no rows at all: one empty part keeps the columns and types
            if not units:
                stream = journey_events(
                    {"events": pl.DataFrame(schema=event_schema)}, client.template
                )
                done = pool.submit(marts, stream, (anonymous,))
                write("none", stream)
                write_marts((anonymous,), done)
    _check_interrupt()
    _say(progress, f"{client.name}: writing the valid events by month …")
    _write_months(stream_dir, events_dir, event_schema, rows["events"])
    shutil.rmtree(scratch, ignore_errors=True)
    for name, writer in writers.items():
        rows[f"mart_{name}"] = writer.rows
    return rows


#: The tables the derived journey events come from, and the column of a row's time
#: (which places a row without an account: only surveys may have one).
_DERIVED_FROM = {
    "accounts": "signup_at",
    "subscriptions": "month",
    "tickets": "opened_at",
    "surveys": "responded_at",
}
#: The columns of those tables that the derived events and the marts read (kept, split by bucket).
_READ = {
    "accounts": ("account_id", "first_seen_at", "signup_at", "persona", "acquisition_channel"),
    "subscriptions": ("account_id", "month", "mrr", "plan"),
    "tickets": ("ticket_id", "account_id", "opened_at", "resolved_at"),
    "surveys": ("response_id", "account_id", "responded_at"),
}


class _Split:
    """The tables the derived journey events come from, split by bucket of accounts.

    Each bucket's derived rows are derived from its accounts' rows alone: an
    account's derived events depend on its own rows and on the subscriptions
    table's last month, which is the whole table's. Their seq numbers are
    those of the whole client's derived rows (:func:`derived_lazy` numbers
    them by account first, the rows without an account first of all): those
    of the buckets before, plus the bucket's own.
    """

    def __init__(self, client: Client, bucket: Callable[[str], pl.Expr], anonymous: int) -> None:
        tables = {t: client.tables.pop(t) for t in _DERIVED_FROM if t in client.tables}
        subs = tables.get("subscriptions")
        self.subscriptions_end: int | None = (
            subs.select(month_index_expr("month").max()).item() if subs is not None else None
        )
        self._empty: dict[str, pl.DataFrame] = {}
        self._parts: dict[str, dict[int, pl.DataFrame]] = {}
        for t in list(tables):
            _check_interrupt()
            table = tables.pop(t)
            table = table.select(c for c in _READ[t] if c in table.columns)
            self._empty[t] = table.clear()
            parts = table.with_columns(bucket(_DERIVED_FROM[t])).partition_by("_b", as_dict=True)
            self._parts[t] = {int(k[0]): f.drop("_b") for k, f in parts.items()}  # type: ignore[call-overload]
        # the rows without an account (the last buckets) come first in seq, by time
        self._first: dict[int, int] = {}
        self._next = 0
        for b in sorted(b for b in self.buckets() if b >= anonymous):
            lf = derived_lazy(**self.tables((b,)), subscriptions_end=self.subscriptions_end)
            self._first[b] = self._next
            self._next += 0 if lf is None else collect(lf.select("seq")).height

    def buckets(self) -> set[int]:
        """The buckets with a row in any of the tables."""
        return {b for parts in self._parts.values() for b in parts}

    def tables(self, unit: tuple[int, ...]) -> dict[str, pl.DataFrame]:
        """The rows of each table in the buckets of ``unit`` (an empty frame when none)."""
        out = {}
        for t, parts in self._parts.items():
            found = [parts[b] for b in unit if b in parts]
            out[t] = pl.concat(found) if found else self._empty[t]
        return out

    def derived(self, unit: tuple[int, ...], template: JourneyTemplate) -> pl.DataFrame | None:
        """The buckets' derived journey events, mapped, with seq counted from 0; None when none."""
        lf = derived_lazy(**self.tables(unit), subscriptions_end=self.subscriptions_end)
        if lf is None:
            return None
        frame = map_events(collect(lf), template).select(STREAM_COLUMNS)
        return frame if frame.height else None

    def derived_seq(self, unit: tuple[int, ...], n: int) -> int:
        """What to add to the seq of the ``n`` derived rows of ``unit`` (called in bucket order).

        Buckets of rows without an account were numbered first, in order: a
        unit of several such buckets starts at the number of its first one
        with a derived row.
        """
        first = next((self._first[b] for b in unit if b in self._first), None)
        if first is not None:
            return first
        start, self._next = self._next, self._next + n
        return start

    def done(self, unit: tuple[int, ...]) -> None:
        """Forget the buckets' rows."""
        for parts in self._parts.values():
            for b in unit:
                parts.pop(b, None)


def _units(buckets: list[int], sizes: dict[int, int], anonymous: int) -> list[tuple[int, ...]]:
    """The buckets as processed together: one each, the months of rows without an account grouped.

    Consecutive buckets of rows without an account go together while their
    raw rows add up to at most ``STREAM_BUCKET_ROWS``: a small client's
    anonymous rows of a month are a few thousand, and each unit has a fixed
    cost (at 1 M events, 24 such buckets took 2.4 s).

    Examples:
        >>> _units([0, 1, 5, 6, 7], {0: 9, 1: 9, 5: 300_000, 6: 300_000, 7: 10}, anonymous=3)
        [(0,), (1,), (5,), (6, 7)]
    """
    units: list[tuple[int, ...]] = []
    rows = 0
    for b in buckets:
        n = sizes.get(b, 0)
        if (
            b >= anonymous
            and units
            and units[-1][0] >= anonymous
            and rows + n <= STREAM_BUCKET_ROWS
        ):
            units[-1] += (b,)
            rows += n
        else:
            units.append((b,))
            rows = n
    return units


def _in_journey_order(stream: pl.DataFrame) -> pl.DataFrame:
    """``stream`` sorted by account_id, timestamp and seq (nulls last): the journey stream's order.

    The same rows as ``stream.sort("account_id", "timestamp", "seq",
    nulls_last=True)``, sorted faster: rows put in seq order first (seq is
    unique, and the bucket's rows mostly come in that order already) are
    sorted stably on one unsigned integer that packs the account's rank
    among the frame's accounts above the time's microseconds since the
    frame's first one, so ties keep seq's order. A sort on the three columns
    took 0.16 s for a bucket of 0.47 M rows, with the string ids; this takes
    0.05 s. A frame whose rank and time do not fit in 63 bits together, or
    that has a null time, or accounts and rows without one mixed, is sorted
    on the three columns.
    """
    if not stream.get_column("seq").is_sorted():
        stream = stream.sort("seq")
    account, ts = stream.get_column("account_id"), stream.get_column("timestamp")
    nulls = account.null_count()
    if stream.height < 2 or ts.null_count() or 0 < nulls < stream.height:
        return stream.sort("account_id", "timestamp", "seq", nulls_last=True)
    if nulls:  # rows without an account only: by time, then seq
        return stream.sort("timestamp", maintain_order=True)
    micros = pl.col("timestamp").dt.epoch("us")
    lo, hi = stream.select(micros.min().alias("lo"), micros.max().alias("hi")).row(0)
    ids = account.unique().sort()
    bits = (hi - lo).bit_length()
    if bits + ids.len().bit_length() > 63:
        return stream.sort("account_id", "timestamp", "seq", nulls_last=True)
    rank = pl.col("account_id").replace_strict(
        ids, pl.int_range(ids.len(), dtype=pl.UInt64, eager=True), return_dtype=pl.UInt64
    )
    key = (rank * (1 << bits) + (micros - lo).cast(pl.UInt64)).alias("_order")
    return stream.with_columns(key).sort("_order", maintain_order=True).drop("_order")


def _account_keys(ids: pl.Series) -> pl.Expr:
    """Each row's account key: its ``account_id``'s position among the sorted ``ids`` (UInt32).

    A cast to an Enum of the ids, whose physical value is that position: one
    hash lookup per row, streaming too. Null for a row without an account; an
    id not among ``ids`` is an error (every valid row's account is a valid
    account: the ``unknown_account`` rule).

    Examples:
        >>> ids = pl.Series(["a", "b", "c"])
        >>> frame = pl.DataFrame({"account_id": ["c", None, "a"]})
        >>> frame.select(_account_keys(ids)).to_series().to_list()
        [2, None, 0]
    """
    return pl.col("account_id").cast(pl.Enum(ids)).to_physical().cast(pl.UInt32)


def _bucket_of(ids: pl.Series, n_stream: int) -> tuple[Callable[[str], pl.Expr], int]:
    """The bucket ``_b`` of each row, and the first bucket of the rows without an account.

    Buckets are runs of consecutive account ids of about ``STREAM_BUCKET_ROWS``
    stream rows: ``ids`` are the account ids, sorted; ``n_stream`` the
    stream's expected rows. A row's bucket is its account key
    (:func:`_account_keys`) divided by the accounts per bucket. The rows
    without an account come last, one bucket per month of their time: the
    stream orders them by time (at 50 M events they were 4.4 M rows, too many
    for one bucket).

    The expression is ``bucket(time_column)``, the same for the events'
    streaming split and the smaller tables in memory. At 50 M events (109
    buckets) the split took 31.5 s with it, against 40.5 s comparing each id
    with the first id of every bucket and summing; at 10 M (21 buckets) the
    two are alike (3.5–4.1 s).
    """
    per_bucket = max(1, math.ceil(ids.len() / max(1, math.ceil(n_stream / STREAM_BUCKET_ROWS))))
    anonymous = len(range(per_bucket, ids.len(), per_bucket)) + 1
    keyed = (_account_keys(ids) // per_bucket).cast(pl.Int32)

    def bucket(at: str) -> pl.Expr:
        month = month_index_expr(at).cast(pl.Int32)
        return (
            pl.when(pl.col("account_id").is_null())
            .then(anonymous + month)
            .otherwise(keyed)
            .alias("_b")
        )

    return bucket, anonymous


def _write_months(stream_dir: Path, events_dir: Path, schema: pl.Schema, n: int) -> None:
    """Write the events table, a folder per month, from the stream's ``n`` raw rows.

    One streaming pass over the stream's files in bucket order: their raw
    rows (``source == 'events'``), in that order, are each month's rows
    sorted by account, time and seq (the sink keeps the order of the rows
    within a partition). Writing each bucket's rows of each month as a row
    group of its own took 4.5 s at 10 M events (24 buckets × 24 months of
    small writes on one thread); this pass, 2.2 s on two. Small row groups
    bound the memory the open months buffer (polars keeps at most 128 files
    open: each buffers one row group).

    A month is one file, ``part-0.parquet``, unless polars had to close it
    while more than 128 months were open: its rows then go on in
    ``part-000001.parquet`` and on, which sort after ``part-0.parquet`` and in
    order by name (what :func:`journeylib.paths.parquet_files` reads). A
    client without events gets one empty file, ``month=none``.
    """
    if not n:
        (events_dir / "month=none").mkdir()
        pl.DataFrame(schema=schema).write_parquet(
            events_dir / "month=none" / "part-0.parquet", compression=COMPRESSION
        )
        return
    raw = _scan_parts(stream_dir).filter(pl.col("source") == "events")
    # the month's index as the key (its label is made once per file, by _month_file):
    # a label made per row was a fifth of the pass
    raw.select(schema.names()).with_columns(
        month_index_expr("timestamp").cast(pl.Int32).alias("_month")
    ).sink_parquet(
        pl.PartitionBy(
            events_dir,
            key="_month",
            include_key=False,
            file_path_provider=_month_file,
            approximate_bytes_per_file=None,
        ),
        mkdir=True,
        compression=COMPRESSION,
        row_group_size=MONTH_ROW_GROUP,
    )


def _month_file(args: FileProviderArgs) -> str:
    """The path of a month's file (``month=YYYY-MM/part-0.parquet``, then ``part-000001.parquet`` on).

    The partition key is the month's index (:func:`~journeylib.months.month_index_expr`).

    Examples:
        >>> _month_file(FileProviderArgs(index_in_partition=0,
        ...                              partition_keys=pl.DataFrame({"_month": [24290]})))
        'month=2024-03/part-0.parquet'
        >>> _month_file(FileProviderArgs(index_in_partition=12,
        ...                              partition_keys=pl.DataFrame({"_month": [24290]})))
        'month=2024-03/part-000012.parquet'
    """
    label = month_from_index(int(args.partition_keys.item(0, 0)))
    i = args.index_in_partition
    return f"month={label}/part-{i if i == 0 else f'{i:06d}'}.parquet"


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
            self._writer = pq.ParquetWriter(self.path, table.schema, compression=COMPRESSION)
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
