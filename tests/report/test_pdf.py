"""report.pdf: headless Chromium prints report.html, A4 landscape, no box cut by a page break.

The report puts two hidden marks in every card and map figure, "jw-box ID start" at
its top and "jw-box ID end" at its bottom (1 px white text in print), so the PDF's
text tells on which page each edge of each box fell.
"""

from __future__ import annotations

import stat
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from journeylib.errors import JourneyError
from journeylib.report.assemble import build_report
from journeylib.report.pdf import CHROMIUM_ENV, find_chromium, write_pdf, write_pdf_check
from tests.report.report_helpers import A4_LANDSCAPE_PT, KERNELSPEC, pdf_boxes, split_boxes


def _no_browser_anywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "no-such-chromium"))


# ---------------------------------------------------------------- without Chromium


def test_write_pdf_check_without_chromium_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_browser_anywhere(monkeypatch, tmp_path)
    assert find_chromium() is None
    with pytest.raises(JourneyError) as info:
        write_pdf_check()
    message = str(info.value)
    assert "\n" not in message
    assert "chromium" in message and CHROMIUM_ENV in message  # what is missing, how to fix


def test_write_pdf_without_chromium_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_browser_anywhere(monkeypatch, tmp_path)
    page = tmp_path / "report.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(JourneyError, match="chromium"):
        write_pdf(page, tmp_path / "report.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-bin", "report.html"]


def _fake_browser(path: Path, script: str) -> Path:
    path.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_chromium_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_browser_anywhere(monkeypatch, tmp_path)
    given = _fake_browser(tmp_path / "my-chrome", "exit 0\n")
    monkeypatch.setenv(CHROMIUM_ENV, str(given))
    assert write_pdf_check() == str(given)
    # Without the variable, the PATH is searched.
    monkeypatch.delenv(CHROMIUM_ENV)
    on_path = _fake_browser(tmp_path / "empty-bin" / "chromium", "exit 0\n")
    assert find_chromium() == str(on_path)


def test_failed_print_is_one_line_and_leaves_no_part_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_browser_anywhere(monkeypatch, tmp_path)
    broken = _fake_browser(
        tmp_path / "broken", "echo starting >&2\necho 'GPU exploded' >&2\nexit 3\n"
    )
    monkeypatch.setenv(CHROMIUM_ENV, str(broken))
    page = tmp_path / "report.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(JourneyError) as info:
        write_pdf(page, tmp_path / "report.pdf")
    assert "\n" not in str(info.value)
    assert "exit code 3: GPU exploded" in str(info.value)  # the browser's last line
    assert not (tmp_path / "report.pdf").exists() and not (tmp_path / ".report.pdf.part").exists()


# ---------------------------------------------------------------- printed by Chromium

_CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(_CHROMIUM is None, reason="no headless Chromium")


def _chart_spec(n: int, height: int) -> dict:
    return {
        "mark": "bar",
        "width": 380,
        "height": height,
        "title": f"CHART-{n}",
        "data": {"values": [{"a": "x", "b": 1}, {"a": "y", "b": 3}]},
        "encoding": {
            "x": {"field": "a", "type": "nominal"},
            "y": {"field": "b", "type": "quantitative"},
        },
    }


def _report_run(run: Path, heights: list[int]) -> Path:
    """A run whose step notebook marks one chart card per height for the report."""
    render = pytest.importorskip("journeylib.present.render")
    cells = [new_markdown_cell("# Step one\n\n* **Question**: Does the print keep boxes whole?")]
    for n, height in enumerate(heights, 1):
        body = f'<p class="jw-finding">Finding {n}</p>' + render.chart_html(
            _chart_spec(n, height), include_bundle=n == 1
        )
        out = new_output(
            "display_data",
            data={"text/html": body, "text/plain": "<HTML>"},
            metadata={"journeylib": {"report": "chart"}},
        )
        cells.append(new_code_cell("show(chart, report='chart')", outputs=[out]))
    nb = new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})
    (run / "notebooks").mkdir(parents=True)
    nbformat.write(nb, run / "notebooks" / "01_step_one.ipynb")
    # A map much taller than a page: printed, it is scaled to fit one.
    (run / "charts").mkdir()
    (run / "charts" / "report_journey_map.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="1100" height="3000" '
        'viewBox="0 0 1100 3000"><rect width="1100" height="3000" fill="#eef"/>'
        '<text x="10" y="20">MAP-TOP</text><text x="10" y="2990">MAP-BOTTOM</text></svg>',
        encoding="utf-8",
    )
    return build_report(run, title="Print test", metrics=None)


def _printed(report: Path) -> tuple[list, dict[str, dict[str, list[int]]], str]:
    """The PDF's pages, each box's pages by edge, and its whole text."""
    pytest.importorskip("pypdf")
    return pdf_boxes(write_pdf(report, report.with_name("report.pdf")))


@pytest.mark.slow
@needs_chromium
def test_pdf_is_a4_landscape_and_no_box_is_split(tmp_path: Path) -> None:
    report = _report_run(tmp_path / "run", [220] * 6)
    pages, boxes, text = _printed(report)
    assert len(pages) >= 3
    for page in pages:
        box = page.mediabox
        assert float(box.width) == pytest.approx(A4_LANDSCAPE_PT[0], abs=1)
        assert float(box.height) == pytest.approx(A4_LANDSCAPE_PT[1], abs=1)
    # Six chart cards and the map were found, so the check below cannot pass on nothing.
    assert sorted(boxes) == ["journey-map-1"] + [f"step-01_step_one-{n}" for n in range(1, 7)]
    assert split_boxes(boxes) == []
    # The charts were drawn before the print (vega wrote their titles), the map whole.
    for n in range(1, 7):
        assert f"CHART-{n}" in text
    assert "MAP-TOP" in text and "MAP-BOTTOM" in text


@pytest.mark.slow
@needs_chromium
def test_a_box_taller_than_a_page_is_detected_as_split(tmp_path: Path) -> None:
    # The third card's chart is 2000 px tall: no page can hold it, so it must be cut.
    report = _report_run(tmp_path / "run", [220, 220, 2000, 220])
    _, boxes, _ = _printed(report)
    assert len(boxes) == 5
    assert split_boxes(boxes) == ["step-01_step_one-3"]
    tall = boxes["step-01_step_one-3"]
    assert tall["start"][0] < tall["end"][0]
