"""Assemble a run's two pages: ``report.html``, the deliverable, and ``analysis.html``.

``report.html`` is what a client's executives read, in order: title and
scope; the executive summary (headline KPIs with their trend, key findings,
goals, data-quality warnings; see :mod:`journeylib.report.summary`); the
journey map at full width (the current-state map the run saved to
``charts/``, with the future-state and persona maps on tabs beside it); one
section per mapping step holding only the outputs its notebook marked for
the report (``show(..., report=kind)``: a chart under its one-sentence
finding); the recommendations; and an appendix defining the metrics shown,
with the data-quality counts. Printed (A4 landscape), each map fits one page
and no chart is cut.

``analysis.html`` holds the seven executed notebooks for the analyst, code
hidden, with a table of contents; cells tagged ``test`` (recorded results)
never appear and cells tagged ``setup`` appear once, in the first notebook
(see :mod:`journeylib.report.notebook_html`).

Escaping contract (what is trusted, what is not):

* Everything put on the pages from the metrics document, the title and
  notebook names is escaped (jinja2 autoescape).
* Notebook outputs are rendered and cleaned by
  :mod:`journeylib.report.notebook_html`: the vega bundle every chart needs is
  taken out of the outputs and put once in each page's head, before every chart.
* The journey-map SVGs are inlined only after
  :func:`journeylib.report.sanitize.clean_svg` rebuilt them.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journeylib import paths
from journeylib.formatting import format_month
from journeylib.i18n import N_, current_language, direction, gettext, html_lang, install_jinja
from journeylib.report.notebook_html import Collected, NotebookSection, render_notebook
from journeylib.report.sanitize import clean_svg_document, markdown_html
from journeylib.report.summary import (
    analysis_definitions,
    data_quality_rows,
    definitions,
    executive_summary,
    report_metrics,
)

__all__ = ["ANALYSIS_NAME", "MAP_FILES", "REPORT_NAME", "build_report", "journey_maps"]

REPORT_NAME = "report.html"
ANALYSIS_NAME = "analysis.html"

# The maps of the "Journey map" section, in tab order with their tab labels: files
# under ``charts/`` of the run folder written by notebook 07 (the report's versions,
# full width, first; the notebook's own as a fallback). A tab holds every file of its
# first pattern that matches (persona maps: one file per persona, one page each in print).
MAP_FILES = (
    (("report_journey_map", "journey_map"), N_("Current state")),
    (("report_future_state_map", "future_state_map"), N_("Future state")),
    (("report_persona_map_*", "persona_maps"), N_("Persona maps")),
)

# Charts drawn before the bundle arrived queue themselves in window.__jwPending
# (journeylib.present.render's protocol); the bundle in the head normally comes first.
_FLUSH_PENDING = (
    "(function(){var q=window.__jwPending||[];window.__jwPending=[];"
    "q.forEach(function(f){f();});})();"
)


# --------------------------------------------------------------------------- journey maps


def _map_files(charts: Path, pattern: str) -> list[Path]:
    found = sorted(charts.glob(f"{pattern}.svg"), key=lambda p: (len(p.stem), p.stem))
    return [p for p in found if p.is_file()]


def journey_maps(run_dir: str | Path) -> list[dict[str, Any]]:
    """The saved journey maps of a run, cleaned for inlining, in :data:`MAP_FILES` order.

    Returns:
        One ``{id, label, svgs}`` per map found (the files of the first of
        its patterns that matches under ``charts/``): ``id`` is the map's
        name with dashes, ``svgs`` its cleaned SVG documents (see
        :func:`journeylib.report.sanitize.clean_svg`), one per file. Files that
        cannot be read are left out, and a map without any.
    """
    charts = Path(run_dir) / "charts"
    out = []
    for patterns, label in MAP_FILES:
        name = patterns[-1]
        for pattern in patterns:
            files = _map_files(charts, pattern)
            if not files:
                continue
            svgs = []
            for n, path in enumerate(files):
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                cleaned = clean_svg_document(text, f"jw-{name.replace('_', '-')}-{n}")
                if cleaned:
                    svgs.append(cleaned.markup)
            if svgs:
                out.append({"id": name.replace("_", "-"), "label": gettext(label), "svgs": svgs})
            break
    return out


# --------------------------------------------------------------------------- the page


def _bundle_tag(found: Collected) -> str | None:
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
    # Imported here, not on top: render imports altair, hence jsonschema, and every kernel
    # imports journeylib.report (the warm-up extension) before it keeps jsonschema's slow part out.
    from journeylib.present.render import vega_bundle

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


_LATIN = string.ascii_letters + string.digits + string.punctuation + " ·—–…“”‘’×▲▼■←→%"


def _with_cjk_font(page: str, skip: str = "") -> str:
    """The page with the CJK font its Chinese text needs, cut down to those characters.

    Without it a machine that has no CJK font shows empty boxes (the report
    must read the same everywhere, offline). A page without such text is
    returned as it is. ``skip`` is left out of the count: the vega bundle,
    whose code holds CJK characters no reader sees.
    """
    # local: see _bundle_tag
    from journeylib.charts.fonts import CJK_FAMILY, cjk_font_face, page_characters

    chars = page_characters(page.replace(skip, "") if skip else page)
    if not chars:
        return page
    # A Chinese page is set in the font throughout (its Latin letters and digits too, so
    # the font is in use, hence loaded, from the first line): an English page only falls
    # back on it for the Chinese a client wrote.
    face = cjk_font_face(chars | set(_LATIN))
    if face is None:
        return page
    # The inlined maps' texts name their own fonts, the Latin ones first: a Chinese page
    # sets them in the inlined font too, or Chromium shows boxes for some. (The charts
    # drawn in the page keep theirs: vega measured their labels with those fonts.)
    body = (
        f"html:lang(zh) body,html:lang(zh) svg.jw-map-svg text"
        f"{{font-family:'{CJK_FAMILY}',system-ui,sans-serif!important}}"
    )
    # right after the opening tag: the vega bundle in the head holds "</head>" in its text
    return page.replace("<head>", f"<head>\n<style>{face}{body}</style>", 1)


def _run_forecast(run_dir: Path) -> dict[str, Any] | None:
    """The run's retention forecast (``forecast.json``, written by notebook 05), or None.

    The name is ``journeylib.present.notebook.FORECAST_FILE`` (not imported: it
    would import altair into every report build).
    """
    try:
        doc = json.loads((run_dir / "forecast.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _cards(section: NotebookSection) -> list[dict[str, Any]]:
    return [{"kind": i.kind, "body": i.body} for i in section.items if i.kind != "recommendations"]


def _shown_charts(sections: Sequence[NotebookSection], run_dir: Path) -> list[str]:
    """The file names of the charts the report shows (the appendix defines their analyses).

    Notebooks executed before charts carried their name in the report mark
    name none: then every chart saved in the run counts, as before.
    """
    named = [i.chart for s in sections for i in s.items if i.chart]
    return named or [p.stem for p in (run_dir / "charts").glob("*.svg")]


def _inline_markdown(text: str) -> str:
    """Our own one-line markdown (a step's question) as inline HTML."""
    out = markdown_html(text).strip()
    return out[3:-4] if out.startswith("<p>") and out.endswith("</p>") else out


def _goals_table(goals: Sequence[Mapping[str, Any]]) -> str:
    """The summary's goals as a workbench table (:func:`~journeylib.present.tables.frame_html`).

    The values are already written by the formatting layer; the status keeps the
    ``status <status>`` class that colours it.
    """
    import polars as pl

    from journeylib.present.tables import frame_html

    def col(values: Sequence[Any]) -> pl.Series:
        return pl.Series([None if v is None else str(v) for v in values], dtype=pl.String)

    # Literal msgids, so pybabel extracts them.
    head = {
        "goal": gettext("goal"),
        "current": gettext("current"),
        "target": gettext("target"),
        "deadline": gettext("deadline"),
        "status": gettext("status"),
    }
    frame = pl.DataFrame(
        {
            head["goal"]: col([g.get("label") or g.get("id") for g in goals]),
            head["current"]: col([g.get("current") for g in goals]),
            head["target"]: col([g.get("target") for g in goals]),
            head["deadline"]: col([g.get("deadline") for g in goals]),
            head["status"]: col([g.get("status_text") for g in goals]),
            "_class": col([f"status {g.get('status')}" for g in goals]),
        }
    )
    return frame_html(
        frame,
        max_rows=-1,
        align={head["current"]: "end", head["target"]: "end"},
        classes={head["status"]: "_class"},
    )


def _quality_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The data-quality rows as a workbench table; a table without rejections says so, muted."""
    import polars as pl

    from journeylib.present.tables import frame_html

    def reasons(row: Mapping[str, Any]) -> str:
        found = row.get("reasons") or []
        return "; ".join(f"{r['reason']} ({r['count']})" for r in found) or gettext("none")

    head = {
        "table": gettext("table"),
        "rows in": gettext("rows in"),
        "valid": gettext("valid"),
        "rejected": gettext("rejected"),
        "reasons": gettext("most frequent reasons"),
    }
    frame = pl.DataFrame(
        {
            head["table"]: [str(r.get("table")) for r in rows],
            head["rows in"]: [r.get("rows_in") for r in rows],
            head["valid"]: [r.get("rows_valid") for r in rows],
            head["rejected"]: [r.get("rows_rejected") for r in rows],
            head["reasons"]: [reasons(r) for r in rows],
            "_class": [None if r.get("reasons") else "jw-muted" for r in rows],
        },
        schema=dict.fromkeys([*head.values(), "_class"], pl.String),
    )
    numbers = (head["rows in"], head["valid"], head["rejected"])
    return frame_html(
        frame,
        max_rows=-1,
        align=dict.fromkeys(numbers, "end"),
        classes={head["reasons"]: "_class"},
    )


def build_report(
    run_dir: str | Path,
    *,
    title: str,
    metrics: Mapping[str, Any] | None = None,
    notebooks: Sequence[str | Path] | None = None,
    problems: Sequence[str] = (),
    metric_ids: Sequence[str] = (),
    analysis_title: str | None = None,
) -> Path:
    """Write ``run_dir/report.html`` and ``run_dir/analysis.html``; return the report's path.

    The pages' own words are in the current language (:mod:`journeylib.i18n`). The
    executive summary also reads the run's ``forecast.json`` when notebook 05 wrote
    it (the retention forecast's sentence).

    Args:
        run_dir: a run folder (its executed notebooks are in ``notebooks/``).
        title: the page title (client text: escaped).
        metrics: the metrics document, for the summary and data-quality sections.
        notebooks: the executed notebooks to include; default ``run_dir/notebooks/*.ipynb``.
        problems: one-line errors of the run outside the notebooks (e.g. the
            metrics document failed), shown in a banner at the top.
        metric_ids: metrics the report shows beyond the summary's and the
            goals' (the journey map's KPIs): the appendix defines these.
        analysis_title: the title of analysis.html (client text: escaped);
            default ``title``.
    """
    import jinja2
    from markupsafe import Markup

    run_dir = Path(run_dir)
    nb_paths = (
        [Path(p) for p in notebooks]
        if notebooks is not None
        else sorted((run_dir / "notebooks").glob("*.ipynb"))
    )
    found = Collected()
    sections = [render_notebook(p, found, setup=i == 0) for i, p in enumerate(nb_paths)]
    maps = [
        {**m, "svgs": [Markup(svg) for svg in m["svgs"]]}  # noqa: S704 - cleaned SVG
        for m in journey_maps(run_dir)
    ]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    install_jinja(env)
    env.filters["month"] = format_month
    summary = executive_summary(metrics, definitions(), forecast=_run_forecast(run_dir))
    quality = data_quality_rows(metrics)
    bundle = Markup(_bundle_tag(found) or "")  # noqa: S704 - our own library's script
    common = {
        "title": title,
        "run_id": _run_id(run_dir),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "summary": summary,
        "problems": list(problems),
        "bundle": bundle,
        "html_lang": html_lang(current_language()),
        "direction": direction(),
    }
    report = env.get_template("report.html.j2").render(
        **common,
        has_metrics=metrics is not None,
        analysis_href=ANALYSIS_NAME if sections else None,
        maps=maps,
        sections=[
            {
                **s.__dict__,
                "question": Markup(_inline_markdown(s.question)) if s.question else "",  # noqa: S704 - our prose
                "cards": [
                    {**c, "body": Markup(c["body"])}  # noqa: S704 - rendered and cleaned
                    for c in _cards(s)
                ],
            }
            for s in sections
        ],
        recommendations=[
            Markup(i.body)  # noqa: S704 - rendered and cleaned
            for s in sections
            for i in s.items
            if i.kind == "recommendations"
        ],
        data_quality=quality,
        goals_table=Markup(_goals_table(summary["goals"])),  # noqa: S704 - escaped by frame_html
        quality_table=Markup(_quality_table(quality or [])),  # noqa: S704 - escaped
        catalog=definitions(report_metrics(metrics, metric_ids)),
        analyses=analysis_definitions(_shown_charts(sections, run_dir)),
    )
    analysis = env.get_template("analysis.html.j2").render(
        **{**common, "title": analysis_title or title},
        report_href=REPORT_NAME,
        sections=[
            {**s.__dict__, "body": Markup(s.body)}  # noqa: S704 - rendered and cleaned above
            for s in sections
        ],
    )
    for name, page in ((ANALYSIS_NAME, analysis), (REPORT_NAME, report)):
        page = _with_cjk_font(page, skip=str(bundle))
        part = run_dir / f".{name}.part"
        part.write_text(page, encoding="utf-8")
        part.replace(run_dir / name)
    return run_dir / REPORT_NAME
