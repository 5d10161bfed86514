r"""One executed notebook as a section of the report: markdown cells and outputs, code hidden.

Escaping contract of a section:

* ``text/plain`` outputs, streams, tracebacks and error lines are escaped
  (:func:`html.escape`).
* Markdown *cells* are our own prose and rendered as is; ``text/markdown``
  outputs may hold client data and are sanitised (see
  :mod:`journeylib.report.sanitize`).
* ``text/html`` outputs come from journeylib (tables, charts) and are inserted
  as is: **the library must escape every client value it puts in HTML**, and
  chart specs embedded in ``<script>`` must never contain a literal ``</``
  (journeylib.present.render writes ``<`` as ``\u003c``).
  Charts follow journeylib.present.render's protocol: each chart is a
  ``<div class="jw-chart">`` with its own script, and the first chart of a
  notebook carries a copy of the vega bundle. Every copy of the bundle (a
  ``<script>`` marked ``data-jw-bundle``, or one that defines
  ``window.vegaEmbed``) is removed from the outputs and kept in
  :class:`Collected`, so the page can put it once in its head, before every
  chart. A ``<script src="http…">`` or ``<link href="http…">`` in an output is
  removed: the report never fetches anything.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journeylib.report.sanitize import markdown_html, untrusted_markdown_html

__all__ = ["Collected", "NotebookSection", "ReportItem", "SETUP_TAG", "render_notebook"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
# A copy of the vega bundle: marked ``data-jw-bundle``, or recognised by what it
# does (it defines window.vegaEmbed; a chart's script only calls it).
_BUNDLE_ATTR = re.compile(r"\bdata-jw-bundle\b", re.IGNORECASE)
_BUNDLE_BODY = re.compile(r"window\.vegaEmbed\s*=(?!=)")
_EXTERNAL_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>.*?</script\s*>",
    re.IGNORECASE | re.DOTALL,
)
_EXTERNAL_LINK = re.compile(
    r"<link\b[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>", re.IGNORECASE
)
_CHART_MARK = re.compile(r"data-jw-chart\b|class\s*=\s*[\"'][^\"']*\bjw-chart\b", re.IGNORECASE)
_H1 = re.compile(r"^\s*#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HEADING_TAG = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)
_STEP_PREFIX = re.compile(r"^(\d{2})_(.+)$")

# Cells that never appear in any page: papermill's, and ``test`` (the recorded
# results the notebook tests compare: plumbing, not analysis).
_SKIP_CELL_TAGS = {
    "parameters",
    "injected-parameters",
    "remove_cell",
    "remove-cell",
    "papermill-error-cell-tag",
    "test",
}
# Cells that load the client, the same in every notebook: shown once, in the first.
SETUP_TAG = "setup"
# "* **Question**: …" up to the next bullet or blank line (it may wrap); the label as the
# Arabic and Chinese notebooks write it too (notebooks.po), with a full-width colon in Chinese.
_QUESTION = re.compile(
    r"\*\*(?:Question|السؤال|问题)\*\*\s*[:：]\s*(.+?)(?=\n\s*(?:[*-]\s|\n)|\Z)", re.DOTALL
)
_SKIP_OUTPUT_TAGS = {"remove_output", "remove-output"}

# Output mimetypes in the order we prefer them.
_MIME_ORDER = (
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/markdown",
    "text/latex",
    "text/plain",
)


def _demote_headings(fragment: str) -> str:
    """Notebook headings one level down: the report's section heading is the h2."""
    return _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + 1, 6)}", fragment)


# --------------------------------------------------------------------------- outputs


def _pre(text: str, cls: str = "jw-text") -> str:
    return f'<pre class="{cls}">{html.escape(_ANSI.sub("", text))}</pre>'


