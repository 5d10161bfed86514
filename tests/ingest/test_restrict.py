"""restrict_to_accounts: keep some accounts' rows in every table, on every kind of frame.

Hand-made tables: events with an anonymous row, subscriptions, and a marketing
table without ``account_id`` (kept whole). The expected rows are written out.
"""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from journeylib.ingest.restrict import restrict_to_accounts

EVENTS = pl.DataFrame(
    {
        "account_id": ["a", None, "b", "c", "a"],
        "event": ["login", "page_view", "login", "signup", "report"],
    }
)
SUBSCRIPTIONS = pl.DataFrame({"account_id": ["c", "a"], "plan": ["pro", "free"]})
MARKETING = pl.DataFrame({"month": ["2024-01", "2024-02"], "spend": [10.0, 20.0]})


def tables(kind):
    return {
        "events": kind(EVENTS),
        "subscriptions": kind(SUBSCRIPTIONS),
        "marketing": kind(MARKETING),
    }


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_polars_frames_keep_their_kind_order_and_company_tables(lazy):
    kind = (lambda f: f.lazy()) if lazy else (lambda f: f)
    out = restrict_to_accounts(tables(kind), pl.Series(["a", "c"]))
    frame_type = pl.LazyFrame if lazy else pl.DataFrame
    assert all(isinstance(f, frame_type) for f in out.values())
    got = {name: (f.collect() if lazy else f) for name, f in out.items()}
    # a filter, not a join: rows keep their order, the anonymous row drops out
    assert got["events"]["event"].to_list() == ["login", "signup", "report"]
    assert got["subscriptions"]["plan"].to_list() == ["pro", "free"]
    assert got["marketing"].equals(MARKETING)
    assert list(out) == ["events", "subscriptions", "marketing"]


def test_the_company_table_is_the_same_object():
    given = tables(lambda f: f)
    out = restrict_to_accounts(given, pl.Series(["b"]))
    assert out["marketing"] is given["marketing"]
    assert out["events"]["account_id"].to_list() == ["b"]


def test_no_ids_keeps_every_row_and_every_frame():
    given = tables(lambda f: f.lazy())
    out = restrict_to_accounts(given, None)
    assert out is not given and all(out[name] is frame for name, frame in given.items())
    assert out["events"].collect()["account_id"].null_count() == 1


def test_no_account_keeps_no_row():
    out = restrict_to_accounts(tables(lambda f: f), pl.Series("account_id", [], dtype=pl.String))
    assert out["events"].height == 0 and out["subscriptions"].height == 0
    assert out["marketing"].height == 2


def test_ids_given_as_a_frame():
    ids = pl.DataFrame({"account_id": ["c", "c"], "name": ["C", "C"]})
    out = restrict_to_accounts({"events": EVENTS}, ids)
    assert out["events"]["event"].to_list() == ["signup"]


def test_duckdb_relations():
    con = duckdb.connect()
    try:
        given = {name: con.from_arrow(f.to_arrow()) for name, f in tables(lambda f: f).items()}
        out = restrict_to_accounts(given, pl.Series(["a", "c"]))
        assert all(isinstance(f, duckdb.DuckDBPyRelation) for f in out.values())
        events = pl.from_arrow(out["events"].arrow())
        assert sorted(events["event"].to_list()) == ["login", "report", "signup"]
        assert sorted(pl.from_arrow(out["subscriptions"].arrow())["plan"].to_list()) == [
            "free",
            "pro",
        ]
        assert pl.from_arrow(out["marketing"].arrow()).height == 2
        # ids as a relation: a semi join
        keep = con.from_arrow(pl.DataFrame({"account_id": ["b"]}).to_arrow())
        out = restrict_to_accounts(given, keep)
        assert pl.from_arrow(out["events"].arrow())["event"].to_list() == ["login"]
    finally:
        con.close()
