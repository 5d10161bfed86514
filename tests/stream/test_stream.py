"""The journey event stream: derived events, mapping, ordering (data → result → expected)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import narwhals as nw
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.config import JourneyTemplate
from journeylib.stream import (
    DERIVED_EVENTS,
    STREAM_COLUMNS,
    account_stage_entries,
    derived_events,
    journey_events,
    map_events,
    touchpoint_inventory,
    unmapped_events,
)

UTC = dt.UTC


def ts(y: int, m: int, d: int = 1, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=UTC)


def month(y: int, m: int) -> dt.date:
    return dt.date(y, m, 1)


def triples(df: pl.DataFrame) -> set[tuple]:
    """(account_id, event, timestamp) of every row, as a set (ignores order)."""
    return set(df.select("account_id", "event", "timestamp").rows())


def rows_sorted(df: pl.DataFrame) -> list[tuple]:
    return sorted(
        df.select("account_id", "event", "timestamp", "source").rows(),
        key=lambda r: (r[0] or "", r[2], r[1], r[3]),
    )


TEMPLATE = JourneyTemplate.model_validate(
    {
        "stages": [
            {
                "id": "awareness",
                "label": "Awareness",
                "touchpoints": [
                    {"id": "website", "label": "Website", "kind": "direct", "events": ["pageview"]},
                    {"id": "blog", "events": ["blog_read"], "channel": "content"},
                ],
            },
            {
                "id": "conversion",
                "label": "Conversion",
                "touchpoints": [
                    {"id": "signup", "events": ["signed_up", "pageview"]},  # pageview listed twice
                    {"id": "purchase", "events": ["subscription_started"]},
                ],
            },
            {
                "id": "retention",
                "label": "Retention",
                "touchpoints": [
                    {"id": "product", "events": ["login"]},
                    {"id": "support", "events": ["ticket_opened", "ticket_resolved"]},
                    {"id": "renewal", "events": ["subscription_renewed", "expanded"]},
                ],
            },
        ]
    }
)


# ---------------------------------------------------------------- subscriptions
SUBS = pl.DataFrame(
    [
        # account, month, mrr — table months Jan..Apr 2024
        ("new", month(2024, 1), 10.0),  # started Jan, churned Feb (no Feb row)
        ("renew", month(2024, 1), 10.0),
        ("renew", month(2024, 2), 10.0),
        ("renew", month(2024, 3), 10.0),
        ("renew", month(2024, 4), 10.0),
        ("exp", month(2024, 3), 10.0),
        ("exp", month(2024, 4), 25.0),
        ("con", month(2024, 3), 20.0),
        ("con", month(2024, 4), 5.0),
        ("churn0", month(2024, 2), 10.0),
        ("churn0", month(2024, 3), 0.0),  # explicit zero → churned Mar
        ("churn0", month(2024, 4), 0.0),  # still zero: no second churn
        ("react", month(2024, 1), 10.0),
        ("react", month(2024, 2), 0.0),  # churned Feb
        ("react", month(2024, 4), 12.0),  # reactivated Apr (Mar missing = 0)
        ("reactgap", month(2024, 1), 10.0),  # churned Feb (missing row)
        ("reactgap", month(2024, 3), 10.0),  # reactivated Mar, churned Apr (missing)
        ("last", month(2024, 4), 30.0),  # started in the last month: no churn in May
        ("never", month(2024, 1), 0.0),
        ("never", month(2024, 2), 0.0),
        ("late", month(2024, 1), 0.0),
        ("late", month(2024, 2), 5.0),  # started Feb (first paid month)
        ("late", month(2024, 3), 5.0),
        ("late", month(2024, 4), 5.0),
    ],
    schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64},
    orient="row",
)

EXPECTED_SUBS = {
    ("new", "subscription_started", ts(2024, 1)),
    ("new", "churned", ts(2024, 2)),
    ("renew", "subscription_started", ts(2024, 1)),
    ("renew", "subscription_renewed", ts(2024, 2)),
    ("renew", "subscription_renewed", ts(2024, 3)),
    ("renew", "subscription_renewed", ts(2024, 4)),
    ("exp", "subscription_started", ts(2024, 3)),
    ("exp", "subscription_renewed", ts(2024, 4)),
    ("exp", "expanded", ts(2024, 4)),
    ("con", "subscription_started", ts(2024, 3)),
    ("con", "subscription_renewed", ts(2024, 4)),
    ("con", "contracted", ts(2024, 4)),
    ("churn0", "subscription_started", ts(2024, 2)),
    ("churn0", "churned", ts(2024, 3)),
    ("react", "subscription_started", ts(2024, 1)),
    ("react", "churned", ts(2024, 2)),
    ("react", "reactivated", ts(2024, 4)),
    ("reactgap", "subscription_started", ts(2024, 1)),
    ("reactgap", "churned", ts(2024, 2)),
    ("reactgap", "reactivated", ts(2024, 3)),
    ("reactgap", "churned", ts(2024, 4)),
    ("last", "subscription_started", ts(2024, 4)),
    ("late", "subscription_started", ts(2024, 2)),
    ("late", "subscription_renewed", ts(2024, 3)),
    ("late", "subscription_renewed", ts(2024, 4)),
}


def test_subscription_events_cover_every_revenue_moment(constructor):
    out = derived_events(subscriptions=constructor(SUBS))
    assert isinstance(out, pl.DataFrame)
    assert triples(out) == EXPECTED_SUBS
    assert out.height == len(EXPECTED_SUBS)  # no duplicates
    assert set(out["source"]) == {"subscriptions"}


def test_missing_month_row_means_churn_at_first_instant_of_that_month(constructor):
    subs = pl.DataFrame(
        {"account_id": ["a", "b"], "month": [month(2024, 3), month(2024, 4)], "mrr": [9.0, 9.0]}
    )
    out = derived_events(subscriptions=constructor(subs))
    # a paid in March, no April row, and April is inside the data → churned 2024-04-01T00:00Z
    assert ("a", "churned", ts(2024, 4)) in triples(out)
    # b paid in April, the table's last month → no churn in May (not in the data yet)
    assert not any(e == "churned" and a == "b" for a, e, _ in triples(out))


def test_churn_is_not_emitted_after_the_tables_last_month(constructor):
    subs = pl.DataFrame(
        {"account_id": ["a", "a"], "month": [month(2024, 1), month(2024, 2)], "mrr": [5.0, 5.0]}
    )
    out = derived_events(subscriptions=constructor(subs))
    assert sorted(out["event"].to_list()) == ["subscription_renewed", "subscription_started"]


def test_renewal_comes_beside_expansion_and_contraction(constructor):
    subs = pl.DataFrame(
        {
            "account_id": ["a", "a", "a", "a"],
            "month": [month(2024, m) for m in (1, 2, 3, 4)],
            "mrr": [10.0, 20.0, 20.0, 15.0],
        }
    )
    out = derived_events(subscriptions=constructor(subs))
    by_month = {}
    for _, e, t in triples(out):
        by_month.setdefault(t.month, set()).add(e)
    assert by_month == {
        1: {"subscription_started"},
        2: {"subscription_renewed", "expanded"},
        3: {"subscription_renewed"},
        4: {"subscription_renewed", "contracted"},
    }


def test_expansion_needs_consecutive_paid_months(constructor):
    # 10 in Jan, gap in Feb (churn), 30 in Mar: a reactivation, not an expansion
    subs = pl.DataFrame(
        {"account_id": ["a", "a"], "month": [month(2024, 1), month(2024, 3)], "mrr": [10.0, 30.0]}
    )
    out = derived_events(subscriptions=constructor(subs))
    assert triples(out) == {
        ("a", "subscription_started", ts(2024, 1)),
        ("a", "churned", ts(2024, 2)),
        ("a", "reactivated", ts(2024, 3)),
    }


def test_a_month_may_be_any_date_inside_it(constructor):
    subs = pl.DataFrame(
        {
            "account_id": ["a", "a"],
            "month": [dt.date(2024, 1, 15), dt.date(2024, 2, 29)],
            "mrr": [1.0, 2.0],
        }
    )
    out = derived_events(subscriptions=constructor(subs))
    assert triples(out) == {
        ("a", "subscription_started", ts(2024, 1)),
        ("a", "subscription_renewed", ts(2024, 2)),
        ("a", "expanded", ts(2024, 2)),
    }


def test_subscription_events_ignore_input_row_order(constructor):
    shuffled = SUBS.sample(fraction=1.0, shuffle=True, seed=7)
    assert triples(derived_events(subscriptions=constructor(shuffled))) == EXPECTED_SUBS


# ---------------------------------------------------------------- accounts, tickets, surveys
ACCOUNTS = pl.DataFrame(
    {
        "account_id": ["a", "b", "lead"],
        "first_seen_at": [ts(2024, 1, 1), ts(2024, 1, 2), ts(2024, 1, 3)],
        "signup_at": [ts(2024, 1, 5, 10), ts(2024, 2, 1, 9, 30), None],
        "name": ["A", "B", "Lead"],
    },
    schema_overrides={
        "signup_at": pl.Datetime("us", "UTC"),
        "first_seen_at": pl.Datetime("us", "UTC"),
    },
)

TICKETS = pl.DataFrame(
    {
        "ticket_id": ["t1", "t2"],
        "account_id": ["a", "b"],
        "opened_at": [ts(2024, 2, 1, 8), ts(2024, 2, 3, 8)],
        "resolved_at": [ts(2024, 2, 1, 12), None],
        "channel": ["chat", "email"],
    },
    schema_overrides={"resolved_at": pl.Datetime("us", "UTC")},
)

SURVEYS = pl.DataFrame(
    {
        "response_id": ["r1", "r2"],
        "account_id": ["a", None],
        "responded_at": [ts(2024, 3, 1, 12), ts(2024, 3, 2, 12)],
        "score": [9, 3],
    },
    schema_overrides={"account_id": pl.String},
)


def test_signed_up_at_signup_at_and_none_for_leads(constructor):
    out = derived_events(accounts=constructor(ACCOUNTS))
    assert triples(out) == {
        ("a", "signed_up", ts(2024, 1, 5, 10)),
        ("b", "signed_up", ts(2024, 2, 1, 9, 30)),
    }
    assert set(out["source"]) == {"accounts"}


def test_tickets_opened_and_resolved_only_when_resolved(constructor):
    out = derived_events(tickets=constructor(TICKETS))
    assert triples(out) == {
        ("a", "ticket_opened", ts(2024, 2, 1, 8)),
        ("a", "ticket_resolved", ts(2024, 2, 1, 12)),
        ("b", "ticket_opened", ts(2024, 2, 3, 8)),
    }
    # the ticket channel (chat/email) is not carried into the marketing channel column
    assert out["channel"].null_count() == out.height


def test_survey_answered_at_responded_at_even_without_account(constructor):
    out = derived_events(surveys=constructor(SURVEYS))
    assert triples(out) == {
        ("a", "survey_answered", ts(2024, 3, 1, 12)),
        (None, "survey_answered", ts(2024, 3, 2, 12)),
    }
    assert out["source"].to_list() == ["surveys", "surveys"]
    assert out["account_id"].to_list() == ["a", None]  # anonymous rows last


def test_derived_events_shape_and_types(constructor):
    out = derived_events(
        accounts=constructor(ACCOUNTS),
        subscriptions=constructor(SUBS),
        tickets=constructor(TICKETS),
        surveys=constructor(SURVEYS),
    )
    assert out.columns == [c for c in STREAM_COLUMNS if c not in ("touchpoint", "stage")]
    assert out.schema["timestamp"] == pl.Datetime("us", "UTC")
    assert out.schema["seq"] == pl.Int64
    for col in ("anonymous_id", "user_id", "channel", "campaign", "variant"):
        assert out.schema[col] == pl.String
        assert out[col].null_count() == out.height
    assert sorted(out["seq"].to_list()) == list(range(out.height))  # unique, from 0
    assert set(out["event"]) <= set(DERIVED_EVENTS)
    for event, source in out.select("event", "source").unique().rows():
        assert DERIVED_EVENTS[event] == source
    assert out.height == len(EXPECTED_SUBS) + 2 + 3 + 2


def test_derived_events_agree_across_engines(constructor):
    tables = {"accounts": ACCOUNTS, "subscriptions": SUBS, "tickets": TICKETS, "surveys": SURVEYS}
    ours = derived_events(**{k: constructor(v) for k, v in tables.items()})
    reference = derived_events(**tables)  # polars eager
    assert rows_sorted(ours) == rows_sorted(reference)
    # seq is defined by content, not by engine
    assert (
        ours.select("account_id", "event", "timestamp", "seq").sort("seq").rows()
        == reference.select("account_id", "event", "timestamp", "seq").sort("seq").rows()
    )


def test_derived_seq_orders_ties_by_table_event_and_id_on_every_engine(constructor):
    """At one instant of one account: the table's rank, then the event's, then the row's id."""
    at = ts(2024, 3)
    tables = {
        "accounts": pl.DataFrame(
            {"account_id": ["b", "a"], "signup_at": [at, at]},
            schema={"account_id": pl.String, "signup_at": pl.Datetime("us", "UTC")},
        ),
        "subscriptions": pl.DataFrame(
            {"account_id": ["a", "b"], "month": [month(2024, 3)] * 2, "mrr": [5.0, 5.0]},
            schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64},
        ),
        "tickets": pl.DataFrame(
            {
                "ticket_id": ["t9", "t1", "t5"],
                "account_id": ["a", "a", "b"],
                "opened_at": [at, at, at],
                "resolved_at": [at, None, None],
            },
            schema={
                "ticket_id": pl.String,
                "account_id": pl.String,
                "opened_at": pl.Datetime("us", "UTC"),
                "resolved_at": pl.Datetime("us", "UTC"),
            },
        ),
        "surveys": pl.DataFrame(
            {"response_id": ["r1"], "account_id": ["a"], "responded_at": [at]},
            schema={
                "response_id": pl.String,
                "account_id": pl.String,
                "responded_at": pl.Datetime("us", "UTC"),
            },
        ),
    }
    out = derived_events(**{k: constructor(v) for k, v in tables.items()})
    by_seq = out.sort("seq").select("account_id", "event").rows()
    assert by_seq == [
        ("a", "signed_up"),
        ("a", "subscription_started"),
        ("a", "ticket_opened"),  # t1
        ("a", "ticket_opened"),  # t9
        ("a", "ticket_resolved"),
        ("a", "survey_answered"),
        ("b", "signed_up"),
        ("b", "subscription_started"),
        ("b", "ticket_opened"),
    ]
    assert out.sort("seq")["seq"].to_list() == list(range(9))


