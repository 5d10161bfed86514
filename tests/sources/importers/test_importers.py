"""Importers: hand-written exports in each tool's documented layout -> canonical tables, value by value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import journeylib as jl
from journeylib.errors import DataError, JourneyError
from journeylib.sources.importers import import_files
from journeylib.sources.importers.hubspot import channel_from_original_source
from journeylib.sources.importers.segment import channel_from_utm
from journeylib.sources.importers.zendesk import category_of, channel_of_via

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
UTC = dt.UTC


def ts(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


def read(client: Path, table: str) -> pl.DataFrame:
    return pl.read_csv(client / f"{table}.csv", infer_schema=False)


def rows(df: pl.DataFrame, *cols: str) -> list[tuple]:
    return [tuple(r) for r in df.select(cols).iter_rows()]


@pytest.fixture
def client(tmp_path: Path) -> Path:
    return tmp_path / "acme"


def import_all(client: Path) -> None:
    """The whole client from imported files only: HubSpot, Segment, Stripe, Zendesk, NPS, Search Console."""
    import_files("hubspot", [FIX / "hubspot_companies.csv", FIX / "hubspot_deals.csv"], client)
    import_files(
        "segment", [FIX / "segment_events.jsonl"], client, identity=FIX / "segment_identity.csv"
    )
    import_files(
        "stripe", [FIX / "stripe_subscriptions.csv"], client, identity=FIX / "stripe_identity.csv"
    )
    import_files("zendesk", [FIX / "zendesk_tickets.csv"], client)
    import_files("nps", [FIX / "delighted_responses.csv", FIX / "typeform_responses.csv"], client)
    import_files("search_console", [FIX / "Queries.csv"], client, date="2024-03-31")


# ------------------------------------------------------------------ HubSpot
def test_hubspot_companies_and_deals(client: Path) -> None:
    rep = import_files(
        "hubspot", [FIX / "hubspot_companies.csv", FIX / "hubspot_deals.csv"], client
    )
    assert rep.created and (client / "client.yaml").exists()
    acc = read(client, "accounts")
    assert rows(
        acc,
        "account_id",
        "name",
        "industry",
        "company_size",
        "country",
        "acquisition_channel",
        "first_seen_at",
    ) == [
        (
            "1001",
            "Acme Analytics",
            "Computer Software",  # the export writes option labels by default
            "250",
            "US",
            "organic_search",
            "2024-01-05T09:00:00Z",
        ),
        ("1002", "Globex", "Financial Services", "40", "DE", "paid_search", "2024-01-10T14:30:00Z"),
        ("1003", "Initech", None, "12", "GB", "events", "2024-02-01T00:00:00Z"),
    ]
    ev = read(client, "events")
    # deal 5001 lists companies 1003;1001: the primary company (1001) is taken
    assert rows(ev, "timestamp", "account_id", "event") == [
        ("2024-01-20T00:00:00Z", "1001", "deal_created"),
        ("2024-01-25T00:00:00Z", "1002", "deal_created"),
        ("2024-02-05T00:00:00Z", "1003", "deal_created"),
        ("2024-02-15T00:00:00Z", "1001", "deal_won"),
        ("2024-03-01T00:00:00Z", "1002", "deal_lost"),
    ]
    # the company without id and the deal of an unknown company are quarantined, not dropped
    assert rep.rows_read == 8 and rep.rejected == 2
    assert rep.reasons == {"record_id_missing": 1, "unknown_company": 1}
    rej = pl.read_csv(client / "import_rejected" / "hubspot.csv", infer_schema=False)
    assert rows(rej, "file", "line", "reason") == [
        ("hubspot_companies.csv", "5", "record_id_missing"),
        ("hubspot_deals.csv", "5", "unknown_company"),
    ]
    assert rej["Company name"][0] == "Nameless Co"


@pytest.mark.parametrize(
    ("value", "channel"),
    [
        ("ORGANIC_SEARCH", "organic_search"),
        ("PAID_SEARCH", "paid_search"),
        ("SOCIAL_MEDIA", "social"),
        ("PAID_SOCIAL", "social"),
        ("REFERRALS", "referral"),
        ("EMAIL_MARKETING", "email"),
        ("DIRECT_TRAFFIC", "direct"),
        ("OFFLINE", "events"),
        ("Offline Sources", "events"),
        ("OTHER_CAMPAIGNS", "other_campaigns"),
        ("Other campaigns", "other_campaigns"),
        ("Organic search", "organic_search"),
        ("Organic social", "social"),
        ("Email marketing", "email"),
        ("Referrals", "referral"),
        ("Direct traffic", "direct"),
        ("", None),
    ],
)
def test_hubspot_original_source(value: str, channel: str | None) -> None:
    assert channel_from_original_source(value) == channel


# ------------------------------------------------------------------ Segment
def test_segment_events_accounts_identity(client: Path) -> None:
    rep = import_files(
        "segment", [FIX / "segment_events.jsonl"], client, identity=FIX / "segment_identity.csv"
    )
    ev = read(client, "events")
    assert rows(
        ev,
        "timestamp",
        "account_id",
        "anonymous_id",
        "user_id",
        "event",
        "channel",
        "campaign",
        "variant",
    ) == [
        # the visitor a1 is identified later as u1 of company 1001: the page view belongs to 1001
        (
            "2024-01-04T10:00:00Z",
            "1001",
            "a1",
            None,
            "pricing_page_viewed",
            "paid_search",
            "spring",
            None,
        ),
        ("2024-01-05T09:05:00Z", "1001", None, "u1", "signed_up", None, None, None),
        ("2024-01-07T12:00:00Z", "1001", None, "u1", "first_report_created", None, None, "B"),
        ("2024-01-10T15:05:00Z", "1002", None, "u2", "signed_up", "social", None, None),
        # u3 has no company: an anonymous visitor
        ("2024-01-12T08:00:00Z", None, "a3", "u3", "login", None, None, None),
        ("2024-02-03T08:00:00Z", "1001", None, "u1", "login", None, None, None),
        # u4 is tied to 1003 by the analyst's identity map
        ("2024-02-10T10:00:00Z", "1003", None, "u4", "login", None, None, None),
    ]
    acc = read(client, "accounts")
    assert rows(
        acc, "account_id", "first_seen_at", "signup_at", "name", "industry", "company_size"
    ) == [
        (
            "1001",
            "2024-01-04T10:00:00Z",
            "2024-01-05T09:05:00Z",
            "Acme Analytics",
            "Software",
            "250",
        ),
        ("1002", "2024-01-10T15:00:00Z", "2024-01-10T15:05:00Z", "Globex", "Finance", "40"),
        ("1003", "2024-02-10T10:00:00Z", None, None, None, None),
    ]
    assert rep.rejected == 2 and rep.reasons == {"bad_json": 1, "bad_timestamp": 1}
    rej = pl.read_csv(client / "import_rejected" / "segment.csv", infer_schema=False)
    assert rej["line"].to_list() == ["8", "9"]


def test_segment_not_segment(client: Path) -> None:
    with pytest.raises(DataError, match=r"Queries.csv: type: this is not a Segment/RudderStack"):
        import_files("segment", [FIX / "Queries.csv"], client)
    assert not client.exists()  # nothing is created when the file is wrong


@pytest.mark.parametrize(
    ("source", "medium", "channel"),
    [
        ("google", "organic", "organic_search"),
        ("google", "cpc", "paid_search"),
        ("bing", "ppc", "paid_search"),
        ("linkedin", "social", "social"),
        ("facebook", "referral", "social"),
        ("blog.example", "referral", "referral"),
        ("newsletter", "email", "email"),
        ("(direct)", "(none)", "direct"),
        ("acme-partner", "affiliate", "partner"),
        ("saastr", "event", "events"),
        ("linkedin", None, "social"),
        (None, None, None),
    ],
)
def test_utm_channel(source: str | None, medium: str | None, channel: str | None) -> None:
    assert channel_from_utm(source, medium) == channel


# ------------------------------------------------------------------ Stripe
def test_stripe_monthly_mrr(client: Path) -> None:
    import_files("hubspot", [FIX / "hubspot_companies.csv"], client)
    rep = import_files(
        "stripe", [FIX / "stripe_subscriptions.csv"], client, identity=FIX / "stripe_identity.csv"
    )
    subs = read(client, "subscriptions")
    # cus_A (1001): 5 seats × 20/month from Jan; + addon 10/month from Feb; active through the export month (Mar,
    # the latest date in the file). cus_B (1002): 1200/year = 100/month, 25 % off = 75; ended 10 Mar -> Jan, Feb.
    assert rows(subs, "account_id", "month", "mrr", "plan", "seats") == [
        ("1001", "2024-01", "100.0", "Pro", "5"),
        ("1001", "2024-02", "110.0", "Pro", "6"),
        ("1001", "2024-03", "110.0", "Pro", "6"),
        ("1002", "2024-01", "75.0", "Team", "1"),
        ("1002", "2024-02", "75.0", "Team", "1"),
    ]
    assert rep.reasons == {"never_paid": 1, "unknown_interval": 1}
    assert "accounts" not in rep.tables  # every customer was mapped to a known account


def test_stripe_export_date_and_new_customers(client: Path) -> None:
    rep = import_files("stripe", [FIX / "stripe_subscriptions.csv"], client, date="2024-04-30")
    subs = read(client, "subscriptions")
    assert rows(subs.filter(pl.col("account_id") == "cus_A"), "month", "mrr") == [
        ("2024-01", "100.0"),
        ("2024-02", "110.0"),
        ("2024-03", "110.0"),
        ("2024-04", "110.0"),
    ]
    acc = read(client, "accounts")  # unknown customers become accounts, so no revenue is lost
    assert rows(acc, "account_id", "name", "first_seen_at") == [
        ("cus_A", "Acme Analytics", "2024-01-15T10:00:00Z"),
        ("cus_B", "Globex", "2024-01-20T10:00:00Z"),
    ]
    assert any("accounts created" in n for n in rep.notes)


# ------------------------------------------------------------------ Zendesk
def test_zendesk_tickets(client: Path) -> None:
    import_files("hubspot", [FIX / "hubspot_companies.csv"], client)
    rep = import_files("zendesk", [FIX / "zendesk_tickets.csv"], client)
    t = read(client, "tickets")
    assert rows(
        t,
        "ticket_id",
        "account_id",
        "opened_at",
        "resolved_at",
        "category",
        "channel",
        "satisfaction",
        "text",
    ) == [
        (
            "1",
            "1001",
            "2024-01-08T09:00:00Z",
            "2024-01-08T11:00:00Z",
            "how_to",
            "email",
            "5",
            "How do I export?",
        ),
        (
            "2",
            "1002",
            "2024-02-01T09:00:00Z",
            "2024-02-02T09:00:00Z",
            "billing",
            "chat",
            "1",
            "Invoice wrong",
        ),
        ("3", "1001", "2024-02-10T09:00:00Z", None, "bug", "web", None, "Crash on save"),
        (
            "5",
            "1002",
            "2024-02-12T09:00:00Z",
            "2024-02-13T09:00:00Z",
            "feature_request",
            "phone",
            None,
            "Want dark mode",
        ),
    ]
    assert rep.reasons == {"unknown_organization": 1}


def test_zendesk_helpers() -> None:
    assert category_of("incident", None) == "bug" and category_of("Question", "") == "how_to"
    assert channel_of_via("Chat") == "chat" and channel_of_via("Email") == "email"


# ------------------------------------------------------------------ NPS
def test_nps_delighted_and_typeform(client: Path) -> None:
    import_files("hubspot", [FIX / "hubspot_companies.csv"], client)
    rep = import_files(
        "nps", [FIX / "delighted_responses.csv", FIX / "typeform_responses.csv"], client
    )
    s = read(client, "surveys")
    assert rows(s, "response_id", "account_id", "responded_at", "score", "comment") == [
        ("r1", "1001", "2024-02-01T10:00:00Z", "9", "Love it"),  # email domain acme-analytics.com
        ("r2", "1002", "2024-02-15T11:00:00Z", "3", "Too pricey"),  # Company column
        ("r3", None, "2024-03-01T09:00:00Z", "10", None),  # gmail: no account, kept
        ("t1", "1001", "2024-03-05T10:00:00Z", "8", "Good support"),  # Typeform question column
    ]
    # the never-submitted Typeform response is quarantined, not read as a survey answer
    assert rep.reasons == {"bad_score": 1, "partial_response": 1}


# ------------------------------------------------------------------ Search Console
def test_search_console(client: Path) -> None:
    rep = import_files("search_console", [FIX / "Queries.csv"], client, date="2024-03-31")
    q = read(client, "search_queries")
    assert rows(q, "date", "query", "clicks", "impressions", "position") == [
        ("2024-03-31", "acme analytics", "120", "1000", "1.2"),
        ("2024-03-31", "dashboard software", "15", "3000", "8.4"),
        ("2024-03-31", "acme login", "40", "200", "1.0"),
    ]
    assert rep.reasons == {"query_missing": 1}


def test_search_console_needs_a_date(client: Path) -> None:
    with pytest.raises(DataError, match="date=YYYY-MM-DD"):
        import_files("search_console", [FIX / "Queries.csv"], client)


def test_search_console_date_from_filters(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "Queries.csv").write_text((FIX / "Queries.csv").read_text())
    (export / "Filters.csv").write_text(
        "Filter,Value\nSearch type,Web\nDate,2024-01-01 - 2024-02-29\n"
    )
    import_files("search_console", [export / "Queries.csv"], tmp_path / "c")
    assert set(read(tmp_path / "c", "search_queries")["date"]) == {"2024-02-29"}


# ------------------------------------------------------------------ wrong files, merging
@pytest.mark.parametrize(
    ("source", "file", "column"),
    [
        ("stripe", "zendesk_tickets.csv", "Customer ID"),
        ("zendesk", "hubspot_companies.csv", "Id"),
        ("hubspot", "Queries.csv", "Record ID"),
        ("search_console", "stripe_subscriptions.csv", "Top queries"),
        ("nps", "Queries.csv", "Score"),
    ],
)
def test_wrong_file_is_one_clear_line(client: Path, source: str, file: str, column: str) -> None:
    with pytest.raises(DataError) as info:
        import_files(source, [FIX / file], client)
    msg = str(info.value)
    assert "\n" not in msg and "this is not a" in msg and file in msg and column in msg


def test_unknown_source(client: Path) -> None:
    with pytest.raises(JourneyError, match="unknown import source") as info:
        import_files("Salesforce", [FIX / "Queries.csv"], client)
    assert (info.value.where, info.value.found) == ("source", "'Salesforce'")


def test_errors_name_the_parameters(client: Path) -> None:
    """import_files's errors name its own parameters; `journey import` names its flags."""
    with pytest.raises(JourneyError, match="no files to import") as info:
        import_files("stripe", [], client)
    assert info.value.where == "files"
    with pytest.raises(JourneyError, match="bad date") as info:
        import_files("search_console", [FIX / "Queries.csv"], client, date="31/03/2024")
    assert info.value.where == "date"
    with pytest.raises(DataError, match="has no date") as info:
        import_files("search_console", [FIX / "Queries.csv"], client)
    assert info.value.fix == "import the file again with date=YYYY-MM-DD"
    rep = import_files("stripe", [FIX / "stripe_subscriptions.csv"], client)
    assert any("identity='map.csv'" in note for note in rep.notes), rep.notes


