r"""Assemble ``report.html``: one self-contained page from a run folder.

The page holds, in order: an executive summary (headline KPIs with their
trend, goal statuses, the largest stage drop-offs, data-quality warnings), the
journey map (the current-state map the run saved to ``charts/``, with the
future-state and persona maps on tabs beside it), one section per executed
notebook (outputs only, code hidden), a data-quality section and an appendix
of metric definitions. A sticky navigation bar links them; printed (A4
landscape) the navigation is hidden, every tab is shown and charts scale to
the page width.

Escaping contract (what is trusted, what is not):

* Everything this module puts on the page from the metrics document, the
  title, notebook names, ``text/plain`` outputs, streams and tracebacks is
  escaped (jinja2 autoescape, or :func:`html.escape`).
* Markdown *cells* of the notebooks are our own prose: rendered to HTML as is.
* ``text/markdown`` outputs (``display(Markdown(...))``) may interpolate client
  data. Notebooks must pass client text through :func:`html.escape` first;
  on top of that the rendered HTML is sanitised (bleach) here, so a forgotten
  escape shows the markup as text instead of running it.
* ``text/html`` outputs come from journeylib (tables, charts) and are inserted
  as is: **the library must escape every client value it puts in HTML**, and
  chart specs embedded in ``<script>`` must never contain a literal ``</``
  (journeylib.present.render writes ``<`` as ``\u003c``).
  Charts follow journeylib.present.render's protocol: each chart is a
  ``<div class="jw-chart">`` with its own script, and the first chart of a
  notebook carries a copy of the vega bundle. Every copy of the bundle (a
  ``<script>`` marked ``data-jw-bundle``, or one that defines
  ``window.vegaEmbed``) is removed from the outputs and the bundle is put once
  in the page head, before every chart. A ``<script src="http…">`` or
  ``<link href="http…">`` in an output is removed: the report never fetches
  anything.
* The journey-map SVGs are files of the run folder written by vl-convert from
  our own specs (client text is escaped in their ``<text>`` elements). They
  are inlined only after :func:`clean_svg` parsed them as XML and wrote them
  out again without scripts, ``foreignObject``, styles, links, event-handler
  attributes or references that leave the document, every value escaped.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journeylib import paths

__all__ = [
    "MAP_FILES",
    "NotebookSection",
    "build_report",
    "clean_svg",
    "executive_summary",
    "format_value",
    "journey_maps",
    "render_notebook",
]

TEMPLATE_NAME = "report.html.j2"

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
# Charts drawn before the bundle arrived queue themselves in window.__jwPending
# (journeylib.present.render's protocol); the bundle in the head normally comes first.
_FLUSH_PENDING = (
    "(function(){var q=window.__jwPending||[];window.__jwPending=[];"
    "q.forEach(function(f){f();});})();"
)
_CHART_MARK = re.compile(r"data-jw-chart\b|class\s*=\s*[\"'][^\"']*\bjw-chart\b", re.IGNORECASE)
_H1 = re.compile(r"^\s*#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HEADING_TAG = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)
_STEP_PREFIX = re.compile(r"^(\d{2})_(.+)$")

# Cells that never appear in the report.
_SKIP_CELL_TAGS = {
    "parameters",
    "injected-parameters",
    "remove_cell",
    "remove-cell",
    "papermill-error-cell-tag",
}
_SKIP_OUTPUT_TAGS = {"remove_output", "remove-output"}

# The maps of the "Journey map" section: files under ``charts/`` of the run
# folder (written by notebook 07), in tab order, with their tab labels.
MAP_FILES = (
    ("journey_map", "Current state"),
    ("future_state_map", "Future state"),
    ("persona_maps", "Persona maps"),
)
# The notebook whose interactive maps the section points to.
_MAPS_NOTEBOOK = re.compile(r"(^|_)visuali[sz]e_journey$")

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


# --------------------------------------------------------------------------- markdown


def _markdown(text: str) -> str:
    """Our own markdown (notebook cells) to HTML."""
    import mistune

    md = mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])
    return str(md(text))


_SAFE_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}


def _safe_attr(tag: str, name: str, value: str) -> bool:
    if name in ("title", "alt", "class", "align"):
        return True
    if tag == "a" and name == "href":
        return value.startswith(("https://", "http://", "mailto:", "#"))
    if tag == "img" and name == "src":  # no remote images: the report makes no requests
        return value.startswith("data:image/")
    return False


def _untrusted_markdown(text: str) -> str:
    """Markdown that may hold client data (``text/markdown`` outputs), sanitised."""
    import mistune

    rendered = str(mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])(text))
    try:
        import bleach
    except ImportError:  # pragma: no cover - bleach comes with nbconvert
        return str(mistune.create_markdown(escape=True, plugins=["table"])(text))
    return bleach.clean(rendered, tags=_SAFE_TAGS, attributes=_safe_attr, strip=False)


def _demote_headings(fragment: str) -> str:
    """Notebook headings one level down: the report's section heading is the h2."""
    return _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + 1, 6)}", fragment)


