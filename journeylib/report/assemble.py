"""Assemble ``report.html``: one self-contained page from a run folder.

The page holds, in order: an executive summary (headline KPIs with their
trend, goal statuses, the largest stage drop-offs, data-quality warnings; see
:mod:`journeylib.report.summary`), the journey map (the current-state map the
run saved to ``charts/``, with the future-state and persona maps on tabs
beside it), one section per executed notebook (outputs only, code hidden; see
:mod:`journeylib.report.notebook_html`), a data-quality section and an
appendix of metric definitions. A sticky navigation bar links them; printed
(A4 landscape) the navigation is hidden, every tab is shown and charts scale
to the page width.

Escaping contract (what is trusted, what is not):

* Everything put on the page from the metrics document, the title and
  notebook names is escaped (jinja2 autoescape).
* Notebook sections are rendered and cleaned by
  :mod:`journeylib.report.notebook_html`: the vega bundle every chart needs is
  taken out of the outputs and put once in the page head, before every chart.
* The journey-map SVGs are inlined only after
  :func:`journeylib.report.sanitize.clean_svg` rebuilt them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journeylib import paths
from journeylib.report.notebook_html import Collected, render_notebook
from journeylib.report.sanitize import CleanSvg, clean_svg_document
from journeylib.report.summary import data_quality_rows, definitions, executive_summary

__all__ = ["MAP_FILES", "build_report", "journey_maps"]

TEMPLATE_NAME = "report.html.j2"

# The maps of the "Journey map" section: files under ``charts/`` of the run
# folder (written by notebook 07), in tab order, with their tab labels.
MAP_FILES = (
    ("journey_map", "Current state"),
    ("future_state_map", "Future state"),
    ("persona_maps", "Persona maps"),
)
# The notebook whose interactive maps the section points to.
_MAPS_NOTEBOOK = re.compile(r"(^|_)visuali[sz]e_journey$")

# Printed, a map is cut into bands that each fit an A4 landscape page (273 x
# 186 mm inside 12 mm margins) at the page width: a band's height is at most
# this share of the map's width (the first band leaves room for the headings).
_BAND_RATIO = 0.62
_FIRST_BAND_RATIO = 0.52

# Charts drawn before the bundle arrived queue themselves in window.__jwPending
# (journeylib.present.render's protocol); the bundle in the head normally comes first.
_FLUSH_PENDING = (
    "(function(){var q=window.__jwPending||[];window.__jwPending=[];"
    "q.forEach(function(f){f();});})();"
)


# --------------------------------------------------------------------------- journey maps


def _bands(svg: CleanSvg) -> list[tuple[float, float]]:
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


def _print_bands(svg: CleanSvg, id_prefix: str) -> str:
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
        :func:`journeylib.report.sanitize.clean_svg`), ``print_svg`` page-sized bands of it for print,
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
        cleaned = clean_svg_document(text, prefix)
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
    found = Collected()
    sections = [render_notebook(p, found) for p in nb_paths]
    maps = [
        {**m, "svg": Markup(m["svg"]), "print_svg": Markup(m["print_svg"])}  # noqa: S704 - cleaned
        for m in journey_maps(run_dir)
    ]
    maps_step = next((s for s in sections if _MAPS_NOTEBOOK.search(s.name)), None)
    catalog = definitions()
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
        data_quality=data_quality_rows(metrics),
        catalog=catalog,
        bundle=Markup(_bundle_tag(found) or ""),  # noqa: S704 - our own library's script
    )
    out = run_dir / "report.html"
    part = run_dir / ".report.html.part"
    part.write_text(page, encoding="utf-8")
    part.replace(out)
    return out
