"""The paths Sankey (journeylib.charts.paths): its spec carries the nodes and links, and it renders."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import polars as pl
import pytest

from journeylib.analysis.paths import OTHER, PathsResult, paths, paths_json
from journeylib.charts.paths import chart_paths
from journeylib.errors import DataError

NODES = pl.DataFrame(
    {
        "step": [1, 1, 2, 2, 2, 3, 3],
        "item": ["signed_up", "website_visit", "trial_started", "pricing_page_viewed", OTHER]
        + ["trial_session", "a_very_long_event_name_that_needs_cutting_short"],
        "accounts": [90, 10, 60, 25, 5, 40, 20],
        "dropped": [10, 0, 0, 25, 5, 40, 20],
    }
)
EDGES = pl.DataFrame(
    {
        "step": [1, 1, 1, 1, 2, 2],
        "source": ["signed_up", "signed_up", "signed_up", "website_visit", "trial_started"]
        + ["trial_started"],
        "target": ["trial_started", "pricing_page_viewed", OTHER, "trial_started"]
        + ["trial_session", "a_very_long_event_name_that_needs_cutting_short"],
        "accounts": [50, 25, 5, 10, 40, 20],
    }
)
RESULT = PathsResult(
    nodes=NODES, edges=EDGES, accounts=100, level="event", start="signed_up", end=None, steps=3
)


def layers(chart) -> dict[str, list[dict]]:
    spec = chart.to_dict()
    # altair moves inline data to the spec's datasets, by name
    return {layer["name"]: spec["datasets"][layer["data"]["name"]] for layer in spec["layer"]}


def test_spec_carries_every_node_and_link():
    got = layers(chart_paths(RESULT))
    nodes = {(r["step"], r["item"]): (r["accounts"], r["dropped"]) for r in got["nodes"]}
    assert nodes == {
        (s, i): (a, d) for s, i, a, d in NODES.select("step", "item", "accounts", "dropped").rows()
    }
    links = {(r["step"], r["source"], r["target"]): r["accounts"] for r in got["links"]}
    assert links == {(s, a, b): n for s, a, b, n in EDGES.rows()}
    # one band per edge, drawn as a smooth area over sampled x positions
    per_link = defaultdict(list)
    for r in got["links"]:
        per_link[r["link"]].append(r)
    assert len(per_link) == EDGES.height
    assert all(len(v) > 10 for v in per_link.values())


def test_bands_are_as_wide_as_their_accounts_and_fill_their_nodes():
    got = layers(chart_paths(RESULT))
    node = {(r["step"], r["item"]): r for r in got["nodes"]}
    px = {k: (r["y2"] - r["y"]) / r["accounts"] for k, r in node.items()}
    k = px[(1, "signed_up")]
    assert all(v == pytest.approx(k) for v in px.values())
    out = defaultdict(float)
    inflow = defaultdict(float)
    for r in got["links"]:
        first = min(x["x"] for x in got["links"] if x["link"] == r["link"])
        last = max(x["x"] for x in got["links"] if x["link"] == r["link"])
        assert r["y2"] - r["y"] == pytest.approx(r["accounts"] * k)
        if r["x"] == first:  # leaves its source's right side inside the node
            src = node[(r["step"], r["source"])]
            assert r["x"] == pytest.approx(src["x2"])
            assert src["y"] - 1e-6 <= r["y"] and r["y2"] <= src["y2"] + 1e-6
            out[(r["step"], r["source"])] += r["y2"] - r["y"]
        if r["x"] == last:  # and enters its target's left side
            tgt = node[(r["step"] + 1, r["target"])]
            assert r["x"] == pytest.approx(tgt["x"])
            assert tgt["y"] - 1e-6 <= r["y"] and r["y2"] <= tgt["y2"] + 1e-6
            inflow[(r["step"] + 1, r["target"])] += r["y2"] - r["y"]
    # what leaves a node plus its grey end is the whole node (steps before the last)
    ends = {(r["step"], r["item"]): r["y2"] - r["y"] for r in got["ends"]}
    for key, r in node.items():
        if key[0] < 3:
            assert out[key] + ends.get(key, 0.0) == pytest.approx(r["y2"] - r["y"])
    assert inflow[(2, "trial_started")] == pytest.approx(60 * k)
    # the last step's nodes end every path there: no grey ends drawn for them
    assert set(ends) == {(1, "signed_up"), (2, "pricing_page_viewed"), (2, OTHER)}


def test_labels_titles_and_inputs():
    chart = chart_paths(RESULT)
    spec = chart.to_dict()
    assert spec["title"]["text"] == "Paths from signed_up"
    got = layers(chart)
    texts = {r["item"]: r["text"] for r in got["labels"]}
    assert texts["signed_up"] == ["signed_up", "90 · 90%"]
    long = texts.get("a_very_long_event_name_that_needs_cutting_short")
    assert long is not None and long[0].endswith("…") and len(long[0]) < 40
    assert [r["text"] for r in got["steps"]] == ["Step 1", "Step 2", "Step 3"]
    # the same chart from the JSON dict or a (nodes, edges) pair
    assert layers(chart_paths(paths_json(RESULT))) == got
    assert layers(chart_paths((NODES, EDGES))) == got
    assert chart_paths((NODES, EDGES), title="Mine").to_dict()["title"]["text"] == "Mine"
    # names shown for ids, in labels, tooltips and the title; the data keeps the ids
    named = chart_paths(RESULT, labels={"signed_up": "Sign-up", "trial_started": "Trial"})
    assert named.to_dict()["title"]["text"] == "Paths from Sign-up"
    got = layers(named)
    assert {r["item"]: r["text"][0] for r in got["labels"]}["signed_up"] == "Sign-up"
    assert {(r["source"], r["from_name"], r["to_name"]) for r in got["links"]} >= {
        ("signed_up", "Sign-up", "Trial")
    }
    with pytest.raises(DataError, match="edges between nodes that are not there"):
        chart_paths((NODES.filter(pl.col("step") < 3), EDGES))


def test_chart_of_a_computed_result_and_of_no_paths():
    t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)  # noqa: E731
    events = pl.DataFrame(
        {
            "account_id": ["a", "a", "b", "b", "c"],
            "timestamp": [t(1), t(2), t(1), t(3), t(1)],
            "event": ["view", "buy", "view", "help", "view"],
        }
    )
    r = paths(events, period=None, end="buy", steps=3)
    assert chart_paths(r).to_dict()["title"]["text"] == "Paths to buy"
    empty = paths(events, period=("2024-02", "2024-02"))
    got = layers(chart_paths(empty))
    assert got["nodes"] == [] and got["links"] == []


def test_chart_in_another_language():
    from journeylib.i18n import use_language

    with use_language("zh"):
        got = layers(chart_paths(RESULT))
    assert len(got["steps"]) == 3 and got["nodes"]


def test_an_arabic_page_runs_the_paths_from_the_right():
    from journeylib.i18n import use_language

    ltr = layers(chart_paths(RESULT))
    with use_language("ar"):
        rtl_chart = chart_paths(RESULT)
    rtl = layers(rtl_chart)
    step_x = {r["step"]: r["x"] for r in rtl["nodes"]}
    assert step_x[1] > step_x[2] > step_x[3]
    # the drawing is the left-to-right one mirrored: same widths, same heights
    width = {(r["step"], r["item"]): r["x2"] - r["x"] for r in ltr["nodes"]}
    assert {(r["step"], r["item"]): r["x2"] - r["x"] for r in rtl["nodes"]} == width
    assert sorted(r["y"] for r in rtl["links"]) == sorted(r["y"] for r in ltr["links"])
    spec = rtl_chart.to_dict()
    aligns = {layer["name"]: layer["mark"].get("align") for layer in spec["layer"]}
    assert aligns["labels"] == aligns["steps"] == "right"


@pytest.mark.slow
def test_renders_to_svg_and_png(tmp_path):
    from journeylib.present import render

    chart = chart_paths(RESULT)
    svg = render.save_chart(chart, tmp_path / "paths.svg").read_text()
    assert svg.startswith("<svg") and "trial_started" in svg and "linearGradient" in svg
    png = render.save_chart(chart, tmp_path / "paths.png", scale=1).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 25_000
