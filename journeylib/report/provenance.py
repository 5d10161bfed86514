"""Provenance of a run: its id, the inputs it read (with sha256), the versions it ran with.

Everything here is small, pure-ish file work used by :mod:`journeylib.report.runner`
to write ``run.json`` and to name run folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import secrets
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "RUN_ID_FORMAT",
    "claim_run_dir",
    "file_sha256",
    "input_manifest",
    "new_run_id",
    "package_versions",
    "safe_folder_name",
    "utc_now",
    "utc_iso",
    "write_json",
]

RUN_ID_FORMAT = "%Y%m%dT%H%M%SZ"

# The packages whose versions decide what a run computes and draws.
_PACKAGES = (
    "journeylib",
    "polars",
    "narwhals",
    "duckdb",
    "dataframely",
    "pydantic",
    "altair",
    "vl-convert-python",
    "papermill",
    "nbclient",
    "nbformat",
    "ipykernel",
    "jinja2",
    "mistune",
    "pyarrow",
    "numpy",
)

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def utc_now() -> datetime:
    """The current time, timezone-aware UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def utc_iso(moment: datetime) -> str:
    """``2026-11-25T18:30:00Z`` for a UTC datetime.

    Examples:
        >>> utc_iso(datetime(2026, 11, 25, 18, 30, tzinfo=UTC))
        '2026-11-25T18:30:00Z'
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(moment: datetime | None = None) -> str:
    """A run id: the UTC start time, sortable as text.

    Examples:
        >>> new_run_id(datetime(2026, 11, 25, 18, 30, tzinfo=UTC))
        '20261125T183000Z'
    """
    return (moment or utc_now()).astimezone(UTC).strftime(RUN_ID_FORMAT)


def safe_folder_name(name: str) -> str:
    """A folder name for ``reports/<client>/``: letters, digits, ``-``, ``_`` only.

    Client folders given as explicit paths may have any name; the report folder
    must still stay a single plain component under ``reports/``.

    Examples:
        >>> safe_folder_name("acme-2024")
        'acme-2024'
        >>> safe_folder_name("Acme Corp. (EU)")
        'Acme_Corp_EU'
    """
    cleaned = _UNSAFE.sub("_", name).strip("_")
    return cleaned or "client"


def claim_run_dir(parent: Path, moment: datetime | None = None) -> tuple[str, Path]:
    """Reserve a fresh run id under ``parent`` and create its temporary folder.

    The folder is ``parent/.<run-id>.tmp``; it is created with ``exist_ok=False`` so
    two runs started in the same second (a batch, or two terminals) never share
    one. When ``<run-id>`` is taken, a short random suffix is added
    (``20261125T183000Z-3f9a``).

    Returns:
        The run id and the temporary folder.
    """
    parent.mkdir(parents=True, exist_ok=True)
    base = new_run_id(moment)
    run_id = base
    for _ in range(50):
        tmp = parent / f".{run_id}.tmp"
        if not (parent / run_id).exists():
            try:
                tmp.mkdir()
            except FileExistsError:
                pass
            else:
                return run_id, tmp
        run_id = f"{base}-{secrets.token_hex(2)}"
    raise RuntimeError(f"could not reserve a run folder under {parent}")  # pragma: no cover


def file_sha256(path: Path, *, chunk: int = 1 << 20) -> str:
    """The sha256 hex digest of a file, read in chunks (inputs may be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def input_manifest(client_dir: Path) -> list[dict[str, Any]]:
    """Every file of a client folder: path relative to it, size in bytes and sha256.

    Hidden files and folders (``.git``, ``.DS_Store``, editor swap files) are left
    out: they are not inputs. Sorted by path so the list is stable.
    """
    client_dir = Path(client_dir)
    rows: list[dict[str, Any]] = []
    for root, dirs, files in os.walk(client_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            rows.append(
                {
                    "path": path.relative_to(client_dir).as_posix(),
                    "bytes": path.stat().st_size,
                    "sha256": file_sha256(path),
                }
            )
    rows.sort(key=lambda r: r["path"])
    return rows


def package_versions() -> dict[str, str | None]:
    """Python and the versions of the packages that shape a run's numbers and pictures.

    A package that is not installed is listed with ``None``.
    """
    versions: dict[str, str | None] = {
        "python": platform.python_version(),
    }
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def write_json(path: Path, doc: Any) -> None:
    """Write ``doc`` as indented UTF-8 JSON, atomically (temp file, then rename).

    ``allow_nan=False``: a NaN or infinity is a bug upstream (metrics.md says
    null), so it fails here instead of writing invalid JSON.
    """
    text = json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
