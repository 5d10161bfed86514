"""Stand-in notebooks for the runner and report tests."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

PARAMS = """\
client: str = "demo"  # client name or path
data_dir: str = ""  # data root
output_dir: str = ""  # run folder
period_start: str = ""  # YYYY-MM
period_end: str = ""  # YYYY-MM
"""

# What the chart renderer emits (the marker contract of journeylib.report.notebook_html).
STANDIN_BUNDLE = (
    "<script data-jw-bundle>/*JW-STANDIN-BUNDLE*/window.vegaEmbed=function(){};</script>"
)


def chart_html(n: int) -> str:
    """What one chart display emits: a bundle copy, the chart div and its script."""
    return (
        STANDIN_BUNDLE
        + f'<div class="jw-chart" id="c{n}"></div>'
        + f'<script data-jw-chart>vegaEmbed("#c{n}", {{}});</script>'
    )


def write_notebook(
    path: Path,
    code: list[str],
    *,
    title: str | None = None,
    params: str | None = PARAMS,
) -> Path:
    """A notebook: optional markdown title, a `parameters` cell, then the code cells."""
    cells = []
    if title:
        cells.append(new_markdown_cell(f"# {title}\n\nStand-in step."))
    if params is not None:
        p = new_code_cell(params)
        p.metadata["tags"] = ["parameters"]
        cells.append(p)
    cells += [new_code_cell(src) for src in code]
    nb = new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def stub_client(name: str, *, pdf: bool = False) -> SimpleNamespace:
    """What the runner reads of a loaded client once the notebooks ran (language, pdf, KPIs)."""
    return SimpleNamespace(
        name=name,
        config=SimpleNamespace(client=name, language="en", pdf=pdf),
        template=SimpleNamespace(stages=[]),
    )


#: A page of report.pdf, in points.
A4_LANDSCAPE_PT = (841.9, 595.3)
# The print anchors of report.html: "jw-box ID start|end" at a box's top and bottom.
_MARK = re.compile(r"jw-box ([\w-]+) (start|end)")


def pdf_boxes(pdf: Path) -> tuple[list, dict[str, dict[str, list[int]]], str]:
    """A printed report's pages, each box's pages by edge, and its whole text."""
    import pypdf

    reader = pypdf.PdfReader(pdf)
    boxes: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"start": [], "end": []})
    texts = []
    for number, page in enumerate(reader.pages, 1):
        text = page.extract_text()
        texts.append(text)
        for box, edge in _MARK.findall(text):
            boxes[box][edge].append(number)
    return list(reader.pages), dict(boxes), "\n".join(texts)


def split_boxes(boxes: dict[str, dict[str, list[int]]]) -> list[str]:
    """The boxes whose start and end marks are not both once on the same page."""
    return sorted(
        box
        for box, edges in boxes.items()
        if not (len(edges["start"]) == len(edges["end"]) == 1 and edges["start"] == edges["end"])
    )
