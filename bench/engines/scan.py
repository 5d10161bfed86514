"""Bare scans: decode the columns the metrics read and aggregate real values.

Sums of timestamps and numbers and sums of string lengths, so that neither
engine can answer from Parquet metadata (DuckDB answers count/min/max from the
row-group statistics). The columns are those ``journey metrics`` reads from
each table (events: timestamp, account_id, anonymous_id, event, channel); the
events are the month partitions ``events/month=YYYY-MM/*.parquet``, the other
tables one Parquet file each.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

COLUMNS: dict[str, dict[str, list[str]]] = {
    # table: {"ts": [...], "str": [...], "num": [...]}
    "events": {
        "ts": ["timestamp"],
        "str": ["account_id", "anonymous_id", "event", "channel"],
        "num": [],
    },
    "accounts": {
        "ts": ["first_seen_at", "signup_at"],
        "str": ["account_id", "acquisition_channel"],
        "num": [],
    },
    "subscriptions": {"ts": ["month"], "str": ["account_id"], "num": ["mrr"]},
    "marketing": {"ts": ["month"], "str": ["channel"], "num": ["spend", "impressions", "clicks"]},
    "tickets": {"ts": ["opened_at", "resolved_at"], "str": ["account_id"], "num": []},
    "surveys": {"ts": ["responded_at"], "str": ["account_id", "stage"], "num": ["score"]},
}


def _source(spec: dict[str, Any], table: str) -> str:
    if table == "events":
        return spec["events_glob"]
    return str(Path(spec["client"]) / f"{table}.parquet")


def run_polars(spec: dict[str, Any]) -> dict[str, Any]:
    import polars as pl

    t0 = time.perf_counter()
    out = {}
    for table, cols in COLUMNS.items():
        # partition names are not columns (as journeylib.ingest.lazy reads them)
        lf = pl.scan_parquet(_source(spec, table), hive_partitioning=False)
        exprs = [
            pl.col(c).cast(pl.Datetime("us")).dt.epoch("s").cast(pl.Float64).sum().alias(c)
            for c in cols["ts"]
        ]
        exprs += [pl.col(c).str.len_bytes().sum().alias(c) for c in cols["str"]]
        exprs += [pl.col(c).cast(pl.Float64).sum().alias(c) for c in cols["num"]]
        out[table] = lf.select(exprs).collect().row(0)
    t1 = time.perf_counter()
    return {
        "load_seconds": 0.0,
        "compute_seconds": t1 - t0,
        "results": None,
        "checksum": repr(out)[:200],
    }


def run_duckdb(spec: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    out = {}
    for table, cols in COLUMNS.items():
        exprs = [f"sum(epoch({c}))" for c in cols["ts"]]
        exprs += [f"sum(strlen({c}))" for c in cols["str"]]
        exprs += [f"sum({c}::DOUBLE)" for c in cols["num"]]
        out[table] = con.execute(
            f"SELECT {', '.join(exprs)} "
            f"FROM read_parquet('{_source(spec, table)}', hive_partitioning = false)"
        ).fetchone()
    t1 = time.perf_counter()
    return {
        "load_seconds": 0.0,
        "compute_seconds": t1 - t0,
        "results": None,
        "checksum": repr(out)[:200],
    }
