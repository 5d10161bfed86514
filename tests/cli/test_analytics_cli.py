"""The analytics commands of analytics.md, driven as a user drives them (the real ``journey``).

Each JSON answer is checked against the library function on the same client (the
command reads the store; the function here reads the loaded client), and
against the invariants of its definition; bad options stop with one line and exit 2.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from journeylib.analysis.breakdowns import funnel_breakdown
from journeylib.analysis.correlation import correlation_json, funnel_correlation
from journeylib.analysis.paths import paths, paths_json
from journeylib.cli import app
from journeylib.ingest.client import load_client
from journeylib.metrics import resolve_period
from journeylib.metrics.acquisition import MODELS, attribution_json
from journeylib.metrics.activity import lifecycle, lifecycle_json
from journeylib.metrics.forecast import retention_forecast
from journeylib.metrics.funnels import ordered_funnel
from journeylib.stream import journey_events
from tests.cli.test_cli import journey

runner = CliRunner()


@pytest.fixture(scope="module")
def loaded(small_client):
    c = load_client(small_client)
    return c, resolve_period(c), journey_events(c)


def _json(*args: str) -> dict:
    proc = journey(*args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_lifecycle_json_is_the_library_answer_and_adds_up(small_client, loaded):
    c, period, _ = loaded
    doc = _json("lifecycle", str(small_client), "--interval", "month", "--json")
    expected = lifecycle_json(
        lifecycle(c.tables["events"], period=period, interval="month"), "month"
    )
    assert doc == expected
    assert doc["interval"] == "month"
    assert [b["start"] for b in doc["buckets"]][0] == period[0]
    assert all(b["dormant"] <= 0 <= b["new"] for b in doc["buckets"])


def test_lifecycle_events_filter_and_period(small_client):
    doc = _json(
        "lifecycle", str(small_client), "--events", "login", "--period", "2024-03:2024-05", "--json"
    )
    starts = [b["start"] for b in doc["buckets"]]
    assert starts[0] <= "2024-03-04" and starts[-1] <= "2024-05-31"
    # ISO weeks start on Mondays
    import datetime as dt

    assert {dt.date.fromisoformat(s).weekday() for s in starts} == {0}


def test_paths_json_shape_and_invariants(small_client, loaded):
    c, period, stream = loaded
    doc = _json("paths", str(small_client), "--start", "signed_up", "--steps", "4", "--json")
    assert doc == paths_json(paths(stream, period=period, start="signed_up", steps=4))
    assert set(doc) == {"level", "start", "end", "steps", "accounts", "nodes", "edges"}
    by_step = {}
    for n in doc["nodes"]:
        by_step.setdefault(n["step"], []).append(n)
    assert sum(n["accounts"] for n in by_step[1]) == doc["accounts"]
    for k in range(1, 4):
        entering = sum(n["accounts"] for n in by_step.get(k + 1, []))
        assert entering == sum(n["accounts"] - n["dropped"] for n in by_step[k])


def test_paths_touchpoint_level_and_other(small_client):
    doc = _json(
        "paths", str(small_client), "--level", "touchpoint", "--min-accounts", "40", "--json"
    )
    assert doc["level"] == "touchpoint"
    small = [n for n in doc["nodes"] if n["item"] != "(other)" and n["accounts"] < 40]
    assert small == []


def test_correlation_json_is_the_library_answer(small_client, loaded):
    c, period, stream = loaded
    steps = ["signed_up", "subscription_started"]
    doc = _json(
        "correlation", str(small_client), "--steps", ",".join(steps), "--window", "30d", "--json"
    )
    expected = correlation_json(
        funnel_correlation(stream, c.tables["accounts"], steps=steps, window="30d", period=period)
    )
    assert doc == expected
    assert doc["success_total"] > 0 and doc["failure_total"] > 0
    for row in doc["events"] + doc["properties"]:
        assert row["success_count"] + row["failure_count"] >= 5
        assert 0 <= row["p_value"] <= 1


def test_metrics_breakdown_adds_groups_with_intervals(small_client):
    doc = _json("metrics", str(small_client), "--breakdown", "persona", "--json")
    b = doc["breakdowns"]
    assert b["column"] == "persona"
    assert {"p_value", "activity_retention", "stages"} <= set(b)
    values = [g["value"] for g in b["activity_retention"]]
    assert values == sorted(values) and len(values) >= 2
    for g in b["activity_retention"]:
        for r in g["rates"]:
            assert r["lo"] <= r["rate"] <= r["hi"] and r["n"] > 0
    assert 0 <= b["p_value"] <= 1
    assert "stickiness" in doc


def test_funnel_by_column_is_the_library_answer(small_client, loaded):
    c, period, stream = loaded
    steps = ["signed_up", "subscription_started"]
    doc = _json(
        "funnel", str(small_client), "--steps", ",".join(steps), "--window", "30d",
        "--by", "acquisition_channel", "--json",
    )  # fmt: skip
    result = ordered_funnel(stream, steps=steps, window="30d", period=period)
    expected = funnel_breakdown(result, c.tables["accounts"], column="acquisition_channel")
    assert doc["breakdown"] == expected["breakdown"]
    assert doc["p_value"] == pytest.approx(expected["p_value"])
    total = sum(g["steps"][0]["count"] for g in doc["breakdown"])
    assert total <= doc["steps"][0]["count"]


def test_attribution_json_is_the_library_answer_and_adds_up(small_client, loaded):
    c, period, _ = loaded
    doc = _json("attribution", str(small_client), "--json")
    t = c.tables
    expected = attribution_json(
        t["events"],
        t["subscriptions"],
        t["accounts"],
        t.get("marketing"),
        period=period,
        window_days=c.config.attribution_window_days,
    )
    assert doc == expected
    assert list(doc) == ["conversions", "paths", "removal_effects", "attribution", "cac_by_model"]
    assert doc["conversions"] == doc["paths"]["converting"] > 0
    assert doc["paths"]["non_converting"] > 0
    for model in MODELS:  # every model's column sums to the period's conversions
        assert sum(r[model] for r in doc["attribution"]) == pytest.approx(doc["conversions"])
    channels = [r["channel"] for r in doc["removal_effects"]]
    assert channels == sorted(channels)
    assert all(0 <= r["removal_effect"] <= 1 for r in doc["removal_effects"])
    assert [r["channel"] for r in doc["cac_by_model"]] == sorted(
        r["channel"] for r in doc["cac_by_model"]
    )


def test_forecast_json_is_the_library_answer_and_reproducible(small_client, loaded):
    c, period, _ = loaded
    doc = _json("forecast", str(small_client), "--json")
    assert doc == retention_forecast(c.tables["subscriptions"], period=period)
    assert doc["alpha"] > 0 and doc["beta"] > 0 and doc["cohorts_used"] > 0
    assert len(doc["months"]) == 12 and doc["months"][0]["month"] > period[1]
    for m in doc["months"]:
        assert m["lo"] <= m["customers"] <= m["hi"]
    assert _json("forecast", str(small_client), "--json") == doc  # the seed: same band
    other = _json("forecast", str(small_client), "--json", "--seed", "7")
    assert other["months"][-1]["lo"] != doc["months"][-1]["lo"]
    assert other["months"][-1]["customers"] == doc["months"][-1]["customers"]


@pytest.mark.parametrize("command", ["attribution", "forecast"])
def test_without_subscriptions_one_line_exit_2(small_client, tmp_path, command):
    import shutil

    client = tmp_path / "nosubs"
    shutil.copytree(small_client, client, ignore=shutil.ignore_patterns("subscriptions*"))
    result = runner.invoke(app, [command, str(client)])
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error:") and "needs the subscriptions table" in last
    assert "subscriptions.csv" in last and "Traceback" not in result.output


def test_attribution_and_forecast_text(small_client):
    result = runner.invoke(app, ["attribution", str(small_client)])
    assert result.exit_code == 0, result.output
    assert "non-converting paths" in result.output and "removal" in result.output
    assert "CAC by model" in result.output
    result = runner.invoke(app, ["forecast", str(small_client)])
    assert result.exit_code == 0, result.output
    assert "alpha" in result.output and "90 % band" in result.output
    # two months of history: no cohort old enough to fit, said in words
    result = runner.invoke(app, ["forecast", str(small_client), "--period", "2025-01:2025-02"])
    assert result.exit_code == 0, result.output
    assert "no forecast" in result.output


def test_the_text_output_names_what_it_shows(small_client):
    result = runner.invoke(app, ["lifecycle", str(small_client), "--interval", "month"])
    assert result.exit_code == 0, result.output
    assert "resurrecting" in result.output and "dormant" in result.output
    result = runner.invoke(app, ["metrics", str(small_client), "--breakdown", "persona"])
    assert result.exit_code == 0, result.output
    assert "month-3 activity retention" in result.output


@pytest.mark.parametrize(
    "args,needle",
    [
        (["lifecycle", "--interval", "year"], "--interval"),
        (["lifecycle", "--events", "no_such_event"], "no_such_event"),
        (["lifecycle", "--period", "2024-13:2024-02"], "--period"),
        (["lifecycle", "--period", "2024-05:2024-02"], "--period"),
        (["paths", "--start", "no_such_event"], "no_such_event"),
        (["paths", "--start", "signed_up", "--end", "login"], "--end"),
        (["paths", "--level", "page"], "--level"),
        (["paths", "--steps", "0"], "--steps"),
        (["correlation", "--steps", "signed_up"], "--steps"),
        (["correlation", "--steps", "signed_up,nope"], "nope"),
        (["correlation", "--steps", "signed_up,login", "--mode", "unordered"], "--mode"),
        (["correlation", "--steps", "signed_up,login", "--properties", "shoe_size"], "shoe_size"),
        (["metrics", "--breakdown", "shoe_size"], "--breakdown"),
        (["funnel", "--steps", "signed_up,login", "--by", "shoe_size"], "--by"),
        (["attribution", "--period", "2024-05:2024-02"], "--period"),
        (["attribution", "--engine", "pandas"], "--engine"),
        (["forecast", "--period", "2024-5"], "--period"),
        (["forecast", "--engine", "sqlite"], "--engine"),
    ],
)
def test_bad_options_exit_2_with_one_line(small_client, args, needle):
    command, *rest = args
    result = runner.invoke(app, [command, str(small_client), *rest])
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "Traceback" not in result.output
    # one error line (a first command on the client may also say it built the store)
    assert [line for line in result.output.splitlines() if line.startswith("error:")] == [
        result.output.strip().splitlines()[-1]
    ]
