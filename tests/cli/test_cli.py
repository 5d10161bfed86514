"""The real `journey` command: exit codes, one-line errors, no tracebacks."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeylib.cli import app
from journeylib.formatting import format_value

runner = CliRunner()


def journey(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed console script as a user would."""
    exe = Path(sys.executable).with_name("journey")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=300)


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr + proc.stdout
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, (n, err)


def test_help_lists_every_command():
    proc = journey("--help")
    assert proc.returncode == 0
    for cmd in ("init", "validate", "synth", "demo", "metrics", "funnel", "run", "batch"):
        assert cmd in proc.stdout


@pytest.mark.parametrize("name", ["../etc", "a/../../b", "..", "bad name!"])
def test_client_names_cannot_escape_data(name):
    proc = journey("validate", name)
    assert_one_line_error(proc)


def test_unknown_client_is_one_line(tmp_path):
    proc = journey("validate", "no-such-client-xyz")
    assert_one_line_error(proc, "no-such-client-xyz", "journey init")


def test_init_then_validate_an_empty_client(tmp_path):
    target = tmp_path / "newco"
    proc = journey("init", str(target))
    assert proc.returncode == 0, proc.stderr
    assert (target / "client.yaml").exists()
    assert (target / "accounts.csv").read_text().startswith("account_id")
    proc = journey("validate", str(target))
    assert proc.returncode == 0, proc.stderr
    assert "accounts" in proc.stdout
    # a second init refuses to overwrite
    proc = journey("init", str(target))
    assert_one_line_error(proc, "client.yaml")


def test_validate_reports_rows_and_reasons(small_client, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in small_client.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    lines = (bad / "tickets.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("account_id")] = "ghost-account"
    lines[1] = ",".join(row)
    (bad / "tickets.csv").write_text("\n".join(lines) + "\n")
    proc = journey("validate", str(bad))
    assert proc.returncode == 0, proc.stderr
    assert "tickets" in proc.stdout and "unknown_account" in proc.stdout


def test_fatal_missing_column_exits_2(small_client, tmp_path):
    bad = tmp_path / "bad2"
    bad.mkdir()
    for f in small_client.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    text = (bad / "accounts.csv").read_text().replace("account_id", "id", 1)
    (bad / "accounts.csv").write_text(text)
    proc = journey("metrics", str(bad))
    assert_one_line_error(proc, "accounts", "account_id")


def test_metrics_summary_and_json_agree(small_client):
    proc = journey("metrics", str(small_client), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema_version"] == 1
    summary = journey("metrics", str(small_client))
    assert summary.returncode == 0
    last = doc["revenue"]["months"][-1]
    assert format_value(last["mrr"], "currency", currency=doc["currency"]) in summary.stdout
    assert f"logo churn {format_value(last['logo_churn_rate'], 'fraction')}" in summary.stdout
    median = doc["onboarding"]["ttfv_days"]["median"]
    assert f"time to first value median {format_value(median, 'days')}" in summary.stdout
    if doc["nps"]:
        assert f"NPS {format_value(doc['nps']['overall']['score'], 'nps')} over" in summary.stdout


def test_metrics_json_is_byte_identical_across_runs(small_client):
    a = journey("metrics", str(small_client), "--json").stdout
    b = journey("metrics", str(small_client), "--json").stdout
    assert a == b and a


def test_funnel_json_shape(small_client):
    proc = journey(
        "funnel",
        str(small_client),
        "--steps",
        "website_visit,signed_up,subscription_started",
        "--window",
        "30d",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) >= {"steps", "in_progress"}
    counts = [s["count"] for s in doc["steps"]]
    assert counts == sorted(counts, reverse=True)
    assert set(doc["steps"][0]) >= {
        "event",
        "count",
        "conversion",
        "conversion_from_previous",
        "median_seconds_to_convert",
    }


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--steps", "a"], "--steps"),
        (["--steps", "a,b", "--window", "two weeks"], "--window"),
        (["--steps", "a,b", "--mode", "sideways"], "--mode"),
        (["--steps", "a,b", "--exclude", "x:1:0"], "--exclude"),
    ],
)
def test_funnel_bad_options_exit_2(small_client, args, needle):
    result = runner.invoke(app, ["funnel", str(small_client), *args])
    assert result.exit_code == 2
    assert needle in result.output


def test_synth_same_seed_same_bytes(tmp_path):
    for d in ("a", "b"):
        proc = journey(
            "synth", str(tmp_path / d / "acme"), "--accounts", "60", "--months", "3", "--seed", "9"
        )
        assert proc.returncode == 0, proc.stderr
    files = sorted((tmp_path / "a" / "acme").iterdir())
    assert len(files) >= 8
    for f in files:
        assert f.read_bytes() == (tmp_path / "b" / "acme" / f.name).read_bytes(), f.name