def test_no_tables_give_an_empty_frame():
    out = derived_events()
    assert out.height == 0
    assert out.columns == [c for c in STREAM_COLUMNS if c not in ("touchpoint", "stage")]


# ---------------------------------------------------------------- mapping
def test_map_events_first_touchpoint_wins_and_unmapped_stays_null(constructor):
    frame = pl.DataFrame({"event": ["pageview", "signed_up", "mystery", "login"]})
    out = (
        nw.from_native(map_events(constructor(frame), TEMPLATE))
        .lazy()
        .collect("polars")
        .to_native()
    )
    got = {r[0]: (r[1], r[2]) for r in out.rows()}
    assert got == {
        "pageview": ("website", "awareness"),  # also under 'signup', but 'website' comes first
        "signed_up": ("signup", "conversion"),
        "mystery": (None, None),
        "login": ("product", "retention"),
    }


def test_map_events_keeps_the_native_kind(constructor):
    native = constructor(pl.DataFrame({"event": ["pageview"]}))
    assert type(map_events(native, TEMPLATE)) is type(native)


def test_map_events_with_a_template_that_maps_nothing():
    tpl = JourneyTemplate.model_validate(
        {"stages": [{"id": "s", "label": "S", "touchpoints": [{"id": "t", "events": []}]}]}
    )
    out = map_events(pl.DataFrame({"event": ["x"]}), tpl)
    assert out.rows() == [("x", None, None)]


