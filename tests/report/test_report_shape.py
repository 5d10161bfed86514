"""The demo's report.html as a reader sees it in headless Chromium at 1,400 px.

One real run of the demo client (``journey demo``'s data: 2,000 accounts, 12
months, seed 42) in each language, then the page is measured in Chromium: at
most 12 screens of 1,400 × 900, the journey map wholly inside the first two
screens, every stage name on one line, no code, JSON or test plumbing in the
text of report.html or analysis.html; and its report.pdf: every page A4
landscape, no chart or map cut across two pages.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from journeylib.report.runner import run_client
from journeylib.sources.synth import synthesize
from tests.report.report_helpers import A4_LANDSCAPE_PT, pdf_boxes, split_boxes

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREEN_W, SCREEN_H = 1400, 900

# Appended to a copy of the page: after the charts drew, write what we measure into the DOM.
_PROBE = """
<script>
window.addEventListener('load', function () {
  setTimeout(function () {
    var map = document.querySelector('#journey-map figure.jw-map');
    var r = map ? map.getBoundingClientRect() : null;
    var out = {
      height: document.documentElement.scrollHeight,
      map_top: r ? r.top + window.scrollY : null,
      map_bottom: r ? r.bottom + window.scrollY : null,
      map_width: r ? r.width : null,
      text: document.body.innerText
    };
    var pre = document.createElement('pre');
    pre.id = 'jw-probe';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }, 3000);
});
</script>
"""


@pytest.fixture(scope="module", params=["en", "ar", "zh"])
def run_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's run in each language; printed to report.pdf too when Chromium is here."""
    client = tmp_path_factory.mktemp("shape") / f"demo_{request.param}"
    synthesize(client, accounts=2000, months=12, seed=42, start="2025-01", fmt="csv")
    yaml_path = client / "client.yaml"
    yaml_path.write_text(f"language: {request.param}\n" + yaml_path.read_text(), encoding="utf-8")
    result = run_client(
        client, out_dir=tmp_path_factory.mktemp("reports"), jobs=2, pdf=CHROMIUM is not None
    )
    assert result.status == "ok", result.error
    return result.run_dir


def _measure(page: Path, tmp: Path) -> dict:
    probe = tmp / f"probe-{page.name}"
    text = page.read_text(encoding="utf-8")
    head, tail = text.rsplit("</body>", 1)  # the last one: the vega bundle's text holds others
    probe.write_text(head + _PROBE + "</body>" + tail, encoding="utf-8")
    dom = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={tmp / ('chrome-' + page.stem)}",
            f"--window-size={SCREEN_W},{SCREEN_H}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout
    found = re.search(r'<pre id="jw-probe">(.*?)</pre>', dom, re.DOTALL)
    assert found, "the probe did not run"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium")
def test_report_is_short_and_the_map_fits_the_first_two_screens(
    run_dir: Path, tmp_path: Path
) -> None:
    m = _measure(run_dir / "report.html", tmp_path)
    assert m["height"] <= 12 * SCREEN_H, f"report.html is {m['height'] / SCREEN_H:.1f} screens"
    assert m["map_top"] is not None, "no journey map in the report"
    assert m["map_bottom"] <= 2 * SCREEN_H, f"the map ends at {m['map_bottom']:.0f} px"
    assert m["map_width"] >= 1300  # full width of a 1,400 px window


def test_stage_names_are_not_wrapped_on_the_map(run_dir: Path) -> None:
    """Each stage label is one text line of the map's SVG (a wrapped one would be split)."""
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    svg = page[page.index('id="journey-map"') :]
    svg = svg[: svg.index("</figure>")]
    lines = {html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)}
    labels = [s["label"] for s in json.loads((run_dir / "metrics.json").read_text())["stages"]]
    assert len(labels) == 8
    for label in labels:
        assert label in lines, f"stage {label!r} is not one line on the map"


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium")
@pytest.mark.parametrize("name", ["report.html", "analysis.html"])
def test_no_code_json_or_test_plumbing_in_the_text(
    run_dir: Path, tmp_path: Path, name: str
) -> None:
    text = _measure(run_dir / name, tmp_path)["text"]
    assert len(text) > 2000  # the page has content
    assert "Chart not drawn" not in text  # every chart drew
    for plumbing in ("NBVAL", "recorded = {", "json.dumps", "import polars", "Recorded results"):
        assert plumbing not in text, f"{plumbing!r} shows in {name}"
    assert "step = setup(" not in text  # code is hidden
    assert not re.search(r'\{\s*"[a-z_]+":', text), f"a JSON dump shows in {name}"


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium")
def test_the_demo_pdf_is_a4_landscape_and_cuts_no_chart(run_dir: Path) -> None:
    pytest.importorskip("pypdf")
    pages, boxes, _ = pdf_boxes(run_dir / "report.pdf")
    for number, page in enumerate(pages, 1):
        size = (float(page.mediabox.width), float(page.mediabox.height))
        assert size == pytest.approx(A4_LANDSCAPE_PT, abs=1), (number, size)
    # every card of the seven steps and every map (current, future, one per persona)
    assert len(boxes) >= 12, sorted(boxes)
    assert split_boxes(boxes) == [], "cut across pages"
