"""Run the metrics on another engine: a loaded client's tables as DuckDB or Spark frames.

The metric functions are written once with narwhals and take any native frame
(polars, DuckDB relation, PySpark DataFrame). :func:`to_engine` turns a loaded
client's polars tables into the frames of another engine, so that
``metrics_document(to_engine(client, "duckdb"))`` computes the same document on
DuckDB; ``journey metrics`` does exactly that for the engine it is asked for.

SQL engines have no row order, and the metrics break ties between events at the
same timestamp by file row order (attribution, the journey stream's ``seq``).
So :func:`to_engine` adds that order to ``events`` as an Int64 ``seq`` column
before it hands the table to the engine.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import warnings
from typing import Any

import polars as pl

from journeylib.errors import JourneyError, check_choice
from journeylib.frames import to_polars

__all__ = [
    "ENGINES",
    "check_engine",
    "frames_to_engine",
    "to_engine",
    "make_spark_session",
    "spark_schema",
]

#: The engines :func:`to_engine` accepts; polars is the default.
ENGINES = ("polars", "duckdb", "spark")


def check_engine(engine: str) -> str:
    """The engine name, normalised; a usable engine or a one-line :class:`JourneyError`.

    Raises:
        JourneyError: an unknown engine, or ``spark`` when pyspark is not installed;
            the message names the parameter ``engine``.

    Examples:
        >>> check_engine(" DuckDB ")
        'duckdb'
        >>> check_engine("sql")
        Traceback (most recent call last):
        ...
        journeylib.errors.JourneyError: engine: unknown engine (expected polars, duckdb or spark, found 'sql'). Fix: pass engine='polars', engine='duckdb' or engine='spark'.
    """
    name = engine.strip().lower()
    # The cleaned name is checked, the caller's own text is quoted.
    check_choice(
        "engine",
        name,
        ENGINES,
        where="engine",
        fix="pass engine='polars', engine='duckdb' or engine='spark'",
        given=engine,
    )
    if name == "spark" and importlib.util.find_spec("pyspark") is None:
        raise JourneyError(
            "the spark engine needs pyspark, which is not installed",
            fix="pip install '.[spark]' (pyspark and a Java 17+ runtime), or use engine='duckdb'",
        )
    return name


def _with_seq(name: str, df: pl.DataFrame) -> pl.DataFrame:
    # Row order is lost on SQL engines: carry it as a column (see the module docstring).
    if name == "events" and "seq" not in df.columns:
        return df.with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64))
    return df


def make_spark_session(master: str | None = None) -> Any:
    """The Spark session the metrics run on: the active one, a Spark Connect one, or a new one.

    An active session is reused (a notebook on a cluster, ``spark-submit``). Else,
    with ``SPARK_REMOTE`` set, pyspark connects to that Spark Connect server; else a
    session is built on ``master`` (default ``local[2]``). The session time zone is
    set to UTC, because every metric reads months and days in UTC.

    Raises:
        JourneyError: when pyspark is not installed.
    """
    check_engine("spark")
    from pyspark.sql import SparkSession

    # pyspark checks the pandas version on its Arrow paths and warns about pandas >= 3 on
    # every table; the metrics move data through Arrow only, so the warning is noise.
    warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas")

    spark = SparkSession.getActiveSession()
    if spark is None:
        builder = SparkSession.builder.appName("journeylib")
        if not os.environ.get("SPARK_REMOTE"):
            builder = (
                builder.master(master or "local[2]")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                # Small tables: Spark's default of 200 shuffle partitions is pure overhead.
                .config("spark.sql.shuffle.partitions", "4")
            )
        spark = builder.getOrCreate()
        if not os.environ.get("SPARK_REMOTE"):
            spark.sparkContext.setLogLevel("ERROR")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


def spark_schema(schema: pl.Schema) -> Any:
    """The Spark schema (a ``StructType``) matching a polars schema, every field nullable."""
    from pyspark.sql import types as T

    def conv(dtype: pl.DataType) -> Any:
        if dtype == pl.String or dtype == pl.Null or isinstance(dtype, pl.Enum | pl.Categorical):
            return T.StringType()
        if dtype.is_integer():
            return T.LongType()
        if dtype.is_float():
            return T.DoubleType()
        if dtype == pl.Boolean:
            return T.BooleanType()
        if dtype == pl.Date:
            return T.DateType()
        if isinstance(dtype, pl.Datetime):
            return T.TimestampType()
        raise JourneyError(
            "a column type the spark engine cannot carry",
            expected="text, numbers, booleans, dates or timestamps",
            found=str(dtype),
        )

    return T.StructType([T.StructField(n, conv(t), True) for n, t in schema.items()])


def _spark_frame(spark: Any, df: pl.DataFrame) -> Any:
    """A polars frame as a Spark DataFrame with the matching Spark types."""
    schema = spark_schema(df.schema)
    plain = df.with_columns(pl.col(pl.Enum, pl.Categorical, pl.Null).cast(pl.String))
    frame = spark.createDataFrame(plain.to_arrow(), schema=schema)
    # Each table feeds several metrics: keep it on the executors after its first use.
    return frame.cache()


def to_engine(
    client: Any,
    engine: str,
    *,
    spark_session: Any = None,
    spark_master: str | None = None,
) -> Any:
    """A copy of a loaded client whose ``tables`` are native frames of ``engine``.

    ``polars`` returns the client unchanged; ``duckdb`` makes one relation per
    table on one in-memory connection (time zone UTC); ``spark`` makes one Spark
    DataFrame per table on ``spark_session`` (else :func:`make_spark_session`). The
    ``events`` table gains an Int64 ``seq`` column (file row order) on DuckDB and
    Spark, which have no row order of their own. Everything else (config,
    template, quality, rejected rows) is shared with ``client``.

    Args:
        client: a :class:`journeylib.ingest.client.Client` with polars tables.
        engine: ``polars``, ``duckdb`` or ``spark``.
        spark_session: an existing SparkSession to use (``spark`` only).
        spark_master: the Spark master URL when a session is built (default ``local[2]``).

    Raises:
        JourneyError: an unknown engine, or ``spark`` without pyspark installed.

    Examples:
        >>> import types
        >>> c = types.SimpleNamespace(tables={"accounts": pl.DataFrame({"account_id": ["a"]})})
        >>> to_engine(c, "polars") is c
        True
        >>> to_engine(c, "sql")
        Traceback (most recent call last):
        ...
        journeylib.errors.JourneyError: engine: unknown engine (expected polars, duckdb or spark, found 'sql'). Fix: pass engine='polars', engine='duckdb' or engine='spark'.
    """
    engine = check_engine(engine)
    if engine == "polars":
        return client
    tables = {name: _with_seq(name, to_polars(df)) for name, df in client.tables.items()}
    native = frames_to_engine(
        tables, engine, spark_session=spark_session, spark_master=spark_master
    )
    return dataclasses.replace(client, tables=native)


def frames_to_engine(
    frames: dict[str, Any],
    engine: str,
    *,
    spark_session: Any = None,
    spark_master: str | None = None,
) -> dict[str, Any]:
    """Frames (polars, eager or lazy) as native frames of ``engine``, by name.

    ``polars`` returns them unchanged; ``duckdb`` makes one relation per frame on
    one in-memory connection (time zone UTC); ``spark`` one cached Spark
    DataFrame per frame. The analytics commands use it for the store's marts
    (the journey stream, the account-day activity), which are not client tables.

    Examples:
        >>> out = frames_to_engine({"a": pl.DataFrame({"x": [1, 2]})}, "duckdb")
        >>> out["a"].aggregate("sum(x) AS s").fetchall()
        [(3,)]
    """
    engine = check_engine(engine)
    if engine == "polars":
        return dict(frames)
    tables = {name: to_polars(df) for name, df in frames.items()}
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone='UTC'")
        return {name: con.from_arrow(df.to_arrow()) for name, df in tables.items()}
    spark = spark_session if spark_session is not None else make_spark_session(spark_master)
    return {name: _spark_frame(spark, df) for name, df in tables.items()}