# ---------------------------------------------------------------- the stream
EVENTS = pl.DataFrame(
    {
        "timestamp": [
            ts(2024, 1, 5, 10),  # 0: a, same instant as a's signup
            ts(2024, 1, 4),  # 1: anonymous visitor
            ts(2024, 1, 6),  # 2: a, tie with row 3
            ts(2024, 1, 6),  # 3: a, tie with row 2 → after it (file order)
            ts(2024, 1, 2),  # 4: a, earliest
            ts(2024, 1, 3),  # 5: b
            ts(2024, 1, 6),  # 6: a, third in the tie
        ],
        "account_id": ["a", None, "a", "a", "a", "b", "a"],
        "anonymous_id": ["v1", "v9", None, None, "v1", None, None],
        "user_id": ["u1", None, "u1", "u2", None, None, "u1"],
        "event": ["pageview", "pageview", "login", "mystery", "blog_read", "login", "blog_read"],
        "channel": ["paid_search", "social", None, None, "organic_search", None, None],
        "campaign": ["spring", None, None, None, None, None, None],
        "variant": [None, None, "A", "B", None, None, None],
    },
    schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
)


def _tables(constructor=lambda x: x, **extra):
    t = {"events": EVENTS, "accounts": ACCOUNTS, "tickets": TICKETS, "surveys": SURVEYS}
    t.update(extra)
    return {k: constructor(v) for k, v in t.items()}


