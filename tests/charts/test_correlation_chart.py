"""The funnel correlation chart: its spec through ``to_dict()`` and its SVG/PNG rendering."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest

from journeylib.analysis.correlation import CorrelationResult
from journeylib.charts.correlation import chart_correlation
from journeylib.charts.theme import BAD, GOOD
from journeylib.present import render


def walk(spec: Any):
    if isinstance(spec, dict):
        yield spec
        for v in spec.values():
            yield from walk(v)
    elif isinstance(spec, list):
        for v in spec:
            yield from walk(v)


def _event(name, s, f, ratio, p):
    return (name, s, f, ratio, p, "success" if ratio > 1 else "failure")


@pytest.fixture(scope="module")
def result() -> CorrelationResult:
    events = pl.DataFrame(
        [
            _event("plan_selected", 160, 70, 1019.1, 3.7e-100),
            _event("sales_call", 52, 78, 2.55, 1.2e-5),
            _event("trial_session", 148, 466, 0.76, 0.50),
            _event("webinar", 2, 10, 0.21, 0.04),
            _event("rare", 2, 2, 1.6, 0.6),  # s + f = 4: not drawn
        ],
        schema=["event", "success_count", "failure_count", "odds_ratio", "p_value", "kind"],
        orient="row",
    )
    properties = pl.DataFrame(
        [
            ("industry", "education", 11, 22, 1.64, 0.22, "success"),
            ("acquisition_channel", "referral", 18, 87, 0.62, 0.063, "failure"),
            ("company_size", "10–50", 40, 60, 2.1, 0.01, "success"),
        ],
        schema=[
            "column",
            "value",
            "success_count",
            "failure_count",
            "odds_ratio",
            "p_value",
            "kind",
        ],
        orient="row",
    )
    return CorrelationResult(163, 503, events, properties)


def _values(spec: dict, i: int) -> list[dict]:
    """The rows of panel i (altair moves inline data to the spec's ``datasets``)."""
    return spec["datasets"][spec["vconcat"][i]["layer"][0]["data"]["name"]]


def test_two_panels_of_log_bars_centred_at_one(result):
    spec = chart_correlation(result).to_dict()
    assert len(spec["vconcat"]) == 2
    for panel in spec["vconcat"]:
        bars = panel["layer"][0]
        assert bars["mark"]["type"] == "bar"
        scale = bars["encoding"]["x"]["scale"]
        assert scale["type"] == "log"
        lo, hi = scale["domain"]
        assert lo * hi == pytest.approx(1.0)  # symmetric around 1 on the log axis
        assert bars["encoding"]["x2"]["field"] == "one"
        assert {"rule", "text"} <= {d["mark"]["type"] for d in panel["layer"]}


def test_items_are_the_json_lists_cut_and_sorted(result):
    spec = chart_correlation(result).to_dict()
    events, props = (_values(spec, i) for i in range(2))
    assert [r["label"] for r in events] == [
        "plan_selected",
        "webinar",
        "sales_call",
        "trial_session",
    ]
    strength = [abs(math.log(r["odds_ratio"])) for r in props]
    assert strength == sorted(strength, reverse=True)
    assert props[0]["label"] == "company_size: 10–50"


def test_colour_by_direction_and_faded_when_not_significant(result):
    spec = chart_correlation(result).to_dict()
    bars = spec["vconcat"][0]["layer"][0]["encoding"]
    assert bars["color"]["scale"]["range"] == [GOOD, BAD]
    assert bars["opacity"]["scale"]["range"] == [1.0, 0.35]
    rows = {r["label"]: r for r in _values(spec, 0)}
    solid, faded = bars["opacity"]["scale"]["domain"]
    assert rows["webinar"]["evidence"] == solid  # p = 0.04
    assert rows["trial_session"]["evidence"] == faded  # p = 0.50
    assert rows["webinar"]["direction"] == bars["color"]["scale"]["domain"][1]
    assert rows["plan_selected"]["p_text"] == "< 0.001"  # p = 3.7e-100
    tooltip = {t["field"] for t in bars["tooltip"]}
    assert {"p_text", "success_count", "failure_count", "text"} <= tooltip


def test_top_limits_each_list_and_title(result):
    spec = chart_correlation(result, top=1, title="Checkout").to_dict()
    assert [len(_values(spec, i)) for i in range(2)] == [1, 1]
    assert spec["title"]["text"] == "Checkout"
    assert "163 converted, 503 did not" in spec["title"]["subtitle"]


def test_ratio_labels():
    doc = {
        "success_total": 10,
        "failure_total": 10,
        "properties": [],
        "events": [
            {"event": e, "success_count": 5, "failure_count": 5, "odds_ratio": r}
            | {"p_value": 0.5, "kind": "success" if r > 1 else "failure"}
            for e, r in [("a", 721.4), ("b", 2.345), ("c", 0.0423)]
        ],
    }
    texts = [r["text"] for r in _values(chart_correlation(doc).to_dict(), 0)]
    assert texts == ["721×", "2.3×", "0.042×"]


def test_empty_result_says_so():
    empty = CorrelationResult(
        0,
        0,
        pl.DataFrame(
            schema={
                "event": pl.String,
                "success_count": pl.Int64,
                "failure_count": pl.Int64,
                "odds_ratio": pl.Float64,
                "p_value": pl.Float64,
                "kind": pl.String,
            }
        ),
        pl.DataFrame(
            schema={
                "column": pl.String,
                "value": pl.String,
                "success_count": pl.Int64,
                "failure_count": pl.Int64,
                "odds_ratio": pl.Float64,
                "p_value": pl.Float64,
                "kind": pl.String,
            }
        ),
    )
    spec = chart_correlation(empty).to_dict()
    texts = [r["text"] for rows in spec["datasets"].values() for r in rows]
    assert any("5 or more accounts" in t for t in texts)


@pytest.mark.slow
def test_renders_to_svg_and_png(result, tmp_path):
    chart = chart_correlation(result)
    svg = render.save_chart(chart, tmp_path / "correlation.svg").read_text()
    assert svg.lstrip().startswith("<svg")
    assert "plan_selected" in svg and "company_size: 10–50" in svg
    png = render.save_chart(chart, tmp_path / "correlation.png", scale=1).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 25_000  # a drawn chart, not a blank or error image
