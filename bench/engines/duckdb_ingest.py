"""The yardstick of ``journey ingest``: DuckDB reading the raw client and writing it back, sorted.

The same read → sort → partitioned Parquet write of the same raw files,
without validation, quarantine, journey stream or marts:

* every table except the events: ``read_parquet(<table>.parquet)`` written to
  ``<out>/<table>.parquet``;
* the events: ``read_parquet('events/*/*.parquet', hive_partitioning = false)``,
  then ``COPY (SELECT *, strftime(timestamp, '%Y-%m') AS month FROM events
  ORDER BY account_id, timestamp) TO '<out>/events' (FORMAT parquet,
  PARTITION_BY (month))``.

``spec["threads"]`` threads (the bench gives the library the same number),
spill files under ``spec["ingest_tmp"]``. ``out`` is removed first.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def run(spec: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    out = Path(spec["ingest_out"])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads = {int(spec['threads'])}")
    con.execute(f"SET temp_directory = {_q(spec['ingest_tmp'])}")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    steps: dict[str, float] = {}
    tick = time.perf_counter()
    for src in sorted(Path(spec["client"]).glob("*.parquet")):
        con.execute(
            f"COPY (SELECT * FROM read_parquet({_q(str(src))})) "
            f"TO {_q(str(out / src.name))} (FORMAT parquet)"
        )
    now = time.perf_counter()
    steps["tables"], tick = now - tick, now
    con.execute(
        "COPY (SELECT *, strftime(timestamp, '%Y-%m') AS month FROM "
        f"read_parquet({_q(spec['events_glob'])}, hive_partitioning = false) "
        f"ORDER BY account_id, timestamp) TO {_q(str(out / 'events'))} "
        "(FORMAT parquet, PARTITION_BY (month))"
    )
    now = time.perf_counter()
    steps["events"] = now - tick
    con.close()
    t1 = time.perf_counter()
    return {
        "load_seconds": 0.0,
        "compute_seconds": t1 - t0,
        "steps": steps,
        "results": None,
    }
