"""Results shared inside one computation (journeylib.metrics._memo)."""

from __future__ import annotations

import gc
import weakref

import polars as pl
import pytest

from journeylib.metrics import _memo
from journeylib.metrics._memo import keep_results, once, shared_results


def test_once_computes_once_per_frame_inside_the_block_only():
    a, b = pl.DataFrame({"x": [1]}), pl.DataFrame({"x": [1]})
    calls: list[str] = []

    def compute(name: str) -> str:
        calls.append(name)
        return name

    with shared_results():
        assert once("k", a, lambda: compute("a1")) == "a1"
        assert once("k", a, lambda: compute("a2")) == "a1"  # served
        assert once("other", a, lambda: compute("a3")) == "a3"  # another kind
        assert once("k", b, lambda: compute("b1")) == "b1"  # an equal but other frame
    assert once("k", a, lambda: compute("a4")) == "a4"  # no block: computed
    assert calls == ["a1", "a3", "b1", "a4"]


def test_nested_blocks_do_not_share_and_frames_go_when_the_block_ends():
    frame = pl.DataFrame({"x": [1, 2]})
    ref = weakref.ref(frame)
    with shared_results():
        once("k", frame, lambda: 1)
        with shared_results():
            assert once("k", frame, lambda: 2) == 2
        assert once("k", frame, lambda: 3) == 1
    del frame
    gc.collect()
    assert ref() is None


def test_kept_results_outlive_the_block_and_the_oldest_go(monkeypatch):
    monkeypatch.setattr(_memo, "KEPT", 2)
    a, b, c = (pl.DataFrame({"x": [i]}) for i in range(3))
    calls: list[str] = []

    def compute(name: str) -> str:
        calls.append(name)
        return name

    keep_results()
    assert once("k", a, lambda: compute("a1")) == "a1"
    assert once("k", a, lambda: compute("a2")) == "a1"  # kept, no block needed
    with shared_results():
        assert once("k", a, lambda: compute("a3")) == "a1"
    assert once("k", (a, b), lambda: compute("ab")) == "ab"  # a tuple of frames
    assert once("k", (b, a), lambda: compute("ba")) == "ba"  # order matters
    assert once("k", (a, b), lambda: compute("ab2")) == "ab"
    once("k", c, lambda: compute("c1"))  # a third result: the oldest (a) goes
    assert once("k", a, lambda: compute("a4")) == "a4"
    with shared_results():  # a block's own results go with the block
        assert once("block", b, lambda: compute("b1")) == "b1"
        assert once("block", b, lambda: compute("b2")) == "b1"
    assert once("block", b, lambda: compute("b3")) == "b3"
    assert calls == ["a1", "ab", "ba", "c1", "a4", "b1", "b3"]


def test_a_notebook_kernel_finds_each_account_s_stage_entries_once(monkeypatch):
    from journeylib.metrics import stages
    from tests.metrics.test_stages import PERIOD, STAGES, accounts, day, stream

    acc = accounts([("a", day(1), "x"), ("b", day(1), "x")])
    ev = stream([("a", None, day(1), "s1", None), ("b", None, day(2), "s2", None)])
    real = stages._compute_period_entries
    calls = []
    monkeypatch.setattr(stages, "_compute_period_entries", lambda *a: calls.append(1) or real(*a))
    funnel = stages.stage_funnel(ev, acc, period=PERIOD, stages=STAGES)
    stages.stalled_accounts(ev, acc, period=PERIOD, stages=STAGES)
    assert len(calls) == 2  # no kept results: each computes its own
    keep_results()  # what setup() does in a notebook's kernel
    assert stages.stage_funnel(ev, acc, period=PERIOD, stages=STAGES).equals(funnel)
    stalled = stages.stalled_accounts(ev, acc, period=PERIOD, stages=STAGES)
    stages.stage_entries(ev, acc, period=PERIOD, stages=STAGES)
    assert len(calls) == 3
    assert stalled["furthest_stage"].to_list() == ["s1", "s2"]
    other = stages.stage_funnel(ev, acc, period=("2024-01", "2024-01"), stages=STAGES)
    assert len(calls) == 4 and other.height == funnel.height  # another period: computed


def test_period_entries_read_from_each_account_s_first_entries_equal_the_stream_s(monkeypatch):
    from journeylib.metrics import stages
    from tests.metrics.test_stages import PERIOD, STAGES, accounts, day, stream

    acc = accounts([("a", day(1), "x"), ("b", day(1), "x"), ("c", day(1), "x")])
    rows = [
        ("a", None, day(1), "s1", None),
        ("a", None, day(3), "s2", None),
        ("b", None, day(2), "s1", None),
        ("b", None, day(3, month=3), "s3", None),  # after the period: not entered by its end
        ("c", None, day(5), "s2", None),
    ]
    ev = stream(rows)
    # each account's first event of each stage over the whole stream (the accounts mart)
    firsts = ev.group_by("account_id", "stage").agg(pl.col("timestamp").min())
    mart = (
        firsts.pivot(on="stage", index="account_id", values="timestamp")
        .rename({s: f"entered_{s}" for s in ("s1", "s2", "s3")})
        .with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("entered_s4"))
    )
    want = stages.stage_funnel(ev, acc, period=PERIOD, stages=STAGES)
    stalled = stages.stalled_accounts(ev, acc, period=PERIOD, stages=STAGES)
    assert not stages.remember_period_entries(ev, acc, mart.lazy(), period=PERIOD, stages=STAGES)
    keep_results()
    assert not stages.remember_period_entries(
        ev, acc, mart.drop("entered_s4").lazy(), period=PERIOD, stages=STAGES
    )  # a stage without its column
    assert stages.remember_period_entries(ev, acc, mart.lazy(), period=PERIOD, stages=STAGES)
    monkeypatch.setattr(
        stages, "_compute_period_entries", lambda *a: pytest.fail("read the stream again")
    )
    assert stages.stage_funnel(ev, acc, period=PERIOD, stages=STAGES).equals(want)
    assert stages.stalled_accounts(ev, acc, period=PERIOD, stages=STAGES).equals(stalled)
