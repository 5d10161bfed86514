"""Milestone tables (journeylib.analysis.milestones), checked against the milestone metric."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

import journeylib as jl
from journeylib.analysis import milestones


def test_milestone_helpers_agree_with_the_metric(world, tmp_path):
    client, doc, stream = world
    table = milestones.milestone_table(client, stream)
    times = milestones.milestone_times(client, stream)
    stuck = milestones.stuck_table(client, stream, out_dir=tmp_path)
    assert table["id"].to_list() == [m.id for m in client.config.milestones]
    for r in table.iter_rows(named=True):
        mine = times.filter(pl.col("id") == r["id"])
        assert mine.height == r["signups"]
        assert mine["reached"].sum() == r["reached"]
        assert stuck.filter(pl.col("milestone") == r["label"]).height == r["signups"] - r["reached"]
    written = pl.read_csv(tmp_path / "tables" / "stuck_before_milestones.csv")
    assert written.height == stuck.height


def test_milestone_helpers_without_milestones(world):
    client, _, stream = world
    bare = dataclasses.replace(client, config=client.config.model_copy(update={"milestones": []}))
    assert milestones.milestone_times(bare, stream).height == 0
    assert milestones.stuck_table(bare, stream).height == 0


def test_milestone_revenue_splits_signups(world):
    client, _, stream = world
    rev = milestones.milestone_revenue(client, stream)
    table = milestones.milestone_table(client, stream)
    assert rev["id"].to_list() == table["id"].to_list()
    for r, t in zip(rev.iter_rows(named=True), table.iter_rows(named=True), strict=True):
        assert r["signups_reached"] == t["reached"]
        assert r["signups_reached"] + r["signups_not_reached"] == t["signups"]
    # hand check of the first milestone: MRR of the last month over the reachers
    first = rev.row(0, named=True)
    times = milestones.milestone_times(client, stream).filter(
        pl.col("id") == first["id"], pl.col("reached")
    )
    last = jl.resolve_period(client)[1]
    subs = client.tables["subscriptions"].filter(pl.col("month").dt.strftime("%Y-%m") == last)
    total = subs.filter(pl.col("account_id").is_in(times["account_id"].implode()))["mrr"].sum()
    assert first["mrr_per_signup_reached"] == pytest.approx(total / times.height)
