"""The offline HTML renderer: one bundle per page, no network, no script injection."""

from __future__ import annotations

import re

import altair as alt
import polars as pl
import pytest

from journeylib.charts import chart_stage_funnel, chart_ticket_mix
from journeylib.present import render

PAYLOAD = "</script><script>alert(1)</script><!-- <img src=x onerror=alert(2)>"
BUNDLE_MARK = "window.vegaEmbed="


@pytest.fixture
def evil_chart(stages):
    return chart_stage_funnel(
        stages.with_columns(
            pl.when(pl.col("id") == "decision")
            .then(pl.lit(PAYLOAD))
            .otherwise(pl.col("label"))
            .alias("label")
        )
    )


def script_bodies(page: str) -> list[str]:
    return re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.DOTALL | re.IGNORECASE)


def test_page_has_bundle_once_and_no_network(stages, ticket_mix):
    page = render.page_html(
        [chart_stage_funnel(stages), chart_ticket_mix(ticket_mix)], title="Two charts"
    )
    assert page.count(BUNDLE_MARK) == 1
    assert page.count("data-jw-bundle") == 1
    assert page.count('class="jw-chart"') == 2
    assert "cdn.jsdelivr" not in page and "unpkg" not in page
    assert not re.search(r"<script[^>]*\bsrc=", page, flags=re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref=\"?https?:", page, flags=re.IGNORECASE)
    ids = re.findall(r'<div id="([^"]+)" class="jw-chart"', page)
    assert len(set(ids)) == 2  # each chart its own div


def test_client_text_cannot_break_out_of_script(evil_chart):
    page = render.page_html([evil_chart], title=PAYLOAD)
    # The only script elements are the bundle and the chart: the payload opened none.
    assert len(script_bodies(page)) == 2
    assert "<script>alert(1)" not in page
    assert "<!-- <img" not in page
    chart_script = script_bodies(page)[1]
    assert "<" not in chart_script.replace("<\\/", "")  # no raw '<' in the spec JSON
    assert "\\u003c/script\\u003e" in chart_script  # the text is still there, escaped
    # The title is escaped wherever it appears.
    assert "<title>&lt;/script&gt;&lt;script&gt;alert(1)" in page
    assert "<h1>&lt;/script&gt;" in page


def test_spec_json_round_trips(evil_chart):
    import json

    spec = json.loads(render.chart_spec_json(evil_chart))
    labels = (
        [r["stage"] for r in spec["datasets"][next(iter(spec["datasets"]))]]
        if "datasets" in spec
        else [r["stage"] for r in spec["data"]["values"]]
    )
    assert PAYLOAD in labels


def test_chart_html_rejects_odd_div_ids(stages):
    with pytest.raises(ValueError):
        render.chart_html(chart_stage_funnel(stages), div_id='x" onload="alert(1)')
    frag = render.chart_html(chart_stage_funnel(stages), div_id="funnel-1")
    assert frag.startswith('<div id="funnel-1" class="jw-chart" data-jw-chart>')
    assert BUNDLE_MARK not in frag
    assert BUNDLE_MARK in render.chart_html({"mark": "point"}, include_bundle=True)


def test_page_accepts_html_fragments_and_a_single_chart(stages):
    page = render.page_html(["<h2>Funnel</h2>", chart_stage_funnel(stages)], title="T")
    assert "<h2>Funnel</h2>" in page
    single = render.page_html(chart_stage_funnel(stages), title="T")
    assert single.count('class="jw-chart"') == 1


def test_bundle_is_cached_and_safe():
    b = render.vega_bundle()
    assert render.vega_bundle() is b
    assert BUNDLE_MARK in b
    assert not re.search(r"</script", b, flags=re.IGNORECASE)
    assert "<!--" not in b


def test_display_emits_bundle_once_per_kernel(monkeypatch, stages, ticket_mix):
    import IPython.display

    shown = []
    monkeypatch.setattr(
        IPython.display, "display", lambda obj, metadata=None: shown.append(obj.data)
    )
    render.reset_display()
    render.display(chart_stage_funnel(stages))
    render.display(chart_ticket_mix(ticket_mix))
    assert len(shown) == 2
    assert shown[0].count(BUNDLE_MARK) == 1
    assert BUNDLE_MARK not in shown[1]
    ids = [re.search(r'<div id="([^"]+)"', s).group(1) for s in shown]
    assert ids[0] != ids[1]
    render.reset_display()
    render.display(chart_stage_funnel(stages))
    assert BUNDLE_MARK in shown[2]


def test_save_chart_html_and_bad_suffix(tmp_path, stages):
    chart = chart_stage_funnel(stages)
    p = render.save_chart(chart, tmp_path / "sub" / "funnel.html")
    text = p.read_text()
    assert text.count(BUNDLE_MARK) == 1 and "<title>Stage funnel</title>" in text
    with pytest.raises(ValueError, match="unsupported"):
        render.save_chart(chart, tmp_path / "funnel.gif")


def test_theme_registered_once():
    assert "journey_workbench" in alt.theme.names()
    assert alt.theme.active == "journey_workbench"


def test_save_charts_writes_each_format_and_nothing_without_a_folder(tmp_path, stages):
    chart = chart_stage_funnel(stages)
    assert render.save_charts({"funnel": chart}, None) == []
    paths = render.save_charts({"funnel": chart}, tmp_path, formats=("svg",))
    assert [p.name for p in paths] == ["funnel.svg"]
    assert paths[0].read_text().lstrip().startswith("<svg")
