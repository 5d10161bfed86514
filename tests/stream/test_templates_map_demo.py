"""Both shipped templates place most of the demo client's events on the journey."""

from __future__ import annotations

import polars as pl
import pytest

from journeylib.config import load_template
from journeylib.paths import data_dir, templates_dir
from journeylib.stream import journey_events, touchpoint_inventory, unmapped_events

TEMPLATES = ["saas_5_stage", "b2b_saas_8_stage"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo client: data/demo when present, else a small synthetic client like it."""
    io = pytest.importorskip("journeylib.ingest.client")
    if (data_dir() / "demo" / "client.yaml").is_file():
        return io.load_client("demo")
    synth = pytest.importorskip("journeylib.sources.synth")
    folder = tmp_path_factory.mktemp("clients") / "demo"
    synth.synthesize(folder, accounts=150, months=6, seed=3)
    return io.load_client(folder)


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_maps_most_demo_events(demo, name):
    if not (templates_dir() / "journeys" / f"{name}.yaml").is_file():
        pytest.skip(f"templates/journeys/{name}.yaml not written yet")
    template = load_template(name)
    stream = journey_events(demo.tables, template)
    assert stream.height > 0
    mapped_rows = stream["touchpoint"].is_not_null().mean()
    raw = stream.filter(pl.col("source") == "events")
    raw_names = raw["event"].unique()
    mapped_names = raw.filter(pl.col("touchpoint").is_not_null())["event"].unique()
    # "most": nine rows in ten, and all but a few raw event names
    assert mapped_rows >= 0.9, f"{name}: only {mapped_rows:.0%} of rows mapped"
    assert mapped_names.len() >= raw_names.len() - 3
    # the derived revenue moments that exist in the demo are placed on the journey
    derived = stream.filter(pl.col("source") == "subscriptions")
    started = derived.filter(pl.col("event") == "subscription_started")
    assert started.height > 0 and started["touchpoint"].null_count() == 0
    # the mapped stages are the template's, most of them are reached; unmapped events are listed
    seen = set(stream["stage"].drop_nulls())
    assert seen <= set(template.stage_ids)
    assert len(seen) >= len(template.stage_ids) - 1
    unmapped = unmapped_events(stream)
    assert unmapped["rows"].sum() == stream["touchpoint"].null_count()
    inv = touchpoint_inventory(stream, template)
    assert inv.height == len(template.touchpoints)
    assert inv["events"].sum() == stream["touchpoint"].is_not_null().sum()
