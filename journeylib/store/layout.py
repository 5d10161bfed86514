"""Where a client store keeps each file: the store's contract.

A client store is one folder per client, ``<reports>/<client>/store/`` by
default (:func:`store_root`; ``JOURNEY_STORE_DIR`` moves every client's store
under another folder). It never lives in the raw client folder, which may be
read-only::

    store/
      current.json                   which version is current (replaced atomically)
      .lock                          held while a version is built
      v-<key>/                       one complete version (the current and the previous)
        manifest.json                key, format, rows, months, sources, seconds
        quality.json                 rows in / valid / rejected and reasons per table
        tables/
          accounts.parquet           valid rows, canonical columns and types
          subscriptions.parquet …    (each optional table the client has)
          events/month=YYYY-MM/part-0.parquet
                                     valid events sorted by account_id, timestamp, seq;
                                     seq (Int64) = the row's order in the raw export
                                     (part-000001.parquet … follow in a month that
                                     polars had to close: more than 128 months)
        quarantine/<table>.parquet   rejected rows as read (text) plus reason
        marts/
          accounts.parquet           one row per account (see journeylib.store.marts)
          account_months.parquet     one row per account × month with activity or MRR
          account_touchpoints.parquet  one row per account × month × touchpoint
          account_days.parquet       one row per account × day with activity
          stream/bucket=NNNNNN/part-0.parquet
                                     the journey event stream, sorted by account_id,
                                     timestamp, seq; buckets are ranges of account ids in
                                     order (then the rows without an account, a bucket per
                                     month), so reading the buckets in name order reads
                                     the sorted stream

A job on another engine (Spark) that writes these files with these columns
gives a store every reader of the workbench can open (``docs/scaling.md``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from journeylib.paths import data_dir, reports_dir

__all__ = [
    "MARTS",
    "STORE_FORMAT",
    "StoreFiles",
    "store_root",
]

#: Version of the store's layout; a new one makes every older store stale.
STORE_FORMAT = 1

#: The marts of a store, by name: file (or folder) under ``marts/``.
MARTS: dict[str, str] = {
    "accounts": "accounts.parquet",
    "account_months": "account_months.parquet",
    "account_touchpoints": "account_touchpoints.parquet",
    "account_days": "account_days.parquet",
    "stream": "stream",
}


def store_root(client_dir: Path) -> Path:
    """The folder of a client's store.

    ``<reports>/<client>/store`` for a client folder of ``data/``; a client
    folder elsewhere gets ``<reports>/<client>/store-<8 hex digits of its
    path>``, so two folders of the same name never share a store.
    ``JOURNEY_STORE_DIR`` puts ``<client>/store…`` under that folder instead.

    Examples:
        >>> store_root(data_dir() / "acme").parts[-2:]
        ('acme', 'store')
        >>> store_root(Path("/elsewhere/acme")).name.startswith("store-")
        True
    """
    client_dir = Path(client_dir).resolve()
    override = os.environ.get("JOURNEY_STORE_DIR")
    base = Path(override) if override else reports_dir()
    if client_dir.parent == data_dir().resolve():
        return base / client_dir.name / "store"
    digest = hashlib.sha256(str(client_dir).encode()).hexdigest()[:8]
    return base / client_dir.name / f"store-{digest}"


class StoreFiles:
    """The paths of one store version's files (``v-<key[:16]>-<random>/``).

    Examples:
        >>> f = StoreFiles(Path("/s/v-ab"))
        >>> f.table("events").as_posix(), f.mart("accounts").as_posix()
        ('/s/v-ab/tables/events', '/s/v-ab/marts/accounts.parquet')
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @property
    def manifest(self) -> Path:
        """``manifest.json``."""
        return self.folder / "manifest.json"

    @property
    def quality(self) -> Path:
        """``quality.json``."""
        return self.folder / "quality.json"

    def table(self, name: str) -> Path:
        """A valid table: ``tables/<name>.parquet``, or the ``tables/events/`` folder."""
        if name == "events":
            return self.folder / "tables" / "events"
        return self.folder / "tables" / f"{name}.parquet"

    def quarantine(self, name: str) -> Path:
        """The rejected rows of a table: ``quarantine/<name>.parquet``."""
        return self.folder / "quarantine" / f"{name}.parquet"

    def mart(self, name: str) -> Path:
        """A mart's file, or the ``marts/stream/`` folder."""
        return self.folder / "marts" / MARTS[name]
