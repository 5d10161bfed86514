"""`journey metrics --engine polars|duckdb|spark`: every engine prints the same metrics.json.

The demo client covers every section of the document, including a goal with a
segment (``smb_churn``: persona smb_founder), so the per-segment restriction runs
on each engine too. The JSON is compared byte for byte: the document rounds
floats to 10 places (``_clean``), so sums added up in another order on another
engine cannot show, and on the demo none does.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeylib.cli import app
from journeylib.paths import PROJ_ROOT

DEMO = str(PROJ_ROOT / "data" / "demo")
runner = CliRunner()


def journey(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("journey")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def polars_json() -> str:
    proc = journey("metrics", DEMO, "--json")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def assert_one_line_error(proc_or_result, *needles: str) -> None:
    code = getattr(proc_or_result, "returncode", getattr(proc_or_result, "exit_code", None))
    err = proc_or_result.stderr.strip()
    assert code == 2, err
    assert "Traceback" not in err + proc_or_result.stdout
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, (n, err)


def test_default_engine_is_polars(polars_json):
    proc = journey("metrics", DEMO, "--json", "--engine", "polars")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == polars_json


def test_duckdb_gives_the_same_bytes(polars_json):
    proc = journey("metrics", DEMO, "--json", "--engine", "duckdb")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == polars_json


def test_duckdb_summary_runs():
    proc = journey("metrics", DEMO, "--engine", "DuckDB")
    assert proc.returncode == 0, proc.stderr
    assert "MRR" in proc.stdout


@pytest.mark.parametrize("name", ["sqlite", "pandas", ""])
def test_unknown_engine_is_one_line_exit_2(name):
    proc = journey("metrics", DEMO, "--engine", name)
    assert_one_line_error(proc, "--engine: unknown engine", "polars, duckdb or spark")


def test_spark_without_pyspark_is_one_line_exit_2(monkeypatch):
    # A None entry in sys.modules makes pyspark unimportable (find_spec returns None).
    monkeypatch.setitem(sys.modules, "pyspark", None)
    result = runner.invoke(app, ["metrics", DEMO, "--engine", "spark"])
    assert_one_line_error(result, "pyspark", ".[spark]", "or use --engine duckdb.")


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="needs the spark extra")
def test_spark_gives_the_same_bytes(polars_json):
    # One Spark test only: a JVM start and ~100 small Spark jobs take minutes on 2 cores.
    proc = journey("metrics", DEMO, "--json", "--engine", "spark")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == polars_json
