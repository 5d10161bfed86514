"""report.html (the deliverable) and analysis.html (the executed notebooks), client text escaped.

Executed notebooks are built by hand here (outputs included), so no kernel runs.
"""

from __future__ import annotations

import base64
import doctest
import html
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from journeylib.report import assemble, notebook_html, pdf, provenance, runner, sanitize, summary
from journeylib.report.assemble import build_report, journey_maps
from journeylib.report.notebook_html import render_notebook
from journeylib.report.summary import executive_summary
from tests.report.report_helpers import KERNELSPEC, chart_html

XSS = "<script>alert(1)</script>"
XSS_ESC = "&lt;script&gt;alert(1)&lt;/script&gt;"
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

# What the notebooks' recorded-results cells (tagged "test") hold: plumbing for the
# notebook tests, never shown on either page.
TEST_MD = "## Recorded results\n\nNBVAL compares these values; TEST_CELL_MD."
TEST_SOURCE = "# NBVAL_CHECK_OUTPUT\nimport json\nprint(json.dumps(recorded))"
TEST_STDOUT = '{"nps": 32.0, "TEST_CELL_OUTPUT": true}\n'


def _display(html_text: str, report: str | None = None) -> dict:
    meta = {"journeylib": {"report": report}} if report else {}
    return new_output(
        "display_data", data={"text/html": html_text, "text/plain": "<HTML>"}, metadata=meta
    )


def _stdout(text: str) -> dict:
    return new_output("stream", name="stdout", text=text)


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


def _markdown(source: str, tags: list[str] | None = None):
    cell = new_markdown_cell(source)
    if tags:
        cell.metadata["tags"] = tags
    return cell


def _test_cells() -> list:
    return [_markdown(TEST_MD, ["test"]), _code(TEST_SOURCE, [_stdout(TEST_STDOUT)], ["test"])]


def _setup_cells(mark: str) -> list:
    return [
        _markdown(f"Loading the client ({mark}_MD).", ["setup"]),
        _code("client = journeylib.load_client(name)", [_stdout(f"{mark}_OUTPUT\n")], ["setup"]),
    ]


