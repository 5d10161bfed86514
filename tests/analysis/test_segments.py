"""Data-driven segments (journeylib.analysis.segments)."""

from __future__ import annotations

import polars as pl
import pytest

from journeylib.analysis import segments
from tests.analysis.analysis_helpers import PERIOD, SUBS, ts


def three_groups() -> pl.DataFrame:
    """Twelve accounts in three obvious groups of company size and industry."""
    sizes = [5, 6, 7, 8, 300, 320, 340, 360, 5000, 6000, 7000, 8000]
    inds = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    return pl.DataFrame(
        {
            "account_id": [f"x{i:02d}" for i in range(12)],
            "first_seen_at": [ts(1)] * 12,
            "company_size": sizes,
            "industry": inds,
        }
    )


def test_suggest_segments_recovers_obvious_groups():
    acc = three_groups()
    assign, desc = segments.suggest_segments(acc, None, None, k=3, seed=1)
    assert desc["size"].to_list() == [4, 4, 4]
    assert desc["share"].sum() == pytest.approx(1.0)
    # each true group lands in exactly one segment
    joined = (
        assign.join(acc, on="account_id").group_by("industry").agg(pl.col("segment").n_unique())
    )
    assert joined["segment"].to_list() == [1, 1, 1]
    words = dict(
        zip(
            assign.join(acc, on="account_id")["industry"],
            assign.join(acc, on="account_id")["segment"],
            strict=True,
        )
    )
    text = dict(zip(desc["segment"], desc["description"], strict=True))
    assert text[words["a"]].startswith("small companies (median 6 employees)")
    assert text[words["b"]].startswith("mid-size companies (median 330 employees)")
    assert text[words["c"]].startswith("large companies (median 6,500 employees)")


def test_suggest_segments_is_deterministic_and_picks_k(small):
    s = small
    args = (s.c.tables["accounts"], s.stream, s.c.table("subscriptions"))
    kw = {"period": s.period, "first_value_event": s.c.config.first_value.event}
    a1, d1 = segments.suggest_segments(*args, **kw)
    a2, d2 = segments.suggest_segments(*args, **kw)
    assert a1.equals(a2) and d1.equals(d2)
    assert 3 <= d1.height <= 6
    assert a1.height == s.c.tables["accounts"].height
    assert d1["size"].sum() == a1.height
    assert d1["size"].to_list() == sorted(d1["size"].to_list(), reverse=True)  # S1 largest
    assert d1["description"].str.len_chars().min() > 20
    assert d1["silhouette"].n_unique() == 1


def test_suggest_segments_tiny_and_empty():
    acc = three_groups().head(3)
    assign, desc = segments.suggest_segments(acc, None, None)
    assert assign.height == 3 and desc["size"].sum() == 3
    empty_a, empty_d = segments.suggest_segments(acc.head(0), None, None)
    assert empty_a.height == 0 and empty_d.height == 0


def test_segment_features_hand_computed(constructor):
    acc = pl.DataFrame(
        {
            "account_id": ["a", "b"],
            "first_seen_at": [ts(1), ts(1)],
            "signup_at": [ts(1, 1), None],
            "industry": ["x", None],
            "company_size": [10, None],
        }
    )
    stream = pl.DataFrame(
        {
            "account_id": ["a", "a", "a", "a", "b"],
            "timestamp": [ts(1, 2), ts(1, 3), ts(2, 1), ts(1, 11), ts(3, 1)],
            "event": ["login", "login", "login", "report", "login"],
            "touchpoint": ["app", "app", "app", "reports", None],
            "source": ["events", "events", "events", "events", "events"],
        }
    )
    f = segments.segment_features(
        constructor(acc),
        constructor(stream),
        constructor(SUBS.filter(pl.col("account_id") == "a")),
        period=PERIOD,
        first_value_event="report",
    )
    a, b = f.row(0, named=True), f.row(1, named=True)
    # a: 4 events over 2 active months; 2 touchpoints; report 10 days after signup; paid; Mar MRR 10
    assert (a["events_per_active_month"], a["distinct_touchpoints"]) == (2.0, 2)
    assert a["days_to_first_value"] == pytest.approx(10.0)
    assert (a["paid"], a["mrr"]) == (1, 10.0)
    assert (b["events_per_active_month"], b["distinct_touchpoints"], b["paid"]) == (1.0, 0, 0)
    assert b["days_to_first_value"] is None
    assert b["industry_group"] == "other"


def test_persona_segment_crosstab():
    acc = pl.DataFrame({"account_id": list("abcd"), "persona": ["x", "x", "y", None]})
    seg = pl.DataFrame({"account_id": list("abcd"), "segment": ["S1", "S10", "S2", "S1"]})
    out = segments.persona_segment_crosstab(acc, seg)
    assert out.columns == ["persona", "S1", "S2", "S10", "total"]
    assert out.rows() == [("unassigned", 1, 0, 0, 1), ("x", 1, 0, 1, 2), ("y", 0, 1, 0, 1)]


def test_a_large_client_is_clustered_from_the_sample_s_centres(monkeypatch):
    # Above the sample size, k is chosen on a sample and every account is then
    # assigned by one k-means run from the sample's centres: the obvious groups
    # still come out whole, every account assigned, the same answer twice.
    sizes = [5, 6, 7, 8, 300, 320, 340, 360, 5000, 6000, 7000, 8000]
    acc = pl.DataFrame(
        {
            "account_id": [f"x{i:03d}" for i in range(120)],
            "first_seen_at": [ts(1)] * 120,
            "company_size": sizes * 10,
            "industry": (["a"] * 4 + ["b"] * 4 + ["c"] * 4) * 10,
        }
    )
    monkeypatch.setattr(segments, "_K_SAMPLE", 30)
    assign, desc = segments.suggest_segments(acc, None, None, seed=2, k_range=(3,))
    again = segments.suggest_segments(acc, None, None, seed=2, k_range=(3,))
    assert assign.equals(again[0]) and desc.equals(again[1])
    assert assign.height == 120 and desc["size"].to_list() == [40, 40, 40]
    per_group = (
        assign.join(acc, on="account_id").group_by("industry").agg(pl.col("segment").n_unique())
    )
    assert per_group["segment"].to_list() == [1, 1, 1]
    assert desc["silhouette"][0] is not None
