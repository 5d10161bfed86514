"""Reading and loading a client: formats, time zones, identifiers, quarantine output."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from journeylib.errors import JourneyError
from journeylib.ingest.client import data_quality, load_client, write_rejected
from journeylib.ingest.read import read_table
from journeylib.paths import find_table_file
from journeylib.schemas import TABLES

COLUMNS = {t: spec.column_names for t, spec in TABLES.items()}
MINI_JOURNEY = "stages: [{id: s, label: S, touchpoints: [{id: t, events: [login]}]}]\n"

UTC = dt.UTC


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------- the base client
def test_base_client_loads_clean(folder):
    client = load_client(folder.write())
    assert client.name == "testco"
    assert client.config.client == "Test Co"
    assert [s.id for s in client.template.stages] == ["awareness", "adoption"]
    assert sorted(client.tables) == sorted(COLUMNS)
    for table, frame in client.tables.items():
        assert frame.schema == TABLES[table].polars_schema, table  # extra column `note` dropped
        assert client.rejected[table].height == 0
        assert client.quality[table] == {
            "rows_in": folder.n_rows(table),
            "rows_valid": folder.n_rows(table),
            "rows_rejected": 0,
            "reasons": {},
        }
        assert client.sources[table] == folder.path.resolve() / f"{table}.csv"
    assert client.tables["accounts"]["persona"].to_list() == [
        "unassigned",
        "smb",
        "enterprise_it",
        "founder",
    ]


def test_values_are_parsed_to_canonical_types(folder):
    client = load_client(folder.write())
    acc = client.tables["accounts"]
    assert acc.row(0, named=True)["first_seen_at"] == _utc(2024, 1, 1, 9)
    assert acc["signup_at"].to_list()[1] is None
    assert acc["company_size"].to_list() == [120, 8, 900, 60]
    subs = client.tables["subscriptions"]
    assert subs["month"].to_list() == [dt.date(2024, 1, 1)] + [dt.date(2024, 2, 1)] * 3
    assert subs["mrr"].to_list() == [100.0, 120.0, 900.0, 0.0]
    assert subs["seats"].to_list() == [5, 6, 50, None]
    mkt = client.tables["marketing"]
    assert mkt["campaign"].to_list() == ["brand", None, "brand"]  # empty text is null
    assert client.tables["search_queries"]["date"].to_list()[0] == dt.date(2024, 1, 3)
    assert client.table("surveys")["score"].to_list() == [9, 4, 10]


def test_optional_tables_may_be_absent(folder):
    for table in ("subscriptions", "marketing", "search_queries", "tickets", "surveys"):
        folder.remove_table(table)
    client = load_client(folder.write())
    assert sorted(client.tables) == ["accounts", "events"]
    assert client.table("tickets") is None
    assert list(data_quality(client)["tables"]) == ["accounts", "events"]


def test_load_client_by_name_under_data_dir(folder, monkeypatch):
    folder.write()
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(folder.path.parent))
    assert load_client("testco").path == folder.path.resolve()


# ---------------------------------------------------------------- formats
def test_csv_gz_reads_like_csv(folder, make_folder):
    plain = load_client(folder.write())
    other = make_folder("gz")
    other.formats = dict.fromkeys(COLUMNS, ".csv.gz")
    gz = load_client(other.write())
    assert gz.sources["events"].name == "events.csv.gz"
    for table in COLUMNS:
        assert_frame_equal(plain.tables[table], gz.tables[table])


def test_parquet_with_native_types_equals_csv(folder, tmp_path: Path):
    csv_client = load_client(folder.write())
    pq = tmp_path / "pq"
    pq.mkdir()
    (pq / "client.yaml").write_text((folder.path / "client.yaml").read_text())
    (pq / "journey.yaml").write_text(MINI_JOURNEY)
    # Native types, as a warehouse export would have them: ints, floats, tz-aware datetimes, dates.
    for table, frame in csv_client.tables.items():
        native = frame
        if table == "accounts":
            native = native.with_columns(
                pl.col("persona").replace({"unassigned": None, "smb": None, "enterprise_it": None})
            )
        native.write_parquet(pq / f"{table}.parquet")
    pq_client = load_client(pq)
    for table in COLUMNS:
        assert_frame_equal(csv_client.tables[table], pq_client.tables[table])


def test_parquet_all_text_equals_csv(folder, make_folder):
    csv_client = load_client(folder.write())
    other = make_folder("pqtext")
    other.formats = dict.fromkeys(COLUMNS, ".parquet")
    pq_client = load_client(other.write())
    for table in COLUMNS:
        assert_frame_equal(csv_client.tables[table], pq_client.tables[table])


def test_integer_ids_are_read_as_decimal_text(tmp_path: Path):
    pl.DataFrame(
        {"account_id": [7, 42], "first_seen_at": [dt.datetime(2024, 1, 1)] * 2}
    ).write_parquet(tmp_path / "accounts.parquet")
    pl.DataFrame(
        {"timestamp": [dt.datetime(2024, 1, 2)], "account_id": [7.0], "event": ["login"]}
    ).write_parquet(tmp_path / "events.parquet")
    acc = read_table(tmp_path, "accounts")
    assert acc.parsed["account_id"].to_list() == ["7", "42"]
    assert read_table(tmp_path, "events").parsed["account_id"].to_list() == ["7"]
    (tmp_path / "tickets.csv").write_text("ticket_id,account_id,opened_at\n007,42,2024-01-01\n")
    assert read_table(tmp_path, "tickets").parsed.row(0)[1:3] == (
        "007",
        "42",
    )  # text stays as written


def test_find_table_file_refuses_two_files(tmp_path: Path):
    (tmp_path / "events.csv").write_text("x\n")
    (tmp_path / "events.parquet").write_bytes(b"")
    with pytest.raises(JourneyError, match="events.csv and events.parquet"):
        find_table_file(tmp_path, "events")


# ---------------------------------------------------------------- time zones
def _events_at(tmp_path: Path, values: list[str], *, timezone: str) -> list:
    rows = "\n".join(f"{v},a1,login" for v in values)
    (tmp_path / "events.csv").write_text(f"timestamp,account_id,event\n{rows}\n")
    return read_table(tmp_path, "events", timezone=timezone).parsed["timestamp"].to_list()


def test_naive_timestamps_are_read_in_the_client_time_zone(tmp_path: Path):
    got = _events_at(
        tmp_path,
        ["2024-01-15T10:00:00", "2024-07-15 10:00", "2024-07-15", "2024-07-15T10:00:00.250"],
        timezone="Europe/Berlin",
    )
    assert got == [
        _utc(2024, 1, 15, 9),
        _utc(2024, 7, 15, 8),
        _utc(2024, 7, 14, 22),
        dt.datetime(2024, 7, 15, 8, 0, 0, 250000, tzinfo=UTC),
    ]


def test_offsets_are_converted_to_utc_whatever_the_client_zone(tmp_path: Path):
    got = _events_at(
        tmp_path,
        [
            "2024-07-15T10:00:00+02:00",
            "2024-07-15T10:00:00Z",
            "2024-07-15T03:00:00-0500",
            "2024-07-15 10:00:00+00:00",
        ],
        timezone="America/New_York",
    )
    assert got == [
        _utc(2024, 7, 15, 8),
        _utc(2024, 7, 15, 10),
        _utc(2024, 7, 15, 8),
        _utc(2024, 7, 15, 10),
    ]


def test_mixed_naive_and_offset_values_in_one_column(tmp_path: Path):
    got = _events_at(
        tmp_path, ["2024-01-01T00:00:00", "2024-01-01T00:00:00+01:00"], timezone="Asia/Tokyo"
    )
    assert got == [_utc(2023, 12, 31, 15), _utc(2023, 12, 31, 23)]


def test_daylight_saving_gap_and_overlap(tmp_path: Path):
    # 02:30 on 31 March 2024 does not exist in Berlin; 02:30 on 27 October exists twice (earlier taken)
    got = _events_at(
        tmp_path,
        ["2024-03-31T02:30:00", "2024-10-27T02:30:00", "2024-03-31T01:30:00"],
        timezone="Europe/Berlin",
    )
    assert got == [None, _utc(2024, 10, 27, 0, 30), _utc(2024, 3, 31, 0, 30)]


def test_client_timezone_reaches_the_loader(folder):
    folder.config["timezone"] = "Europe/Berlin"
    folder.set("events", 1, "timestamp", "2024-01-02 10:05")
    client = load_client(folder.write())
    assert client.tables["events"]["timestamp"][1] == _utc(2024, 1, 2, 9, 5)


def test_months_accept_any_date_in_the_month(tmp_path: Path):
    (tmp_path / "marketing.csv").write_text(
        "month,channel,spend\n2024-03,a,1\n2024-03-31,a,1\n2024-03-15T23:30:00Z,a,1\n2024-04-01T00:30:00+02:00,a,1\n"
    )
    got = read_table(tmp_path, "marketing").parsed["month"].to_list()
    assert got == [dt.date(2024, 3, 1)] * 4  # the last one is 31 March 22:30 UTC


# ---------------------------------------------------------------- quarantine output
def test_rejected_rows_are_unchanged_as_read(folder, tmp_path: Path):
    folder.set("subscriptions", 2, "mrr", " -900.50 ")
    folder.set("subscriptions", 2, "plan", "  Enterprise ")
    client = load_client(folder.write())
    rej = client.rejected["subscriptions"]
    assert rej.columns == [*COLUMNS["subscriptions"], "note", "reason"]
    assert rej.row(0) == (
        "a3",
        "2024-02",
        " -900.50 ",
        "  Enterprise ",
        "50",
        "subscriptions-2",
        "mrr_negative",
    )
    written = write_rejected(client, tmp_path / "run")
    assert written == [tmp_path / "run" / "rejected" / "subscriptions.csv"]
    back = pl.read_csv(written[0], infer_schema=False)
    assert back["mrr"].to_list() == [" -900.50 "]
    assert back["reason"].to_list() == ["mrr_negative"]


def test_rejected_parquet_rows_are_text(tmp_path: Path):
    pl.DataFrame(
        {
            "account_id": [1, 2],
            "first_seen_at": ["2024-01-01", "2024-01-02"],
            "company_size": [0, 5],
        }
    ).write_parquet(tmp_path / "accounts.parquet")
    pl.DataFrame({"timestamp": ["2024-01-02"], "account_id": ["1"], "event": ["x"]}).write_csv(
        tmp_path / "events.csv"
    )
    (tmp_path / "client.yaml").write_text("client: X\njourney: ./j.yaml\n")
    (tmp_path / "j.yaml").write_text(MINI_JOURNEY)
    client = load_client(tmp_path)
    assert client.rejected["accounts"].rows() == [
        ("1", "2024-01-01", "0", "company_size_below_one")
    ]
    assert client.rejected["events"]["reason"].to_list() == ["unknown_account"]


def test_write_rejected_writes_nothing_for_a_clean_client(folder, tmp_path: Path):
    client = load_client(folder.write())
    assert write_rejected(client, tmp_path / "out") == []
    assert not (tmp_path / "out" / "rejected").exists()


def test_data_quality_counts_each_reason_of_a_row(folder):
    folder.set("accounts", 3, "company_size", "0")
    folder.set("accounts", 3, "signup_at", "2020-01-01")
    client = load_client(folder.write())
    dq = data_quality(client)
    assert list(dq["tables"]) == sorted(COLUMNS)
    assert dq["tables"]["accounts"] == {
        "rows_in": 4,
        "rows_valid": 3,
        "rows_rejected": 1,
        "reasons": {"company_size_below_one": 1, "signup_before_first_seen": 1},
    }
    assert dq["tables"]["subscriptions"]["reasons"] == {"unknown_account": 1}


def test_file_with_a_reason_column_keeps_it(folder):
    for row in folder.tables["events"]:
        row["reason"] = "campaign-x"
    folder.set("events", 2, "event", "")
    client = load_client(folder.write())
    rej = client.rejected["events"]
    assert rej["reason_in_file"].to_list() == ["campaign-x"]
    assert rej["reason"].to_list() == ["event_missing"]


def test_event_mapping_is_applied(folder):
    folder.config["event_mapping"] = {"reports": ["report_created", "unmapped_thing"]}
    client = load_client(folder.write())
    assert client.template.event_map()["unmapped_thing"] == ("reports", "adoption")


def test_empty_tables_load(tmp_path: Path):
    for table, cols in COLUMNS.items():
        (tmp_path / f"{table}.csv").write_text(",".join(cols) + "\n")
    (tmp_path / "client.yaml").write_text("client: X\njourney: ./j.yaml\n")
    (tmp_path / "j.yaml").write_text(MINI_JOURNEY)
    client = load_client(tmp_path)
    for table in COLUMNS:
        assert client.tables[table].schema == TABLES[table].polars_schema
        assert client.quality[table]["rows_in"] == 0


# ---------------------------------------------------------------- property test
_GARBAGE = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "NA",
            "null",
            "x",
            "-1",
            "0",
            "11",
            "3.5",
            "1e3",
            "inf",
            "2024-13-01",
            "2024-03-31T02:30:00",
            "tomorrow",
            '"quoted, comma"',
            "ü€",
            "<script>",
            "007",
        ]
    ),
    st.text(max_size=6),
)
_VALID = {
    "id": st.sampled_from(["a1", "a2", "a3", "007", ""]),
    "text": st.sampled_from(["login", "web", "Acme", "", "x y"]),
    "datetime": st.sampled_from(
        ["2024-01-01T10:00:00Z", "2024-01-02 09:30", "2024-02-01", "2024-01-01T10:00:00+01:00", ""]
    ),
    "month": st.sampled_from(["2024-01", "2024-02", "2024-02-15", ""]),
    "date": st.sampled_from(["2024-01-01", "2024-01-02", ""]),
    "int": st.sampled_from(["0", "1", "5", "10", "250", ""]),
    "float": st.sampled_from(["0", "1.5", "99.99", "1000", ""]),
}


def _cells(kind: str):
    # Mostly plausible values, often enough garbage: both paths (row-level and fatal) get exercised.
    return st.one_of(*[_VALID[kind]] * 7, _GARBAGE)


@st.composite
def _table(draw, table: str) -> pl.DataFrame:
    kinds = dict(TABLES[table].columns)
    cols = list(kinds)
    if draw(st.integers(0, 4)) == 0:  # sometimes drop a column or add an extra one
        cols.remove(draw(st.sampled_from(cols)))
    if draw(st.booleans()):
        cols.append("extra")
        kinds["extra"] = "text"
    n = draw(st.integers(0, 25))
    return pl.DataFrame(
        {c: [draw(_cells(kinds[c])) for _ in range(n)] for c in cols},
        schema=dict.fromkeys(cols, pl.String),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_loader_never_crashes_and_keeps_every_row(data):
    tables = {"accounts": data.draw(_table("accounts")), "events": data.draw(_table("events"))}
    for table in ("subscriptions", "marketing", "search_queries", "tickets", "surveys"):
        if data.draw(st.booleans()):
            tables[table] = data.draw(_table(table))
    parquet = data.draw(st.booleans())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prop"
        path.mkdir()
        (path / "client.yaml").write_text("client: P\njourney: ./j.yaml\ntimezone: Europe/Berlin\n")
        (path / "j.yaml").write_text(MINI_JOURNEY)
        for table, frame in tables.items():
            if parquet:
                frame.write_parquet(path / f"{table}.parquet")
            else:
                frame.write_csv(path / f"{table}.csv")
        try:
            client = load_client(path)
        except JourneyError as exc:
            assert "\n" not in str(exc)
            return
        for table, frame in tables.items():
            q = client.quality[table]
            assert q["rows_in"] == frame.height == q["rows_valid"] + q["rows_rejected"]
            assert client.tables[table].schema == TABLES[table].polars_schema
            assert client.rejected[table].height == q["rows_rejected"]
            assert client.rejected[table]["reason"].null_count() == 0


def test_nested_extra_parquet_column_is_kept_as_text_in_quarantine(tmp_path: Path):
    pl.DataFrame(
        {
            "account_id": ["a", "a"],
            "first_seen_at": ["2024-01-01", "2024-01-02"],
            "tags": [["x", "y"], None],
            "meta": [{"k": 1}, {"k": 2}],
        }
    ).write_parquet(tmp_path / "accounts.parquet")
    pl.DataFrame({"timestamp": ["2024-01-02"], "anonymous_id": ["v1"], "event": ["x"]}).write_csv(
        tmp_path / "events.csv"
    )
    (tmp_path / "client.yaml").write_text("client: X\njourney: ./j.yaml\n")
    (tmp_path / "j.yaml").write_text(MINI_JOURNEY)
    client = load_client(tmp_path)
    rej = client.rejected["accounts"]
    assert rej["tags"].to_list() == ['["x", "y"]', None]
    assert rej["meta"].to_list() == ['{"k": 1}', '{"k": 2}']
    assert rej["reason"].to_list() == ["account_id_duplicate"] * 2


def test_nested_canonical_column_is_fatal(tmp_path: Path):
    pl.DataFrame({"account_id": [["a"]], "first_seen_at": ["2024-01-01"]}).write_parquet(
        tmp_path / "accounts.parquet"
    )
    with pytest.raises(JourneyError, match="account_id"):
        read_table(tmp_path, "accounts")


def test_more_timestamp_spellings(tmp_path: Path):
    got = _events_at(
        tmp_path,
        [
            "2024-01-01T10:00:00Z",
            "2024-01-01T10:00:00+01",
            "2024-01-01 10:00:00 UTC",
            "2024-01-01T10:00:00.123456789Z",
            "2024-01-01t10:00Z",
        ],
        timezone="UTC",
    )
    assert got == [
        _utc(2024, 1, 1, 10),
        _utc(2024, 1, 1, 9),
        _utc(2024, 1, 1, 10),
        dt.datetime(2024, 1, 1, 10, 0, 0, 123456, tzinfo=UTC),
        _utc(2024, 1, 1, 10),
    ]


def test_valid_frames_satisfy_the_public_schemas(folder):
    folder.set("accounts", 3, "company_size", "0")
    client = load_client(folder.write())
    for table, frame in client.tables.items():
        TABLES[table].schema.validate(frame)  # raises when a rule or dtype does not hold
    assert TABLES["accounts"].schema.column_names() == COLUMNS["accounts"]
