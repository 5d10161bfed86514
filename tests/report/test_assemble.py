"""report.html: one self-contained page, summary first, code hidden, client text escaped.

Executed notebooks are built by hand here (outputs included), so no kernel runs.
"""

from __future__ import annotations

import base64
import doctest
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from journeylib.report import assemble, notebook_html, provenance, runner, sanitize, summary
from journeylib.report.assemble import build_report
from journeylib.report.notebook_html import render_notebook
from journeylib.report.summary import executive_summary
from tests.report.report_helpers import KERNELSPEC, chart_html

XSS = "<script>alert(1)</script>"
IMG_XSS = "<img src=x onerror=alert(1)>"
PNG_1PX = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()

# A copy of the bundle as journeylib.present.render emits it today: no marker attribute,
# recognised by defining window.vegaEmbed.
RENDER_STYLE_BUNDLE = (
    '<script type="text/javascript">/*RENDER-STYLE-BUNDLE*/window.vegaEmbed=function(){};\n'
    "(function(){var q=window.__jwPending||[];})();</script>"
)


def _display(html_text: str) -> dict:
    return new_output("display_data", data={"text/html": html_text, "text/plain": "<HTML>"})


def _executed(path: Path, cells: list, *, failed: bool = False) -> Path:
    nb = new_notebook(
        cells=cells, metadata={"kernelspec": KERNELSPEC, "papermill": {"exception": failed}}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _code(source: str, outputs: list, tags: list[str] | None = None):
    cell = new_code_cell(source, outputs=outputs)
    if tags:
        cell.metadata["tags"] = tags
    return cell


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "20260101T000000Z"
    nbs = run / "notebooks"
    params = _code('client = "x"', [], tags=["parameters"])
    _executed(
        nbs / "01_define_goals.ipynb",
        [
            new_markdown_cell("# Define goals\n\nWhy goals matter.\n\n## Sub heading"),
            params,
            _code("SECRET_CODE_MARKER = 1", []),
            _code("chart()", [_display(chart_html(1))]),
            _code("print(name)", [new_output("stream", name="stdout", text=f"client {XSS}\n")]),
            _code(
                "name",
                [
                    new_output(
                        "execute_result", data={"text/plain": f"'{IMG_XSS}'"}, execution_count=3
                    )
                ],
            ),
            _code("warn()", [new_output("stream", name="stderr", text="a warning\n")]),
            _code(
                "img()",
                [new_output("display_data", data={"image/png": PNG_1PX, "text/plain": "<Figure>"})],
            ),
            _code(
                "md()",
                [
                    new_output(
                        "display_data",
                        data={
                            "text/markdown": f"**Persona**: &lt;b&gt;Ops&lt;/b&gt; and {XSS} {IMG_XSS}",
                            "text/plain": "<Markdown>",
                        },
                    )
                ],
            ),
            _code(
                "cdn()",
                [
                    _display(
                        '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>'
                        '<link rel="stylesheet" href="https://cdn.example.org/x.css">'
                        "<p>kept</p>"
                    )
                ],
            ),
            _code("hidden()", [_display("<p>HIDDEN_OUTPUT</p>")], tags=["remove_output"]),
        ],
    )
    _executed(
        nbs / "02_fails.ipynb",
        [
            new_markdown_cell("# Personas"),
            _code(
                "chart()",
                [
                    _display(
                        RENDER_STYLE_BUNDLE + '<div id="d2" class="jw-chart"></div>'
                        '<script type="text/javascript">vegaEmbed("#d2",{});</script>'
                    )
                ],
            ),
            _code(
                "boom()",
                [
                    new_output(
                        "error",
                        ename="ValueError",
                        evalue=f"bad {XSS}",
                        traceback=["\x1b[31mValueError\x1b[0m Traceback", f"ValueError: bad {XSS}"],
                    )
                ],
            ),
        ],
        failed=True,
    )
    _executed(nbs / "03_no_title.ipynb", [_code("chart()", [_display(chart_html(3))])])
    return run


METRICS = {
    "schema_version": 1,
    "client": XSS,
    "currency": "EUR",
    "period": {"start": "2025-01", "end": "2025-03"},
    "revenue": {
        "months": [
            {"month": "2025-02", "mrr": 1000.0, "nrr_1m": 1.0, "logo_churn_rate": 0.05},
            {"month": "2025-03", "mrr": 1100.0, "nrr_1m": 1.02, "logo_churn_rate": 0.04},
        ],
        "nrr_12m": None,
    },
    "acquisition": {
        "cac": 250.0,
        "months": [{"month": "2025-02", "cac": 200.0}, {"month": "2025-03", "cac": 300.0}],
    },
    "onboarding": {
        "activation_rate": 0.4,
        "cohorts": [
            {"cohort": "2025-01", "size": 10, "activation_rate": 0.5, "complete": True},
            {"cohort": "2025-02", "size": 10, "activation_rate": 0.3, "complete": True},
            {"cohort": "2025-03", "size": 10, "activation_rate": 0.9, "complete": False},
        ],
    },
    "nps": {"overall": {"score": 32.0, "responses": 50}},
    "stages": [
        {
            "id": "awareness",
            "label": "Awareness",
            "reached": 1000,
            "conversion_from_previous": None,
        },
        {
            "id": "consideration",
            "label": "Consideration",
            "reached": 400,
            "conversion_from_previous": 0.4,
        },
        {
            "id": "decision",
            "label": f"Decision {XSS}",
            "reached": 300,
            "conversion_from_previous": 0.75,
        },
        {
            "id": "onboarding",
            "label": "Onboarding",
            "reached": 150,
            "conversion_from_previous": 0.5,
        },
        {"id": "retention", "label": "Retention", "reached": 120, "conversion_from_previous": 0.8},
    ],
    "goals": [
        {
            "id": IMG_XSS,
            "metric": "activation_rate",
            "baseline": 0.3,
            "current": 0.4,
            "target": 0.5,
            "deadline": "2025-12",
            "progress": 0.5,
            "status": "on_track",
        },
        {
            "id": "cut-churn",
            "metric": "logo_churn_rate",
            "baseline": 0.05,
            "current": 0.04,
            "target": 0.02,
            "deadline": "2025-06",
            "progress": 0.33,
            "status": "off_track",
        },
    ],
    "data_quality": {
        "tables": {
            "accounts": {"rows_in": 10, "rows_valid": 10, "rows_rejected": 0, "reasons": {}},
            "events": {
                "rows_in": 1200,
                "rows_valid": 1190,
                "rows_rejected": 10,
                "reasons": {"unknown account_id": 7, f"bad {XSS}": 3},
            },
        }
    },
}


@pytest.fixture
def page(run_dir: Path) -> str:
    out = build_report(run_dir, title=f"Report {XSS}", metrics=METRICS)
    assert out == run_dir / "report.html"
    return out.read_text(encoding="utf-8")


def _render_available() -> bool:
    try:
        from journeylib.present.render import vega_bundle  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------- the page


def test_client_text_is_escaped(page: str) -> None:
    assert XSS not in page
    assert "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "<title>Report &lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
    assert "client &lt;script&gt;alert(1)&lt;/script&gt;" in page  # stdout
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # goal id, text/plain


def test_markdown_output_keeps_escaped_text_and_neutralises_markup(page: str) -> None:
    assert "<strong>Persona</strong>: &lt;b&gt;Ops&lt;/b&gt;" in page  # no double escaping
    assert "and &lt;script&gt;alert(1)&lt;/script&gt; <img></p>" in page  # no onerror left


def test_no_network_anywhere(page: str) -> None:
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", page, re.I)
    assert not re.search(r"<img[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", page, re.I)
    assert "cdn.jsdelivr.net" not in page and "cdn.example.org" not in page
    assert "<p>kept</p>" in page


def test_bundle_inlined_once_in_the_head(page: str) -> None:
    head, body = page.split('<header class="jw-head">', 1)
    # Every copy carried by the notebooks is gone from the body ...
    assert "JW-STANDIN-BUNDLE" not in body and "RENDER-STYLE-BUNDLE" not in body
    assert not re.search(r"window\.vegaEmbed\s*=(?!=)", body)
    # ... and exactly one bundle is in the head, before every chart.
    assert len(re.findall(r"window\.vegaEmbed\s*=(?!=)", head)) == 1
    assert len(re.findall(r"<script data-jw-bundle>|<script type=\"text/javascript\">", head)) == 1
    assert "JW-STANDIN-BUNDLE" in head  # the first copy found is the one kept
    assert body.count('class="jw-chart"') == 3


def test_bundle_added_when_charts_came_without_one(tmp_path: Path) -> None:
    _executed(
        tmp_path / "notebooks" / "01_c.ipynb",
        [_code("c", [_display('<div id="x" class="jw-chart"></div>')])],
    )
    page = build_report(tmp_path, title="t", metrics=None).read_text(encoding="utf-8")
    head = page.split('<header class="jw-head">', 1)[0]
    if _render_available():
        from journeylib.present.render import vega_bundle

        assert vega_bundle()[:2000] in head
        assert len(re.findall(r"window\.vegaEmbed\s*=(?!=)", page)) == 1
    else:
        assert "<script" not in head


def test_no_bundle_without_charts(tmp_path: Path) -> None:
    _executed(
        tmp_path / "notebooks" / "01_plain.ipynb",
        [_code("x", [new_output("stream", name="stdout", text="hello\n")])],
    )
    page = build_report(tmp_path, title="t", metrics=None).read_text(encoding="utf-8")
    assert "<script" not in page and "hello" in page


def test_order_summary_first_and_navigation(page: str) -> None:
    ids = re.findall(r'<section class="jw-section[^"]*" id="([^"]+)"', page)
    assert ids == [
        "summary",
        "step-01_define_goals",
        "step-02_fails",
        "step-03_no_title",
        "data-quality",
        "definitions",
    ]
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert re.findall(r'href="#([^"]+)"', nav) == ids
    assert "1. Define goals" in nav and "2. Personas" in nav and "3. No title" in nav
    assert 'class="failed"' in nav  # the failed step is marked in the navigation


def test_code_hidden_outputs_shown(page: str) -> None:
    assert "SECRET_CODE_MARKER" not in page
    assert "HIDDEN_OUTPUT" not in page  # remove_output tag
    assert "Why goals matter." in page
    assert "<h3>Sub heading</h3>" in page  # notebook headings sit under the section's h2
    assert f"data:image/png;base64,{PNG_1PX}" in page
    assert '<details class="jw-stderr">' in page and "a warning" in page


def test_error_shown_in_a_red_box(page: str) -> None:
    section = page[page.index('id="step-02_fails"') : page.index('id="step-03_no_title"')]
    assert 'class="jw-banner"' in section
    assert "This step failed: ValueError: bad &lt;script&gt;" in section
    assert 'class="jw-error"' in section and "ValueError Traceback" in section
    assert "\x1b" not in page  # ANSI colour codes stripped


def test_print_css(page: str) -> None:
    css = page[page.index("@media print") :]
    assert "nav.jw-nav { display: none; }" in css
    assert "break-inside: avoid" in css and "break-before: page" in css


def test_summary_in_page(page: str) -> None:
    summary = page[page.index('id="summary"') : page.index('id="step-01')]
    assert "1,100 EUR" in summary and "+10.0%" in summary
    assert "Consideration" in summary and "60.0%" in summary
    assert "Decision &lt;script&gt;" in summary
    assert 'class="status off_track"' in summary
    assert "events: 10 of 1,200 rows rejected (most often: unknown account_id)" in summary


def test_data_quality_section(page: str) -> None:
    dq = page[page.index('id="data-quality"') : page.index('id="definitions"')]
    assert "unknown account_id (7); bad &lt;script&gt;alert(1)&lt;/script&gt; (3)" in dq
    assert "1,200" in dq and "1,190" in dq


def test_definitions_appendix(page: str) -> None:
    appendix = page[page.index('id="definitions"') :]
    catalog = summary.definitions()
    assert len(re.findall(r"<dt id=\"metric-", appendix)) == len(catalog)
    assert 'id="metric-activation_rate"' in appendix


def test_without_metrics(run_dir: Path) -> None:
    page = build_report(run_dir, title="t", metrics=None).read_text(encoding="utf-8")
    assert "No metrics document was produced" in page
    assert "No data-quality counts" in page


# ---------------------------------------------------------------- the summary's numbers


def test_executive_summary_numbers() -> None:
    s = executive_summary(
        METRICS,
        [
            {"id": "activation_rate", "unit": "fraction"},
            {"id": "logo_churn_rate", "unit": "fraction"},
        ],
    )
    k = {x["label"]: x for x in s["kpis"]}
    assert k["MRR (2025-03)"]["value"] == "1,100 EUR"
    assert (k["MRR (2025-03)"]["trend"], k["MRR (2025-03)"]["tone"]) == ("+10.0%", "good")
    assert k["MRR (2025-03)"]["compared_to"] == "vs 2025-02"
    # nrr_12m is null, so the monthly NRR: 102% against 100%, +2.0 points.
    assert (k["NRR (month)"]["value"], k["NRR (month)"]["trend"]) == ("102.0%", "+2.0 pts")
    # churn fell from 5% to 4%: down is good.
    churn = k["Logo churn (month)"]
    assert (churn["value"], churn["trend"], churn["direction"], churn["tone"]) == (
        "4.0%",
        "-1.0 pts",
        "down",
        "good",
    )
    # activation 40% overall; trend over the two latest *complete* cohorts: 30% vs 50%.
    act = k["Activation rate"]
    assert (act["value"], act["trend"], act["tone"]) == ("40.0%", "-20.0 pts", "bad")
    assert act["compared_to"] == "cohort 2025-02 vs 2025-01"
    assert (k["NPS"]["value"], k["NPS"]["trend"]) == ("+32", None)
    # CAC rose 200 -> 300: up is bad.
    assert (k["CAC"]["value"], k["CAC"]["trend"], k["CAC"]["tone"]) == ("250 EUR", "+50.0%", "bad")

    # Drop-offs ranked by the share lost: 60% (aw->co), 50% (de->on), 25% (co->de).
    assert [(d["from"], d["to"], d["share_lost"], d["lost"]) for d in s["dropoffs"]] == [
        ("Awareness", "Consideration", "60.0%", "600"),
        (f"Decision {XSS}", "Onboarding", "50.0%", "150"),
        ("Consideration", f"Decision {XSS}", "25.0%", "100"),
    ]
    assert [(g["current"], g["target"], g["status"]) for g in s["goals"]] == [
        ("40.0%", "50.0%", "on_track"),
        ("4.0%", "2.0%", "off_track"),
    ]
    assert s["warnings"] == ["events: 10 of 1,200 rows rejected (most often: unknown account_id)"]
    assert s["period"] == {"start": "2025-01", "end": "2025-03"}


def test_executive_summary_of_nothing() -> None:
    s = executive_summary(None)
    assert all(k["value"] == "—" and k["missing"] and k["note"] for k in s["kpis"])
    assert s["goals"] == [] and s["dropoffs"] == [] and s["warnings"] == []
    assert s["period"] is None


def test_render_notebook_title_fallback(tmp_path: Path) -> None:
    path = _executed(tmp_path / "06_highlight_milestones.ipynb", [_code("x", [])])
    sec = render_notebook(path)
    assert (sec.number, sec.title, sec.anchor, sec.failed) == (
        "6",
        "Highlight milestones",
        "step-06_highlight_milestones",
        False,
    )


def test_real_renderer_output_is_deduplicated(tmp_path: Path) -> None:
    render = pytest.importorskip("journeylib.present.render")
    for i in (1, 2):
        _executed(
            tmp_path / "notebooks" / f"0{i}_c.ipynb",
            [
                _code(
                    "c",
                    [
                        _display(
                            render.chart_html({"mark": "point", "title": XSS}, include_bundle=True)
                        )
                    ],
                ),
                _code("c", [_display(render.chart_html({"mark": "bar"}))]),
            ],
        )
    page = build_report(tmp_path, title="t", metrics=None).read_text(encoding="utf-8")
    assert len(re.findall(r"window\.vegaEmbed\s*=(?!=)", page)) == 1
    assert page.count('class="jw-chart"') == 4
    assert XSS not in page
    assert len(page) < len(render.vega_bundle()) * 1.2


def test_doctests() -> None:
    for module in (assemble, notebook_html, provenance, runner, sanitize, summary):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__


# ---------------------------------------------------------------- in a real browser

_CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)
_PWN = "document.documentElement.setAttribute('data-pwned','1')"