def test_stream_columns_types_and_sources(constructor):
    out = journey_events(_tables(constructor), TEMPLATE)
    assert isinstance(out, pl.DataFrame)
    assert out.columns == list(STREAM_COLUMNS)
    assert out.schema["timestamp"] == pl.Datetime("us", "UTC")
    assert out.schema["seq"] == pl.Int64
    assert out.height == EVENTS.height + 2 + 3 + 2
    assert out.group_by("source").len().sort("source").rows() == [
        ("accounts", 2),
        ("events", 7),
        ("surveys", 2),
        ("tickets", 3),
    ]
    assert out["seq"].n_unique() == out.height


def test_stream_keeps_raw_columns_and_file_order_seq(engine, constructor):
    out = journey_events(_tables(constructor), TEMPLATE)
    raw = out.filter(pl.col("source") == "events")
    if engine.startswith("polars"):
        # seq is the file row order on polars
        back = raw.sort("seq").drop("touchpoint", "stage", "source", "seq")
        assert back.select(EVENTS.columns).equals(EVENTS)
    else:
        assert sorted(raw["seq"].to_list()) == list(range(EVENTS.height))
    derived = out.filter(pl.col("source") != "events")
    assert derived["seq"].min() >= EVENTS.height  # derived rows after every raw row


def test_stream_order_accounts_then_time_then_seq_anonymous_last(engine, constructor):
    out = journey_events(_tables(constructor), TEMPLATE)
    got = out.select("account_id", "event", "source").rows()
    # a: blog_read (Jan 2), pageview (Jan 5 10:00) then signed_up at the same instant
    # (raw before derived), then the three Jan 6 events, then tickets/survey.
    ties = ["login", "mystery", "blog_read"] if engine.startswith("polars") else None
    a_rows = [r for r in got if r[0] == "a"]
    assert a_rows[:3] == [
        ("a", "blog_read", "events"),
        ("a", "pageview", "events"),
        ("a", "signed_up", "accounts"),
    ]
    if ties is not None:
        assert [r[1] for r in a_rows[3:6]] == ties  # equal timestamps keep file order
    assert [r[1] for r in a_rows[6:]] == ["ticket_opened", "ticket_resolved", "survey_answered"]
    # accounts sorted, anonymous rows (visitor v9 and the anonymous survey) kept, last
    assert [r[0] for r in got] == ["a"] * 9 + ["b"] * 3 + [None, None]
    assert [r[1] for r in got[-2:]] == ["pageview", "survey_answered"]
    # the whole frame is sorted by (account_id, timestamp, seq), nulls last
    assert out.equals(out.sort("account_id", "timestamp", "seq", nulls_last=True))


