"""Shared fixtures: one ``constructor`` runs a metric test on every engine.

``constructor(frame)`` turns a polars DataFrame into the native frame of the
engine under test (polars eager, polars lazy, DuckDB, and PySpark with
``JOURNEY_ALL_ENGINES=1``); metric functions take any of them and return polars results, so a
test reads *data → result → expected* once and runs everywhere.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

os.environ.setdefault("TZ", "UTC")
# Client stores (journeylib.store) of the tests' clients go to a temporary folder per test
# process (each xdist worker has its own), inherited by the CLI and notebook kernels they start.
os.environ.setdefault("JOURNEY_STORE_DIR", tempfile.mkdtemp(prefix="journey-stores-"))

ENGINES = ["polars_eager", "polars_lazy", "duckdb"]
# Every metric test on Spark takes minutes of JVM round trips; the suite's Spark
# parity runs in tests/metrics/test_spark_parity.py. JOURNEY_ALL_ENGINES=1 adds
# Spark to every engine-parametrised test too.
HAS_SPARK = importlib.util.find_spec("pyspark") is not None
if HAS_SPARK and os.environ.get("JOURNEY_ALL_ENGINES") == "1":
    ENGINES.append("pyspark")


@pytest.fixture(autouse=True)
def _no_kept_results():
    """Each test starts and ends without the results a notebook's ``setup`` keeps for the process."""
    from journeylib.metrics import _memo

    _memo._KEPT = None
    yield
    _memo._KEPT = None


@pytest.fixture(scope="session")
def _duckdb_con():
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    yield con
    con.close()


@pytest.fixture(scope="session")
def _spark():
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("journeylib-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    yield spark
    spark.stop()


@pytest.fixture(scope="session")
def sparkco(tmp_path_factory):
    """The small synthetic client of the Spark parity tests (150 accounts, 13 months), loaded."""
    from journeylib.ingest.client import load_client
    from journeylib.sources.synth import synthesize

    path = tmp_path_factory.mktemp("spark") / "sparkco"
    synthesize(path, accounts=150, months=13, seed=5, start="2024-01")
    return load_client(path)


@pytest.fixture(scope="session")
def to_spark(_spark) -> Callable[[pl.DataFrame], Any]:
    """Return a function that makes a Spark DataFrame of a polars frame (its types kept)."""
    from journeylib.engines import spark_schema

    def make(df: pl.DataFrame) -> Any:
        return _spark.createDataFrame(df.rows(), schema=spark_schema(df.schema))

    return make


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    """The name of the engine under test."""
    return request.param


@pytest.fixture
def constructor(engine: str, request) -> Callable[[pl.DataFrame | dict[str, Any]], Any]:
    """Return a function that makes a native frame of the engine under test from polars data."""

    def make(data: pl.DataFrame | dict[str, Any]) -> Any:
        df = data if isinstance(data, pl.DataFrame) else pl.DataFrame(data)
        if engine == "polars_eager":
            return df
        if engine == "polars_lazy":
            return df.lazy()
        if engine == "duckdb":
            con = request.getfixturevalue("_duckdb_con")
            return con.from_arrow(df.to_arrow())
        if engine == "pyspark":
            spark = request.getfixturevalue("_spark")
            from journeylib.engines import spark_schema

            return spark.createDataFrame(df.rows(), schema=spark_schema(df.schema))
        raise AssertionError(engine)

    return make