@pytest.mark.slow
@pytest.mark.skipif(_CHROMIUM is None, reason="no headless Chromium")
def test_in_headless_chromium_nothing_runs_and_charts_draw(tmp_path: Path) -> None:
    render = pytest.importorskip("journeylib.present.render")
    payloads = [
        f"<script>{_PWN}</script>",
        f'<img src=x onerror="{_PWN}">',
        f'"><svg onload="{_PWN}">',
    ]
    text = " ".join(payloads)
    _executed(
        tmp_path / "notebooks" / "01_x.ipynb",
        [
            new_markdown_cell("# Step"),
            _code(
                "c",
                [
                    _display(
                        render.chart_html(
                            {
                                "mark": "bar",
                                "title": text,
                                "data": {"values": [{"a": text, "b": 1}]},
                                "encoding": {"x": {"field": "a"}, "y": {"field": "b"}},
                            },
                            include_bundle=True,
                        )
                    )
                ],
            ),
            _code("p", [new_output("stream", name="stdout", text=text)]),
            _code("m", [new_output("display_data", data={"text/markdown": text})]),
            _code("e", [new_output("error", ename="ValueError", evalue=text, traceback=[text])]),
        ],
    )
    metrics = {
        "client": text,
        "stages": [
            {"id": "a", "label": text, "reached": 2},
            {"id": "b", "label": text, "reached": 1, "conversion_from_previous": 0.5},
        ],
        "goals": [{"id": text, "metric": text, "status": text}],
        "data_quality": {
            "tables": {
                "events": {"rows_in": 2, "rows_valid": 1, "rows_rejected": 1, "reasons": {text: 1}}
            }
        },
    }
    report = build_report(tmp_path, title=text, metrics=metrics)
    dom = subprocess.run(
        [
            _CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert not re.search(r'<html[^>]*data-pwned="1"', dom)  # no payload ran
    assert 'data-pwned="1"' not in dom
    assert dom.count('class="marks"') == 1  # the chart was drawn offline


# ---------------------------------------------------------------- the journey map section

MAP_SVG = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'class="marks" width="1112" height="900" viewBox="0 0 1112 900" onload="alert(1)">'
    '<defs><linearGradient id="g1"><stop offset="0" stop-color="#fff"/></linearGradient>'
    "</defs>"
    '<rect width="10" height="10" fill="url(#g1)"/>'
    '<rect width="10" height="10" fill="url(https://evil.example/x.svg#a)"/>'
    '<script>alert(2)</script><SCRIPT xlink:href="https://evil.example/x.js"/>'
    '<foreignObject><img xmlns="http://www.w3.org/1999/xhtml" src="x" onerror="alert(3)"/>'
    "</foreignObject>"
    '<a xlink:href="javascript:alert(4)"><text>link</text></a>'
    '<image href="https://evil.example/p.png"/>'
    '<style>@import url("https://evil.example/s.css");</style>'
    '<text x="1" y="2" onclick="alert(5)">{label} &lt;script&gt;alert(6)&lt;/script&gt;</text>'
    "</svg>"
)


def _map_run(tmp_path: Path, maps: tuple[str, ...]) -> Path:
    run = tmp_path / "20260101T000000Z"
    nbs = run / "notebooks"
    _executed(nbs / "01_define_goals.ipynb", [new_markdown_cell("# Define goals")])
    _executed(nbs / "07_visualize_journey.ipynb", [new_markdown_cell("# 07 Visualise the journey")])
    (run / "charts").mkdir(parents=True)
    for name in maps:
        (run / "charts" / f"{name}.svg").write_text(
            MAP_SVG.format(label=f"MAP-{name}"), encoding="utf-8"
        )
    return run


def test_journey_map_section_right_after_the_summary(tmp_path: Path) -> None:
    run = _map_run(tmp_path, ("journey_map", "future_state_map", "persona_maps"))
    page = build_report(run, title="t", metrics=METRICS).read_text(encoding="utf-8")
    ids = re.findall(r'<section class="jw-section[^"]*" id="([^"]+)"', page)
    assert ids[:4] == [
        "summary",
        "journey-map",
        "step-01_define_goals",
        "step-07_visualize_journey",
    ]
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert re.findall(r'href="#([^"]+)"', nav)[:2] == ["summary", "journey-map"]
    section = page[page.index('id="journey-map"') : page.index('id="step-01_define_goals"')]
    # Current state first, then the future-state and persona maps on tabs.
    assert section.index("MAP-journey_map") < section.index("MAP-future_state_map")
    assert section.index("MAP-future_state_map") < section.index("MAP-persona_maps")
    assert re.findall(r"<label for=\"jw-tab-([^\"]+)\">([^<]+)</label>", section) == [
        ("journey-map", "Current state"),
        ("future-state-map", "Future state"),
        ("persona-maps", "Persona maps"),
    ]
    assert section.count('type="radio"') == 3 and section.count("checked") == 1
    assert section.count('<svg class="jw-map-svg"') + section.count("jw-map-svg") >= 3
    assert 'href="#step-07_visualize_journey"' in section  # the interactive versions
    # The step number is not repeated from the notebook's own "07 …" title.
    assert ">7. Visualise the journey</a>" in nav


def test_journey_map_svgs_are_cleaned(tmp_path: Path) -> None:
    run = _map_run(tmp_path, ("journey_map", "future_state_map"))
    page = build_report(run, title="t", metrics=None).read_text(encoding="utf-8")
    section = page[page.index('id="journey-map"') : page.index('id="step-01_define_goals"')]
    low = section.lower()
    assert "<script" not in low and "onload" not in low and "onclick" not in low
    assert "onerror" not in low and "foreignobject" not in low and "<style" not in low
    assert "evil.example" not in low and "javascript:" not in low and "<image" not in low
    assert "<?xml" not in section
    # Client text stays escaped text; ids are unique per map and references follow.
    assert "MAP-journey_map &lt;script&gt;alert(6)&lt;/script&gt;" in section
    assert 'id="jw-journey-map-g1"' in section and 'fill="url(#jw-journey-map-g1)"' in section
    assert 'id="jw-future-state-map-g1"' in section
    # The root scales with the page: no fixed size, its shape kept by the viewBox.
    root = re.search(r"<svg [^>]*>", section).group(0)
    assert 'viewBox="0 0 1112 900"' in root and 'class="jw-map-svg"' in root
    assert " width=" not in root and " height=" not in root


def test_journey_map_alone_has_no_tabs(tmp_path: Path) -> None:
    run = _map_run(tmp_path, ("journey_map",))
    page = build_report(run, title="t", metrics=None).read_text(encoding="utf-8")
    section = page[page.index('id="journey-map"') : page.index('id="step-01_define_goals"')]
    assert 'type="radio"' not in section and "MAP-journey_map" in section


def test_no_journey_map_section_without_saved_maps(tmp_path: Path) -> None:
    run = _map_run(tmp_path, ())
    (run / "charts" / "journey_map.svg").write_text("not an svg", encoding="utf-8")
    page = build_report(run, title="t", metrics=None).read_text(encoding="utf-8")
    assert 'id="journey-map"' not in page and 'href="#journey-map"' not in page


@pytest.mark.parametrize(
    "text",
    [
        "<html><body>no svg</body></html>",
        "<svg><unclosed></svg>",
        '<!DOCTYPE svg [<!ENTITY x "boom">]><svg>&x;</svg>',
    ],
)
def test_clean_svg_refuses_what_is_not_a_plain_svg(text: str) -> None:
    assert sanitize.clean_svg(text) is None


def test_print_css_is_a4_landscape_and_scales_charts(page: str) -> None:
    assert "@page { size: A4 landscape; margin: 12mm; }" in page
    css = page[page.index("@media print") :]
    assert "max-width: 100% !important; height: auto !important;" in css
    assert ".jw-tab-panel { display: block !important;" in css  # every map tab is printed


@pytest.mark.slow
@pytest.mark.skipif(_CHROMIUM is None, reason="no headless Chromium")
def test_in_headless_chromium_inlined_maps_run_nothing(tmp_path: Path) -> None:
    run = _map_run(tmp_path, ("journey_map", "future_state_map"))
    pwn_svg = MAP_SVG.replace("alert(", "document.documentElement.setAttribute('data-pwned',")
    (run / "charts" / "journey_map.svg").write_text(
        pwn_svg.format(label="MAP-journey_map"), encoding="utf-8"
    )
    report = build_report(run, title="t", metrics=None)
    dom = subprocess.run(
        [
            _CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=3000",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]
    assert not re.search(r"<html[^>]*data-pwned", dom)
    assert dom.count('class="jw-map-svg"') == 2