def test_reimport_is_idempotent_and_accounts_coalesce(client: Path) -> None:
    import_all(client)
    before = {
        t: read(client, t)
        for t in ("accounts", "events", "subscriptions", "tickets", "surveys", "search_queries")
    }
    rep = import_files(
        "segment", [FIX / "segment_events.jsonl"], client, identity=FIX / "segment_identity.csv"
    )
    assert rep.tables["events"] == {"added": 0, "updated": 0, "skipped": 7}
    rep = import_files(
        "stripe", [FIX / "stripe_subscriptions.csv"], client, identity=FIX / "stripe_identity.csv"
    )
    assert rep.tables["subscriptions"] == {"added": 0, "updated": 5, "skipped": 0}
    for t, df in before.items():
        assert read(client, t).equals(df), t
    # HubSpot then Segment: the earliest first_seen_at wins, HubSpot's channel is kept
    acc = read(client, "accounts")
    assert rows(
        acc.filter(pl.col("account_id") == "1001"),
        "first_seen_at",
        "acquisition_channel",
        "country",
    ) == [("2024-01-04T10:00:00Z", "organic_search", "US")]
    # rejected rows accumulate per source
    rej = pl.read_csv(client / "import_rejected" / "segment.csv", infer_schema=False)
    assert rej.height == 4


