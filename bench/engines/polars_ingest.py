"""DuckDB's ingest yardstick done by polars: the same read → sort → partitioned write.

The job of ``duckdb_ingest.py``, and nothing more (no validation, quarantine,
journey stream or marts), on polars' streaming engine:

* every table except the events: ``scan_parquet(<table>.parquet)`` sunk to
  ``<out>/<table>.parquet``;
* the events: ``scan_parquet(events/*/*.parquet)`` sorted by ``account_id``
  and ``timestamp`` (nulls last, as DuckDB's ``ORDER BY``), with
  ``month = strftime(timestamp, '%Y-%m')``, sunk to ``<out>/events``
  partitioned by ``month``.

It tells how much of ``journey ingest``'s time against DuckDB is the
yardstick's own job: the store writes the events twice (by month, and by
account as the journey stream), validates them and builds the marts besides.
The threads come from ``POLARS_MAX_THREADS`` (the bench sets it). ``out`` is
removed first.
"""

from __future__ import annotations

import glob
import shutil
import time
from pathlib import Path
from typing import Any


def run(spec: dict[str, Any]) -> dict[str, Any]:
    import polars as pl

    out = Path(spec["ingest_out"])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    steps: dict[str, float] = {}
    tick = time.perf_counter()
    for src in sorted(Path(spec["client"]).glob("*.parquet")):
        pl.scan_parquet(src).sink_parquet(out / src.name)
    now = time.perf_counter()
    steps["tables"], tick = now - tick, now
    events = sorted(glob.glob(spec["events_glob"]))
    (
        pl.scan_parquet(events, hive_partitioning=False)
        .sort("account_id", "timestamp", nulls_last=True)
        .with_columns(pl.col("timestamp").dt.strftime("%Y-%m").alias("month"))
        .sink_parquet(pl.PartitionBy(out / "events", key="month"), mkdir=True)
    )
    now = time.perf_counter()
    steps["events"] = now - tick
    return {
        "load_seconds": 0.0,
        "compute_seconds": time.perf_counter() - t0,
        "steps": steps,
        "results": None,
    }
