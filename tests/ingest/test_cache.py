"""The validation of Parquet events is reused between runs only while nothing it depends on changed.

``load_client(path, lazy=True, cache=True)`` keeps the outcome of validating
the events table in ``reports/<client>/.cache/`` (journeylib.ingest.cache). Every
test loads through the cache and compares with the eager loader, and counts
how often the table was actually validated.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

import journeylib.ingest.cache as scan_cache
import journeylib.ingest.lazy as scan
from journeylib.ingest.cache import _ids_digest
from journeylib.ingest.client import load_client

from .conftest import Folder
from .test_lazy import _EVENTS, _write_events


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "reports"
    monkeypatch.setenv("JOURNEY_REPORTS_DIR", str(out))
    return out


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The events tables validated (not read from the cache), in order."""
    seen: list[Path] = []
    real = scan._validate

    def counting(scan_lf, schema, parsed, path, *args):
        seen.append(path)
        return real(scan_lf, schema, parsed, path, *args)

    monkeypatch.setattr(scan, "_validate", counting)
    return seen


def _assert_like_eager(path: Path) -> None:
    eager = load_client(path)
    cached = load_client(path, lazy=True, cache=True)
    assert isinstance(cached.tables["events"], pl.LazyFrame)
    assert cached.tables["events"].collect().equals(eager.tables["events"])
    assert cached.rejected["events"].equals(eager.rejected["events"])
    assert cached.quality == eager.quality


def _entries(reports: Path) -> list[Path]:
    return sorted((reports / "testco" / ".cache").glob("events-*"))


def test_second_load_reads_the_cache_and_gives_the_same_client(
    folder: Folder, reports: Path, validations: list[Path]
) -> None:
    path = _write_events(folder, _EVENTS, partitioned=True)
    _assert_like_eager(path)
    assert len(validations) == 1
    _assert_like_eager(path)
    _assert_like_eager(path)
    assert len(validations) == 1  # validated once, read twice from the cache
    (entry,) = _entries(reports)
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["quality"]["rows_rejected"] == 8
    assert meta["quality"]["reasons"]["duplicate_event"] == 3


def test_without_cache_nothing_is_written_and_every_load_validates(
    folder: Folder, reports: Path, validations: list[Path]
) -> None:
    path = _write_events(folder, _EVENTS)
    load_client(path, lazy=True)
    load_client(path, lazy=True)
    assert len(validations) == 2
    assert not reports.exists()


def test_a_changed_file_is_validated_again_and_the_old_entry_dropped(
    folder: Folder, reports: Path, validations: list[Path]
) -> None:
    path = _write_events(folder, _EVENTS, partitioned=True)
    load_client(path, lazy=True, cache=True)
    first = _entries(reports)
    # One cell changed in one partition: a new copy of an event, so one more duplicate.
    part = path / "events" / "month=2024-03" / "part-0.parquet"
    frame = pl.read_parquet(part)
    frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit("login"))
        .otherwise(pl.col("event"))
        .alias("event")
    ).write_parquet(part)
    _assert_like_eager(path)
    assert len(validations) == 2
    assert len(_entries(reports)) == 1 and _entries(reports) != first


