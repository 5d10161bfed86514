"""The product charts with nothing to draw: a titled line saying why, drawn like any chart."""

from __future__ import annotations

import polars as pl
import pytest
import vl_convert as vlc

from journeylib.charts import chart_activation, chart_anomalies, chart_health_backtest

EMPTY = [
    (
        lambda: chart_activation([], base_rate=None),
        "Which early action goes with staying",
        "No candidate",
    ),
    (
        lambda: chart_health_backtest(
            pl.DataFrame(
                {"score": [40.0], "churned": [None]}, schema_overrides={"churned": pl.Boolean}
            )
        ),
        "Churn the month after, by health score",
        "No backtest",
    ),
    (lambda: chart_anomalies({"anomalies": []}), "Months that stood out", "No monthly figure"),
]


@pytest.mark.parametrize(("make", "title", "note"), EMPTY)
def test_a_product_chart_with_nothing_to_draw_says_why_under_its_title(make, title, note):
    spec = make().to_dict()
    assert spec["title"] == title
    assert spec["mark"]["type"] == "text"
    assert spec["datasets"][next(iter(spec["datasets"]))][0]["text"].startswith(note)
    svg = vlc.vegalite_to_svg(spec)
    assert title in svg and note in svg
