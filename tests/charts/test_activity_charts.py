"""The lifecycle and stickiness charts: their specs, and their SVG and PNG through vl-convert."""

from __future__ import annotations

import polars as pl
import pytest

from journeylib.charts.activity import LIFECYCLE_STATUSES, chart_lifecycle, chart_stickiness
from journeylib.charts.theme import BAD
from journeylib.errors import DataError
from journeylib.present import render

WEEKS = ["2024-12-30", "2025-01-06", "2025-01-13", "2025-01-20"]
LIFECYCLE = pl.DataFrame(
    {
        "start": WEEKS,
        "new": [40, 25, 31, 28],
        "returning": [120, 131, 140, 150],
        "resurrecting": [10, 14, 9, 12],
        "dormant": [-30, -39, -31, -29],
    }
)
STICKINESS = pl.DataFrame(
    {
        "month": ["2024-11", "2024-12", "2025-01", "2025-02"],
        "active_accounts": [180, 0, 200, 60],
        "dau_mau": [0.21, None, 0.24, 0.18],
        "days": [
            [60, 40, 30, 20, 10] + [5] * 4 + [0] * 22,
            [0] * 31,
            [50, 45, 35, 25, 15, 10] + [2] * 10 + [0] * 15,
            [20, 10, 10, 5, 5, 5, 3, 2] + [0] * 20 + [0, 0, 0],
        ],
    }
)


def values(spec: dict, view: dict) -> list[dict]:
    """The data rows of one view of a spec (altair moves inline data to named datasets)."""
    return spec["datasets"][view["data"]["name"]]


def test_lifecycle_spec_stacks_statuses_around_zero():
    spec = chart_lifecycle(LIFECYCLE).to_dict()
    bars, zero = spec["layer"]
    assert bars["mark"]["type"] == "bar" and zero["mark"]["type"] == "rule"
    enc = bars["encoding"]
    assert enc["x"]["field"] == "start" and enc["x"]["type"] == "ordinal"
    assert enc["y"] == {
        "field": "count",
        "type": "quantitative",
        "stack": "zero",
        "title": "Accounts",
    }
    assert enc["color"]["scale"]["domain"] == ["New", "Returning", "Resurrecting", "Dormant"]
    assert enc["color"]["scale"]["range"][3] == BAD
    assert enc["order"]["field"] == "order"
    rows = values(spec, bars)
    assert len(rows) == 4 * len(WEEKS)
    first = [v for v in rows if v["start"] == "2025-01-06"]
    assert [(v["status"], v["count"], v["accounts"]) for v in first] == [
        ("New", 25, 25),
        ("Returning", 131, 131),
        ("Resurrecting", 14, 14),
        ("Dormant", -39, 39),
    ]
    assert spec["title"]["text"] == "Lifecycle of active accounts"
    assert values(spec, zero) == [{"y": 0}]


def test_lifecycle_title_and_missing_columns():
    assert chart_lifecycle(LIFECYCLE, title="Weekly").to_dict()["title"]["text"] == "Weekly"
    with pytest.raises(DataError, match="missing columns"):
        chart_lifecycle(LIFECYCLE.drop("dormant"))
    assert [s[0] for s in LIFECYCLE_STATUSES] == ["new", "returning", "resurrecting", "dormant"]


def test_lifecycle_of_many_buckets_gets_a_step_width():
    days = pl.DataFrame(
        {
            "start": [f"2024-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)],
            "new": 1,
            "returning": 2,
            "resurrecting": 0,
            "dormant": -1,
        }
    )
    assert chart_lifecycle(days).to_dict()["width"] == {"step": 5}
    assert chart_lifecycle(LIFECYCLE).to_dict()["width"] == 640


def test_stickiness_spec_shows_the_latest_active_month_and_the_trend():
    spec = chart_stickiness(STICKINESS).to_dict()
    bars, trend = spec["vconcat"]
    assert bars["title"] == "Days active in 2025-02"
    assert bars["mark"]["type"] == "bar"
    assert bars["encoding"]["x"]["field"] == "days"
    assert bars["encoding"]["y"]["field"] == "accounts"
    rows = values(spec, bars)
    # February 2025 has 28 days: the bars stop there.
    assert [v["days"] for v in rows] == list(range(1, 29))
    assert [v["accounts"] for v in rows[:8]] == [20, 10, 10, 5, 5, 5, 3, 2]
    assert sum(v["accounts"] for v in rows) == 60
    assert rows[0]["share"] == pytest.approx(20 / 60)
    line, points = trend["layer"]
    assert line["mark"]["type"] == "line" and points["mark"]["type"] == "point"
    assert line["encoding"]["y"]["field"] == "dau_mau"
    trend_values = values(spec, trend)
    assert [(v["month"], v["dau_mau"]) for v in trend_values] == [
        ("2024-11", 0.21),
        ("2024-12", None),
        ("2025-01", 0.24),
        ("2025-02", 0.18),
    ]
    assert spec["title"]["text"] == "Stickiness"
    assert "18.0%" in spec["title"]["subtitle"]


def test_stickiness_without_activity_draws_empty_bars():
    empty = STICKINESS.with_columns(
        pl.lit(0).alias("active_accounts"),
        pl.lit(None, dtype=pl.Float64).alias("dau_mau"),
        pl.lit([0] * 31).alias("days"),
    )
    spec = chart_stickiness(empty).to_dict()
    assert values(spec, spec["vconcat"][0]) == []
    assert spec["vconcat"][0]["title"] == "Days active in —"


@pytest.mark.slow
@pytest.mark.parametrize(
    "chart",
    [
        pytest.param(lambda: chart_lifecycle(LIFECYCLE), id="lifecycle"),
        pytest.param(lambda: chart_stickiness(STICKINESS), id="stickiness"),
    ],
)
def test_charts_render_to_svg_and_png(chart, tmp_path):
    svg = render.save_chart(chart(), tmp_path / "c.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "<text" in svg
    png = render.save_chart(chart(), tmp_path / "c.png", scale=1).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # A blank or error image is a few KB; a drawn chart is tens of KB.
    assert len(png) > 15_000