def test_a_file_touched_or_added_is_validated_again(
    folder: Folder, reports: Path, validations: list[Path]
) -> None:
    path = _write_events(folder, _EVENTS, partitioned=True)
    load_client(path, lazy=True, cache=True)
    part = path / "events" / "month=2024-03" / "part-0.parquet"
    st = part.stat()
    os.utime(part, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    _assert_like_eager(path)
    assert len(validations) == 2
    extra = path / "events" / "month=2024-04"
    extra.mkdir()
    _EVENTS.head(1).with_columns(pl.lit("a2").alias("account_id")).write_parquet(
        extra / "part-0.parquet"
    )
    _assert_like_eager(path)
    assert len(validations) == 3


def test_a_file_given_back_its_size_and_mtime_is_validated_again(
    folder: Folder, reports: Path, validations: list[Path]
) -> None:
    path = _write_events(folder, _EVENTS)
    f = path / "events.parquet"
    # Plain encoding, no compression, no statistics: a same-length edit keeps size and footer.
    kw = {
        "use_pyarrow": True,
        "compression": "uncompressed",
        "statistics": False,
        "pyarrow_options": {"use_dictionary": False},
    }
    _EVENTS.write_parquet(f, **kw)
    load_client(path, lazy=True, cache=True)
    st = f.stat()
    _EVENTS.with_columns(pl.col("account_id").replace({"a2": "a9"})).write_parquet(f, **kw)
    assert f.stat().st_size == st.st_size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # as cp -p or touch -r would
    _assert_like_eager(path)
    assert len(validations) == 2


def test_code_polars_version_and_format_are_part_of_the_key(
    folder: Folder, reports: Path, validations: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write_events(folder, _EVENTS)
    load_client(path, lazy=True, cache=True)
    monkeypatch.setattr(scan_cache, "CACHE_FORMAT", scan_cache.CACHE_FORMAT + 1)
    _assert_like_eager(path)
    monkeypatch.setattr(pl, "__version__", "0.0.0")
    _assert_like_eager(path)
    # the same code elsewhere is the same key; a change to one ingest module is a new one
    code = folder.path.parent / "code" / "ingest"
    shutil.copytree(scan_cache._CODE_DIR, code, ignore=shutil.ignore_patterns("__pycache__"))
    for ground in scan_cache._GROUND_CODE:
        shutil.copy(scan_cache._CODE_DIR.parent / ground, code.parent)
    monkeypatch.setattr(scan_cache, "_CODE_DIR", code)
    _assert_like_eager(path)
    assert len(validations) == 3
    (code / "lazy.py").write_text((code / "lazy.py").read_text() + "\n# changed\n")
    _assert_like_eager(path)
    assert len(validations) == 4
    # so is a change to the ground module that opens the Parquet files
    (code.parent / "paths.py").write_text((code.parent / "paths.py").read_text() + "\n# changed\n")
    _assert_like_eager(path)
    assert len(validations) == 5
    # an entry is read only under its own full key, not one sharing its folder's prefix
    key = "ab" * 32
    assert scan_cache.write_validation(reports / "k", key, _empty())
    back = scan_cache.read_validation(reports / "k", key)
    assert back is not None and back.rejected.equals(_empty().rejected)
    assert back.quality == _empty().quality and back.bad_rows.len() == 0
    assert scan_cache.read_validation(reports / "k", key[:32] + "0" * 32) is None


def _empty() -> scan_cache.Validation:
    return scan_cache.Validation(
        pl.Series([], dtype=pl.Int64),
        pl.DataFrame({"reason": []}, schema={"reason": pl.String}),
        {"rows_in": 0, "rows_valid": 0, "rows_rejected": 0, "reasons": {}},
        frozenset(),
    )


def test_time_zone_and_accounts_are_part_of_the_key(
    folder: Folder, reports: Path, validations: list[Path]
) -> None:
    # Naive timestamps: their instant depends on the client's time zone.
    path = _write_events(
        folder, _EVENTS.with_columns(pl.col("timestamp").dt.replace_time_zone(None))
    )
    load_client(path, lazy=True, cache=True)
    folder.config["timezone"] = "Asia/Tokyo"
    (path / "client.yaml").write_text(yaml.safe_dump(folder.config, sort_keys=False))
    _assert_like_eager(path)
    assert len(validations) == 2
    # An account removed: its events become unknown_account.
    accounts = path / "accounts.csv"
    lines = accounts.read_text().splitlines()
    a2 = next(i for i, line in enumerate(lines) if line.startswith("a2,"))
    accounts.write_text("\n".join(lines[:a2] + lines[a2 + 1 :]) + "\n")
    _assert_like_eager(path)
    assert len(validations) == 3
    assert (
        load_client(path, lazy=True, cache=True).quality["events"]["reasons"]["unknown_account"] > 1
    )
    assert len(validations) == 3


def test_a_broken_cache_is_a_miss_and_is_rewritten(
    folder: Folder, reports: Path, validations: list[Path]
) -> None:
    path = _write_events(folder, _EVENTS)
    load_client(path, lazy=True, cache=True)
    (entry,) = _entries(reports)
    (entry / "rejected.parquet").write_bytes(b"not parquet")
    _assert_like_eager(path)
    assert len(validations) == 2
    (entry,) = _entries(reports)
    meta = json.loads((entry / "meta.json").read_text())
    meta["quality"]["rows_rejected"] = 0  # does not match the stored rows
    (entry / "meta.json").write_text(json.dumps(meta))
    _assert_like_eager(path)
    assert len(validations) == 3
    (entry / "meta.json").write_text("{")
    _assert_like_eager(path)
    assert len(validations) == 4
    _assert_like_eager(path)
    assert len(validations) == 4  # rewritten by the last miss


def test_clean_columns_read_back_apply_to_text_columns_only(
    folder: Folder, reports: Path, validations: list[Path]
) -> None:
    """A cached entry names the columns taken as they are; only text stored as text qualifies."""
    # Naive timestamps in the client's zone: taken as they are, they would stay naive.
    folder.config["timezone"] = "Asia/Tokyo"
    path = _write_events(
        folder, _EVENTS.with_columns(pl.col("timestamp").dt.replace_time_zone(None))
    )
    load_client(path, lazy=True, cache=True)
    (entry,) = _entries(reports)
    meta = json.loads((entry / "meta.json").read_text())
    meta["clean"] = sorted({*meta["clean"], "timestamp"})  # a timestamp is never taken as is
    (entry / "meta.json").write_text(json.dumps(meta))
    _assert_like_eager(path)
    assert len(validations) == 1  # read from the (edited) cache


def test_a_cache_that_cannot_be_written_changes_nothing(
    folder: Folder, reports: Path, validations: list[Path]
) -> None:
    path = _write_events(folder, _EVENTS)
    (reports / "testco").mkdir(parents=True)
    (reports / "testco" / ".cache").write_text("a file where the folder goes")
    _assert_like_eager(path)
    _assert_like_eager(path)
    assert len(validations) == 2


def test_a_full_disk_changes_nothing(
    folder: Folder, reports: Path, validations: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write_events(folder, _EVENTS)

    def full(*args, **kwargs):
        raise pl.exceptions.ComputeError("underlying IO error: No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    _assert_like_eager(path)
    assert len(validations) == 1
    assert not _entries(reports)
    assert not list((reports / "testco" / ".cache").iterdir())  # no half-written entry left


def test_a_file_that_is_not_parquet_gets_the_usual_error(folder: Folder, reports: Path) -> None:
    from journeylib.errors import DataError

    path = _write_events(folder, _EVENTS, partitioned=True)
    load_client(path, lazy=True, cache=True)
    part = path / "events" / "month=2024-03" / "part-0.parquet"
    part.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(DataError, match="cannot read the file"):
        load_client(path, lazy=True, cache=True)


def test_ids_digest_ignores_order_and_repeats_but_not_boundaries() -> None:
    a = pl.Series(["a1", "b2", "c3"])
    assert _ids_digest(a) == _ids_digest(pl.Series(["c3", "a1", "b2", "a1"]))
    assert _ids_digest(pl.Series(["ab", "c"])) != _ids_digest(pl.Series(["a", "bc"]))
    assert _ids_digest(a) != _ids_digest(a.head(2))
    assert _ids_digest(None) != _ids_digest(pl.Series([], dtype=pl.String))


def test_journey_metrics_uses_the_cache_unless_told_not_to(folder: Folder, tmp_path: Path) -> None:
    path = _write_events(folder, _EVENTS, partitioned=True)
    exe = Path(sys.executable).parent / "journey"
    env = {**os.environ, "JOURNEY_REPORTS_DIR": str(tmp_path / "r1")}

    def run(*flags: str, reports: str) -> str:
        env["JOURNEY_REPORTS_DIR"] = str(tmp_path / reports)
        proc = subprocess.run(
            [str(exe), "metrics", str(path), "--json", *flags],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    uncached = run("--no-cache", reports="r0")
    assert not (tmp_path / "r0").exists()
    assert run(reports="r1") == uncached
    assert list((tmp_path / "r1" / "testco" / ".cache").glob("events-*/meta.json"))
    assert run(reports="r1") == uncached
