"""HubSpot deals in the layout of real "all properties" exports: custom stage names, Is Closed columns.

Fixtures: hubspot_real_companies.csv, hubspot_real_deals.csv (with ``Is Closed Won`` /
``Is closed lost``) and hubspot_real_deals_stages_only.csv (the same export without them).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from journeylib.sources.importers import import_files

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
COMPANIES = FIX / "hubspot_real_companies.csv"
DEALS = FIX / "hubspot_real_deals.csv"
STAGES_ONLY = FIX / "hubspot_real_deals_stages_only.csv"
JOURNEY = Path(sys.executable).with_name("journey")


def events_of(client: Path, event: str) -> list[tuple[str, str]]:
    ev = pl.read_csv(client / "events.csv", infer_schema=False)
    return [
        tuple(r)
        for r in ev.filter(pl.col("event") == event).select("timestamp", "account_id").iter_rows()
    ]


def rejected(client: Path) -> list[tuple[str, str, str, str]]:
    rej = pl.read_csv(client / "import_rejected" / "hubspot.csv", infer_schema=False)
    return [tuple(r) for r in rej.select("file", "line", "Record ID", "reason").iter_rows()]


def write_deals(path: Path, header: str, *lines: str) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def test_is_closed_columns_decide_despite_custom_stage_names(tmp_path: Path) -> None:
    """Contract Signed / Paid are won and Dead Deals / "Closed Lost " lost because the columns say so."""
    client = tmp_path / "acme"
    rep = import_files("hubspot", [COMPANIES, DEALS], client)
    # Hand count: won = 7001 (Contract Signed, true), 7002 (Paid, True), 7007 (Contract Signed, 1);
    # 7009 and 7010 are won too but quarantined for their company.
    assert events_of(client, "deal_won") == [
        ("2024-02-15T10:00:00Z", "2001"),
        ("2024-03-01T16:00:00Z", "2002"),
        ("2024-03-06T15:00:00Z", "2004"),
    ]
    # lost = 7003 (Dead Deals, true), 7004 ("Closed Lost ", Yes), 7008 (Dead Deals, 1),
    # 7012 ("Closed Lost" with both columns empty: the stage name decides that row).
    assert events_of(client, "deal_lost") == [
        ("2024-02-28T09:00:00Z", "2003"),
        ("2024-03-04T12:00:00Z", "2001"),
        ("2024-03-08T09:00:00Z", "2005"),
        ("2024-03-12T10:00:00Z", "2003"),
    ]
    # Open: 7005 (Proposal Sent), 7011 (primary company empty: 2006 from Associated Company
    # IDs) and 7006, whose stage is called "Closed Won" but whose Is Closed Won is false.
    created = events_of(client, "deal_created")
    assert len(created) == 10
    assert ("2024-02-14T10:00:00Z", "2006") in created
    assert ("2024-02-25T10:00:00Z", "2001") in created
    assert rep.rows_read == 18 and rep.tables["accounts"]["added"] == 6
    assert rep.reasons == {"no_company": 1, "unknown_company": 1}
    assert rejected(client) == [
        ("hubspot_real_deals.csv", "10", "7009", "no_company"),
        ("hubspot_real_deals.csv", "11", "7010", "unknown_company"),
    ]
    assert rep.notes == [
        "hubspot_real_deals.csv: deals won/lost from the Is Closed Won / Is closed lost columns; "
        "1 deal(s) with an empty value there: from their stage name"
    ]


def test_stage_names_are_the_fallback_without_is_closed_columns(tmp_path: Path) -> None:
    client = tmp_path / "acme"
    rep = import_files("hubspot", [COMPANIES, STAGES_ONLY], client)
    # Closed Won, closedwon -> won; "Closed Lost " (trailing blank), CLOSED LOST -> lost;
    # Contract Signed and Dead Deals cannot be told by their name: they stay open.
    assert events_of(client, "deal_won") == [
        ("2024-02-15T10:00:00Z", "2001"),
        ("2024-03-06T15:00:00Z", "2004"),
    ]
    assert events_of(client, "deal_lost") == [
        ("2024-03-01T16:00:00Z", "2002"),
        ("2024-03-10T09:00:00Z", "2006"),
    ]
    assert len(events_of(client, "deal_created")) == 6
    assert rep.rejected == 0
    (note,) = rep.notes
    assert note.startswith(
        "hubspot_real_deals_stages_only.csv: deals won/lost from the deal stage names"
    )
    assert "no Is Closed Won / Is closed lost columns" in note


def test_one_is_closed_column_and_unreadable_values(tmp_path: Path) -> None:
    """Only Is Closed Won: lost from the stage; unreadable or contradictory values are quarantined."""
    client = tmp_path / "acme"
    deals = write_deals(
        tmp_path / "deals.csv",
        "Record ID,Deal Name,Deal Stage,Close Date,Create Date,Is Closed Won,Associated Company IDs",
        "1,a,Paid,2024-02-01 10:00,2024-01-01 10:00,Yes,2001",
        "2,b,Closed Lost,2024-02-02 10:00,2024-01-02 10:00,No,2002",
        "3,c,Paid,2024-02-03 10:00,2024-01-03 10:00,maybe,2003",
        "4,d,Closed Lost,2024-02-04 10:00,2024-01-04 10:00,true,2004",
    )
    rep = import_files("hubspot", [COMPANIES, deals], client)
    assert events_of(client, "deal_won") == [("2024-02-01T10:00:00Z", "2001")]
    assert events_of(client, "deal_lost") == [("2024-02-02T10:00:00Z", "2002")]
    assert rep.reasons == {"bad_boolean:is_closed_won": 1, "won_and_lost": 1}
    (note,) = rep.notes
    assert note.startswith(
        "deals.csv: deals won from the Is Closed Won column, lost from the deal stage names"
    )


def test_deals_without_any_association_column(tmp_path: Path) -> None:
    client = tmp_path / "acme"
    deals = write_deals(
        tmp_path / "deals.csv",
        "Record ID,Deal Name,Deal Stage,Close Date,Create Date,Is Closed Won,Is closed lost",
        "1,a,Paid,2024-02-01 10:00,2024-01-01 10:00,true,false",
    )
    rep = import_files("hubspot", [COMPANIES, deals], client)
    assert rep.reasons == {"no_company": 1}
    assert any("no Associated Company column" in n for n in rep.notes)


@pytest.mark.parametrize("deals", [DEALS, STAGES_ONLY])
def test_deals_are_matched_by_company_name_without_ids(tmp_path: Path, deals: Path) -> None:
    """An export with only the Associated Company name column still finds the companies."""
    df = pl.read_csv(deals, infer_schema=False).drop(
        "Associated Company IDs (Primary)", "Associated Company IDs"
    )
    only_names = tmp_path / deals.name
    df.write_csv(only_names)
    rep = import_files("hubspot", [COMPANIES, only_names], tmp_path / "acme")
    # 7010's "Umbrella Corp" is a name no company has; 7009 has no company at all.
    expected = {"no_company": 1, "unknown_company": 1} if deals == DEALS else {}
    assert rep.reasons == expected


def test_cli_import_reports_both_reasons_and_the_source_of_won_lost(tmp_path: Path) -> None:
    client = tmp_path / "acme"
    r = subprocess.run(
        [str(JOURNEY), "import", "hubspot", str(COMPANIES), str(DEALS), "--client", str(client)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "accounts: 6 added" in r.stdout and "events: 17 added" in r.stdout
    assert "2 rows quarantined" in r.stdout
    assert "no_company (1)" in r.stdout and "unknown_company (1)" in r.stdout
    assert (
        "note: hubspot_real_deals.csv: deals won/lost from the Is Closed Won / Is closed lost columns"
        in r.stdout
    )
    r = subprocess.run(
        [str(JOURNEY), "validate", str(client)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr


def test_deals_export_without_deal_stage_is_read_as_deals(tmp_path: Path) -> None:
    """Review: no Deal Stage column, but Deal Name / Is Closed Won: deals, not companies."""
    client = tmp_path / "acme"
    deals = write_deals(
        tmp_path / "hs_nostage.csv",
        "Record ID,Deal Name,Close Date,Amount,Create Date,Is Closed Won,Is closed lost,"
        "Associated Company IDs",
        "1,a,2024-02-15 10:00,100,2024-01-20 09:30,true,false,2001",
        "2,b,2024-02-16 10:00,100,2024-01-21 09:30,,,2002",
    )
    rep = import_files("hubspot", [COMPANIES, deals], client)
    assert rep.tables["accounts"]["added"] == 6  # the companies file only
    assert events_of(client, "deal_won") == [("2024-02-15T10:00:00Z", "2001")]
    assert len(events_of(client, "deal_created")) == 2
    assert rep.notes == [
        "hs_nostage.csv: deals won/lost from the Is Closed Won / Is closed lost columns; "
        "1 deal(s) with an empty value there: left open (no Deal Stage)"
    ]


def test_closed_deal_without_close_date_is_quarantined(tmp_path: Path) -> None:
    """Review: a won / lost deal with no Close Date lands in import_rejected; its creation is kept."""
    client = tmp_path / "acme"
    deals = write_deals(
        tmp_path / "deals.csv",
        "Record ID,Deal Name,Deal Stage,Close Date,Create Date,Is Closed Won,Is closed lost,"
        "Associated Company IDs",
        "1,a,Paid,,2024-01-01 10:00,true,false,2001",
        "2,b,Dead Deals,,2024-01-02 10:00,false,true,2002",
        "3,c,Proposal Sent,,2024-01-03 10:00,false,false,2003",
    )
    rep = import_files("hubspot", [COMPANIES, deals], client)
    assert events_of(client, "deal_won") == [] and events_of(client, "deal_lost") == []
    assert len(events_of(client, "deal_created")) == 3
    assert rep.reasons == {"closed_without_date": 2}
    assert rejected(client) == [
        ("deals.csv", "2", "1", "closed_without_date"),
        ("deals.csv", "3", "2", "closed_without_date"),
    ]


def test_fallback_note_counts_only_empty_values(tmp_path: Path) -> None:
    """Review: an unreadable value (WAHR) is quarantined, not counted as decided by the stage name."""
    client = tmp_path / "acme"
    deals = write_deals(
        tmp_path / "deals.csv",
        "Record ID,Deal Name,Deal Stage,Close Date,Create Date,Is Closed Won,Is closed lost,"
        "Associated Company IDs",
        "1,a,Closed Won,2024-02-01 10:00,2024-01-01 10:00,WAHR,false,2001",
        "2,b,Closed Lost,2024-02-02 10:00,2024-01-02 10:00,,,2002",
    )
    rep = import_files("hubspot", [COMPANIES, deals], client)
    assert rep.reasons == {"bad_boolean:is_closed_won": 1}
    assert events_of(client, "deal_lost") == [("2024-02-02T10:00:00Z", "2002")]
    assert rep.notes == [
        "deals.csv: deals won/lost from the Is Closed Won / Is closed lost columns; "
        "1 deal(s) with an empty value there: from their stage name"
    ]
