"""The broken-client corpus: one client folder per rule of data.md.

Each case mutates the valid base client (tests/ingest/conftest.py) and states the
outcome: a fatal error (type and the words its one-line message must contain),
or exactly which rows are quarantined with which reasons. Every row-level case
also checks rows in = valid + rejected for every table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from journeylib.errors import ConfigError, DataError, JourneyError, TemplateError
from journeylib.ingest.client import load_client
from journeylib.schemas import TABLES, rule_names


@dataclass
class Fatal:
    name: str
    mutate: Callable
    error: type[JourneyError]
    words: tuple[str, ...]


@dataclass
class RowLevel:
    name: str
    mutate: Callable
    # table -> {note of the row: its reason}; tables not named must have no rejected rows
    rejected: dict[str, dict[str, str]] = field(default_factory=dict)


def _write_bytes(name: str, data: bytes) -> Callable:
    def hook(path: Path) -> None:
        (path / name).write_bytes(data)

    return hook


def _cfg(**changes):
    def mutate(f):
        for key, value in changes.items():
            if value is None:
                f.config.pop(key, None)
            else:
                f.config[key] = value

    return mutate


FATAL = [
    # ---------------------------------------------------------------- tables and files
    Fatal(
        "missing_accounts_table",
        lambda f: f.remove_table("accounts"),
        DataError,
        ("accounts.csv", "missing required table"),
    ),
    Fatal(
        "missing_events_table",
        lambda f: f.remove_table("events"),
        DataError,
        ("events.csv", "missing required table"),
    ),
    Fatal(
        "csv_and_parquet_for_one_table",
        lambda f: f.after_write.append(lambda p: (p / "tickets.parquet").write_bytes(b"x")),
        DataError,
        ("tickets.csv", "tickets.parquet", "two files"),
    ),
    Fatal(
        "csv_and_csv_gz_for_one_table",
        lambda f: f.after_write.append(lambda p: (p / "events.csv.gz").write_bytes(b"x")),
        DataError,
        ("events.csv", "events.csv.gz"),
    ),
    Fatal(
        "unreadable_csv_not_utf8",
        lambda f: f.after_write.append(
            _write_bytes("surveys.csv", b"response_id,responded_at\n\xff\xfe\x00bad,\x81\n")
        ),
        DataError,
        ("surveys.csv", "cannot read"),
    ),
    Fatal(
        "unreadable_parquet_garbage",
        lambda f: (
            f.remove_table("marketing"),
            f.after_write.append(_write_bytes("marketing.parquet", b"PAR1 not really parquet")),
        ),
        DataError,
        ("marketing.parquet", "cannot read"),
    ),
    Fatal(
        "empty_file_no_header",
        lambda f: f.after_write.append(_write_bytes("subscriptions.csv", b"")),
        DataError,
        ("subscriptions.csv", "empty"),
    ),
    # ---------------------------------------------------------------- required columns
    Fatal(
        "accounts_missing_account_id",
        lambda f: f.rename_column("accounts", "account_id", "id"),
        DataError,
        ("accounts.csv", "account_id", "found columns id"),
    ),
    Fatal(
        "accounts_missing_first_seen_at",
        lambda f: f.drop_column("accounts", "first_seen_at"),
        DataError,
        ("accounts.csv", "first_seen_at"),
    ),
    Fatal(
        "events_missing_timestamp",
        lambda f: f.rename_column("events", "timestamp", "Timestamp"),
        DataError,
        ("events.csv", "timestamp", "rename 'Timestamp' to 'timestamp'"),
    ),
    Fatal(
        "events_missing_event",
        lambda f: f.drop_column("events", "event"),
        DataError,
        ("events.csv", "event"),
    ),
    Fatal(
        "events_without_any_id",
        lambda f: (f.drop_column("events", "account_id"), f.drop_column("events", "anonymous_id")),
        DataError,
        ("events.csv", "account_id or anonymous_id"),
    ),
    Fatal(
        "subscriptions_missing_mrr",
        lambda f: f.drop_column("subscriptions", "mrr"),
        DataError,
        ("subscriptions.csv", "mrr"),
    ),
    Fatal(
        "marketing_missing_spend",
        lambda f: f.drop_column("marketing", "spend"),
        DataError,
        ("marketing.csv", "spend"),
    ),
    Fatal(
        "search_queries_missing_impressions",
        lambda f: f.drop_column("search_queries", "impressions"),
        DataError,
        ("search_queries.csv", "impressions"),
    ),
    Fatal(
        "tickets_missing_opened_at",
        lambda f: f.drop_column("tickets", "opened_at"),
        DataError,
        ("tickets.csv", "opened_at"),
    ),
    Fatal(
        "surveys_missing_response_id",
        lambda f: f.drop_column("surveys", "response_id"),
        DataError,
        ("surveys.csv", "response_id"),
    ),
    Fatal(
        "ragged_csv_row",
        lambda f: f.after_write.append(
            _write_bytes("tickets.csv", b"ticket_id,account_id,opened_at\nt1,a1,2024-01-01,oops\n")
        ),
        DataError,
        ("tickets.csv", "more fields than the header"),
    ),
    Fatal(
        "semicolon_separated_csv",
        lambda f: f.after_write.append(
            _write_bytes("accounts.csv", b"account_id;first_seen_at\na1;2024-01-01\n")
        ),
        DataError,
        ("accounts.csv", "account_id", "comma-separated"),
    ),
    # ---------------------------------------------------------------- columns that never parse
    Fatal(
        "mrr_all_text",
        lambda f: [
            f.set("subscriptions", i, "mrr", "lots") for i in range(f.n_rows("subscriptions"))
        ],
        DataError,
        ("subscriptions.csv", "mrr", "'lots'"),
    ),
    Fatal(
        "first_seen_at_all_garbage",
        lambda f: [
            f.set("accounts", i, "first_seen_at", f"day {i}") for i in range(f.n_rows("accounts"))
        ],
        DataError,
        ("accounts.csv", "first_seen_at", "ISO 8601"),
    ),
    Fatal(
        "company_size_all_text",
        lambda f: [
            f.set("accounts", i, "company_size", "big") for i in range(f.n_rows("accounts"))
        ],
        DataError,
        ("accounts.csv", "company_size"),
    ),
    Fatal(
        "month_all_words",
        lambda f: [f.set("marketing", i, "month", "January") for i in range(f.n_rows("marketing"))],
        DataError,
        ("marketing.csv", "month", "YYYY-MM"),
    ),
    # ---------------------------------------------------------------- client.yaml and template
    Fatal(
        "config_unknown_key",
        _cfg(currncy="EUR"),
        ConfigError,
        ("client.yaml", "currncy", "unknown key"),
    ),
    Fatal(
        "config_wrong_type", _cfg(gross_margin="lots"), ConfigError, ("client.yaml", "gross_margin")
    ),
    Fatal(
        "config_missing_client",
        _cfg(client=None),
        ConfigError,
        ("client.yaml", "client", "missing"),
    ),
    Fatal(
        "config_missing_journey",
        _cfg(journey=None),
        ConfigError,
        ("client.yaml", "journey", "missing"),
    ),
    Fatal(
        "config_bad_timezone",
        _cfg(timezone="Mars/Olympus"),
        ConfigError,
        ("client.yaml", "timezone", "Mars/Olympus"),
    ),
    Fatal(
        "config_bad_period_order",
        _cfg(period={"start": "2024-12", "end": "2024-01"}),
        ConfigError,
        ("client.yaml", "period"),
    ),
    Fatal(
        "config_bad_period_month",
        _cfg(period={"start": "2024-13", "end": "2024-12"}),
        ConfigError,
        ("client.yaml", "period.start"),
    ),
    Fatal(
        "config_bad_yaml_syntax",
        lambda f: setattr(
            f, "config_text", "client: Test Co\njourney: [./journey.yaml\ntimezone: UTC\n"
        ),
        ConfigError,
        ("client.yaml", "not valid YAML"),
    ),
    Fatal(
        # YAML is loaded safely: a Python object tag is refused, never constructed
        "config_python_object_tag",
        lambda f: setattr(
            f,
            "config_text",
            "client: !!python/object/apply:os.system ['echo pwned']\n"
            "journey: saas_5_stage\ntimezone: UTC\n",
        ),
        ConfigError,
        ("client.yaml", "not valid YAML"),
    ),
    Fatal(
        "config_not_a_mapping",
        lambda f: setattr(f, "config_text", "- just\n- a list\n"),
        ConfigError,
        ("client.yaml", "mapping"),
    ),
    Fatal(
        "config_missing_file",
        lambda f: f.after_write.append(lambda p: (p / "client.yaml").unlink()),
        ConfigError,
        ("client.yaml", "not found"),
    ),
    Fatal(
        "unknown_template_name",
        _cfg(journey="no_such_journey_template"),
        TemplateError,
        ("journey", "no_such_journey_template"),
    ),
    Fatal(
        "template_path_is_relative_to_client_folder",
        _cfg(journey="./nope.yaml"),
        TemplateError,
        ("testco/nope.yaml",),
    ),
    Fatal(
        "template_invalid",
        lambda f: setattr(f, "journey_text", "stages: [{id: a}]\n"),
        TemplateError,
        ("journey.yaml", "label"),
    ),
    Fatal(
        "event_mapping_unknown_touchpoint",
        _cfg(event_mapping={"no_such_tp": ["login"]}),
        ConfigError,
        ("client.yaml", "event_mapping", "no_such_tp"),
    ),
    Fatal(
        "persona_rule_unknown_column",
        _cfg(personas=[{"id": "x", "match": {"shoe_size": [42]}}]),
        ConfigError,
        ("client.yaml", "personas"),
    ),
]


def _rename_first_account(f):
    # a1 disappears: everything that referred to it is now an unknown account
    f.set("accounts", 0, "account_id", "a1-renamed")


ROW_LEVEL = [
    # ---------------------------------------------------------------- accounts
    RowLevel(
        "account_id_missing",
        lambda f: f.set("accounts", 3, "account_id", ""),
        {
            "accounts": {"accounts-3": "account_id_missing"},
            "subscriptions": {"subscriptions-3": "unknown_account"},
        },
    ),
    RowLevel(
        "account_id_duplicate",
        lambda f: (
            f.add("accounts", "dup-1", account_id="a9", first_seen_at="2024-03-01"),
            f.add("accounts", "dup-2", account_id="a9", first_seen_at="2024-03-02"),
        ),
        {"accounts": {"dup-1": "account_id_duplicate", "dup-2": "account_id_duplicate"}},
    ),
    RowLevel(
        "first_seen_at_missing",
        lambda f: f.set("accounts", 1, "first_seen_at", ""),
        {
            "accounts": {"accounts-1": "first_seen_at_missing"},
            "events": {"events-3": "unknown_account"},
        },
    ),
    RowLevel(
        "first_seen_at_null_token",
        lambda f: f.set("accounts", 1, "first_seen_at", "NaT"),
        {
            "accounts": {"accounts-1": "first_seen_at_missing"},
            "events": {"events-3": "unknown_account"},
        },
    ),
    RowLevel(
        "bad_timestamp_first_seen_at",
        lambda f: f.set("accounts", 1, "first_seen_at", "yesterday"),
        {
            "accounts": {"accounts-1": "bad_timestamp:first_seen_at"},
            "events": {"events-3": "unknown_account"},
        },
    ),
    RowLevel(
        "bad_timestamp_signup_at",
        lambda f: f.set("accounts", 3, "signup_at", "2024-02-30T10:00:00Z"),
        {
            "accounts": {"accounts-3": "bad_timestamp:signup_at"},
            "subscriptions": {"subscriptions-3": "unknown_account"},
        },
    ),
    RowLevel(
        "signup_before_first_seen",
        lambda f: f.set("accounts", 3, "signup_at", "2024-01-01T00:00:00Z"),
        {
            "accounts": {"accounts-3": "signup_before_first_seen"},
            "subscriptions": {"subscriptions-3": "unknown_account"},
        },
    ),
    RowLevel(
        "company_size_below_one",
        lambda f: f.set("accounts", 3, "company_size", "0"),
        {
            "accounts": {"accounts-3": "company_size_below_one"},
            "subscriptions": {"subscriptions-3": "unknown_account"},
        },
    ),
    RowLevel(
        "bad_integer_company_size",
        lambda f: f.set("accounts", 3, "company_size", "about 60"),
        {
            "accounts": {"accounts-3": "bad_integer:company_size"},
            "subscriptions": {"subscriptions-3": "unknown_account"},
        },
    ),
    RowLevel(
        "two_rules_in_one_row",
        lambda f: (
            f.set("accounts", 3, "company_size", "-5"),
            f.set("accounts", 3, "signup_at", "2023-01-01"),
        ),
        {
            "accounts": {"accounts-3": "signup_before_first_seen;company_size_below_one"},
            "subscriptions": {"subscriptions-3": "unknown_account"},
        },
    ),
    RowLevel(
        "parse_and_rule_in_one_row",
        lambda f: f.add("accounts", "new", account_id="a1", first_seen_at="soon", company_size="0"),
        {
            "accounts": {
                "accounts-0": "account_id_duplicate",
                "new": "bad_timestamp:first_seen_at;account_id_duplicate;company_size_below_one",
            },
            "events": {"events-1": "unknown_account", "events-2": "unknown_account"},
            "subscriptions": {
                "subscriptions-0": "unknown_account",
                "subscriptions-1": "unknown_account",
            },
            "tickets": {"tickets-0": "unknown_account", "tickets-2": "unknown_account"},
            "surveys": {"surveys-0": "unknown_account"},
        },
    ),
    # ---------------------------------------------------------------- events
    RowLevel(
        "event_timestamp_missing",
        lambda f: f.set("events", 2, "timestamp", ""),
        {"events": {"events-2": "timestamp_missing"}},
    ),
    RowLevel(
        "bad_timestamp_event",
        lambda f: f.set("events", 2, "timestamp", "2024-01-03 25:00"),
        {"events": {"events-2": "bad_timestamp:timestamp"}},
    ),
    RowLevel(
        "event_name_missing",
        lambda f: f.set("events", 4, "event", "  "),
        {"events": {"events-4": "event_missing"}},
    ),
    RowLevel(
        "event_without_account_or_anonymous_id",
        lambda f: f.set("events", 0, "anonymous_id", ""),
        {"events": {"events-0": "account_or_anonymous_id_missing"}},
    ),
    RowLevel(
        "duplicate_event_later_copies",
        lambda f: (f.copy_row("events", 2, "copy-1"), f.copy_row("events", 2, "copy-2")),
        {"events": {"copy-1": "duplicate_event", "copy-2": "duplicate_event"}},
    ),
    RowLevel(
        "unknown_account_event",
        lambda f: f.add("events", "ghost", timestamp="2024-01-09", account_id="zz", event="login"),
        {"events": {"ghost": "unknown_account"}},
    ),
    RowLevel(
        "fk_against_valid_accounts_only",
        _rename_first_account,
        {
            "events": {"events-1": "unknown_account", "events-2": "unknown_account"},
            "subscriptions": {
                "subscriptions-0": "unknown_account",
                "subscriptions-1": "unknown_account",
            },
            "tickets": {"tickets-0": "unknown_account", "tickets-2": "unknown_account"},
            "surveys": {"surveys-0": "unknown_account"},
        },
    ),
    # ---------------------------------------------------------------- subscriptions
    RowLevel(
        "subscription_account_missing",
        lambda f: f.set("subscriptions", 2, "account_id", ""),
        {"subscriptions": {"subscriptions-2": "account_id_missing"}},
    ),
    RowLevel(
        "subscription_month_missing",
        lambda f: f.set("subscriptions", 2, "month", ""),
        {"subscriptions": {"subscriptions-2": "month_missing"}},
    ),
    RowLevel(
        "bad_month",
        lambda f: f.set("subscriptions", 2, "month", "2024-13"),
        {"subscriptions": {"subscriptions-2": "bad_month:month"}},
    ),
    RowLevel(
        "mrr_missing_token",
        lambda f: f.set("subscriptions", 2, "mrr", "NA"),
        {"subscriptions": {"subscriptions-2": "mrr_missing"}},
    ),
    RowLevel(
        "mrr_negative",
        lambda f: f.set("subscriptions", 2, "mrr", "-1"),
        {"subscriptions": {"subscriptions-2": "mrr_negative"}},
    ),
    RowLevel(
        "bad_number_mrr",
        lambda f: f.set("subscriptions", 2, "mrr", "900 EUR"),
        {"subscriptions": {"subscriptions-2": "bad_number:mrr"}},
    ),
    RowLevel(
        "mrr_infinite",
        lambda f: f.set("subscriptions", 2, "mrr", "inf"),
        {"subscriptions": {"subscriptions-2": "bad_number:mrr"}},
    ),
    RowLevel(
        "seats_negative",
        lambda f: f.set("subscriptions", 0, "seats", "-2"),
        {"subscriptions": {"subscriptions-0": "seats_negative"}},
    ),
    RowLevel(
        "bad_integer_seats",
        lambda f: f.set("subscriptions", 0, "seats", "5.5"),
        {"subscriptions": {"subscriptions-0": "bad_integer:seats"}},
    ),
    RowLevel(
        "account_month_duplicate",
        lambda f: f.add("subscriptions", "dup", account_id="a1", month="2024-02-15", mrr="1"),
        {
            "subscriptions": {
                "subscriptions-1": "account_month_duplicate",
                "dup": "account_month_duplicate",
            }
        },
    ),
    RowLevel(
        "unknown_account_subscription",
        lambda f: f.set("subscriptions", 3, "account_id", "a99"),
        {"subscriptions": {"subscriptions-3": "unknown_account"}},
    ),
    # ---------------------------------------------------------------- marketing
    RowLevel(
        "marketing_channel_missing",
        lambda f: f.set("marketing", 1, "channel", ""),
        {"marketing": {"marketing-1": "channel_missing"}},
    ),
    RowLevel(
        "spend_missing",
        lambda f: f.set("marketing", 1, "spend", ""),
        {"marketing": {"marketing-1": "spend_missing"}},
    ),
    RowLevel(
        "bad_number_spend",
        lambda f: f.set("marketing", 1, "spend", "$300"),
        {"marketing": {"marketing-1": "bad_number:spend"}},
    ),
    RowLevel(
        "bad_integer_clicks",
        lambda f: f.set("marketing", 0, "clicks", "four hundred"),
        {"marketing": {"marketing-0": "bad_integer:clicks"}},
    ),
    RowLevel(
        "marketing_month_missing",
        lambda f: f.set("marketing", 2, "month", "null"),
        {"marketing": {"marketing-2": "month_missing"}},
    ),
    RowLevel(
        "bad_month_marketing",
        lambda f: f.set("marketing", 2, "month", "Feb 2024"),
        {"marketing": {"marketing-2": "bad_month:month"}},
    ),
    RowLevel(
        "bad_integer_impressions",
        lambda f: f.set("marketing", 0, "impressions", "20k"),
        {"marketing": {"marketing-0": "bad_integer:impressions"}},
    ),
    RowLevel(
        "spend_negative",
        lambda f: f.set("marketing", 1, "spend", "-300"),
        {"marketing": {"marketing-1": "spend_negative"}},
    ),
    RowLevel(
        "impressions_negative",
        lambda f: f.set("marketing", 0, "impressions", "-1"),
        {"marketing": {"marketing-0": "impressions_negative;clicks_above_impressions"}},
    ),
    RowLevel(
        "clicks_negative",
        lambda f: f.set("marketing", 0, "clicks", "-4"),
        {"marketing": {"marketing-0": "clicks_negative"}},
    ),
    RowLevel(
        "clicks_above_impressions",
        lambda f: f.set("marketing", 2, "clicks", "18001"),
        {"marketing": {"marketing-2": "clicks_above_impressions"}},
    ),
    # ---------------------------------------------------------------- search queries
    RowLevel(
        "bad_date",
        lambda f: f.set("search_queries", 1, "date", "03/01/2024"),
        {"search_queries": {"search_queries-1": "bad_date:date"}},
    ),
    RowLevel(
        "query_missing",
        lambda f: f.set("search_queries", 1, "query", ""),
        {"search_queries": {"search_queries-1": "query_missing"}},
    ),
    RowLevel(
        "search_clicks_missing",
        lambda f: f.set("search_queries", 1, "clicks", ""),
        {"search_queries": {"search_queries-1": "clicks_missing"}},
    ),
    RowLevel(
        "impressions_below_clicks",
        lambda f: f.set("search_queries", 2, "impressions", "11"),
        {"search_queries": {"search_queries-2": "impressions_below_clicks"}},
    ),
    RowLevel(
        "position_below_one",
        lambda f: f.set("search_queries", 0, "position", "0.5"),
        {"search_queries": {"search_queries-0": "position_below_one"}},
    ),
    RowLevel(
        "search_date_missing",
        lambda f: f.set("search_queries", 0, "date", ""),
        {"search_queries": {"search_queries-0": "date_missing"}},
    ),
    RowLevel(
        "search_impressions_missing",
        lambda f: f.set("search_queries", 0, "impressions", ""),
        {"search_queries": {"search_queries-0": "impressions_missing"}},
    ),
    RowLevel(
        "bad_integer_search_impressions",
        lambda f: f.set("search_queries", 0, "impressions", "4e2x"),
        {"search_queries": {"search_queries-0": "bad_integer:impressions"}},
    ),
    RowLevel(
        "search_clicks_negative",
        lambda f: f.set("search_queries", 1, "clicks", "-5"),
        {"search_queries": {"search_queries-1": "clicks_negative"}},
    ),
    RowLevel(
        "bad_integer_search_clicks",
        lambda f: f.set("search_queries", 1, "clicks", "five"),
        {"search_queries": {"search_queries-1": "bad_integer:clicks"}},
    ),
    RowLevel(
        "bad_number_position",
        lambda f: f.set("search_queries", 0, "position", "top"),
        {"search_queries": {"search_queries-0": "bad_number:position"}},
    ),
    # ---------------------------------------------------------------- tickets
    RowLevel(
        "opened_at_missing",
        lambda f: f.set("tickets", 1, "opened_at", ""),
        {"tickets": {"tickets-1": "opened_at_missing"}},
    ),
    RowLevel(
        "bad_timestamp_opened_at",
        lambda f: f.set("tickets", 1, "opened_at", "2024-02-05T10:00:00+25:00"),
        {"tickets": {"tickets-1": "bad_timestamp:opened_at"}},
    ),
    RowLevel(
        "bad_integer_satisfaction",
        lambda f: f.set("tickets", 0, "satisfaction", "good"),
        {"tickets": {"tickets-0": "bad_integer:satisfaction"}},
    ),
    RowLevel(
        "ticket_id_missing",
        lambda f: f.set("tickets", 1, "ticket_id", ""),
        {"tickets": {"tickets-1": "ticket_id_missing"}},
    ),
    RowLevel(
        "ticket_id_duplicate",
        lambda f: f.set("tickets", 2, "ticket_id", "t1"),
        {"tickets": {"tickets-0": "ticket_id_duplicate", "tickets-2": "ticket_id_duplicate"}},
    ),
    RowLevel(
        "ticket_account_missing",
        lambda f: f.set("tickets", 1, "account_id", ""),
        {"tickets": {"tickets-1": "account_id_missing"}},
    ),
    RowLevel(
        "resolved_before_opened",
        lambda f: f.set("tickets", 0, "resolved_at", "2024-01-04T09:59:59Z"),
        {"tickets": {"tickets-0": "resolved_before_opened"}},
    ),
    RowLevel(
        "bad_timestamp_resolved_at",
        lambda f: f.set("tickets", 0, "resolved_at", "later"),
        {"tickets": {"tickets-0": "bad_timestamp:resolved_at"}},
    ),
    RowLevel(
        "satisfaction_out_of_range",
        lambda f: f.set("tickets", 2, "satisfaction", "6"),
        {"tickets": {"tickets-2": "satisfaction_out_of_range"}},
    ),
    RowLevel(
        "unknown_account_ticket",
        lambda f: f.set("tickets", 1, "account_id", "nobody"),
        {"tickets": {"tickets-1": "unknown_account"}},
    ),
    # ---------------------------------------------------------------- surveys
    RowLevel(
        "response_id_duplicate",
        lambda f: f.set("surveys", 2, "response_id", "r2"),
        {"surveys": {"surveys-1": "response_id_duplicate", "surveys-2": "response_id_duplicate"}},
    ),
    RowLevel(
        "response_id_missing",
        lambda f: f.set("surveys", 0, "response_id", ""),
        {"surveys": {"surveys-0": "response_id_missing"}},
    ),
    RowLevel(
        "bad_timestamp_responded_at",
        lambda f: f.set("surveys", 0, "responded_at", "2024-01-20T10:00:00 +0100x"),
        {"surveys": {"surveys-0": "bad_timestamp:responded_at"}},
    ),
    RowLevel(
        "responded_at_missing",
        lambda f: f.set("surveys", 0, "responded_at", ""),
        {"surveys": {"surveys-0": "responded_at_missing"}},
    ),
    RowLevel(
        "score_out_of_range",
        lambda f: f.set("surveys", 1, "score", "11"),
        {"surveys": {"surveys-1": "score_out_of_range"}},
    ),
    RowLevel(
        "bad_integer_score",
        lambda f: f.set("surveys", 1, "score", "ten"),
        {"surveys": {"surveys-1": "bad_integer:score"}},
    ),
    RowLevel(
        "unknown_account_survey",
        lambda f: f.set("surveys", 2, "account_id", "stranger"),
        {"surveys": {"surveys-2": "unknown_account"}},
    ),
]


@pytest.mark.parametrize("case", FATAL, ids=[c.name for c in FATAL])
def test_fatal(folder, case: Fatal):
    case.mutate(folder)
    path = folder.write()
    with pytest.raises(case.error) as info:
        load_client(path)
    message = str(info.value)
    assert "\n" not in message
    for word in case.words:
        assert word in message, f"{word!r} not in {message!r}"
    assert "Fix:" in message


@pytest.mark.parametrize("case", ROW_LEVEL, ids=[c.name for c in ROW_LEVEL])
def test_row_level(folder, case: RowLevel):
    case.mutate(folder)
    client = load_client(folder.write())
    for table in folder.tables:
        q = client.quality[table]
        assert q["rows_in"] == folder.n_rows(table)
        assert q["rows_in"] == q["rows_valid"] + q["rows_rejected"]
        assert q["rows_valid"] == client.tables[table].height
        rejected = client.rejected[table]
        got = (
            dict(zip(rejected["note"].to_list(), rejected["reason"].to_list(), strict=True))
            if rejected.height
            else {}
        )
        assert got == case.rejected.get(table, {}), table
        # reasons are counted once per rule a row broke
        expected_counts: dict[str, int] = {}
        for reason in case.rejected.get(table, {}).values():
            for r in reason.split(";"):
                expected_counts[r] = expected_counts.get(r, 0) + 1
        assert q["reasons"] == dict(sorted(expected_counts.items()))


def test_corpus_is_large_enough():
    assert len(FATAL) >= 30
    assert len(ROW_LEVEL) >= 30


def test_corpus_covers_every_rule():
    """Every reason each table can give (parse, schema and foreign-key rules) has a case."""
    covered = {
        (t, r)
        for c in ROW_LEVEL
        for t, reasons in c.rejected.items()
        for v in reasons.values()
        for r in v.split(";")
    }
    declared = {(t, r) for t in TABLES for r in rule_names(t)}
    assert declared - covered == set()


@pytest.mark.parametrize("case", FATAL, ids=[c.name for c in FATAL])
def test_fatal_through_the_cli(folder, case: Fatal):
    """`journey validate` turns every fatal case into exit 2 and one line, no traceback."""
    typer_testing = pytest.importorskip("typer.testing")
    from journeylib.cli import app

    case.mutate(folder)
    path = folder.write()
    result = typer_testing.CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert "Traceback" not in result.output + result.stderr
    assert len(err.splitlines()) == 1, err
    assert case.words[0] in err


@pytest.mark.parametrize("case", ROW_LEVEL[:5], ids=[c.name for c in ROW_LEVEL[:5]])
def test_row_level_through_the_cli(folder, case: RowLevel):
    """Quarantined rows are not fatal: `journey validate` exits 0 and reports them."""
    typer_testing = pytest.importorskip("typer.testing")
    from journeylib.cli import app

    case.mutate(folder)
    result = typer_testing.CliRunner().invoke(app, ["validate", str(folder.write())])
    assert result.exit_code == 0, result.output + result.stderr
    assert "quarantined" in result.output