def test_equal_timestamps_keep_a_given_seq_on_every_engine(constructor):
    t = ts(2024, 5, 1, 12)
    ev = pl.DataFrame(
        {
            "timestamp": [t, t, t],
            "account_id": ["a", "a", "a"],
            "event": ["zeta", "alpha", "mid"],
            "seq": [10, 11, 12],
        }
    )
    out = journey_events({"events": constructor(ev)}, TEMPLATE)
    assert out["event"].to_list() == ["zeta", "alpha", "mid"]
    assert out["seq"].to_list() == [10, 11, 12]
    assert out["anonymous_id"].null_count() == 3  # missing optional columns come as null


def test_stream_maps_raw_and_derived_events(constructor):
    out = journey_events(_tables(constructor, subscriptions=SUBS), TEMPLATE)
    m = dict(
        ((e, s), (tp, st_))
        for e, s, tp, st_ in out.select("event", "source", "touchpoint", "stage").unique().rows()
    )
    assert m[("pageview", "events")] == ("website", "awareness")
    assert m[("signed_up", "accounts")] == ("signup", "conversion")
    assert m[("subscription_started", "subscriptions")] == ("purchase", "conversion")
    assert m[("expanded", "subscriptions")] == ("renewal", "retention")
    assert m[("churned", "subscriptions")] == (None, None)
    assert m[("mystery", "events")] == (None, None)


def test_stream_from_a_client_object():
    client = SimpleNamespace(tables=_tables(), template=TEMPLATE, name="x")
    assert journey_events(client).equals(journey_events(_tables(), TEMPLATE))