def test_full_metrics_on_imported_client(client: Path) -> None:
    import_all(client)
    c = jl.load_client(client)
    assert all(q["rows_rejected"] == 0 for q in c.quality.values()), c.quality
    assert c.table("subscriptions").height == 5 and c.table("surveys").height == 4
    assert c.table("events")["timestamp"].dtype == pl.Datetime("us", "UTC")
    doc = jl.metrics_document(c)
    assert doc["period"] == {"start": "2024-01", "end": "2024-03"}
    assert doc["revenue"] is not None and doc["revenue"]["months"]
    by_month = {m["month"]: m["mrr"] for m in doc["revenue"]["months"]}
    assert by_month["2024-02"] == pytest.approx(185.0) and by_month["2024-03"] == pytest.approx(
        110.0
    )
    # NPS over the 4 valid responses: promoters 10, 9; passive 8; detractor 3 -> (2 - 1) / 4 = 25
    assert doc["nps"] is not None and doc["nps"]["overall"]["score"] == pytest.approx(25.0)
    assert doc["support"]["tickets_opened"] == 4
    # branded terms of the default client.yaml do not match; the share is still computed
    assert doc["acquisition"]["branded_search_share"] is not None


# ------------------------------------------------------------------ time zones of the exports
def _ctx(tmp_path: Path, tz: str):  # noqa: ANN202 - an ImportContext
    from journeylib.sources.importers._common import ImportContext

    return ImportContext(client_dir=tmp_path / "c", timezone=tz)


