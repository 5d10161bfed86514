"""Every path of the workbench hangs off one project root; every table's file lies in its client folder.

``JOURNEY_ROOT`` overrides the root (data/, reports/ and templates/ below it);
``JOURNEY_DATA_DIR`` and ``JOURNEY_REPORTS_DIR`` override those two alone.

A table of a client folder is one file, ``<table>.csv``, ``<table>.csv.gz`` or
``<table>.parquet``, or a folder ``<table>/`` of Parquet files (such as month
partitions): :func:`find_table_file` finds it, :func:`scan_parquet` opens a
Parquet one. Both the loader (``journeylib.ingest``) and the importers
(``journeylib.sources``) find tables this way.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import polars as pl

from journeylib.errors import ClientNameError, DataError, first_line

__all__ = [
    "EXTENSIONS",
    "PROJ_ROOT",
    "data_dir",
    "reports_dir",
    "templates_dir",
    "check_name",
    "resolve_client_dir",
    "client_dir_for_new",
    "find_table_file",
    "parquet_files",
    "parquet_source",
    "scan_parquet",
]

PROJ_ROOT = Path(os.environ.get("JOURNEY_ROOT", Path(__file__).resolve().parents[1]))

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def data_dir() -> Path:
    """The folder that holds one sub-folder per client."""
    return Path(os.environ.get("JOURNEY_DATA_DIR", PROJ_ROOT / "data"))


def reports_dir() -> Path:
    """The git-ignored folder runs write into."""
    return Path(os.environ.get("JOURNEY_REPORTS_DIR", PROJ_ROOT / "reports"))


def templates_dir() -> Path:
    """The folder of the shipped templates (journeys, client.yaml, notebook, report)."""
    return PROJ_ROOT / "templates"


def check_name(name: str, *, kind: str = "client") -> str:
    """Return ``name`` when it is a plain folder name (letters, digits, ``-``, ``_``).

    Examples:
        >>> check_name("acme-2024")
        'acme-2024'
        >>> check_name("../etc")
        Traceback (most recent call last):
        ...
        journeylib.errors.ClientNameError: ../etc: not a valid client name (expected letters, digits, '-' and '_' only, found '../etc'). Fix: use a plain folder name under data/, or give the path of an existing client folder.
    """
    if not _NAME.fullmatch(name or ""):
        raise ClientNameError(
            f"not a valid {kind} name",
            where=name,
            expected="letters, digits, '-' and '_' only",
            found=repr(name),
            fix=f"use a plain folder name under {'data/' if kind == 'client' else 'templates/'}, "
            f"or give the path of an existing {kind} folder",
        )
    return name


def _is_pathlike(arg: str) -> bool:
    return "/" in arg or os.sep in arg or arg in (".", "..") or arg.startswith("~")


def _client_path(text: str, *, fix: str) -> Path:
    """A CLIENT argument given as a path, ``~`` expanded; ``..`` parts are refused."""
    path = Path(text).expanduser()
    if ".." in path.parts:
        raise ClientNameError(
            "a client path may not contain '..'",
            where=text,
            expected="a name under data/ or a path without '..'",
            found=repr(text),
            fix=fix,
        )
    return path


def resolve_client_dir(arg: str | Path) -> Path:
    """Resolve a CLIENT argument: a name under ``data/`` or a path to a client folder.

    A plain name must be a folder under ``data/``. Anything with a slash is a
    path; it must be an existing folder and may not contain ``..`` parts.

    Examples:
        >>> resolve_client_dir("no-such-client")
        Traceback (most recent call last):
        ...
        journeylib.errors.ClientNameError: data/no-such-client: no such client (expected a folder data/no-such-client with a client.yaml, found nothing). Fix: run `journey init no-such-client`, or give the path of an existing client folder.
    """
    text = str(arg)
    if isinstance(arg, Path) or _is_pathlike(text):
        path = _client_path(text, fix="give the client folder's full path, or its name under data/")
        if not path.is_dir():
            raise ClientNameError(
                "no such client folder",
                where=text,
                expected="an existing folder with a client.yaml",
                found="nothing at that path",
                fix="check the path, or create the client with `journey init NAME`",
            )
        return path.resolve()
    name = check_name(text)
    path = data_dir() / name
    if not path.is_dir():
        raise ClientNameError(
            "no such client",
            where=f"data/{name}",
            expected=f"a folder data/{name} with a client.yaml",
            found="nothing",
            fix=f"run `journey init {name}`, or give the path of an existing client folder",
        )
    return path.resolve()


def client_dir_for_new(arg: str | Path) -> Path:
    """Where ``journey init`` / ``journey synth`` create a client: a name under ``data/`` or a path."""
    text = str(arg)
    if isinstance(arg, Path) or _is_pathlike(text):
        return _client_path(
            text, fix="give the folder's full path, or a plain name under data/"
        ).resolve()
    return (data_dir() / check_name(text)).resolve()


# ------------------------------------------------------------------ a table's file
#: File endings accepted for a table, in the order they are looked for.
EXTENSIONS: tuple[str, ...] = (".csv", ".csv.gz", ".parquet")


def find_table_file(client_dir: str | Path, table: str) -> Path | None:
    """The file of ``table`` in ``client_dir`` (``.csv``, ``.csv.gz`` or ``.parquet``), or None.

    A folder named after the table holding Parquet files (``events/`` with
    ``events/month=2025-01/part.parquet``, …) counts as the table's file: its
    Parquet files are read in path order, the partition names are not read,
    and a column some partitions lack is missing (null) in their rows.

    Raises:
        DataError: when more than one file exists for the table.

    Examples:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "events.csv.gz").write_bytes(b"")
        >>> find_table_file(d, "events").name, find_table_file(d, "tickets")
        ('events.csv.gz', None)
    """
    client_dir = Path(client_dir)
    found = [
        client_dir / f"{table}{ext}"
        for ext in EXTENSIONS
        if (client_dir / f"{table}{ext}").exists()
    ]
    folder = client_dir / table
    if folder.is_dir() and next(folder.rglob("*.parquet"), None) is not None:
        found.append(folder)  # a folder of Parquet files, e.g. month partitions
    if len(found) > 1:
        names = " and ".join(p.name for p in found)
        raise DataError(
            f"two files for the table '{table}'",
            where=f"{client_dir}: {names}",
            expected=f"one file for {table}",
            found=names,
            fix=f"keep one of {names} and move the other out of the client folder",
        )
    return found[0] if found else None


def parquet_source(path: Path) -> str | None:
    """What to scan for a table path: the file, a glob over a folder of Parquet files, or None.

    A folder is read as every ``*.parquet`` below it, in path order (so month
    partitions come in month order); partition folder names are not read as
    columns, the rows carry their own timestamps.

    Examples:
        >>> parquet_source(Path("c/events.csv")) is None
        True
        >>> parquet_source(Path("c/events.parquet"))
        'c/events.parquet'
    """
    if path.is_dir():
        return str(path / "**" / "*.parquet")
    if path.name.endswith(".parquet"):
        return str(path)
    return None


def parquet_files(path: Path) -> list[Path]:
    """The Parquet files of a table, in the order they are read: the file, or a folder's files.

    A folder's files are every ``*.parquet`` file below it (a Spark-style
    folder may be named ``2025-01.parquet``: it is not a file), in the order
    of their path text, as polars' own glob orders them.
    """
    if not path.is_dir():
        return [path]
    return sorted((p for p in path.rglob("*.parquet") if p.is_file()), key=Path.as_posix)


def scan_parquet(path: Path, *, row_index: str | None = None) -> pl.LazyFrame:
    """A Parquet table as a LazyFrame: one file, or every ``*.parquet`` below a folder.

    The files of a folder are read in path order (month partitions in month
    order) and may differ in their columns: a later month that adds a column,
    or an early one that lacks it (or stores it with no value, as the Null
    type), is read with that column missing (null) in the files without it,
    and validation then treats those cells as any missing value. Partition
    folder names are not read as columns.

    Raises:
        DataError: a file that cannot be read, or two files that store the
            same column with different types (one line, naming the column and
            both files).
    """
    if not path.is_dir():
        return pl.scan_parquet(path, hive_partitioning=False, row_index_name=row_index)
    files = parquet_files(path)
    if not files:
        return pl.scan_parquet(
            str(path / "**" / "*.parquet"), hive_partitioning=False, row_index_name=row_index
        )
    schema = _folder_schema(path, files)
    return pl.scan_parquet(
        files,
        hive_partitioning=False,
        row_index_name=row_index,
        schema=schema,
        missing_columns="insert" if schema is not None else "raise",
    )


def _folder_schema(path: Path, files: list[Path]) -> pl.Schema | None:
    """The union of the files' columns (first-seen order); None when every file has the same."""
    schemas = []
    for f in files:
        try:
            schemas.append(pl.read_parquet_schema(f))
        except Exception as exc:  # polars, arrow and OS errors all mean: unreadable
            raise DataError(
                "cannot read the file",
                where=f,
                expected="a Parquet file",
                found=first_line(exc).removeprefix("found "),
                fix="export the table again as Parquet (every partition), or as CSV",
            ) from None
    if all(s == schemas[0] for s in schemas[1:]):
        return None
    union: dict[str, pl.DataType] = {}
    seen_in: dict[str, Path] = {}
    for f, schema in zip(files, schemas, strict=True):
        for name, dtype in schema.items():
            known = union.get(name)
            # A file storing a column as the Null type has no value in it (pandas
            # writes such columns so): the first file with a value gives the type.
            if known is None or (known == pl.Null and dtype != pl.Null):
                union[name], seen_in[name] = dtype, f
            elif dtype not in (known, pl.Null) and known != pl.Null:
                raise DataError(
                    f"partitions store column {name} with different types",
                    where=path,
                    expected=f"{name} as {known} in every file, as in "
                    f"{seen_in[name].relative_to(path)}",
                    found=f"{dtype} in {f.relative_to(path)}",
                    fix="export every partition with the same column types",
                )
    return pl.Schema(union)