def test_stream_needs_a_template():
    with pytest.raises(TypeError):
        journey_events(_tables())


def test_lazy_returns_the_engines_native_lazy_frame(engine, constructor):
    out = journey_events(_tables(constructor), TEMPLATE, lazy=True)
    if engine.startswith("polars"):
        assert isinstance(out, pl.LazyFrame)
    else:
        assert not isinstance(out, pl.DataFrame | pl.LazyFrame)
    collected = nw.from_native(out).lazy().collect("polars").to_native()
    assert collected.equals(journey_events(_tables(constructor), TEMPLATE))


def test_stream_with_only_derived_tables(constructor):
    out = journey_events({"accounts": constructor(ACCOUNTS)}, TEMPLATE)
    assert out["event"].to_list() == ["signed_up", "signed_up"]
    assert out["seq"].to_list() == [0, 1]


def test_stream_without_any_table_is_empty():
    out = journey_events({}, TEMPLATE)
    assert out.height == 0 and out.columns == list(STREAM_COLUMNS)


# ---------------------------------------------------------------- summaries
def test_unmapped_events_counted(constructor):
    stream = journey_events(_tables(constructor, subscriptions=SUBS), TEMPLATE)
    out = unmapped_events(constructor(stream))
    # survey_answered: a + anonymous → 2 rows, 1 account; mystery: 1 row, 1 account;
    # churned: new, churn0, react, reactgap ×2 → 5 rows, 4 accounts; reactivated: 2; ...
    expected = (
        stream.filter(pl.col("touchpoint").is_null())
        .group_by("event", "source")
        .agg(
            pl.len().cast(pl.Int64).alias("rows"),
            pl.col("account_id").drop_nulls().n_unique().cast(pl.Int64).alias("accounts"),
        )
        .sort(["rows", "event"], descending=[True, False])
    )
    assert out.equals(expected)
    got = {r[0]: r[2:] for r in out.rows()}
    assert got["churned"] == (5, 4)
    assert got["survey_answered"] == (2, 1)
    assert got["mystery"] == (1, 1)
    assert out.columns == ["event", "source", "rows", "accounts"]
    assert out["rows"].to_list() == sorted(out["rows"].to_list(), reverse=True)


def test_touchpoint_inventory_in_template_order(constructor):
    stream = journey_events(_tables(constructor), TEMPLATE)
    out = touchpoint_inventory(constructor(stream), TEMPLATE)
    assert out.columns == [
        "touchpoint",
        "label",
        "stage",
        "kind",
        "channel",
        "events",
        "accounts",
        "share",
        "visitors",
        "covers",
    ]
    assert out["touchpoint"].to_list() == [tp.id for tp in TEMPLATE.touchpoints]
    rows = {r["touchpoint"]: r for r in out.iter_rows(named=True)}
    # accounts in the stream: a, b → denominator 2
    assert rows["website"] == {
        "touchpoint": "website",
        "label": "Website",
        "stage": "awareness",
        "kind": "direct",
        "channel": None,
        "events": 2,
        "accounts": 1,
        "share": 0.5,
        "visitors": 1,
        "covers": ["pageview"],
    }
    assert (rows["blog"]["events"], rows["blog"]["accounts"], rows["blog"]["label"]) == (
        2,
        1,
        "blog",
    )
    assert (rows["signup"]["events"], rows["signup"]["accounts"], rows["signup"]["share"]) == (
        2,
        2,
        1.0,
    )
    assert (rows["purchase"]["events"], rows["purchase"]["accounts"]) == (0, 0)
    assert (rows["product"]["events"], rows["product"]["accounts"]) == (2, 2)
    assert (rows["support"]["events"], rows["support"]["accounts"]) == (3, 2)
    # a different denominator
    other = touchpoint_inventory(stream, TEMPLATE, total_accounts=4)
    assert other.filter(pl.col("touchpoint") == "signup")["share"].item() == 0.5


def test_touchpoint_inventory_of_an_empty_stream_has_null_share():
    out = touchpoint_inventory(journey_events({}, TEMPLATE), TEMPLATE)
    assert out["events"].to_list() == [0] * 7
    assert out["share"].null_count() == 7