# --------------------------------------------------------------------------- outputs


def _pre(text: str, cls: str = "jw-text") -> str:
    return f'<pre class="{cls}">{html.escape(_ANSI.sub("", text))}</pre>'


def _join(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


@dataclass
class _Collected:
    """What rendering the notebooks found that the page head needs."""

    bundles: list[str] = field(default_factory=list)
    has_charts: bool = False


def _clean_html(fragment: str, found: _Collected) -> str:
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


def _render_data(data: Mapping[str, Any], found: _Collected) -> str:
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
            return f'<div class="jw-output jw-md">{_untrusted_markdown(_join(value))}</div>'
        return _pre(_join(value))
    return ""


def _render_output(output: Mapping[str, Any], found: _Collected) -> str:
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
class NotebookSection:
    """One executed notebook, rendered."""

    anchor: str
    number: str
    name: str
    title: str
    body: str
    failed: bool
    error: str | None


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


def render_notebook(path: Path, found: _Collected | None = None) -> NotebookSection:
    """Render one executed notebook: markdown cells and outputs, code hidden.

    Errors are shown where they happened, in a red box with the traceback, and
    the section starts with a banner naming the error.
    """
    import nbformat

    found = found if found is not None else _Collected()
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    title, title_cell = _title_from(nb, path.stem)
    m = _STEP_PREFIX.match(path.stem)
    number = str(int(m.group(1))) if m else ""
    if number:
        # "# 07 Visualise the journey" would show as "7. 07 Visualise the journey".
        title = re.sub(rf"^0*{number}(?:[.:)]|\s)\s*(?=\S)", "", title, count=1)
    parts: list[str] = []
    first_error: str | None = None
    for i, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _SKIP_CELL_TAGS:
            continue
        if cell.cell_type == "markdown":
            source = _join(cell.source)
            if i == title_cell:
                source = _H1.sub("", source, count=1)
            if source.strip():
                parts.append(f'<div class="jw-md">{_demote_headings(_markdown(source))}</div>')
        elif cell.cell_type == "code" and not tags & _SKIP_OUTPUT_TAGS:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and first_error is None:
                    first_error = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
                rendered = _render_output(output, found)
                if rendered:
                    parts.append(rendered)
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
    )


# --------------------------------------------------------------------------- summary


