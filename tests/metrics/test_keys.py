"""Integer account keys (metrics._keys): the polars paths keyed by hash give the text-keyed results."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from narwhals.exceptions import NarwhalsError

from journeylib.metrics import _keys, onboarding, retention, stages
from journeylib.metrics._keys import account_month_key, account_part, keys_distinct

UTC = dt.UTC
TS = pl.Datetime("us", "UTC")
PERIOD = ("2024-01", "2024-04")
STAGES = [("aware", "Awareness"), ("try", "Trial"), ("buy", "Purchase")]
EVENTS = ["login", "invite", "page"]
WEIGHTS = {"login": 1.0, "invite": 5.0}


def test_keys_distinct_on_ids():
    ids = pl.LazyFrame({"account_id": ["a", "b", "a", None, "c"]})
    assert keys_distinct(ids)
    assert keys_distinct(ids, months=256)
    # More months than the key's low bits hold: no account-month keys (text keys).
    assert not keys_distinct(ids, months=257)


def test_keys_distinct_finds_a_collision(monkeypatch):
    # Every id hashed to one key: two distinct ids share it.
    monkeypatch.setattr(_keys, "account_key", lambda col="account_id": pl.lit(7, pl.UInt64))
    assert not keys_distinct(pl.LazyFrame({"account_id": ["a", "b"]}))
    assert keys_distinct(pl.LazyFrame({"account_id": ["a", "a"]}))


def test_account_month_key_round_trips():
    df = pl.DataFrame({"account_id": ["x", "y"], "m": [0, 255]}).select(
        account_month_key(pl.col("m")).alias("k"),
        account_part(_keys.account_key()).alias("a"),
    )
    assert df.select(account_part(pl.col("k")) == pl.col("a")).to_series().all()
    assert df.select(_keys.month_part(pl.col("k"))).to_series().to_list() == [0, 255]


# ---------------------------------------------------------------- random clients
def _ts(day: int, minute: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(days=day, minutes=minute)


@st.composite
def clients(draw):
    n_acc = draw(st.integers(1, 8))
    ids = [f"acc{i}" for i in range(n_acc)]
    acc_rows = [
        (a, _ts(draw(st.integers(0, 150)), 0), _ts(draw(st.integers(0, 150)), 1)) for a in ids
    ]
    accounts = pl.DataFrame(
        acc_rows,
        schema={"account_id": pl.String, "first_seen_at": TS, "signup_at": TS},
        orient="row",
    )
    ev_rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from([*ids, None]),
                st.integers(-10, 160),
                st.integers(0, 1439),
                st.sampled_from(EVENTS),
                st.sampled_from([s for s, _ in STAGES] + ["other", None]),
            ),
            max_size=60,
        )
    )
    stream = pl.DataFrame(
        [(a, _ts(d, m), e, s) for a, d, m, e, s in ev_rows],
        schema={"account_id": pl.String, "timestamp": TS, "event": pl.String, "stage": pl.String},
        orient="row",
    )
    sub_rows = draw(
        st.lists(
            st.tuples(st.sampled_from(ids), st.integers(0, 4), st.sampled_from([0.0, 10.0])),
            max_size=20,
        )
    )
    subs = pl.DataFrame(
        [(a, dt.date(2024, 1 + m, 1) if m < 12 else None, r) for a, m, r in sub_rows],
        schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64},
        orient="row",
    ).unique(subset=["account_id", "month"])
    return accounts, stream, subs


def _all_three(accounts, stream, subs):
    return (
        stages.stage_funnel(stream, accounts, period=PERIOD, stages=STAGES),
        stages.stage_entries(stream, accounts, period=PERIOD, stages=STAGES),
        retention.activity_retention(accounts, stream, period=PERIOD),
        onboarding.engagement_scores(
            stream, subs, weights=WEIGHTS, period=PERIOD, accounts=accounts
        ),
    )


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
@settings(max_examples=40, deadline=None)
@given(data=clients())
def test_keyed_paths_equal_text_paths(lazy, data):
    accounts, stream, subs = data
    if lazy:
        stream = stream.lazy()
    keyed = _all_three(accounts, stream, subs)
    # The same functions with the keyed paths switched off: text keys (the narwhals plan).
    with pytest.MonkeyPatch.context() as mp:
        for mod in (stages, retention, onboarding):
            mp.setattr(mod, "keyed", lambda *frames, **kw: False)
        text = _all_three(accounts, stream, subs)
    for a, b in zip(keyed, text, strict=True):
        assert a.equals(b), (a, b)


def test_keyed_paths_are_taken(monkeypatch):
    """The polars runs above really go through the keyed code (so the comparison compares)."""
    calls = []
    for mod, name in [
        (stages, "_entries_by_key"),
        (retention, "_active_by_key"),
        (onboarding, "_scored_by_key"),
    ]:
        orig = getattr(mod, name)

        def spy(*a, _orig=orig, _name=name, **k):
            calls.append(_name + (" packed" if k.get("packed") else ""))
            return _orig(*a, **k)

        monkeypatch.setattr(mod, name, spy)
    accounts = pl.DataFrame(
        {"account_id": ["a"], "first_seen_at": [_ts(0, 0)], "signup_at": [_ts(0, 0)]}
    )
    stream = pl.DataFrame(
        {"account_id": ["a"], "timestamp": [_ts(1, 0)], "event": ["login"], "stage": ["aware"]}
    )
    subs = pl.DataFrame({"account_id": ["a"], "month": [dt.date(2024, 1, 1)], "mrr": [1.0]})
    _all_three(accounts, stream, subs)
    assert sorted(set(calls)) == ["_active_by_key", "_entries_by_key", "_scored_by_key"]
    calls.clear()
    _all_three(accounts, stream.lazy(), subs)  # a lazy stream: stage packed into the key
    assert sorted(set(calls)) == ["_active_by_key", "_entries_by_key packed", "_scored_by_key"]


def test_collision_falls_back_to_text_keys(monkeypatch):
    """Two ids with one key: the functions group by the text ids and stay exact."""
    monkeypatch.setattr(_keys, "account_key", lambda col="account_id": pl.lit(7, pl.UInt64))
    for mod in (stages, retention):
        monkeypatch.setattr(mod, "account_key", _keys.account_key)
    accounts = pl.DataFrame(
        {
            "account_id": ["a", "b"],
            "first_seen_at": [_ts(0, 0)] * 2,
            "signup_at": [_ts(0, 0)] * 2,
        }
    )
    stream = pl.DataFrame(
        {
            "account_id": ["a", "b", "b"],
            "timestamp": [_ts(1, 0), _ts(2, 0), _ts(40, 0)],
            "event": ["login", "invite", "login"],
            "stage": ["aware", "try", "buy"],
        }
    )
    funnel = stages.stage_funnel(stream, accounts, period=PERIOD, stages=STAGES)
    # a entered aware; b entered try and buy (so reached aware and try too).
    assert funnel["reached"].to_list() == [2, 1, 1]
    ret = retention.activity_retention(accounts, stream, period=PERIOD)
    assert ret.filter(pl.col("cohort") == "2024-01")["active"].to_list()[:2] == [2, 1]


def test_ids_of_another_type_take_the_text_path():
    """A Categorical account_id hashes differently from its text: no keys, the text path decides."""
    t = _ts(0, 0)
    acc = pl.DataFrame({"account_id": ["a", "b"], "first_seen_at": [t] * 2, "signup_at": [t] * 2})
    ev = pl.DataFrame(
        {"account_id": ["a", "b"], "timestamp": [_ts(1, 0), _ts(2, 0)], "stage": ["aware"] * 2}
    ).with_columns(pl.col("account_id").cast(pl.Categorical))
    assert not _keys.keyed(acc, ev)
    with pytest.raises(NarwhalsError, match="join keys"):  # the text join refuses them
        stages.stage_funnel(ev, acc, period=PERIOD, stages=STAGES)
    with pytest.raises(NarwhalsError, match="join keys"):
        retention.activity_retention(acc, ev, period=PERIOD)
