"""`journey import` through the installed console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
JOURNEY = Path(sys.executable).with_name("journey")


def journey(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(JOURNEY), *args], capture_output=True, text=True, timeout=120)


def test_cli_import_creates_client_and_reports(tmp_path: Path) -> None:
    client = tmp_path / "acme"
    r = journey(
        "import",
        "hubspot",
        str(FIX / "hubspot_companies.csv"),
        str(FIX / "hubspot_deals.csv"),
        "--client",
        str(client),
    )
    assert r.returncode == 0, r.stderr
    assert "accounts: 3 added" in r.stdout and "events: 5 added" in r.stdout
    assert "2 rows quarantined" in r.stdout
    r = journey(
        "import",
        "search_console",
        str(FIX / "Queries.csv"),
        "--client",
        str(client),
        "--date",
        "2024-03-31",
    )
    assert r.returncode == 0, r.stderr
    assert "search_queries: 3 added" in r.stdout
    q = pl.read_csv(client / "search_queries.csv", infer_schema=False)
    assert q["query"].to_list() == ["acme analytics", "dashboard software", "acme login"]
    r = journey("validate", str(client))
    assert r.returncode == 0, r.stderr


def test_cli_wrong_file_exits_2_with_one_line(tmp_path: Path) -> None:
    client = tmp_path / "acme"
    r = journey("import", "stripe", str(FIX / "zendesk_tickets.csv"), "--client", str(client))
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "this is not a Stripe subscriptions export" in lines[0] and "Customer ID" in lines[0]
    assert "Traceback" not in r.stderr and not client.exists()


def test_cli_unknown_source_and_bad_date_exit_2(tmp_path: Path) -> None:
    r = journey("import", "salesforce", str(FIX / "Queries.csv"), "--client", str(tmp_path / "c"))
    assert r.returncode == 2 and "SOURCE: unknown import source" in r.stderr
    r = journey(
        "import",
        "search_console",
        str(FIX / "Queries.csv"),
        "--client",
        str(tmp_path / "c"),
        "--date",
        "31/03/2024",
    )
    assert r.returncode == 2 and "--date: bad date" in r.stderr


def test_cli_stripe_note_names_the_identity_flag(tmp_path: Path) -> None:
    r = journey(
        "import", "stripe", str(FIX / "stripe_subscriptions.csv"), "--client", str(tmp_path / "c")
    )
    assert r.returncode == 0, r.stderr
    assert "map them with --identity map.csv, a CSV customer_id,account_id," in r.stdout


@pytest.mark.parametrize(
    ("source", "file", "message"),
    [
        ("segment", "Queries.csv", "this is not a Segment/RudderStack"),
        ("hubspot", "Queries.csv", "this is not a HubSpot companies export"),
        ("zendesk", "hubspot_companies.csv", "this is not a Zendesk tickets export"),
        ("nps", "Queries.csv", "this is not a NPS survey export"),
        ("search_console", "zendesk_tickets.csv", "this is not a Search Console Queries"),
    ],
)
def test_cli_wrong_file_every_source(tmp_path: Path, source: str, file: str, message: str) -> None:
    client = tmp_path / "acme"
    r = journey("import", source, str(FIX / file), "--client", str(client))
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert message in lines[0] and file in lines[0] and "Traceback" not in r.stderr
    assert not client.exists()


def test_cli_import_into_partitioned_events_says_parquet(tmp_path: Path) -> None:
    """Events kept as month partitions (events/month=…/*.parquet) cannot be appended to."""
    client = tmp_path / "acme"
    r = journey("import", "hubspot", str(FIX / "hubspot_companies.csv"), "--client", str(client))
    assert r.returncode == 0, r.stderr
    events = pl.read_csv(client / "events.csv")
    (client / "events.csv").unlink()
    (client / "events" / "month=2024-01").mkdir(parents=True)
    events.write_parquet(client / "events" / "month=2024-01" / "part-0.parquet")
    r = journey(
        "import",
        "segment",
        str(FIX / "segment_events.jsonl"),
        "--client",
        str(client),
        "--identity",
        str(FIX / "segment_identity.csv"),
    )
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot append to a Parquet table" in lines[0], r.stderr
    assert "a folder of Parquet files" in lines[0]
