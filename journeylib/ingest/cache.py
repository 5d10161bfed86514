"""Reuse the events table's validation between runs on unchanged files.

Validating a big Parquet events table (:mod:`journeylib.ingest.lazy`) is the largest
part of loading it: at 10 M events about 2.8 s of the 3.6 s load, at 50 M
about 24 s. Its outcome is small: the numbers of the quarantined rows with
their reasons, the quality counts, and which text columns need no
normalising. ``journey metrics`` keeps that outcome in the client's
``reports/<client>/.cache/`` folder and, on the next run over the same files,
reads it instead of validating again. The valid rows are still read from the
client's own files, every run.

The outcome is reused only when everything it depends on is unchanged
(:func:`validation_key`): every events file (its path in the folder, size,
modification and change times, inode, and Parquet footer, which records the
schema and the position, size and statistics of every column chunk), the
client's time zone, the valid account ids (an event of an id missing from the
accounts table is quarantined), the validation code itself, the polars
version and this cache's format. Any change makes a new key, so the table is
validated again and the old entry replaced: one entry per client is kept.
``journey run`` loads the client the same way in its runner and in each
notebook: the runner validates, the notebooks read its entry.

A cache that cannot be read (deleted half-way, written by another version)
counts as absent, and one that cannot be written is skipped: the cache never
changes a result, only how long it takes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from journeylib.schemas import ROW

__all__ = ["CACHE_FORMAT", "Validation", "read_validation", "validation_key", "write_validation"]

#: Version of the cache's layout; a new one makes every older entry a miss.
CACHE_FORMAT = 1

#: The modules whose code decides the validation outcome (rules, parsing, reasons):
#: a change to one invalidates every entry. Every module of the ingest folder, and
#: of the ground the table contracts and the opening of a table's Parquet files.
_CODE_DIR = Path(__file__).parent
_GROUND_CODE = ("schemas.py", "paths.py")

_PREFIX = "events-"
_MAGIC = b"PAR1"


@dataclasses.dataclass(frozen=True)
class Validation:
    """The outcome of validating an events table: what to leave out of it, and why.

    Attributes:
        bad_rows: the file row numbers (0-based, over the files in path order)
            of the quarantined rows, ascending.
        rejected: the quarantined rows as read (every column as text) plus
            ``reason``, in the same order.
        quality: ``{rows_in, rows_valid, rows_rejected, reasons}``.
        clean: the text columns whose values normalising does not change.
    """

    bad_rows: pl.Series
    rejected: pl.DataFrame
    quality: dict[str, Any]
    clean: frozenset[str]


def _footer_digest(path: Path, size: int) -> str | None:
    """SHA-256 of a Parquet file's footer (its metadata); None when it is not a Parquet file."""
    if size < 12:
        return None
    with path.open("rb") as f:
        f.seek(size - 8)
        tail = f.read(8)
        if tail[4:] != _MAGIC:
            return None
        length = int.from_bytes(tail[:4], "little")
        if length + 12 > size:
            return None
        f.seek(size - 8 - length)
        return hashlib.sha256(f.read(length)).hexdigest()


def _ids_digest(ids: pl.Series | None) -> str:
    """SHA-256 of a set of account ids (order and repeats do not matter)."""
    if ids is None:
        return "none"
    s = ids.cast(pl.String).drop_nulls().unique().sort()
    h = hashlib.sha256()
    # The lengths make the concatenation unambiguous (["ab", "c"] vs ["a", "bc"]).
    h.update(s.str.len_bytes().cast(pl.UInt64).to_numpy().tobytes())
    h.update(s.str.join("").item().encode() if s.len() else b"")
    h.update(str(ids.null_count() > 0).encode())
    return h.hexdigest()


def validation_key(
    path: Path, files: list[Path], *, timezone: str, valid_account_ids: pl.Series | None
) -> str | None:
    """The key of an events table's validation: equal keys, equal outcomes.

    Args:
        path: the events file, or the folder of its Parquet files.
        files: the Parquet files read, in the order they are read.
        timezone: the IANA zone naive timestamps are written in.
        valid_account_ids: the valid accounts' ids (None: not checked).

    Returns:
        A hex digest, or None when a file cannot be fingerprinted (missing,
        unreadable, not Parquet): the table is then validated, uncached, and
        any error reported as without a cache.
    """
    parts: list[Any] = [CACHE_FORMAT, pl.__version__, timezone]
    try:
        code = [*sorted(_CODE_DIR.glob("*.py")), *(_CODE_DIR.parent / m for m in _GROUND_CODE)]
        parts.append([hashlib.sha256(m.read_bytes()).hexdigest() for m in code])
        for f in files:
            st = f.stat()
            footer = _footer_digest(f, st.st_size)
            if footer is None:
                return None
            name = f.relative_to(path).as_posix() if f != path else f.name
            # ctime and inode too: cp -p, rsync -t, tar and touch -r can give a
            # changed file its old size and mtime, never its old ctime.
            parts.append([name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, footer])
    except (OSError, ValueError):
        return None
    parts.append(_ids_digest(valid_account_ids))
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _entry(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"{_PREFIX}{key[:32]}"


def read_validation(cache_dir: Path, key: str) -> Validation | None:
    """The validation stored under ``key``; None when there is none or it cannot be read."""
    entry = _entry(cache_dir, key)
    try:
        meta = json.loads((entry / "meta.json").read_text())
        if meta.get("format") != CACHE_FORMAT or meta.get("key") != key:
            return None
        stored = pl.read_parquet(entry / "rejected.parquet")
        quality = meta["quality"]
        if stored.height != quality["rows_rejected"] or stored.columns[0] != ROW:
            return None
        return Validation(
            bad_rows=stored.get_column(ROW),
            rejected=stored.drop(ROW),
            quality=quality,
            clean=frozenset(meta["clean"]),
        )
    except Exception:  # absent, half-written or foreign: validate again
        return None


def write_validation(cache_dir: Path, key: str, validation: Validation) -> bool:
    """Store ``validation`` under ``key`` and drop the older entries; False when it cannot.

    The entry is written to a temporary folder and renamed into place, so a
    reader never sees half of it.
    """
    entry = _entry(cache_dir, key)
    tmp: Path | None = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache_dir))
        rejected = validation.rejected
        stored = rejected.with_columns(validation.bad_rows.alias(ROW)).select(
            ROW, *rejected.columns
        )
        stored.write_parquet(tmp / "rejected.parquet")
        meta = {
            "format": CACHE_FORMAT,
            "key": key,
            "quality": validation.quality,
            "clean": sorted(validation.clean),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        if entry.exists():
            # Unreadable (a run writes only after a miss), or just written by a
            # concurrent run over the same files: replaced either way.
            stale = Path(tempfile.mkdtemp(prefix=".old-", dir=cache_dir))
            try:
                os.replace(entry, stale / "entry")
            finally:  # also when a concurrent run moved the entry first
                shutil.rmtree(stale, ignore_errors=True)
        os.replace(tmp, entry)
        tmp = None
        for old in cache_dir.glob(f"{_PREFIX}*"):  # one entry per client
            if old != entry:
                shutil.rmtree(old, ignore_errors=True)
        return True
    except (OSError, pl.exceptions.PolarsError):  # a full disk is a PolarsError to polars
        return False
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(tmp)
