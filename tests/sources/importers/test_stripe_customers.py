"""Stripe customers export as the identity: accounts matched by e-mail domain or a metadata column."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from journeylib.errors import JourneyError
from journeylib.sources.importers import import_files, stripe

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
SUBS = FIX / "stripe_customers_subscriptions.csv"
CUSTOMERS = FIX / "stripe_customers_export.csv"
JOURNEY = Path(sys.executable).with_name("journey")


def read(client: Path, table: str) -> pl.DataFrame:
    return pl.read_csv(client / table, infer_schema=False)


def mrr(client: Path) -> list[tuple[str, str, str]]:
    return [
        tuple(r)
        for r in read(client, "subscriptions.csv").select("account_id", "month", "mrr").iter_rows()
    ]


def reasons(client: Path) -> dict[str, str]:
    rej = read(client, "import_rejected/stripe.csv")
    return dict(rej.select("id", "reason").iter_rows())


@pytest.fixture
def client(tmp_path: Path) -> Path:
    """A client whose accounts come from HubSpot: 1001 Acme Analytics, 1002 Globex, 1003 Initech."""
    path = tmp_path / "acme"
    import_files("hubspot", [FIX / "hubspot_companies.csv"], path)
    return path


def test_matched_by_email_domain(client: Path) -> None:
    rep = import_files("stripe", [SUBS], client, identity=CUSTOMERS, date="2024-03-31")
    # acme-analytics.com and eu.acme-analytics.com -> Acme Analytics; globex.com -> Globex
    assert mrr(client) == [
        ("1001", "2024-01", "40.0"),
        ("1001", "2024-02", "50.0"),
        ("1001", "2024-03", "50.0"),
        ("1002", "2024-01", "100.0"),
        ("1002", "2024-02", "100.0"),
    ]
    assert "accounts" not in rep.tables  # no cus_… accounts beside the real ones
    assert rep.notes[0] == (
        "Stripe customers export stripe_customers_export.csv: 3 of 6 customers matched by "
        "e-mail domain (on account names), 3 not matched "
        "(free_mail 1, no_account_for_domain 1, no_email 1)"
    )
    # unmatched customers' subscriptions are quarantined with their reason
    assert reasons(client) == {
        "sub_4": "unmatched_customer:free_mail",
        "sub_5": "unmatched_customer:no_account_for_domain",
        "sub_6": "unmatched_customer:no_email",
        "sub_7": "unknown_customer",
    }
    assert rep.rejected == 4 and rep.reasons["unknown_customer"] == 1
    assert "cus_F (founder@gmail.com: free_mail)" in rep.notes[1]
    assert "cus_X (not in the customers export)" in rep.notes[1]


def test_matched_by_metadata_column(client: Path) -> None:
    rep = import_files(
        "stripe",
        [SUBS],
        client,
        identity=CUSTOMERS,
        match="metadata:account_id",
        date="2024-03-31",
    )
    subs = mrr(client)
    assert ("1003", "2024-02", "20.0") in subs  # the gmail customer, by its metadata
    assert {a for a, _, _ in subs} == {"1001", "1002", "1003"}
    assert rep.notes[0].endswith(
        "4 of 6 customers matched by metadata account_id, 2 not matched (no_metadata 2)"
    )
    assert reasons(client) == {
        "sub_5": "unmatched_customer:no_metadata",
        "sub_6": "unmatched_customer:no_metadata",
        "sub_7": "unknown_customer",
    }


def test_metadata_account_unknown_to_the_client_becomes_an_account(tmp_path: Path) -> None:
    rep = import_files(
        "stripe", [SUBS], tmp_path / "new", identity=CUSTOMERS, match="metadata:account_id"
    )
    assert sorted(read(tmp_path / "new", "accounts.csv")["account_id"]) == ["1001", "1002", "1003"]
    assert any("account ids of the customers export" in n for n in rep.notes), rep.notes


def test_domain_column_of_the_accounts_and_ambiguous_names(tmp_path: Path) -> None:
    accounts = pl.DataFrame(
        {
            "account_id": ["a1", "a2", "a3", "a4"],
            "name": ["Something Else", "Umbrella Corp", "Umbrella Ltd", "Globex Inc."],
            "website": ["https://www.acme-analytics.com/", None, None, None],
        }
    )
    df = pl.read_csv(CUSTOMERS, infer_schema=False)
    got = stripe.match_customers(df, CUSTOMERS, accounts)
    assert got.accounts == {"cus_A1": "a1", "cus_A2": "a1", "cus_G": "a4"}
    assert got.unmatched["cus_U"] == "ambiguous_domain"  # two Umbrella accounts
    assert got.by == "e-mail domain (on accounts.website, then account names)"


@pytest.mark.parametrize(
    ("match", "says"),
    [
        ("metadata:crm_id", "no metadata column 'crm_id'"),
        ("email", "bad match"),
    ],
)
def test_bad_match(client: Path, match: str, says: str) -> None:
    before = read(client, "subscriptions.csv")
    with pytest.raises(JourneyError, match=says) as info:
        import_files("stripe", [SUBS], client, identity=CUSTOMERS, match=match)
    assert info.value.where == "match"
    if match.startswith("metadata"):
        assert info.value.found == "metadata columns account_id, tag"
    assert read(client, "subscriptions.csv").equals(before)  # nothing written
    assert not (client / "import_rejected" / "stripe.csv").exists()


def test_match_needs_a_customers_export(client: Path) -> None:
    with pytest.raises(JourneyError, match="not to a customer_id,account_id map"):
        import_files(
            "stripe",
            [FIX / "stripe_subscriptions.csv"],
            client,
            identity=FIX / "stripe_identity.csv",
            match="domain",
        )
    with pytest.raises(JourneyError, match="given as identity") as info:
        import_files("zendesk", [FIX / "zendesk_tickets.csv"], client, match="domain")
    assert info.value.where == "match"


def test_old_customer_map_still_works(client: Path) -> None:
    rep = import_files(
        "stripe",
        [FIX / "stripe_subscriptions.csv"],
        client,
        identity=FIX / "stripe_identity.csv",
        date="2024-04-30",
    )
    assert {a for a, _, _ in mrr(client)} == {"1001", "1002"}
    assert not any("customers export" in n for n in rep.notes)
    assert "unknown_customer" not in rep.reasons


def test_cli_customers_export_and_bad_match(client: Path) -> None:
    def journey(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(JOURNEY), *args], capture_output=True, text=True, timeout=120)

    base = ["import", "stripe", str(SUBS), "--client", str(client), "--identity", str(CUSTOMERS)]
    r = journey(*base, "--match", "metadata:tier")
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert (
        lines[0].startswith("error: --match: ") and "metadata columns account_id, tag" in lines[0]
    )
    assert "--match metadata:account_id" in lines[0]
    r = journey(*base, "--match", "metadata:account_id", "--date", "2024-03-31")
    assert r.returncode == 0, r.stderr
    assert "subscriptions: 7 added" in r.stdout
    assert "4 of 6 customers matched by metadata account_id" in r.stdout
    assert "unmatched_customer:no_metadata (2)" in r.stdout


def test_subscriptions_export_as_identity_is_refused(client: Path) -> None:
    with pytest.raises(JourneyError, match="identity file is a Stripe subscriptions export"):
        import_files("stripe", [SUBS], client, identity=SUBS)
    # sub_ ids alone (no Customer ID column) are told apart too.
    with pytest.raises(JourneyError, match="3 sub_ ids"):
        stripe.customers_export(_write(client.parent / "subs_ids.csv"))


def _write(path: Path) -> Path:
    path.write_text(
        "id,Email,Created (UTC)\nsub_1,a@x.com,2024-01-01\nsub_2,b@x.com,2024-01-01\n"
        "sub_3,c@x.com,2024-01-01\n"
    )
    return path


def test_cli_subscriptions_export_as_identity(client: Path) -> None:
    before = {p.name: p.read_bytes() for p in client.glob("*.csv")}
    r = subprocess.run(
        [
            str(JOURNEY),
            "import",
            "stripe",
            str(SUBS),
            "--identity",
            str(SUBS),
            "--client",
            str(client),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: stripe_customers_subscriptions.csv: Customer ID: ")
    assert "subscriptions export" in lines[0] and "'Customer ID' column" in lines[0]
    assert "with --identity customers.csv: " in lines[0]
    assert before == {p.name: p.read_bytes() for p in client.glob("*.csv")}