def _get(doc: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(key, int):
            if not isinstance(doc, list) or not -len(doc) <= key < len(doc):
                return None
        elif not isinstance(doc, Mapping):
            return None
        doc = doc[key] if isinstance(key, int) else doc.get(key)
        if doc is None:
            return None
    return doc


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def format_value(value: Any, unit: str | None, currency: str | None = None) -> str:
    """A metric value for people: fractions as percentages, money with its currency.

    Examples:
        >>> format_value(0.1234, "fraction")
        '12.3%'
        >>> format_value(12345.6, "currency", "EUR")
        'EUR 12,346'
        >>> format_value(None, "fraction")
        'n/a'
        >>> format_value(32, "nps")
        '+32'
    """
    v = _num(value)
    if v is None:
        return "n/a" if value is None else str(value)
    if unit == "fraction":
        return f"{v * 100:.1f}%"
    if unit == "currency":
        return f"{currency + ' ' if currency else ''}{v:,.0f}"
    if unit == "nps":
        return f"{v:+.0f}"
    if unit in ("days", "hours", "months"):
        return f"{v:,.1f} {unit}"
    if unit == "count":
        return f"{v:,.0f}"
    if unit == "ratio":
        return f"{v:.2f}"
    return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"


def _format_delta(cur: float, prev: float, unit: str | None) -> str:
    diff = cur - prev
    if unit == "fraction":
        return f"{diff * 100:+.1f} pts"
    if unit == "nps":
        return f"{diff:+.0f}"
    if prev:
        return f"{diff / abs(prev) * 100:+.1f}%"
    return f"{diff:+,.2f}"


def _kpi(
    label: str,
    value: Any,
    unit: str,
    *,
    previous: Any = None,
    compared_to: str | None = None,
    higher_is_better: bool = True,
    currency: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    cur, prev = _num(value), _num(previous)
    trend = direction = None
    if cur is not None and prev is not None:
        direction = "up" if cur > prev else "down" if cur < prev else "flat"
        trend = _format_delta(cur, prev, unit)
    tone = None
    if direction in ("up", "down"):
        tone = "good" if (direction == "up") == higher_is_better else "bad"
    return {
        "label": label,
        "value": format_value(value, unit, currency),
        "missing": cur is None,
        "note": note
        if cur is not None
        else (note or "not computable: no data or a zero denominator"),
        "trend": trend,
        "direction": direction,
        "tone": tone,
        "compared_to": compared_to,
    }


def _catalog() -> list[dict[str, Any]] | None:
    """The metric catalogue rows, or None while journeylib.metrics.catalog is not there."""
    try:
        from journeylib.metrics import catalog as cat
    except ModuleNotFoundError as exc:
        if exc.name in ("journeylib.metrics", "journeylib.metrics.catalog"):
            return None
        raise
    if hasattr(cat, "catalog_rows"):
        return [dict(r) for r in cat.catalog_rows()]
    entries = getattr(cat, "CATALOG", None)
    if entries is None:
        return None
    values = entries.values() if isinstance(entries, Mapping) else entries
    keys = ("id", "label", "unit", "stage", "definition")
    return [
        {k: (e.get(k) if isinstance(e, Mapping) else getattr(e, k, None)) for k in keys}
        for e in values
    ]


def executive_summary(
    metrics: Mapping[str, Any] | None, catalog: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The summary's content from a metrics document (see metrics.md, ``metrics.json``).

    Returns:
        ``{kpis, goals, dropoffs, warnings, period, currency}``: ``kpis`` are
        headline figures with the change against the previous month (or cohort);
        ``dropoffs`` the three stage transitions that lose the largest share of
        accounts (ties: more accounts lost first); ``warnings`` data-quality lines.

    Examples:
        >>> doc = {"revenue": {"months": [{"month": "2025-01", "mrr": 100.0},
        ...                               {"month": "2025-02", "mrr": 120.0}]}}
        >>> k = executive_summary(doc)["kpis"][0]
        >>> k["value"], k["trend"], k["tone"]
        ('120', '+20.0%', 'good')
    """
    doc: Mapping[str, Any] = metrics or {}
    currency = doc.get("currency")
    units = {str(r.get("id")): r.get("unit") for r in (catalog or [])}
    months = _get(doc, "revenue", "months") or []
    last, prev = (months[-1] if months else {}), (months[-2] if len(months) > 1 else {})
    last_m, prev_m = last.get("month"), prev.get("month")
    vs_month = f"vs {prev_m}" if prev_m else None

    kpis = [
        _kpi(
            f"MRR{f' ({last_m})' if last_m else ''}",
            last.get("mrr"),
            "currency",
            previous=prev.get("mrr"),
            compared_to=vs_month,
            currency=currency,
        ),
    ]
    nrr_12m = _get(doc, "revenue", "nrr_12m")
    if nrr_12m is not None:
        kpis.append(_kpi("NRR (12 months)", nrr_12m, "fraction"))
    else:
        kpis.append(
            _kpi(
                "NRR (month)",
                last.get("nrr_1m"),
                "fraction",
                previous=prev.get("nrr_1m"),
                compared_to=vs_month,
            )
        )
    kpis.append(
        _kpi(
            "Logo churn (month)",
            last.get("logo_churn_rate"),
            "fraction",
            previous=prev.get("logo_churn_rate"),
            compared_to=vs_month,
            higher_is_better=False,
        )
    )
    cohorts = [
        c
        for c in (_get(doc, "onboarding", "cohorts") or [])
        if c.get("complete") and _num(c.get("activation_rate")) is not None
    ]
    kpis.append(
        _kpi(
            "Activation rate",
            _get(doc, "onboarding", "activation_rate"),
            "fraction",
            previous=cohorts[-2]["activation_rate"] if len(cohorts) > 1 else None,
            compared_to=(
                f"cohort {cohorts[-1].get('cohort')} vs {cohorts[-2].get('cohort')}"
                if len(cohorts) > 1
                else None
            ),
        )
    )
    if len(cohorts) > 1:  # the trend compares the two latest complete cohorts
        kpis[-1]["trend"] = None
        cur, before = _num(cohorts[-1]["activation_rate"]), _num(cohorts[-2]["activation_rate"])
        if cur is not None and before is not None:
            k = _kpi("", cur, "fraction", previous=before)
            kpis[-1].update(trend=k["trend"], direction=k["direction"], tone=k["tone"])
    nps_months = [m for m in (_get(doc, "nps", "months") or []) if _num(m.get("score")) is not None]
    kpis.append(
        _kpi(
            "NPS",
            _get(doc, "nps", "overall", "score"),
            "nps",
            previous=nps_months[-2]["score"] if len(nps_months) > 1 else None,
            compared_to=None,
        )
    )
    if len(nps_months) > 1:
        k = _kpi("", nps_months[-1]["score"], "nps", previous=nps_months[-2]["score"])
        kpis[-1].update(
            trend=k["trend"],
            direction=k["direction"],
            tone=k["tone"],
            compared_to=f"{nps_months[-1].get('month')} vs {nps_months[-2].get('month')}",
        )
    cac_months = [
        m for m in (_get(doc, "acquisition", "months") or []) if _num(m.get("cac")) is not None
    ]
    kpis.append(
        _kpi(
            "CAC",
            _get(doc, "acquisition", "cac"),
            "currency",
            currency=currency,
            higher_is_better=False,
        )
    )
    if len(cac_months) > 1:
        k = _kpi(
            "",
            cac_months[-1]["cac"],
            "currency",
            previous=cac_months[-2]["cac"],
            higher_is_better=False,
        )
        kpis[-1].update(
            trend=k["trend"],
            direction=k["direction"],
            tone=k["tone"],
            compared_to=f"{cac_months[-1].get('month')} vs {cac_months[-2].get('month')}",
        )

    goals = []
    for g in doc.get("goals") or []:
        unit = units.get(str(g.get("metric")))
        goals.append(
            {
                "id": g.get("id"),
                "metric": g.get("metric"),
                "baseline": format_value(g.get("baseline"), unit, currency),
                "current": format_value(g.get("current"), unit, currency),
                "target": format_value(g.get("target"), unit, currency),
                "deadline": g.get("deadline") or "",
                "progress": format_value(g.get("progress"), "fraction"),
                "status": g.get("status") or "unknown",
            }
        )

    stages = doc.get("stages") or []
    drops = []
    for before, after in zip(stages, stages[1:], strict=False):
        conv = _num(after.get("conversion_from_previous"))
        if conv is None:
            continue
        lost = None
        if _num(before.get("reached")) is not None and _num(after.get("reached")) is not None:
            lost = int(before["reached"]) - int(after["reached"])
        drops.append(
            {
                "from": before.get("label") or before.get("id"),
                "to": after.get("label") or after.get("id"),
                "share_lost": format_value(1 - conv, "fraction"),
                "lost": f"{lost:,}" if lost is not None else "n/a",
                "_key": (1 - conv, lost or 0),
            }
        )
    drops.sort(key=lambda d: d["_key"], reverse=True)
    dropoffs = [{k: v for k, v in d.items() if k != "_key"} for d in drops[:3]]

    period = doc.get("period")
    if not (isinstance(period, Mapping) and period.get("start") and period.get("end")):
        period = None

    warnings = []
    tables = _get(doc, "data_quality", "tables") or {}
    for name, q in tables.items():
        rejected = _num(q.get("rows_rejected")) or 0
        if rejected > 0:
            reasons = sorted((q.get("reasons") or {}).items(), key=lambda kv: -kv[1])
            top = f" (most often: {reasons[0][0]})" if reasons else ""
            warnings.append(
                f"{name}: {int(rejected):,} of {int(_num(q.get('rows_in')) or 0):,} rows "
                f"rejected{top}"
            )

    return {
        "kpis": kpis,
        "goals": goals,
        "dropoffs": dropoffs,
        "warnings": warnings,
        "period": period,
        "currency": currency,
    }


def _data_quality(metrics: Mapping[str, Any] | None) -> list[dict[str, Any]] | None:
    tables = _get(metrics or {}, "data_quality", "tables")
    if not isinstance(tables, Mapping):
        return None
    rows = []
    for name, q in tables.items():
        reasons = sorted((q.get("reasons") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
        rows.append(
            {
                "table": name,
                "rows_in": format_value(q.get("rows_in"), "count"),
                "rows_valid": format_value(q.get("rows_valid"), "count"),
                "rows_rejected": format_value(q.get("rows_rejected"), "count"),
                "rejected": bool(_num(q.get("rows_rejected"))),
                "reasons": [
                    {"reason": r, "count": format_value(c, "count")} for r, c in reasons[:5]
                ],
            }
        )
    return rows


# --------------------------------------------------------------------------- journey maps

# Elements dropped with their content: they could run code, fetch something,
# embed HTML or restyle the page. Compared on the local name, lower case.
_SVG_DROP = {
    "script",
    "foreignobject",
    "style",
    "iframe",
    "object",
    "embed",
    "audio",
    "video",
    "handler",
    "listener",
    "image",
    "use",
    "animate",
    "set",
    "animatetransform",
    "animatemotion",
    "a",
}
_URL_REF = re.compile(r"url\(\s*['\"]?\s*#([^)'\"\s]+)\s*['\"]?\s*\)", re.IGNORECASE)
_ANY_URL = re.compile(r"url\(", re.IGNORECASE)
_SIZE = re.compile(r"^\s*([0-9.]+)\s*(?:px)?\s*$")
_TRANSLATE = re.compile(r"translate\(\s*([-0-9.eE]+)(?:[\s,]+([-0-9.eE]+))?\s*\)")

# Printed, a map is cut into bands that each fit an A4 landscape page (273 x
# 186 mm inside 12 mm margins) at the page width: a band's height is at most
# this share of the map's width (the first band leaves room for the headings).
_BAND_RATIO = 0.62
_FIRST_BAND_RATIO = 0.52


@dataclass(frozen=True)
class _CleanSvg:
    """A cleaned SVG: its markup, size and the y of its full-width horizontal rules."""

    markup: str
    width: float | None
    height: float | None
    rules_y: tuple[float, ...]


def _local(name: str) -> str:
    """'{namespace}local' -> 'local'."""
    return name.rsplit("}", 1)[-1]


def _float(value: str | None) -> float:
    try:
        return float(value) if value is not None else 0.0
    except ValueError:
        return 0.0


def _clean_svg(text: str, id_prefix: str) -> _CleanSvg | None:
    import xml.etree.ElementTree as ET

    if re.search(r"<!DOCTYPE|<!ENTITY", text, re.IGNORECASE):
        return None
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    if _local(root.tag).lower() != "svg":
        return None
    size = {k: _SIZE.match(root.attrib.get(k, "")) for k in ("width", "height")}
    width = float(size["width"].group(1)) if size["width"] else None
    height = float(size["height"].group(1)) if size["height"] else None
    rules: set[float] = set()

    def url_ok(value: str) -> str | None:
        # Only url(#id) references survive, renamed with the prefix.
        refs = _URL_REF.sub(lambda m: f"url(#{id_prefix}-{m.group(1)})", value)
        return refs if len(_ANY_URL.findall(refs)) == len(_URL_REF.findall(refs)) else None

    def attrs(el: ET.Element, is_root: bool) -> list[tuple[str, str]]:
        out = []
        for key, value in el.attrib.items():
            name = _local(key)
            low = name.lower()
            if key.startswith("{http://www.w3.org/XML/1998/namespace}"):
                name = f"xml:{name}"
            if low.startswith("on") or low in ("href", "src", "base") or name == "xml:base":
                continue
            if is_root and low in ("width", "height", "class", "style"):
                continue
            if low == "id":
                value = f"{id_prefix}-{value}"
            if "url(" in value.lower():
                checked = url_ok(value)
                if checked is None:
                    continue
                value = checked
            out.append((name, value))
        return out

    def note_rule(el: ET.Element, dy: float) -> None:
        # A horizontal line across (nearly) the whole map: a lane boundary,
        # where a printed page may break without cutting through text.
        x1, x2 = _float(el.get("x1")), _float(el.get("x2"))
        y1, y2 = _float(el.get("y1")), _float(el.get("y2"))
        if width and abs(y2 - y1) < 0.5 and abs(x2 - x1) >= 0.9 * (width - 20):
            rules.add(round(dy + y1, 1))

    def write(el: ET.Element, parts: list[str], dy: float, is_root: bool = False) -> None:
        tag = _local(el.tag)
        if tag.lower() in _SVG_DROP:
            if el.tail and not is_root:
                parts.append(html.escape(el.tail, quote=False))
            return
        m = _TRANSLATE.search(el.get("transform") or "")
        if m:
            dy += _float(m.group(2))
        if tag.lower() == "line":
            note_rule(el, dy)
        items = attrs(el, is_root)
        if is_root:
            if not any(k.lower() == "viewbox" for k, _ in items) and width and height:
                items.append(("viewBox", f"0 0 {width:g} {height:g}"))
            items.append(("class", "jw-map-svg"))
            if width:
                items.append(("style", f"max-width:{width:g}px"))
        attr_text = "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in items)
        parts.append(f"<{tag}{attr_text}>")
        if is_root:  # one group to point print bands at (<use href="#…-content">)
            parts.append(f'<g id="{html.escape(id_prefix)}-content">')
        if el.text:
            parts.append(html.escape(el.text, quote=False))
        for child in el:
            write(child, parts, dy)
        if is_root:
            parts.append("</g>")
        parts.append(f"</{tag}>")
        if el.tail and not is_root:
            parts.append(html.escape(el.tail, quote=False))

    parts: list[str] = []
    write(root, parts, 0.0, is_root=True)
    return _CleanSvg("".join(parts), width, height, tuple(sorted(rules)))


def clean_svg(text: str, *, id_prefix: str = "jw") -> str | None:
    """An SVG document rebuilt safe to inline in the page, or None when it is no SVG.

    The file is parsed as XML (a document with a DTD is refused, so no entity
    is expanded) and written out again element by element, every text and
    attribute value escaped. Dropped: scripts, ``foreignObject``, ``style``,
    links, images, ``use``, animations and other active elements (with their
    content), event-handler attributes, ``href``/``src`` attributes and any
    ``url()`` that does not point inside the document. Ids get ``id_prefix``
    so two inlined SVGs never share one; the content is wrapped in a group
    ``<id_prefix>-content``. The root loses its fixed width and height (the
    page scales it; the viewBox keeps its shape) and gets the class
    ``jw-map-svg``.

    Examples:
        >>> out = clean_svg('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
        ...                 'width="10" height="5"><script>alert(1)</script>'
        ...                 '<text onclick="x()">a &lt; b</text></svg>')
        >>> print(out)
        <svg viewBox="0 0 10 5" class="jw-map-svg" style="max-width:10px"><g id="jw-content"><text>a &lt; b</text></g></svg>
        >>> clean_svg("<html>no svg</html>") is None
        True
    """
    cleaned = _clean_svg(text, id_prefix)
    return cleaned.markup if cleaned else None


def _bands(svg: _CleanSvg) -> list[tuple[float, float]]:
    """Horizontal bands of the map for print, cut at lane boundaries where possible."""
    if not svg.width or not svg.height:
        return []
    bands: list[tuple[float, float]] = []
    top = 0.0
    while True:
        ratio = _FIRST_BAND_RATIO if not bands else _BAND_RATIO
        limit = svg.width * ratio
        if svg.height - top <= limit:
            bands.append((top, svg.height))
            return bands
        fits = [y for y in svg.rules_y if top + limit * 0.25 < y <= top + limit]
        cut = max(fits) if fits else top + limit  # no boundary close enough: cut anyway
        bands.append((top, cut))
        top = cut


def _print_bands(svg: _CleanSvg, id_prefix: str) -> str:
    """Page-sized views of the map for print: each shows one band of the same content."""
    parts = []
    for y0, y1 in _bands(svg):
        # A pixel of overlap so a boundary rule is not lost between two bands.
        y0p, h = max(y0 - 1, 0), y1 - max(y0 - 1, 0)
        parts.append(
            f'<svg class="jw-map-band" viewBox="0 {y0p:g} {svg.width:g} {h:g}" '
            f'style="max-width:{svg.width:g}px">'
            f'<use href="#{html.escape(id_prefix)}-content"></use></svg>'
        )
    return "".join(parts)


def journey_maps(run_dir: str | Path) -> list[dict[str, str]]:
    """The saved journey maps of a run, cleaned for inlining, in :data:`MAP_FILES` order.

    Returns:
        One ``{id, label, svg, print_svg}`` per ``charts/<name>.svg`` found:
        ``id`` is the file name with dashes, ``svg`` the cleaned map (see
        :func:`clean_svg`), ``print_svg`` page-sized bands of it for print,
        cut at lane boundaries (they reference the map's content, so they
        add no copy of it). Maps that cannot be read are left out.
    """
    out = []
    for stem, label in MAP_FILES:
        path = Path(run_dir) / "charts" / f"{stem}.svg"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        prefix = f"jw-{stem.replace('_', '-')}"
        cleaned = _clean_svg(text, prefix)
        if cleaned:
            out.append(
                {
                    "id": stem.replace("_", "-"),
                    "label": label,
                    "svg": cleaned.markup,
                    "print_svg": _print_bands(cleaned, prefix),
                }
            )
    return out


# --------------------------------------------------------------------------- the page


def _bundle_tag(found: _Collected) -> str | None:
    """The one vega bundle ``<script>`` of the page, or None when no chart needs it.

    The first copy a notebook carried is reused: it is journeylib.present.render's own
    bundle script, and regenerating it would cost an altair import and a
    vl-convert bundle build in the driver. Only when charts came without any
    copy is ``journeylib.present.render.vega_bundle()`` called.
    """
    if found.bundles:
        return found.bundles[0]
    if not found.has_charts:
        return None
    try:
        from journeylib.present.render import vega_bundle
    except ModuleNotFoundError as exc:  # not written yet; a broken render module still fails
        if exc.name != "journeylib.present.render":
            raise
        return None
    bundle = str(vega_bundle())
    if bundle.lstrip().lower().startswith("<script"):
        return bundle
    body = re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)
    return f"<script data-jw-bundle>{body}\n{_FLUSH_PENDING}</script>"


def _run_id(run_dir: Path) -> str:
    name = run_dir.name
    if name.startswith(".") and name.endswith(".tmp"):
        name = name[1:-4]
    return name


def build_report(
    run_dir: str | Path,
    *,
    title: str,
    metrics: Mapping[str, Any] | None = None,
    notebooks: Sequence[str | Path] | None = None,
    problems: Sequence[str] = (),
) -> Path:
    """Write ``run_dir/report.html`` and return its path.

    Args:
        run_dir: a run folder (its executed notebooks are in ``notebooks/``).
        title: the page title (client text: escaped).
        metrics: the metrics document, for the summary and data-quality sections.
        notebooks: the executed notebooks to include; default ``run_dir/notebooks/*.ipynb``.
        problems: one-line errors of the run outside the notebooks (e.g. the
            metrics document failed), shown in a banner at the top.
    """
    import jinja2
    from markupsafe import Markup

    run_dir = Path(run_dir)
    nb_paths = (
        [Path(p) for p in notebooks]
        if notebooks is not None
        else sorted((run_dir / "notebooks").glob("*.ipynb"))
    )
    found = _Collected()
    sections = [render_notebook(p, found) for p in nb_paths]
    maps = [
        {**m, "svg": Markup(m["svg"]), "print_svg": Markup(m["print_svg"])}  # noqa: S704 - cleaned
        for m in journey_maps(run_dir)
    ]
    maps_step = next((s for s in sections if _MAPS_NOTEBOOK.search(s.name)), None)
    catalog = _catalog()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    page = env.get_template(TEMPLATE_NAME).render(
        title=title,
        run_id=_run_id(run_dir),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        summary=executive_summary(metrics, catalog),
        has_metrics=metrics is not None,
        problems=list(problems),
        maps=maps,
        maps_step=maps_step.__dict__ if maps_step else None,
        sections=[
            {**s.__dict__, "body": Markup(s.body)}  # noqa: S704 - rendered and cleaned above
            for s in sections
        ],
        data_quality=_data_quality(metrics),
        catalog=catalog,
        bundle=Markup(_bundle_tag(found) or ""),  # noqa: S704 - our own library's script
    )
    out = run_dir / "report.html"
    part = run_dir / ".report.html.part"
    part.write_text(page, encoding="utf-8")
    part.replace(out)
    return out