def test_stripe_utc_columns_ignore_the_client_zone(tmp_path: Path) -> None:
    """``Created (UTC)`` is UTC: 1 Mar 00:30 stays March for a Berlin client (in Berlin time
    it would be 29 Feb 23:30 UTC and add a February row)."""
    from journeylib.sources.importers import stripe

    f = tmp_path / "subs.csv"
    f.write_text(
        "id,Customer ID,Status,Plan,Quantity,Interval,Amount,Created (UTC),Canceled At (UTC),"
        "Ended At (UTC)\nsub_1,cus_A,active,Pro,1,month,10.00,2024-03-01 00:30,,\n"
    )
    ctx = _ctx(tmp_path, "Europe/Berlin")
    ctx.date = "2024-04-30"
    subs = stripe.convert([f], ctx).tables["subscriptions"]
    assert subs["month"].to_list() == [dt.date(2024, 3, 1), dt.date(2024, 4, 1)]


def test_typeform_submit_date_is_utc_and_zendesk_dates_are_local(tmp_path: Path) -> None:
    """Typeform says ``Submit Date (UTC)``; Zendesk writes the account's zone without an offset."""
    from journeylib.sources.importers import nps, zendesk

    ctx = _ctx(tmp_path, "Europe/Berlin")
    s = nps.convert([FIX / "typeform_responses.csv"], ctx).tables["surveys"]
    assert s["responded_at"].to_list() == [ts("2024-03-05T10:00:00")]
    ctx.accounts = pl.DataFrame({"account_id": ["1002"], "name": ["Globex"]})
    t = zendesk.convert([FIX / "zendesk_tickets.csv"], ctx).tables["tickets"]
    # ticket 2: "2024-02-01 09:00" in Berlin (UTC+1 in winter) is 08:00 UTC
    assert t.filter(pl.col("ticket_id") == "2")["opened_at"].to_list() == [
        ts("2024-02-01T08:00:00")
    ]