def _join(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


@dataclass
class Collected:
    """What rendering the notebooks found that the page head needs."""

    bundles: list[str] = field(default_factory=list)
    has_charts: bool = False


def _clean_html(fragment: str, found: Collected) -> str:
    def drop_bundle(m: re.Match[str]) -> str:
        if _BUNDLE_ATTR.search(m.group(1)) or _BUNDLE_BODY.search(m.group(2)):
            found.bundles.append(m.group(0))
            return ""
        return m.group(0)

    fragment = _SCRIPT.sub(drop_bundle, fragment)
    fragment = _EXTERNAL_SCRIPT.sub("<!-- external script removed -->", fragment)
    fragment = _EXTERNAL_LINK.sub("<!-- external link removed -->", fragment)
    if _CHART_MARK.search(fragment):
        found.has_charts = True
    return fragment


def _render_data(data: Mapping[str, Any], found: Collected) -> str:
    for mime in _MIME_ORDER:
        if mime not in data:
            continue
        value = data[mime]
        if mime == "text/html":
            return f'<div class="jw-output">{_clean_html(_join(value), found)}</div>'
        if mime == "image/svg+xml":
            b64 = base64.b64encode(_join(value).encode("utf-8")).decode("ascii")
            return f'<img class="jw-image" alt="" src="data:image/svg+xml;base64,{b64}">'
        if mime in ("image/png", "image/jpeg"):
            b64 = re.sub(r"\s+", "", _join(value))
            if not re.fullmatch(r"[A-Za-z0-9+/=]*", b64):
                continue
            return f'<img class="jw-image" alt="" src="data:{mime};base64,{b64}">'
        if mime == "text/markdown":
            return f'<div class="jw-output jw-md">{untrusted_markdown_html(_join(value))}</div>'
        return _pre(_join(value))
    return ""


def _render_output(output: Mapping[str, Any], found: Collected) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        text = _join(output.get("text", ""))
        if output.get("name") == "stderr":
            return f'<details class="jw-stderr"><summary>messages</summary>{_pre(text)}</details>'
        return _pre(text)
    if kind in ("display_data", "execute_result"):
        return _render_data(output.get("data", {}), found)
    if kind == "error":
        trace = "\n".join(output.get("traceback") or [])
        head = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        return (
            '<div class="jw-error" role="alert"><strong>Error: '
            f"{html.escape(_ANSI.sub('', head))}</strong>{_pre(trace, 'jw-traceback')}</div>"
        )
    return ""


# --------------------------------------------------------------------------- notebooks


@dataclass(frozen=True)
class ReportItem:
    """An output a notebook marked for the client report (``show(..., report=kind)``)."""

    kind: str
    body: str
    chart: str | None = None  # the chart's file name (show's save_as), when it has one


@dataclass(frozen=True)
class NotebookSection:
    """One executed notebook, rendered.

    ``body`` is the whole notebook for ``analysis.html``; ``items`` the
    outputs it marked for ``report.html``, in order; ``question`` the
    step's question (the "**Question**:" line of its markdown), or "".
    """

    anchor: str
    number: str
    name: str
    title: str
    body: str
    failed: bool
    error: str | None
    items: tuple[ReportItem, ...] = ()
    question: str = ""


def _title_from(nb: Any, stem: str) -> tuple[str, int | None]:
    """The notebook's H1 title and the index of the cell that holds it."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        m = _H1.search(_join(cell.source))
        if m:
            return m.group(1).strip(), i
        break  # only the first markdown cell may carry the title
    m = _STEP_PREFIX.match(stem)
    words = (m.group(2) if m else stem).replace("_", " ").strip()
    return words[:1].upper() + words[1:], None


def _report_mark(output: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The report kind an output is marked with (None: not for the report) and its chart name."""
    meta = output.get("metadata")
    mark = meta.get("journeylib") if isinstance(meta, Mapping) else None
    if not isinstance(mark, Mapping):
        return None, None
    kind, chart = mark.get("report"), mark.get("chart")
    return (
        kind if isinstance(kind, str) and kind else None,
        chart if isinstance(chart, str) and chart else None,
    )


def render_notebook(
    path: Path, found: Collected | None = None, *, setup: bool = True
) -> NotebookSection:
    """Render one executed notebook: markdown cells and outputs, code hidden.

    Cells tagged ``test`` (recorded results) and papermill's parameter cells
    never appear; cells tagged ``setup`` (loading the client) only when
    ``setup`` is true. Outputs marked for the report (display metadata
    ``{"journeylib": {"report": kind}}``) are also returned as ``items``.
    Errors are shown where they happened, in a red box with the traceback, and
    the section starts with a banner naming the error.

    Args:
        path: an executed notebook.
        found: what the page head needs (the vega bundles taken out of the
            outputs, whether any chart was seen), shared by the notebooks of one
            page; default a fresh :class:`Collected`.
        setup: show the cells tagged ``setup``.
    """
    import nbformat

    found = found if found is not None else Collected()
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    title, title_cell = _title_from(nb, path.stem)
    m = _STEP_PREFIX.match(path.stem)
    number = str(int(m.group(1))) if m else ""
    if number:
        # "# 07 Visualise the journey" would show as "7. 07 Visualise the journey".
        title = re.sub(rf"^0*{number}(?:[.:)]|\s)\s*(?=\S)", "", title, count=1)
    parts: list[str] = []
    items: list[ReportItem] = []
    question = ""
    first_error: str | None = None
    for i, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type == "code":  # an error anywhere fails the step, shown or not
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and first_error is None:
                    first_error = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        if tags & _SKIP_CELL_TAGS or (SETUP_TAG in tags and not setup):
            continue
        if cell.cell_type == "markdown":
            source = _join(cell.source)
            if i == title_cell:
                source = _H1.sub("", source, count=1)
            if not question and (q := _QUESTION.search(source)):
                question = " ".join(q.group(1).split())
            if source.strip():
                parts.append(f'<div class="jw-md">{_demote_headings(markdown_html(source))}</div>')
        elif cell.cell_type == "code" and not tags & _SKIP_OUTPUT_TAGS:
            for output in cell.get("outputs", []):
                rendered = _render_output(output, found)
                if rendered:
                    parts.append(rendered)
                    kind, chart = _report_mark(output)
                    if kind:
                        items.append(ReportItem(kind, rendered, chart))
    pm_meta = nb.metadata.get("papermill", {})
    failed = first_error is not None or bool(pm_meta.get("exception"))
    if failed and first_error is None:
        first_error = "the notebook did not finish"
    return NotebookSection(
        anchor=f"step-{path.stem}",
        number=number,
        name=path.stem,
        title=title,
        body="\n".join(parts),
        failed=failed,
        error=" ".join(_ANSI.sub("", first_error).split()) if first_error else None,
        items=tuple(items),
        question=question,
    )
