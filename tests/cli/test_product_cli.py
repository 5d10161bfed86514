"""``journey activation`` and ``journey health`` (analytics.md §9, §10), driven as a user drives them.

Each JSON answer is compared with the library function on the loaded client (the
command reads the store); the text output says what it shows; a missing table, a
bad option or a bad ``health.weights`` stops with one line and exit 2.
"""

from __future__ import annotations

import json
import math
import shutil

import pytest
from typer.testing import CliRunner

from journeylib.cli import app
from journeylib.config import HEALTH_COMPONENTS
from journeylib.ingest.client import load_client
from journeylib.metrics import resolve_period
from journeylib.metrics.activation import activation_candidates
from journeylib.metrics.health import account_health
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


def _library_health(c, period, stream, weights=None) -> dict:
    t = c.tables
    return account_health(
        stream,
        t["subscriptions"],
        t.get("tickets"),
        t.get("surveys"),
        period=period,
        weights=c.config.health.weights if weights is None else weights,
    )


def _close(a, b) -> None:
    """Equal documents, floats to 1e-12 (another engine may sum in another order)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _close(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _close(x, y)
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), (a, b)
    else:
        assert a == b


@pytest.fixture(scope="module")
def without_subscriptions(small_client, tmp_path_factory):
    client = tmp_path_factory.mktemp("nosubs") / "acme"
    shutil.copytree(small_client, client, ignore=shutil.ignore_patterns("subscriptions*"))
    return client


# ---------------------------------------------------------------- activation
def test_activation_json_is_the_library_answer(small_client, loaded):
    c, period, _ = loaded
    doc = _json("activation", str(small_client), "--json")
    t = c.tables
    assert doc == activation_candidates(
        t["accounts"], t["events"], t["subscriptions"], period=period
    )
    assert list(doc) == ["accounts", "retained", "candidates"]
    assert 0 < doc["retained"] < doc["accounts"]
    assert 0 < len(doc["candidates"]) <= 20
    for r in doc["candidates"]:
        assert list(r) == ["event", "times", "days", "share", "precision", "recall", "phi"]
        assert r["times"] in (1, 2, 3, 5, 10) and r["days"] in (1, 7, 14, 30)
    keys = [(-r["phi"], r["times"], r["days"], r["event"]) for r in doc["candidates"]]
    assert keys == sorted(keys)


def test_activation_period_and_no_subscriptions(small_client, loaded, without_subscriptions):
    c, _, _ = loaded
    t = c.tables
    doc = _json("activation", str(small_client), "--period", "2024-03:2024-06", "--json")
    assert doc == activation_candidates(
        t["accounts"], t["events"], t["subscriptions"], period=("2024-03", "2024-06")
    )
    # without subscriptions: retained = active in days 60–90 after signing up
    doc = _json("activation", str(without_subscriptions), "--json")
    bare = load_client(without_subscriptions)
    assert doc == activation_candidates(
        bare.tables["accounts"], bare.tables["events"], None, period=resolve_period(bare)
    )
    assert doc["accounts"] > 0


def test_activation_text_names_what_it_shows(small_client, without_subscriptions):
    result = runner.invoke(app, ["activation", str(small_client)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "activation finder" in out and "sign-ups whose outcome" in out
    assert "paid in the third month after signing up" in out
    for col in ("event", "at least", "within", "share", "precision", "recall", "phi"):
        assert col in out
    # the synthetic client.yaml names an activation event: the text compares it
    assert "client.yaml's activation event 'first_report_created'" in out
    result = runner.invoke(app, ["activation", str(without_subscriptions)])
    assert result.exit_code == 0, result.output
    assert "active 60-90 days after signing up" in result.output


def test_activation_on_duckdb_is_the_polars_answer(small_client):
    polars = _json("activation", str(small_client), "--json")
    duck = _json("activation", str(small_client), "--json", "--engine", "duckdb")
    _close(duck, polars)


# ---------------------------------------------------------------- health
def test_health_json_is_the_library_answer(small_client, loaded):
    c, period, stream = loaded
    doc = _json("health", str(small_client), "--json")
    assert doc == _library_health(c, period, stream)
    assert doc["month"] == period[1]
    assert doc["weights"] == dict.fromkeys(HEALTH_COMPONENTS, 1.0)
    assert doc["accounts"] and 0 <= doc["auc_backtest"] <= 1
    for a in doc["accounts"]:
        assert set(a["components"]) == set(HEALTH_COMPONENTS)
        assert 0 < a["score"] <= 100 and a["mrr"] > 0
    keys = [(a["score"], a["account_id"]) for a in doc["accounts"]]
    assert keys == sorted(keys)  # riskiest first


def test_health_period_and_duckdb(small_client, loaded):
    c, _, stream = loaded
    doc = _json("health", str(small_client), "--period", "2024-02:2024-10", "--json")
    assert doc == _library_health(c, ("2024-02", "2024-10"), stream)
    assert doc["month"] == "2024-10"
    assert doc["backtest"]["months"] == [f"2024-{m:02d}" for m in range(4, 10)]
    duck = _json("health", str(small_client), "--period", "2024-02:2024-10", "--json",
                 "--engine", "duckdb")  # fmt: skip
    _close(duck, doc)


def test_health_weights_come_from_client_yaml(small_client, loaded, tmp_path):
    c, period, stream = loaded
    client = tmp_path / "acme"
    shutil.copytree(small_client, client)
    with (client / "client.yaml").open("a", encoding="utf-8") as f:
        f.write("health:\n  weights: {usage_trend: 2, nps: 1}\n")
    doc = _json("health", str(client), "--json")
    weights = {"usage_trend": 2.0, "nps": 1.0}
    assert doc["weights"] == {c: weights.get(c, 0.0) for c in HEALTH_COMPONENTS}
    assert doc == _library_health(c, period, stream, weights=weights)
    for a in doc["accounts"]:  # breadth, support_load and mrr_trend weigh nothing
        p = a["percentiles"]
        assert a["score"] == pytest.approx((2 * p["usage_trend"] + p["nps"]) / 3)
        assert a["weakest"] in ("usage_trend", "nps")


def test_health_text_names_what_it_shows(small_client):
    result = runner.invoke(app, ["health", str(small_client), "--top", "3"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "account health at the end of" in out and "paying accounts" in out
    assert "ROC AUC" in out and "account-months" in out
    assert "riskiest 3 accounts" in out and "what drags it down" in out
    assert "score" in out and "MRR (USD)" in out


@pytest.mark.parametrize("command", ["health"])
def test_health_without_subscriptions_one_line_exit_2(without_subscriptions, command):
    result = runner.invoke(app, [command, str(without_subscriptions)])
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error:") and "account health needs the subscriptions table" in last
    assert "subscriptions.csv" in last and "Traceback" not in result.output
    assert [line for line in result.output.splitlines() if line.startswith("error:")] == [last]


@pytest.mark.parametrize(
    "weights,needle",
    [
        ("{usage_trnd: 1}", "usage_trnd"),
        ("{nps: -1}", "nps"),
        ("{nps: 0, breadth: 0}", "at least one weight above 0"),
    ],
)
def test_bad_health_weights_one_line_exit_2(small_client, tmp_path, weights, needle):
    client = tmp_path / "acme"
    shutil.copytree(small_client, client)
    with (client / "client.yaml").open("a", encoding="utf-8") as f:
        f.write(f"health:\n  weights: {weights}\n")
    proc = journey("health", str(client), "--json")
    assert proc.returncode == 2, proc.stderr + proc.stdout
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr + proc.stdout and proc.stdout == ""
    assert len(err.splitlines()) == 1, err
    assert "health.weights" in err and needle in err


@pytest.mark.parametrize(
    "args,needle",
    [
        (["activation", "--period", "2024-13:2024-02"], "--period"),
        (["activation", "--period", "2024-05:2024-02"], "--period"),
        (["activation", "--period", "2024-05"], "--period"),
        (["activation", "--engine", "pandas"], "--engine"),
        (["health", "--period", "2024-5:2024-06"], "--period"),
        (["health", "--period", "2024-09:2024-02"], "--period"),
        (["health", "--engine", "sqlite"], "--engine"),
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