# ------------------------------------------------------------------ Search Console companions
def test_search_console_date_from_dates_file(tmp_path: Path) -> None:
    """The export's per-day file (Dates.csv; Chart.csv in older exports) gives the last day."""
    for name in ("Dates.csv", "Chart.csv"):
        export = tmp_path / name.removesuffix(".csv")
        export.mkdir()
        (export / "Queries.csv").write_text((FIX / "Queries.csv").read_text())
        (export / name).write_text(
            "Date,Clicks,Impressions,CTR,Position\n2024-03-30,10,100,10%,2.1\n"
            "2024-03-31,12,120,10%,2.0\n2024-03-01,1,10,10%,3\n"
        )
        # a preset range in Filters.csv has no date: the per-day file is used
        (export / "Filters.csv").write_text("Filter,Value\nDate,Last 3 months\n")
        client = tmp_path / f"client_{name}"
        import_files("search_console", [export / "Queries.csv"], client)
        assert set(read(client, "search_queries")["date"]) == {"2024-03-31"}


def test_search_console_preset_filters_only_asks_for_date(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "Queries.csv").write_text((FIX / "Queries.csv").read_text())
    (export / "Filters.csv").write_text("Filter,Value\nSearch type,Web\nDate,Last 3 months\n")
    with pytest.raises(DataError, match="date=YYYY-MM-DD"):
        import_files("search_console", [export / "Queries.csv"], tmp_path / "c")
    assert not (tmp_path / "c").exists()


# ------------------------------------------------------------------ wrong files: every source
@pytest.mark.parametrize(
    ("source", "file", "column"),
    [
        ("zendesk", "stripe_subscriptions.csv", "Created at"),
        ("stripe", "hubspot_companies.csv", "Customer ID"),
        ("nps", "zendesk_tickets.csv", "Score"),
        ("search_console", "delighted_responses.csv", "Top queries"),
        ("hubspot", "typeform_responses.csv", "Record ID"),
    ],
)
def test_wrong_file_names_first_missing_column(
    client: Path, source: str, file: str, column: str
) -> None:
    with pytest.raises(DataError) as info:
        import_files(source, [FIX / file], client)
    msg = str(info.value)
    assert "\n" not in msg and f"{file}: {column}" in msg
    assert not client.exists()
