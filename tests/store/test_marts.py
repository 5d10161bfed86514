"""The store's marts on a hand-made client, and the same aggregates on Spark as on polars."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from journeylib.config import ClientConfig, JourneyTemplate
from journeylib.store.marts import build_marts, sorted_stream_aggregates, stream_aggregates

UTC = dt.UTC


def t(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, tzinfo=UTC)


TEMPLATE = JourneyTemplate.model_validate(
    {
        "stages": [
            {"id": "aware", "label": "Aware", "touchpoints": [{"id": "web", "events": ["visit"]}]},
            {
                "id": "use",
                "label": "Use",
                "touchpoints": [{"id": "app", "events": ["login", "report"]}],
            },
        ]
    }
)
CONFIG = ClientConfig.model_validate(
    {
        "client": "Hand",
        "journey": "x",
        "activation": {"event": "report", "within_days": 7},
        "first_value": {"event": "report"},
        "milestones": [{"id": "second", "event": "login"}],
    }
)


def _stream() -> pl.DataFrame:
    rows = [
        # account, time, event, touchpoint, stage, source
        ("a", t(1, 1), "visit", "web", "aware", "events"),
        ("a", t(1, 1, 13), "login", "app", "use", "events"),
        ("a", t(1, 5), "report", "app", "use", "events"),  # within 7 days of sign-up (1 Jan)
        ("a", t(2, 3), "login", "app", "use", "events"),
        ("b", t(1, 10), "visit", "web", "aware", "events"),
        ("b", t(1, 30), "report", "app", "use", "events"),  # 20 days after sign-up: too late
        ("b", t(1, 10), "signed_up", None, None, "accounts"),  # derived: not activity
        (None, t(1, 2), "visit", "web", "aware", "events"),  # anonymous: in no mart
    ]
    return _frame(rows)


def _frame(rows: list[tuple]) -> pl.DataFrame:
    """A stream of ``(account, time, event, touchpoint, stage, source)`` rows."""
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row")


_SCHEMA = {
    "account_id": pl.String,
    "timestamp": pl.Datetime("us", "UTC"),
    "event": pl.String,
    "touchpoint": pl.String,
    "stage": pl.String,
    "source": pl.String,
}


def _tables() -> dict[str, pl.DataFrame]:
    accounts = pl.DataFrame(
        {
            "account_id": ["b", "a", "c"],
            "first_seen_at": [t(1, 10), t(1, 1), t(3, 1)],
            "signup_at": [t(1, 10), t(1, 1), None],
            "persona": ["p2", "p1", None],
            "acquisition_channel": ["seo", "ads", "ads"],
        }
    )
    subs = pl.DataFrame(
        {
            "account_id": ["a", "a", "a", "a", "b", "b"],
            "month": [dt.date(2024, m, 1) for m in (1, 2, 3, 5)]
            + [dt.date(2024, 2, 1), dt.date(2024, 3, 1)],
            "mrr": [10.0, 20.0, 15.0, 15.0, 0.0, 0.0],
            "plan": ["s", "m", "s", "s", None, None],
        }
    )
    return {"accounts": accounts, "subscriptions": subs}


def test_accounts_mart_by_hand():
    m = build_marts(_tables(), _stream(), CONFIG, TEMPLATE)
    acc = m["accounts"]
    assert acc["account_id"].to_list() == ["a", "b", "c"]
    assert acc["account_key"].to_list() == [0, 1, 2]
    a, b, c = acc.rows(named=True)
    assert (a["first_paid_month"], a["last_paid_month"], a["plan"]) == ("2024-01", "2024-05", "s")
    assert (b["first_paid_month"], b["plan"]) == (None, None)
    assert a["channel"] == "ads" and a["signup_month"] == "2024-01"
    assert (a["events"], b["events"], c["events"]) == (4, 2, 0)
    assert a["entered_aware"] == t(1, 1) and a["entered_use"] == t(1, 1, 13)
    assert b["entered_use"] == t(1, 30)
    assert a["activated_at"] == t(1, 5) and b["activated_at"] is None
    assert a["first_value_at"] == t(1, 5) and b["first_value_at"] == t(1, 30)
    assert a["milestone_second"] == t(1, 1, 13) and b["milestone_second"] is None
    assert c["entered_aware"] is None


def test_account_months_by_hand():
    months = build_marts(_tables(), _stream(), CONFIG, TEMPLATE)["account_months"]
    a = months.filter(pl.col("account_id") == "a").select(
        "month", "active_days", "events", "mrr", "movement"
    )
    assert a.rows() == [
        ("2024-01", 2, 3, 10.0, "new"),
        ("2024-02", 1, 1, 20.0, "expansion"),
        ("2024-03", 0, 0, 15.0, "contraction"),
        ("2024-04", 0, 0, 0.0, "churn"),
        ("2024-05", 0, 0, 15.0, "reactivation"),
        ("2024-06", 0, 0, 0.0, "churn"),
    ]
    b = months.filter(pl.col("account_id") == "b").select(
        "month", "active_days", "events", "mrr", "movement"
    )
    # b never paid: its activity month, and the months at 0 its subscriptions list
    assert b.rows() == [
        ("2024-01", 2, 2, 0.0, None),
        ("2024-02", 0, 0, 0.0, None),
        ("2024-03", 0, 0, 0.0, None),
    ]


def test_touchpoint_and_day_marts_by_hand():
    m = build_marts(_tables(), _stream(), CONFIG, TEMPLATE)
    tp = m["account_touchpoints"].filter(pl.col("account_id") == "a")
    assert tp.select("month", "touchpoint", "events").rows() == [
        ("2024-01", "app", 2),
        ("2024-01", "web", 1),
        ("2024-02", "app", 1),
    ]
    days = m["account_days"]
    assert days.filter(pl.col("account_id") == "a").select("day", "events").rows() == [
        (dt.date(2024, 1, 1), 2),
        (dt.date(2024, 1, 5), 1),
        (dt.date(2024, 2, 3), 1),
    ]
    # property: the day mart sums to the raw events of known accounts
    raw = _stream().filter(pl.col("source") == "events", pl.col("account_id").is_not_null())
    assert days["events"].sum() == raw.height


def test_aggregates_of_buckets_add_up_to_the_whole():
    s = _stream()
    whole = stream_aggregates(s, CONFIG)
    parts = [stream_aggregates(s.filter(pl.col("account_id") == k), CONFIG) for k in ("a", "b")]
    for key, frame in whole.items():
        assert_frame_equal(pl.concat([p[key] for p in parts]), frame)


@pytest.mark.parametrize("engine", ["polars_lazy", "duckdb"])
def test_aggregates_same_on_other_engines(engine, _duckdb_con):
    s = _stream()
    expected = stream_aggregates(s, CONFIG)
    native = s.lazy() if engine == "polars_lazy" else _duckdb_con.from_arrow(s.to_arrow())
    got = stream_aggregates(native, CONFIG)
    for key, frame in expected.items():
        assert_frame_equal(got[key], frame, check_dtypes=False)


@pytest.mark.spark
def test_marts_same_on_spark_as_on_polars(_spark):
    pytest.importorskip("pyspark")
    from journeylib.engines import spark_schema

    s = _stream()
    native = _spark.createDataFrame(s.rows(), schema=spark_schema(s.schema))
    tables = _tables()
    expected = build_marts(tables, s, CONFIG, TEMPLATE)
    got = build_marts(tables, native, CONFIG, TEMPLATE)
    for key, frame in expected.items():
        assert_frame_equal(got[key], frame, check_dtypes=False)


def test_sorted_aggregates_are_the_aggregates_hand_made():
    s = _stream().sort("account_id", "timestamp", nulls_last=True)
    got = sorted_stream_aggregates(s, CONFIG)
    for key, frame in stream_aggregates(s, CONFIG).items():
        assert_frame_equal(got[key], frame)
    assert got["days"].rows() == [
        ("a", dt.date(2024, 1, 1), 2),
        ("a", dt.date(2024, 1, 5), 1),
        ("a", dt.date(2024, 2, 3), 1),
        ("b", dt.date(2024, 1, 10), 1),
        ("b", dt.date(2024, 1, 30), 1),
    ]


_IDS = st.one_of(st.none(), st.sampled_from(["", "a", "a2", "b", "é", "Z"]))
_EVENTS = st.sampled_from(["visit", "login", "report", "signed_up"])


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(_IDS, st.integers(0, 24 * 90), _EVENTS, st.booleans()), max_size=40))
def test_sorted_aggregates_are_the_aggregates(rows):
    tp = {"visit": ("web", "aware"), "login": ("app", "use"), "report": ("app", "use")}
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    s = _frame(
        [
            (
                a,
                start + dt.timedelta(hours=h),
                e,
                *tp.get(e, (None, None)),
                "events" if raw else "accounts",
            )
            for a, h, e, raw in rows
        ]
    ).sort("account_id", "timestamp", nulls_last=True)
    got = sorted_stream_aggregates(s, CONFIG)
    for key, frame in stream_aggregates(s, CONFIG).items():
        assert_frame_equal(got[key], frame)
