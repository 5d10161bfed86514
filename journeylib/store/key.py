"""The fingerprint of a client store: equal keys, equal stores.

A store is current while its key is the key of the client now
(:func:`store_key`). The key covers everything the store's files depend on:

* every raw table file (each file of a folder of partitions): its path in the
  client folder, size, modification and change times and inode. A file
  rewritten in place changes its change time even when ``cp -p``,
  ``rsync -t`` or ``touch -r`` restore its size and modification time;
* the settings of ``client.yaml`` that shape the stored rows: ``timezone``,
  ``personas``, ``event_mapping``, ``activation``, ``first_value`` and
  ``milestones``, and the journey template (after ``event_mapping``). The
  other settings (period, goals, currency, margin, branded terms …) are read
  from ``client.yaml`` by every command, so editing them needs no new store;
* the code that writes the store (the ``ingest``, ``stream`` and ``store``
  folders, ``schemas.py``, ``paths.py``, ``config.py``), the polars version
  and :data:`~journeylib.store.layout.STORE_FORMAT`.

Reading the key costs a ``stat`` per raw file and the hashing of a few
hundred kilobytes of code: milliseconds.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import polars as pl

from journeylib.config import ClientConfig, JourneyTemplate
from journeylib.paths import find_table_file, parquet_files
from journeylib.schemas import TABLE_ORDER
from journeylib.store.layout import STORE_FORMAT

__all__ = ["code_version", "package_source", "raw_files", "source_digest", "store_key"]

_PACKAGE = Path(__file__).resolve().parents[1]
_CODE_DIRS = ("ingest", "stream", "store")
_CODE_FILES = ("schemas.py", "paths.py", "config.py")
#: The client.yaml settings a store depends on (the others are read at every command).
STORE_SETTINGS = (
    "timezone",
    "personas",
    "event_mapping",
    "activation",
    "first_value",
    "milestones",
)


def code_version() -> str:
    """SHA-256 over the source of the modules that write a store, the polars version and the format."""
    files = [p for d in _CODE_DIRS for p in sorted((_PACKAGE / d).glob("*.py"))]
    files += [_PACKAGE / f for f in _CODE_FILES]
    return source_digest(files, salt=f"{STORE_FORMAT}|{pl.__version__}")


def source_digest(files: list[Path], *, salt: str = "") -> str:
    """SHA-256 over ``salt`` and each of the package's ``files``: its path in the package and content."""
    h = hashlib.sha256(salt.encode())
    for f in files:
        h.update(f.relative_to(_PACKAGE).as_posix().encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def package_source() -> list[Path]:
    """Every Python file of the package, in a fixed order."""
    return sorted(_PACKAGE.rglob("*.py"))


def raw_files(client_dir: Path) -> dict[str, list[Path]]:
    """Each table's raw files in the client folder: one file, or a folder's Parquet files in order."""
    out: dict[str, list[Path]] = {}
    for table in TABLE_ORDER:
        found = find_table_file(client_dir, table)
        if found is not None:
            out[table] = parquet_files(found) if found.is_dir() else [found]
    return out


def _file_part(client_dir: Path, f: Path) -> list[Any]:
    st = f.stat()
    return [
        f.relative_to(client_dir).as_posix(),
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_ino,
    ]


def store_key(client_dir: Path, config: ClientConfig, template: JourneyTemplate) -> str:
    """The key of the store of ``client_dir`` as it is now (a hex digest).

    Args:
        client_dir: the raw client folder.
        config: its ``client.yaml``, validated.
        template: its journey template, ``event_mapping`` applied.

    Examples:
        >>> import tempfile
        >>> from journeylib.config import load_client_config, load_template
        >>> from journeylib.sources.scaffold import init_client
        >>> d = Path(tempfile.mkdtemp()) / "acme"
        >>> _ = init_client(d, template="./journey.yaml")
        >>> _ = (d / "journey.yaml").write_text(
        ...     "stages: [{id: s, label: S, touchpoints: [{id: t, events: [login]}]}]")
        >>> cfg = load_client_config(d / "client.yaml")
        >>> tpl = load_template(cfg.journey, client_dir=d)
        >>> k = store_key(d, cfg, tpl)
        >>> k == store_key(d, cfg, tpl), len(k)
        (True, 64)
        >>> _ = (d / "events.csv").write_text("timestamp,account_id,event")
        >>> store_key(d, cfg, tpl) == k
        False
    """
    client_dir = Path(client_dir).resolve()
    settings = config.model_dump(mode="json", include=set(STORE_SETTINGS))
    parts: list[Any] = [
        STORE_FORMAT,
        str(client_dir),
        code_version(),
        settings,
        template.model_dump(mode="json"),
        {
            t: [_file_part(client_dir, f) for f in files]
            for t, files in raw_files(client_dir).items()
        },
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