def test_account_stage_entries_first_event_per_stage(constructor):
    stream = journey_events(_tables(constructor, subscriptions=SUBS), TEMPLATE)
    out = account_stage_entries(constructor(stream), TEMPLATE)
    assert out.columns == ["account_id", "stage", "entered_at"]
    got = {(a, s): t for a, s, t in out.rows()}
    assert got[("a", "awareness")] == ts(2024, 1, 2)  # blog_read
    assert got[("a", "conversion")] == ts(2024, 1, 5, 10)  # signed_up
    assert got[("a", "retention")] == ts(2024, 1, 6)  # login
    assert got[("b", "conversion")] == ts(2024, 2, 1, 9, 30)
    assert got[("b", "retention")] == ts(2024, 1, 3)  # login before signup: entered anyway
    assert ("b", "awareness") not in got
    assert got[("renew", "conversion")] == ts(2024, 1)  # subscription_started
    assert got[("renew", "retention")] == ts(2024, 2)  # subscription_renewed
    assert None not in {a for a, _ in got}  # visitors are not accounts
    # sorted by account, then stage in template order
    order = {s: i for i, s in enumerate(TEMPLATE.stage_ids)}
    keys = [(a, order[s]) for a, s, _ in out.rows()]
    assert keys == sorted(keys)


def test_account_stage_entries_maps_an_unmapped_stream():
    raw = pl.DataFrame({"account_id": ["a"], "timestamp": [ts(2024, 1, 1)], "event": ["login"]})
    assert account_stage_entries(raw, TEMPLATE).rows() == [("a", "retention", ts(2024, 1, 1))]


# ---------------------------------------------------------------- property: movements
def _reference_events(mrr: dict[str, list[float | None]]) -> set[tuple]:
    """Brute force over a dense month grid; None = no row (MRR 0)."""
    n = len(next(iter(mrr.values())))
    present = [i for i in range(n) if any(v[i] is not None for v in mrr.values())]
    last = max(present)
    out = set()
    for acc, vals in mrr.items():
        c = [v or 0.0 for v in vals]
        paid_before = False
        for m in range(n):
            p = c[m - 1] if m > 0 else 0.0
            if m > last:
                break
            if c[m] > 0 and p == 0:
                out.add((acc, "reactivated" if paid_before else "subscription_started", m))
            if c[m] > 0 and p > 0:
                out.add((acc, "subscription_renewed", m))
                if c[m] > p:
                    out.add((acc, "expanded", m))
                if c[m] < p:
                    out.add((acc, "contracted", m))
            if c[m] == 0 and p > 0:
                out.add((acc, "churned", m))
            paid_before = paid_before or c[m] > 0
    return out


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "c", "d"]),
        st.lists(
            st.one_of(st.none(), st.sampled_from([0.0, 5.0, 10.0, 20.0])), min_size=6, max_size=6
        ),
        min_size=1,
        max_size=4,
    )
)
def test_subscription_events_match_a_brute_force_reading(mrr):
    rows = [
        (acc, dt.date(2024, m + 1, 1), v)
        for acc, vals in mrr.items()
        for m, v in enumerate(vals)
        if v is not None
    ]
    if not rows:
        return
    subs = pl.DataFrame(
        rows, schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64}, orient="row"
    )
    got = {(a, e, t.month - 1) for a, e, t in triples(derived_events(subscriptions=subs))}
    assert got == _reference_events(mrr)


def test_a_part_of_the_subscriptions_churns_up_to_the_whole_tables_last_month():
    """The store derives each bucket's rows from its accounts alone, with the whole table's end."""
    from journeylib.frames import collect
    from journeylib.months import month_index_expr
    from journeylib.stream.derived import derived_lazy

    subs = pl.DataFrame(
        {"account_id": ["a", "b", "b", "b"], "mrr": [10.0, 5.0, 5.0, 5.0]},
    ).with_columns(
        month=pl.Series([dt.date(2024, 1, 1), *(dt.date(2024, m, 1) for m in (1, 2, 3))])
    )
    end = subs.select(month_index_expr("month").max()).item()
    a = subs.filter(pl.col("account_id") == "a")

    def churns(frame, **kw):
        rows = collect(derived_lazy(subscriptions=frame, **kw)).filter(pl.col("event") == "churned")
        return rows["timestamp"].dt.date().to_list()

    assert churns(subs) == [dt.date(2024, 2, 1)]  # a paid January only: churned on February 1st
    assert churns(a) == []  # alone, January is the table's last month: not churned yet
    assert churns(a, subscriptions_end=end) == [dt.date(2024, 2, 1)]