FINDING_HTML = f'<p class="jw-finding">Activation fell {html.escape(XSS)}</p>'


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "20260101T000000Z"
    nbs = run / "notebooks"
    params = _code('client = "x"', [], tags=["parameters"])
    _executed(
        nbs / "01_define_goals.ipynb",
        [
            new_markdown_cell(
                "# Define goals\n\nWhy goals matter.\n\n"
                "* **Question**: Which goals matter most\n  to the *board* this year?\n"
                "* **Data**: the goals of client.yaml\n\n## Sub heading"
            ),
            *_setup_cells("SETUP_01"),
            params,
            _code("SECRET_CODE_MARKER = 1", []),
            _code("chart()", [_display(chart_html(1))]),
            _code(
                "show(c, finding=f, report='chart')",
                [_display(FINDING_HTML + chart_html(11), "chart")],
            ),
            _code(
                "show(t, report='wide')",
                [_display('<table class="jw-table"><tr><td>WIDE_CARD</td></tr></table>', "wide")],
            ),
            _code("print(name)", [_stdout(f"client {XSS}\n")]),
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
            _code("hidden()", [_display("<p>HIDDEN_OUTPUT</p>", "chart")], tags=["remove_output"]),
            *_test_cells(),
        ],
    )
    _executed(
        nbs / "02_fails.ipynb",
        [
            new_markdown_cell("# Personas\n\n**Question**: Who buys?\n\nMore prose."),
            *_setup_cells("SETUP_02"),
            _code(
                "chart()",
                [
                    _display(
                        RENDER_STYLE_BUNDLE + '<div id="d2" class="jw-chart"></div>'
                        '<script type="text/javascript">vegaEmbed("#d2",{});</script>',
                        "chart",
                    )
                ],
            ),
            _code(
                "show(recommendations, report='recommendations')",
                [
                    new_output(
                        "display_data",
                        data={
                            "text/markdown": "1. **Improve onboarding**: RECO_ONE\n"
                            "2. Shorten trials: RECO_TWO",
                            "text/plain": "<Markdown>",
                        },
                        metadata={"journeylib": {"report": "recommendations"}},
                    )
                ],
            ),
            *_test_cells(),
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
    """report.html of the fixture run."""
    out = build_report(run_dir, title=f"Report {XSS}", metrics=METRICS)
    assert out == run_dir / "report.html"
    return out.read_text(encoding="utf-8")


@pytest.fixture
def analysis(page: str, run_dir: Path) -> str:
    """analysis.html of the same build as ``page``."""
    return (run_dir / "analysis.html").read_text(encoding="utf-8")


def _render_available() -> bool:
    try:
        from journeylib.present.render import vega_bundle  # noqa: F401
    except ImportError:
        return False
    return True


def _section(text: str, anchor: str) -> str:
    """The ``<section>`` with id ``anchor``, up to the next section."""
    start = text.index(f'id="{anchor}"')
    end = text.find("<section ", start)
    return text[start : end if end != -1 else len(text)]


def _cards(section: str) -> list[tuple[str, str]]:
    """(class attribute, inner HTML) of each report card of a step section."""
    parts = re.split(r'<div class="(jw-card(?: [^"]*)?)">', section)[1:]
    return list(zip(parts[::2], parts[1::2], strict=True))


class _Rows(HTMLParser):
    """The text of each table row's cells (entities decoded, spaces collapsed)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _rows(fragment: str) -> list[list[str]]:
    """The rows of the first table in ``fragment``."""
    table = fragment[fragment.index("<table") : fragment.index("</table>")]
    parser = _Rows()
    parser.feed(table)
    return parser.rows


_MARK = re.compile(
    r'<span class="jw-pdf-mark jw-pdf-(start|end)"[^>]*>jw-box (\S+) (start|end)</span>'
)


# ---------------------------------------------------------------- both pages: security


def test_client_text_is_escaped_on_both_pages(page: str, analysis: str) -> None:
    for text in (page, analysis):
        assert XSS not in text and IMG_XSS not in text
        assert "onerror=alert" not in text.replace("onerror=alert(1)&gt;", "")
        assert f"<title>Report {XSS_ESC}</title>" in text
    assert f"client {XSS_ESC}" in analysis  # stdout
    assert "&lt;img src=x onerror=alert(1)&gt;" in analysis  # text/plain
    assert "&lt;img src=x onerror=alert(1)&gt;" in _section(page, "summary")  # the goal's id


def test_markdown_output_keeps_escaped_text_and_neutralises_markup(analysis: str) -> None:
    assert "<strong>Persona</strong>: &lt;b&gt;Ops&lt;/b&gt;" in analysis  # no double escaping
    assert f"and {XSS_ESC} <img></p>" in analysis  # no onerror left


def test_no_network_on_either_page(page: str, analysis: str) -> None:
    for text in (page, analysis):
        assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.I)
        assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", text, re.I)
        assert not re.search(r"<img[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", text, re.I)
        assert "cdn.jsdelivr.net" not in text and "cdn.example.org" not in text
    assert "<p>kept</p>" in analysis  # the output itself stays, without its CDN tags


def test_bundle_inlined_once_in_each_head(page: str, analysis: str) -> None:
    for text, charts in ((page, 2), (analysis, 4)):
        head, body = text.split('<header class="jw-head">', 1)
        # Every copy carried by the notebooks is gone from the body ...
        assert "JW-STANDIN-BUNDLE" not in body and "RENDER-STYLE-BUNDLE" not in body
        assert not re.search(r"window\.vegaEmbed\s*=(?!=)", body)
        # ... and exactly one bundle is in the head, before every chart.
        assert len(re.findall(r"window\.vegaEmbed\s*=(?!=)", head)) == 1
        assert (
            len(re.findall(r"<script data-jw-bundle>|<script type=\"text/javascript\">", head)) == 1
        )
        assert "JW-STANDIN-BUNDLE" in head  # the first copy found is the one kept
        assert body.count('class="jw-chart"') == charts


def test_bundle_added_when_charts_came_without_one(tmp_path: Path) -> None:
    _executed(
        tmp_path / "notebooks" / "01_c.ipynb",
        [_code("c", [_display('<div id="x" class="jw-chart"></div>', "chart")])],
    )
    page = build_report(tmp_path, title="t", metrics=None).read_text(encoding="utf-8")
    analysis = (tmp_path / "analysis.html").read_text(encoding="utf-8")
    for text in (page, analysis):
        head = text.split('<header class="jw-head">', 1)[0]
        if _render_available():
            from journeylib.present.render import vega_bundle

            assert vega_bundle()[:2000] in head
            assert len(re.findall(r"window\.vegaEmbed\s*=(?!=)", text)) == 1
        else:
            assert "<script" not in head


def test_no_bundle_without_charts(tmp_path: Path) -> None:
    _executed(
        tmp_path / "notebooks" / "01_plain.ipynb",
        [_code("x", [_stdout("hello\n")])],
    )
    page = build_report(tmp_path, title="t", metrics=None).read_text(encoding="utf-8")
    analysis = (tmp_path / "analysis.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<script" not in analysis
    assert "hello" in analysis and "hello" not in page


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
                            render.chart_html({"mark": "point", "title": XSS}, include_bundle=True),
                            "chart",
                        )
                    ],
                ),
                _code("c", [_display(render.chart_html({"mark": "bar"}))]),
            ],
        )
    page = build_report(tmp_path, title="t", metrics=None).read_text(encoding="utf-8")
    analysis = (tmp_path / "analysis.html").read_text(encoding="utf-8")
    for text, charts in ((page, 2), (analysis, 4)):
        assert len(re.findall(r"window\.vegaEmbed\s*=(?!=)", text)) == 1
        assert text.count('class="jw-chart"') == charts
        assert XSS not in text
        assert len(text) < len(render.vega_bundle()) * 1.2


# ---------------------------------------------------------------- analysis.html


def test_analysis_order_contents_and_navigation(analysis: str) -> None:
    ids = re.findall(r'<section class="jw-section[^"]*" id="([^"]+)"', analysis)
    assert ids == ["contents", "step-01_define_goals", "step-02_fails", "step-03_no_title"]
    nav = analysis[analysis.index("<nav") : analysis.index("</nav>")]
    assert re.findall(r'href="#([^"]+)"', nav) == ids[1:]
    assert "1. Define goals" in nav and "2. Personas" in nav and "3. No title" in nav
    assert nav.count('class="failed"') == 1
    toc = _section(analysis, "contents")
    assert re.findall(r'href="#([^"]+)"', toc) == ids[1:]
    assert toc.count('<span class="status failed">failed</span>') == 1
    assert '<a href="report.html">' in analysis[: analysis.index("<nav")]


def test_analysis_code_hidden_outputs_shown(analysis: str) -> None:
    assert "SECRET_CODE_MARKER" not in analysis
    assert "HIDDEN_OUTPUT" not in analysis  # remove_output tag
    assert 'client = "x"' not in analysis  # the parameters cell
    step = _section(analysis, "step-01_define_goals")
    assert "Why goals matter." in step
    assert "<h3>Sub heading</h3>" in step  # notebook headings sit under the section's h2
    assert f"data:image/png;base64,{PNG_1PX}" in step
    assert '<details class="jw-stderr">' in step and "a warning" in step
    # Marked and unmarked outputs alike are in the analysis.
    assert 'id="c1"' in step and 'id="c11"' in step and "WIDE_CARD" in step
    assert "RECO_ONE" in _section(analysis, "step-02_fails")


def test_analysis_error_shown_in_a_red_box(analysis: str) -> None:
    section = _section(analysis, "step-02_fails")
    assert 'class="jw-banner"' in section
    assert f"This step failed: ValueError: bad {XSS_ESC}." in section
    assert 'class="jw-error"' in section and "ValueError Traceback" in section
    assert "\x1b" not in analysis  # ANSI colour codes stripped


# ---------------------------------------------------------------- tagged cells


def test_test_cells_appear_on_neither_page(page: str, analysis: str) -> None:
    for text in (page, analysis):
        for marker in (
            "Recorded results",
            "NBVAL",
            "TEST_CELL_MD",
            "TEST_CELL_OUTPUT",
            "json.dumps",
        ):
            assert marker not in text, marker
    # The notebooks around them are there: the cells were dropped, not the sections.
    assert "Why goals matter." in analysis and "RECO_ONE" in page


def test_an_error_in_a_test_cell_fails_the_step(tmp_path: Path) -> None:
    path = _executed(
        tmp_path / "notebooks" / "01_checked.ipynb",
        [
            new_markdown_cell("# Checked"),
            _code("x = 1", [_stdout("VISIBLE_OUTPUT\n")]),
            _code(
                "assert recorded == 31",
                [
                    new_output(
                        "error",
                        ename="AssertionError",
                        evalue="recorded 32 != 31",
                        traceback=["TEST_CELL_TRACEBACK"],
                    )
                ],
                ["test"],
            ),
        ],
    )  # papermill's exception flag left false: only the error output tells
    section = render_notebook(path)
    assert (section.failed, section.error) == (True, "AssertionError: recorded 32 != 31")
    page = build_report(tmp_path, title="t", metrics=None).read_text(encoding="utf-8")
    analysis = (tmp_path / "analysis.html").read_text(encoding="utf-8")
    for text in (page, analysis):
        assert "This step failed: AssertionError: recorded 32 != 31." in text
        assert "TEST_CELL_TRACEBACK" not in text  # the cell itself stays hidden
        nav = text[text.index("<nav") : text.index("</nav>")]
        assert 'href="#step-01_checked" class="failed"' in nav
    assert "VISIBLE_OUTPUT" in analysis


def test_setup_cells_shown_once_in_the_first_notebook(page: str, analysis: str) -> None:
    first = _section(analysis, "step-01_define_goals")
    assert "SETUP_01_MD" in first and "SETUP_01_OUTPUT" in first
    for marker in ("SETUP_02_MD", "SETUP_02_OUTPUT"):
        assert marker not in analysis, marker
    assert "SETUP_01" not in page and "SETUP_02" not in page


def test_render_notebook_setup_switch(run_dir: Path) -> None:
    path = run_dir / "notebooks" / "01_define_goals.ipynb"
    shown = render_notebook(path).body
    hidden = render_notebook(path, setup=False).body
    assert "SETUP_01_OUTPUT" in shown and "SETUP_01_MD" in shown
    assert "SETUP_01_OUTPUT" not in hidden and "SETUP_01_MD" not in hidden
    assert "Why goals matter." in hidden  # only the setup cells went


# ---------------------------------------------------------------- report.html: steps


def test_report_order_and_navigation(page: str) -> None:
    ids = re.findall(r'<section class="jw-section[^"]*" id="([^"]+)"', page)
    assert ids == [
        "summary",
        "step-01_define_goals",
        "step-02_fails",
        "step-03_no_title",
        "recommendations",
        "definitions",
    ]
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert re.findall(r'href="#([^"]+)"', nav) == ids
    assert "1. Define goals" in nav and "2. Personas" in nav and "3. No title" in nav
    assert nav.count('class="failed"') == 1
    assert '<a href="analysis.html">' in page[: page.index("<nav")]


def test_report_shows_only_the_marked_outputs(page: str) -> None:
    for marker in (
        "SECRET_CODE_MARKER",
        "Why goals matter.",  # markdown cells stay in the analysis
        'id="c1"',  # an unmarked chart
        "a warning",
        "<p>kept</p>",
        PNG_1PX,
        "<strong>Persona</strong>",
        "HIDDEN_OUTPUT",  # marked, but in a remove_output cell
        'id="c3"',
    ):
        assert marker not in page, marker
    first = _cards(_section(page, "step-01_define_goals"))
    assert [cls for cls, _ in first] == ["jw-card", "jw-card wide"]
    assert FINDING_HTML in first[0][1] and 'id="c11"' in first[0][1]  # finding above its chart
    assert first[0][1].index("jw-finding") < first[0][1].index('id="c11"')
    assert "WIDE_CARD" in first[1][1]
    second = _cards(_section(page, "step-02_fails"))
    assert len(second) == 1 and 'id="d2"' in second[0][1]
    # A step without any marked output says so and points to the analysis.
    third = _section(page, "step-03_no_title")
    assert _cards(third) == [] and "This step shows no chart" in third


def test_report_card_kinds(tmp_path: Path) -> None:
    _executed(
        tmp_path / "notebooks" / "01_kinds.ipynb",
        [
            _code("a", [_display("<p>KIND_CHART</p>", "chart")]),
            _code("b", [_display("<p>KIND_WIDE</p>", "wide")]),
            _code("c", [_display("<p>KIND_TABLE</p>", "table")]),
            _code("d", [_display("<p>KIND_OTHER</p>", "something-new")]),
            _code("e", [_display("<p>NOT_MARKED</p>")]),
        ],
    )
    page = build_report(tmp_path, title="t", metrics=None).read_text(encoding="utf-8")
    cards = _cards(_section(page, "step-01_kinds"))
    kinds = [(cls, re.search(r"KIND_\w+", body).group(0)) for cls, body in cards]
    assert kinds == [
        ("jw-card", "KIND_CHART"),
        ("jw-card wide", "KIND_WIDE"),
        ("jw-card wide", "KIND_TABLE"),
        ("jw-card", "KIND_OTHER"),
    ]
    assert "NOT_MARKED" not in page
    assert "NOT_MARKED" in (tmp_path / "analysis.html").read_text(encoding="utf-8")


def test_recommendations_section(page: str) -> None:
    recs = _section(page, "recommendations")
    assert "<h2>Recommendations</h2>" in recs
    assert "<li><strong>Improve onboarding</strong>: RECO_ONE</li>" in recs
    assert "RECO_TWO" in recs
    # In the Recommendations section only, not as a card of its step.
    assert "RECO_ONE" not in _section(page, "step-02_fails")
    assert page.count("RECO_ONE") == 1


def test_no_recommendations_section_without_recommendations(tmp_path: Path) -> None:
    _executed(tmp_path / "notebooks" / "01_a.ipynb", [_code("a", [_display("<p>x</p>", "chart")])])
    page = build_report(tmp_path, title="t", metrics=None).read_text(encoding="utf-8")
    assert 'id="recommendations"' not in page and 'href="#recommendations"' not in page


def test_step_question_extracted_and_shown(page: str, run_dir: Path) -> None:
    # Wrapped over two lines, ends at the next bullet.
    first = render_notebook(run_dir / "notebooks" / "01_define_goals.ipynb")
    assert first.question == "Which goals matter most to the *board* this year?"
    # On one line, ends at the blank line.
    second = render_notebook(run_dir / "notebooks" / "02_fails.ipynb")
    assert second.question == "Who buys?"
    assert render_notebook(run_dir / "notebooks" / "03_no_title.ipynb").question == ""
    step = _section(page, "step-01_define_goals")
    assert (
        '<p class="jw-question">Which goals matter most to the <em>board</em> this year?</p>'
        in step
    )
    assert step.index("<h2>1. Define goals</h2>") < step.index("jw-question")
    assert '<p class="jw-question">Who buys?</p>' in _section(page, "step-02_fails")
    assert "jw-question" not in _section(page, "step-03_no_title")


def test_question_ends_at_a_dash_bullet_and_skips_hidden_cells(tmp_path: Path) -> None:
    path = _executed(
        tmp_path / "04_x.ipynb",
        [
            _markdown("**Question**: HIDDEN QUESTION?", ["test"]),
            new_markdown_cell(
                "# Stages\n\n- **Question**: Where do accounts\n  stall, and\n  why?\n- **Data**: events"
            ),
        ],
    )
    assert render_notebook(path).question == "Where do accounts stall, and why?"


def test_failed_step_in_the_report(page: str) -> None:
    section = _section(page, "step-02_fails")
    assert f"This step failed: ValueError: bad {XSS_ESC}." in section
    assert '<a href="analysis.html#step-02_fails">' in section
    assert 'class="jw-error"' not in page and "ValueError Traceback" not in page


def test_print_marks_around_every_card(page: str) -> None:
    marks = _MARK.findall(page)
    # The class and the text agree, and every box has its start then its end.
    assert all(cls == edge for cls, _, edge in marks)
    boxes = [(box, edge) for _, box, edge in marks]
    assert boxes == [
        ("step-01_define_goals-1", "start"),
        ("step-01_define_goals-1", "end"),
        ("step-01_define_goals-2", "start"),
        ("step-01_define_goals-2", "end"),
        ("step-02_fails-1", "start"),
        ("step-02_fails-1", "end"),
    ]
    # Each card opens with its start mark and closes with its end mark.
    boxed = re.findall(
        r'<div class="jw-card[^"]*"><span class="jw-pdf-mark jw-pdf-start"[^>]*>jw-box (\S+) start'
        r'</span>.*?<span class="jw-pdf-mark jw-pdf-end"[^>]*>jw-box (\S+) end</span></div>',
        page,
        re.DOTALL,
    )
    assert [a for a, b in boxed if a == b] == [
        "step-01_define_goals-1",
        "step-01_define_goals-2",
        "step-02_fails-1",
    ]
    css = page[: page.index("@media print")]
    assert ".jw-pdf-mark { display: none; }" in css  # invisible on screen


def test_print_css(page: str, analysis: str) -> None:
    for text in (page, analysis):
        assert re.search(r"@page \{ size: A4 landscape;", text)
        css = text[text.index("@media print") :]
        assert "nav.jw-nav { display: none; }" in css
        assert "break-inside: avoid" in css and "break-before: page" in css
        assert "max-width: 100% !important; height: auto !important;" in css
    css = page[page.index("@media print") :]
    assert re.search(r"[^{}]*\.jw-card\b[^{}]*\{ break-inside: avoid; \}", css)
    assert "figure.jw-map { break-inside: avoid; }" in css
    assert ".jw-tab-panel { display: block !important;" in css  # every map tab is printed
    assert "jw-map-band" not in page  # the old print bands of the journey map are gone


# ---------------------------------------------------------------- report.html: summary, appendix


def test_summary_in_page(page: str) -> None:
    s = _section(page, "summary")
    assert "1,100 EUR" in s and "+10.0%" in s
    assert "<h3>Key findings</h3>" in s
    # 1000 reached awareness, 400 consideration: 600 lost, 60.0% of 1,000.
    assert (
        "<li>From Awareness to Consideration the journey loses 600 of 1,000 accounts (60.0%), "
        "its largest drop.</li>"
    ) in s
    assert f"Decision {XSS_ESC} → Onboarding loses 50.0%" in s  # a stage label, escaped
    # The goals table: label (the id when none), current, target, deadline, status in words.
    goals = s[s.index("<h3>Goals</h3>") :]
    assert _rows(goals) == [
        ["goal", "current", "target", "deadline", "status"],
        [IMG_XSS, "40.0%", "50.0%", "2025-12", "on track"],
        ["cut-churn", "4.0%", "2.0%", "2025-06", "off track"],
    ]
    # The status keeps the class that colours it.
    assert re.search(r'class="[^"]*\bstatus off_track\b[^"]*"[^>]*>\s*off track', goals)
    assert re.search(r'class="[^"]*\bstatus on_track\b[^"]*"[^>]*>\s*on track', goals)
    assert "events: 10 of 1,200 rows rejected (most often: unknown account_id)" in s


def test_data_quality_table_in_the_appendix(page: str) -> None:
    appendix = _section(page, "definitions")
    dq = appendix[appendix.index('id="data-quality"') :]
    assert f"unknown account_id (7); bad {XSS_ESC} (3)" in dq
    assert _rows(dq)[1:] == [
        ["accounts", "10", "10", "0", "none"],
        ["events", "1,200", "1,190", "10", f"unknown account_id (7); bad {XSS} (3)"],
    ]


def _appendix_ids(page: str) -> list[str]:
    return re.findall(r'<dt id="metric-([^"]+)"', _section(page, "definitions"))


def test_appendix_defines_only_the_metrics_shown(page: str) -> None:
    # The KPI tiles (MRR, NRR of the month as nrr_12m is null, logo churn, activation,
    # NPS, CAC) and the goals' metrics (activation_rate, logo_churn_rate).
    shown = {"mrr", "nrr_1m", "logo_churn_rate", "activation_rate", "nps", "cac"}
    ids = _appendix_ids(page)
    assert set(ids) == shown and len(ids) == len(shown)
    assert "metric-referral_rate" not in page and "metric-ttfv_days_median" not in page
    # In catalogue order.
    catalogue = [r["id"] for r in summary.definitions()]
    assert ids == sorted(ids, key=catalogue.index)


def test_appendix_adds_goal_metrics_and_metric_ids(run_dir: Path) -> None:
    doc = {
        **METRICS,
        "goals": [{"id": "keep-revenue", "metric": "grr_1m", "status": "at_risk"}],
    }
    page = build_report(
        run_dir, title="t", metrics=doc, metric_ids=["ttfv_days_median", "no_such_metric"]
    ).read_text(encoding="utf-8")
    ids = _appendix_ids(page)
    assert "grr_1m" in ids  # the goal's metric
    assert "ttfv_days_median" in ids  # asked for by the caller (the journey map's KPIs)
    assert "no_such_metric" not in page and "referral_rate" not in ids
    assert len(ids) == 8


def test_appendix_defines_the_12_month_nrr_tile(run_dir: Path) -> None:
    # With a 12-month NRR the tile shows "NRR (12 months)": its metric is nrr_12m.
    doc = {**METRICS, "revenue": {**METRICS["revenue"], "nrr_12m": 1.05}}
    page = build_report(run_dir, title="t", metrics=doc).read_text(encoding="utf-8")
    assert "NRR (12 months)" in _section(page, "summary")
    assert "nrr_12m" in _appendix_ids(page)


def test_without_metrics(run_dir: Path) -> None:
    page = build_report(run_dir, title="t", metrics=None).read_text(encoding="utf-8")
    assert "No metrics document was produced" in page
    assert 'id="data-quality"' not in page
    assert "Key findings" not in page


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
    assert [(g["label"], g["deadline"], g["status_text"]) for g in s["goals"]] == [
        (IMG_XSS, "2025-12", "on track"),
        ("cut-churn", "2025-06", "off track"),
    ]
    assert s["warnings"] == ["events: 10 of 1,200 rows rejected (most often: unknown account_id)"]
    assert s["period"] == {"start": "2025-01", "end": "2025-03"}


def test_findings_of_the_metrics_document() -> None:
    found = executive_summary(METRICS)["findings"]
    # Accounts lost between neighbours: 1000-400=600, 400-300=100, 300-150=150, 150-120=30;
    # the largest is awareness -> consideration, 600 of 1000 = 60.0%.
    assert found[0] == (
        "From Awareness to Consideration the journey loses 600 of 1,000 accounts (60.0%), "
        "its largest drop."
    )
    assert found[1] == (
        f"Steepest drops by share of accounts: Awareness → Consideration loses 60.0%; "
        f"Decision {XSS} → Onboarding loses 50.0%."
    )
    # One goal on track of two; the other (off track) has progress 0.33.
    assert found[2] == (
        "1 of 2 goals is on track or achieved; the furthest behind is cut-churn (progress 33.0%)."
    )
    assert found[3].startswith("MRR went from 1,000 EUR in 2025-02 to 1,100 EUR in 2025-03;")
    assert len(found) == 4


def test_largest_drop_counts_accounts_not_shares() -> None:
    # a -> b loses 500 of 1000 (50%); b -> c loses 450 of 500 (90%): the finding names
    # the larger loss in accounts, the share ranking the steeper one.
    stages = [
        {"id": "a", "label": "A", "reached": 1000},
        {"id": "b", "label": "B", "reached": 500, "conversion_from_previous": 0.5},
        {"id": "c", "label": "C", "reached": 50, "conversion_from_previous": 0.1},
    ]
    s = executive_summary({"stages": stages})
    assert s["findings"][0] == (
        "From A to B the journey loses 500 of 1,000 accounts (50.0%), its largest drop."
    )
    assert s["dropoffs"][0]["from"] == "B"
    # A tie in accounts: the first pair wins (100 -> 50 -> 0 loses 50 twice).
    tie = [
        {"id": "a", "label": "A", "reached": 100},
        {"id": "b", "label": "B", "reached": 50, "conversion_from_previous": 0.5},
        {"id": "c", "label": "C", "reached": 0, "conversion_from_previous": 0.0},
    ]
    assert executive_summary({"stages": tie})["findings"][0] == (
        "From A to B the journey loses 50 of 100 accounts (50.0%), its largest drop."
    )


def test_executive_summary_of_nothing() -> None:
    s = executive_summary(None)
    assert all(k["value"] == "—" and k["missing"] and k["note"] for k in s["kpis"])
    assert s["goals"] == [] and s["dropoffs"] == [] and s["warnings"] == []
    assert s["findings"] == []
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


def test_doctests() -> None:
    for module in (assemble, notebook_html, pdf, provenance, runner, sanitize, summary):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__


# ---------------------------------------------------------------- show()/display() to the report


def test_show_finding_and_report_mark_reach_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pl = pytest.importorskip("polars")
    render = pytest.importorskip("journeylib.present.render")
    present = pytest.importorskip("journeylib.present.notebook")
    outputs: list[dict] = []

    def capture(obj, metadata=None):
        outputs.append(
            new_output("display_data", data={"text/html": obj.data}, metadata=metadata or {})
        )

    # render.display imports IPython's display when called; show() holds its own name.
    monkeypatch.setattr("IPython.display.display", capture)
    monkeypatch.setattr(present, "display", capture)
    render.reset_display()
    try:
        present.show(pl.DataFrame({"x": ["TABLE_CELL"]}), finding=f"Table {XSS}", report="table")
        render.display(
            {"mark": "point", "data": {"values": [{}]}}, finding=f"Chart {IMG_XSS}", report="wide"
        )
        present.show(pl.DataFrame({"y": ["UNMARKED_CELL"]}))
    finally:
        render.reset_display()
    assert [o.metadata for o in outputs] == [
        {"journeylib": {"report": "table"}},
        {"journeylib": {"report": "wide"}},
        {},
    ]
    _executed(tmp_path / "notebooks" / "01_shown.ipynb", [_code("show()", outputs)])
    page = build_report(tmp_path, title="t", metrics=None).read_text(encoding="utf-8")
    analysis = (tmp_path / "analysis.html").read_text(encoding="utf-8")
    cards = _cards(_section(page, "step-01_shown"))
    assert [cls for cls, _ in cards] == ["jw-card wide", "jw-card wide"]
    assert f'<p class="jw-finding">Table {XSS_ESC}</p>' in cards[0][1]
    assert "TABLE_CELL" in cards[0][1]
    assert '<p class="jw-finding">Chart &lt;img src=x onerror=alert(1)&gt;</p>' in cards[1][1]
    assert 'class="jw-chart"' in cards[1][1]
    assert "UNMARKED_CELL" not in page and "UNMARKED_CELL" in analysis
    for text in (page, analysis):
        assert XSS not in text and IMG_XSS not in text
        assert (
            len(
                re.findall(
                    r"window\.vegaEmbed\s*=(?!=)", text.split('<header class="jw-head">', 1)[0]
                )
            )
            == 1
        )


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


def _figures(section: str) -> list[str]:
    """The map names (``MAP-<file stem>``) of each figure, in order."""
    return re.findall(r"MAP-(\w+) &lt;script", section)


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
    section = _section(page, "journey-map")
    # Current state first, then the future-state and persona maps on tabs.
    assert _figures(section) == ["journey_map", "future_state_map", "persona_maps"]
    assert re.findall(r"<label for=\"jw-tab-([^\"]+)\">([^<]+)</label>", section) == [
        ("journey-map", "Current state"),
        ("future-state-map", "Future state"),
        ("persona-maps", "Persona maps"),
    ]
    assert section.count('type="radio"') == 3 and section.count("checked") == 1
    assert section.count('class="jw-map-svg"') == 3
    # The step number is not repeated from the notebook's own "07 …" title.
    assert ">7. Visualise the journey</a>" in nav


def test_journey_map_svgs_are_cleaned(tmp_path: Path) -> None:
    run = _map_run(tmp_path, ("journey_map", "future_state_map"))
    page = build_report(run, title="t", metrics=None).read_text(encoding="utf-8")
    section = _section(page, "journey-map")
    low = section.lower()
    assert "<script" not in low and "onload" not in low and "onclick" not in low
    assert "onerror" not in low and "foreignobject" not in low and "<style" not in low
    assert "evil.example" not in low and "javascript:" not in low and "<image" not in low
    assert "<?xml" not in section
    # Client text stays escaped text; ids are unique per map file and references follow.
    assert "MAP-journey_map &lt;script&gt;alert(6)&lt;/script&gt;" in section
    assert 'id="jw-journey-map-0-g1"' in section
    assert 'fill="url(#jw-journey-map-0-g1)"' in section
    assert 'id="jw-future-state-map-0-g1"' in section
    # The root scales with the page: no fixed size, its shape kept by the viewBox.
    root = re.search(r"<svg [^>]*>", section).group(0)
    assert 'viewBox="0 0 1112 900"' in root and 'class="jw-map-svg"' in root
    assert " width=" not in root and " height=" not in root


def test_journey_map_alone_has_no_tabs(tmp_path: Path) -> None:
    run = _map_run(tmp_path, ("journey_map",))
    page = build_report(run, title="t", metrics=None).read_text(encoding="utf-8")
    section = _section(page, "journey-map")
    assert 'type="radio"' not in section and _figures(section) == ["journey_map"]


def test_report_maps_preferred_with_fallback_per_map(tmp_path: Path) -> None:
    # Current state: no report_ file, so journey_map.svg; future state: the report's version.
    run = _map_run(tmp_path, ("journey_map", "future_state_map", "report_future_state_map"))
    page = build_report(run, title="t", metrics=None).read_text(encoding="utf-8")
    assert _figures(_section(page, "journey-map")) == ["journey_map", "report_future_state_map"]
    (run / "charts" / "report_journey_map.svg").write_text(
        MAP_SVG.format(label="MAP-report_journey_map"), encoding="utf-8"
    )
    page = build_report(run, title="t", metrics=None).read_text(encoding="utf-8")
    assert _figures(_section(page, "journey-map")) == [
        "report_journey_map",
        "report_future_state_map",
    ]


def test_report_persona_maps_one_tab_one_figure_each(tmp_path: Path) -> None:
    run = _map_run(
        tmp_path,
        (
            "journey_map",
            "persona_maps",  # the notebook's combined map: not used beside the report's
            "report_persona_map_10",
            "report_persona_map_2",
            "report_persona_map_1",
        ),
    )
    maps = journey_maps(run)
    assert [(m["id"], m["label"], len(m["svgs"])) for m in maps] == [
        ("journey-map", "Current state", 1),
        ("persona-maps", "Persona maps", 3),
    ]
    page = build_report(run, title="t", metrics=None).read_text(encoding="utf-8")
    section = _section(page, "journey-map")
    assert section.count('type="radio"') == 2  # two tabs
    panel = section[section.index('id="map-persona-maps"') :]
    # In persona order (1, 2, 10, not the file names' 1, 10, 2), each in its own figure.
    assert _figures(panel) == [
        "report_persona_map_1",
        "report_persona_map_2",
        "report_persona_map_10",
    ]
    assert panel.count('<figure class="jw-map">') == 3
    boxes = [box for _, box, edge in _MARK.findall(panel) if edge == "start"]
    assert boxes == ["persona-maps-1", "persona-maps-2", "persona-maps-3"]


def test_two_report_persona_maps(tmp_path: Path) -> None:
    run = _map_run(tmp_path, ("report_persona_map_1", "report_persona_map_2"))
    page = build_report(run, title="t", metrics=None).read_text(encoding="utf-8")
    section = _section(page, "journey-map")
    # One map (the persona maps), so no tabs; two figures with their print marks.
    assert 'type="radio"' not in section
    assert _figures(section) == ["report_persona_map_1", "report_persona_map_2"]
    assert section.count('<figure class="jw-map"') == 2
    assert [(box, edge) for _, box, edge in _MARK.findall(section)] == [
        ("persona-maps-1", "start"),
        ("persona-maps-1", "end"),
        ("persona-maps-2", "start"),
        ("persona-maps-2", "end"),
    ]


def test_no_journey_map_section_without_saved_maps(tmp_path: Path) -> None:
    run = _map_run(tmp_path, ())
    (run / "charts" / "journey_map.svg").write_text("not an svg", encoding="utf-8")
    page = build_report(run, title="t", metrics=None).read_text(encoding="utf-8")
    assert 'id="journey-map"' not in page and 'href="#journey-map"' not in page


def test_maps_only_in_the_report(tmp_path: Path) -> None:
    run = _map_run(tmp_path, ("journey_map",))
    build_report(run, title="t", metrics=None)
    analysis = (run / "analysis.html").read_text(encoding="utf-8")
    assert "MAP-journey_map" not in analysis and 'class="jw-map-svg"' not in analysis
    assert "MAP-journey_map" in (run / "report.html").read_text(encoding="utf-8")


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


# ---------------------------------------------------------------- in a real browser

_CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)
_PWN = "document.documentElement.setAttribute('data-pwned','1')"


def _dom(page: Path, budget_ms: int = 5000) -> str:
    return subprocess.run(
        [
            _CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


# Run after load in a copy of a page: the text a reader sees (document.body.innerText,
# hidden elements left out) put where --dump-dom shows it.
_INNER_TEXT_PROBE = (
    "<script>window.addEventListener('load',function(){setTimeout(function(){"
    "document.documentElement.setAttribute('data-jw-text',document.body.innerText);},500);});"
    "</script>"
)


def _inner_text(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    head, tail = text.rsplit("</body>", 1)
    probe = page.with_name(f"probe-{page.name}")
    probe.write_text(head + _INNER_TEXT_PROBE + "</body>" + tail, encoding="utf-8")
    m = re.search(r'<html[^>]*\sdata-jw-text="([^"]*)"', _dom(probe))
    assert m, "the probe did not run"
    return html.unescape(m.group(1))


@pytest.mark.slow
@pytest.mark.skipif(_CHROMIUM is None, reason="no headless Chromium")
def test_in_headless_chromium_no_test_cell_text_is_visible(run_dir: Path) -> None:
    report = build_report(run_dir, title="Report", metrics=METRICS)
    seen = {"report": _inner_text(report), "analysis": _inner_text(run_dir / "analysis.html")}
    # The probe reads the rendered pages: what the reader must see is there ...
    assert "Key findings" in seen["report"] and "WIDE_CARD" in seen["report"]
    assert "Which goals matter most to the board this year?" in seen["report"]
    assert "SETUP_01_OUTPUT" in seen["analysis"] and f"client {XSS}" in seen["analysis"]
    # ... and nothing of the recorded-results cells, nor code, nor a JSON dump.
    for name, text in seen.items():
        for marker in ("Recorded results", "NBVAL", "import ", "{", "TEST_CELL"):
            assert marker not in text, (name, marker)


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
    spec = {
        "mark": "bar",
        "title": text,
        "data": {"values": [{"a": text, "b": 1}]},
        "encoding": {"x": {"field": "a"}, "y": {"field": "b"}},
    }
    _executed(
        tmp_path / "notebooks" / "01_x.ipynb",
        [
            new_markdown_cell(f"# Step\n\n**Question**: {html.escape(text)}"),
            _code(
                "c",
                [
                    _display(
                        f'<p class="jw-finding">{html.escape(text)}</p>'
                        + render.chart_html(spec, include_bundle=True),
                        "chart",
                    )
                ],
            ),
            _code("p", [_stdout(text)]),
            _code(
                "m",
                [
                    new_output(
                        "display_data",
                        data={"text/markdown": text},
                        metadata={"journeylib": {"report": "recommendations"}},
                    )
                ],
            ),
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
    for page in (report, tmp_path / "analysis.html"):
        dom = _dom(page)
        assert not re.search(r'<html[^>]*data-pwned="1"', dom), page.name  # no payload ran
        assert 'data-pwned="1"' not in dom, page.name
        assert dom.count('class="marks"') == 1, page.name  # the chart was drawn offline


@pytest.mark.slow
@pytest.mark.skipif(_CHROMIUM is None, reason="no headless Chromium")
def test_in_headless_chromium_inlined_maps_run_nothing(tmp_path: Path) -> None:
    run = _map_run(tmp_path, ("journey_map", "future_state_map"))
    pwn_svg = MAP_SVG.replace("alert(", "document.documentElement.setAttribute('data-pwned',")
    (run / "charts" / "journey_map.svg").write_text(
        pwn_svg.format(label="MAP-journey_map"), encoding="utf-8"
    )
    report = build_report(run, title="t", metrics=None)
    dom = _dom(report, 3000)
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]
    assert not re.search(r"<html[^>]*data-pwned", dom)
    assert dom.count('class="jw-map-svg"') == 2


def test_recommendations_from_client_labels_stay_text() -> None:
    """A touchpoint or stage label can open no tag, link or heading in the recommendations."""
    from journeylib.analysis.findings import recommendations_markdown
    from journeylib.report.sanitize import untrusted_markdown_html

    evil = f"Pricing{XSS}{IMG_XSS}[link](https://evil.example)\n\n# Heading"
    md = recommendations_markdown([{"title": evil, "why": evil, "ideas": evil}])
    out = untrusted_markdown_html(md)
    for tag in ("<script", "<img", "<a ", "href=", "<h1"):
        assert tag not in out, tag
    assert "&lt;script&gt;" in out and "[link](https://evil.example)" in out  # shown as text
    assert out.count("<li>") == 1


def test_the_appendix_defines_the_analyses_of_the_charts_the_report_shows(tmp_path: Path) -> None:
    run = tmp_path / "20260101T000000Z"
    (run / "charts").mkdir(parents=True)
    for name in ("04_lifecycle", "05_stickiness", "05_survival"):  # saved, all three
        (run / "charts" / f"{name}.svg").write_text("<svg/>", encoding="utf-8")

    def shown(name: str) -> dict:
        out = _display(chart_html(7), "chart")
        out["metadata"]["journeylib"]["chart"] = name
        return out

    _executed(
        run / "notebooks" / "05_analyze_data.ipynb",
        [
            new_markdown_cell("# Analyse"),
            _code(
                "show(sticky, save_as='05_stickiness', report='chart')", [shown("05_stickiness")]
            ),
            _code("show(survival, save_as='05_survival')", [_display(chart_html(8))]),
        ],
    )
    html_text = build_report(run, title="r", metrics=METRICS).read_text(encoding="utf-8")
    assert "Days active and DAU/MAU" in html_text  # shown: defined
    assert "Lifecycle of active accounts" not in html_text  # saved, not shown: not defined
    assert "Retention forecast" not in html_text

    # A run whose notebooks name no chart (made before names were kept) defines every saved one.
    plain = tmp_path / "20260102T000000Z"
    (plain / "charts").mkdir(parents=True)
    (plain / "charts" / "04_lifecycle.svg").write_text("<svg/>", encoding="utf-8")
    _executed(
        plain / "notebooks" / "04_stages.ipynb",
        [
            new_markdown_cell("# Stages"),
            _code("show(c, report='chart')", [_display("<p>x</p>", "chart")]),
        ],
    )
    assert "Lifecycle of active accounts" in build_report(
        plain, title="r", metrics=METRICS
    ).read_text(encoding="utf-8")
