"""Render every chart with vl-convert (slow): PNG, SVG, PDF, and a headless-browser check."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from journeylib.present import render

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def png_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("charts_png")


def test_every_chart_renders_to_png(all_charts, png_dir):
    for name, chart in all_charts.items():
        path = render.save_chart(chart, png_dir / f"{name}.png", scale=1)
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        # A blank or error image is a few KB; a drawn chart is tens of KB.
        assert len(data) > 25_000, (name, len(data))


def test_journey_map_png_is_a4_landscape_width(all_charts, png_dir):
    import struct

    path = render.save_chart(all_charts["journey_map"], png_dir / "map.png", scale=1)
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    assert 1100 <= width <= 1140  # the 1100 px map plus padding
    assert height > 700


def test_png_is_vl_converts_own_and_svg_then_png_renders_once(all_charts, tmp_path, monkeypatch):
    """The PNG rasterised from the kept SVG is byte for byte vl-convert's PNG of the spec."""
    import vl_convert as vlc

    names = ["journey_map", "mrr_movements", "stage_funnel"]
    for name in names:
        spec = render._spec(all_charts[name])
        own = vlc.vegalite_to_png(
            spec, vl_version=render._vl_version(), scale=2.0, allowed_base_urls=[]
        )
        assert render.save_chart(spec, tmp_path / f"{name}.png").read_bytes() == own, name
    rendered: list[int] = []
    rasterised: list[str] = []
    real_svg, real_png = vlc.vegalite_to_svg, vlc.svg_to_png

    def counting(spec, **kw):
        rendered.append(1)
        return real_svg(spec, **kw)

    def from_svg(svg, **kw):
        rasterised.append(svg)
        return real_png(svg, **kw)

    def no_second_render(*a, **kw):
        raise AssertionError("the PNG must come from the kept SVG")

    monkeypatch.setattr(render.vlc, "vegalite_to_svg", counting)
    monkeypatch.setattr(render.vlc, "svg_to_png", from_svg)
    monkeypatch.setattr(render.vlc, "vegalite_to_png", no_second_render)
    render._SVGS.clear()
    chart = all_charts["retention_heatmap"]
    svg = render.save_chart(chart, tmp_path / "c.svg").read_text()
    render.save_chart(chart, tmp_path / "c.png")
    assert len(rendered) == 1
    assert rasterised == [svg]


def test_png_of_a_chart_with_an_image_is_left_to_vl_convert(monkeypatch, tmp_path):
    """An image's URL is not fetched by the SVG rasteriser: vl-convert's PNG export, no base URL."""
    calls: list[dict] = []

    def own_png(spec, **kw):
        calls.append(kw)
        return b"\x89PNG\r\n\x1a\n"

    monkeypatch.setattr(
        render.vlc, "vegalite_to_svg", lambda spec, **kw: "<svg><image href='x'/></svg>"
    )
    monkeypatch.setattr(render.vlc, "vegalite_to_png", own_png)
    monkeypatch.setattr(render.vlc, "svg_to_png", lambda *a, **kw: pytest.fail("rasterised"))
    render._SVGS.clear()
    spec = {"mark": "image", "data": {"values": [{"u": "https://example.invalid/a.png"}]}}
    render.save_chart(spec, tmp_path / "i.png")
    assert calls and calls[0]["allowed_base_urls"] == []
    render._SVGS.clear()  # the stubbed SVG must not serve a later test


@pytest.mark.parametrize("suffix,magic", [(".svg", b"<svg"), (".pdf", b"%PDF")])
def test_svg_and_pdf(all_charts, tmp_path, suffix, magic):
    path = render.save_chart(all_charts["mrr_movements"], tmp_path / f"m{suffix}")
    assert path.read_bytes()[:4] == magic
    assert path.stat().st_size > 5_000


def test_chart_svg_has_client_text_escaped():
    import polars as pl

    from journeylib.charts import chart_stage_funnel

    st = pl.DataFrame(
        {
            "id": ["a"],
            "label": ["<script>alert(1)</script>"],
            "reached": [3],
            "conversion_from_previous": [None],
            "median_days_from_previous": [None],
        }
    )
    svg = render.chart_svg(chart_stage_funnel(st))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def _chromium() -> str | None:
    return (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )


@pytest.mark.skipif(_chromium() is None, reason="no chromium installed")
def test_page_draws_offline_in_headless_chromium(all_charts, tmp_path):
    """Two charts on one page are drawn as SVG by the inlined bundle, with no network."""
    import polars as pl

    from journeylib.charts import chart_stage_funnel

    pwn = (
        "</script><script>document.body.setAttribute('data-pwned','1')</script>"
        "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">"
    )
    st = pl.DataFrame(
        {
            "id": ["a", "b"],
            "label": [pwn, "<!--"],
            "reached": [9, 3],
            "conversion_from_previous": [None, 0.33],
            "median_days_from_previous": [None, 2.0],
        }
    )
    page = render.page_html([chart_stage_funnel(st), all_charts["mrr_bridge"]], title=pwn)
    html_path = tmp_path / "page.html"
    html_path.write_text(page, encoding="utf-8")
    profile = tempfile.mkdtemp()
    out = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            html_path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)
    import re

    # Drop the scripts: their source mentions the error texts checked below.
    dom = re.sub(r"<script.*?</script>", "", out.stdout, flags=re.DOTALL)
    # vega-embed replaced each placeholder with an svg of the chart.
    assert dom.count('class="marks"') == 2, out.stderr[-2000:]
    assert "Chart not drawn" not in dom and "Chart error" not in dom
    # The payload was shown as text (escaped), never run or parsed as markup.
    assert not re.search(r"<body[^>]*data-pwned", dom)
    assert "<img" not in dom
    assert "&lt;img src=x" in dom
