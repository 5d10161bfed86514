"""Offline chart rendering: HTML with the vega bundle inlined, and file export.

Altair's default renderer fetches vega from a CDN (blank charts offline) and its
inline HTML template breaks with two charts on one page. This module inlines
vl-convert's ``javascript_bundle()`` (vega, vega-lite and vega-embed, no network)
once per page or notebook and draws every chart into its own ``<div>``.

Client-supplied text reaches the page only inside chart specs, serialised as
JSON in which ``<``, ``>`` and ``&`` are written as unicode escapes: a
``</script>`` or ``<!--`` in the data can never end or confuse the script
element. Page titles are HTML-escaped.
"""

from __future__ import annotations

import functools
import hashlib
import html
import itertools
import json
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert as vlc

from journeylib.charts import fonts as _fonts
from journeylib.charts import theme as _theme  # noqa: F401 - registers the workbench theme

__all__ = [
    "bundle_cache_dir",
    "cached_vega_bundle",
    "chart_html",
    "chart_spec_json",
    "chart_svg",
    "display",
    "page_html",
    "reset_display",
    "save_chart",
    "save_charts",
    "vega_bundle",
]

_IDS = itertools.count(1)
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
# Emitted once per kernel by display(); reset_display() clears it.
_BUNDLE_EMITTED = False

_EMBED_OPTIONS = {
    "mode": "vega-lite",
    "renderer": "svg",
    # No "open in editor" link: a report must not send its data anywhere.
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}

_PAGE_CSS = """
body { font-family: Helvetica Neue, Helvetica, Arial, DejaVu Sans, sans-serif;
       color: #1f2933; margin: 24px auto; max-width: 1240px; padding: 0 16px; }
h1 { font-size: 24px; }
.jw-chart { margin: 16px 0 32px 0; }
.jw-chart-error { color: #D55E00; font-weight: 600; }
"""


def _vl_version() -> str | None:
    """The vega-lite version altair writes, if vl-convert has it (else its latest)."""
    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return major_minor if major_minor in vlc.get_vegalite_versions() else None


@functools.cache
def vega_bundle() -> str:
    """The vega + vega-lite + vega-embed JavaScript bundle, for an inline ``<script>``.

    Built by ``vl_convert.javascript_bundle()`` (about 0.9 MB, no network; it
    defines ``window.vegaEmbed``, ``window.vega`` and ``window.vegaLite``).
    Building takes about 2.5 s, so the text is kept once per process and in a
    file cache shared by processes (every notebook kernel of a run, every
    JupyterLab session): :func:`cached_vega_bundle`.

    Returns:
        The JavaScript source, safe to put between ``<script>`` tags.

    Examples:
        >>> "window.vegaEmbed" in vega_bundle()
        True
    """
    return cached_vega_bundle(_build_vega_bundle)


def _build_vega_bundle() -> str:
    # The bundle has no such sequences today; the escaping guards against a future version.
    return _escape_bundle(vlc.javascript_bundle(vl_version=_vl_version()))


# The bundle defines this; a cache file without it is not a bundle (truncated, foreign).
_BUNDLE_MARK = "window.vegaEmbed"


def bundle_cache_dir() -> Path:
    """Where the vega bundle is kept: ``$JOURNEY_CACHE_DIR``, else the user cache folder.

    The user cache folder is ``$XDG_CACHE_HOME/journeylib`` (default
    ``~/.cache/journeylib``).
    """
    explicit = os.environ.get("JOURNEY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "journeylib"


def _bundle_key() -> str:
    """Everything the bundle's text depends on: vl-convert, vega-lite version, render.py."""
    source = Path(__file__).read_bytes()
    parts = [
        getattr(vlc, "__version__", "?"),
        str(_vl_version()),
        hashlib.sha256(source).hexdigest(),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _private(path: Path) -> bool:
    """Owned by this user and writable by nobody else."""
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _escape_bundle(bundle: str) -> str:
    # Identity escapes inside JS strings and regexes: the text can neither close
    # the <script> element it is put in nor open an HTML comment there.
    bundle = re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)
    return bundle.replace("<!--", "<\\!--")


def cached_vega_bundle(
    build: Callable[[], str] | None = None, *, cache_dir: Path | None = None
) -> str:
    """The vega bundle of ``journeylib.present.render.vega_bundle()``, read from a file when built before.

    Args:
        build: what builds the bundle when there is no cache file (default: the
            renderer's own builder, ``render._build_vega_bundle``).
        cache_dir: the cache folder (default :func:`bundle_cache_dir`).

    Returns:
        The same text ``build()`` returns. When the cache folder cannot be read
        or written the bundle is built as usual.

    The text goes into every report as a script, so a cache file is trusted
    only when this user owns it and its folder, and nobody else can write to
    the folder (a shared ``JOURNEY_CACHE_DIR`` such as ``/tmp`` is not used);
    the ``</script`` and ``<!--`` escaping is applied again on reading. Older
    bundles (another renderer or vl-convert version) are removed on writing.
    """
    if build is None:
        build = _build_vega_bundle
    try:
        folder = cache_dir or bundle_cache_dir()
        path = folder / f"vega-bundle-{_bundle_key()}.js"
    except Exception:  # no home folder, renderer missing: no cache, never no chart
        return build()
    try:
        if _private(folder) and _private(path):
            text = path.read_text(encoding="utf-8")
            if _BUNDLE_MARK in text:
                return _escape_bundle(text)
    except (OSError, UnicodeDecodeError):
        pass
    text = build()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return text
        for old in folder.glob("vega-bundle-*.js"):
            old.unlink(missing_ok=True)
        # Written aside and renamed: a kernel reading at the same moment sees
        # either no file or a whole one.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vega-bundle-", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError:
        pass
    return text


#: The last SVGs rendered, by a digest of the spec. The notebooks save each chart
#: as SVG and then as PNG: the PNG is rasterised from the SVG just rendered (the
#: same bytes as vl-convert's own PNG, which renders the SVG first), about half
#: its time.
_SVGS: OrderedDict[str, str] = OrderedDict()
_SVGS_KEPT = 4
_SVGS_LOCK = threading.Lock()


def _svg_of(spec: dict[str, Any]) -> str:
    """The chart's SVG, from the last few rendered when the same spec was rendered before."""

    def render() -> str:
        return vlc.vegalite_to_svg(spec, vl_version=_vl_version(), allowed_base_urls=[])

    try:
        text = json.dumps(spec, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):  # not plain JSON: vl-convert says what is wrong
        return render()
    key = hashlib.sha256(text.encode()).hexdigest()
    with _SVGS_LOCK:
        svg = _SVGS.get(key)
        if svg is not None:
            _SVGS.move_to_end(key)
            return svg
    svg = render()
    with _SVGS_LOCK:
        _SVGS[key] = svg
        while len(_SVGS) > _SVGS_KEPT:
            _SVGS.popitem(last=False)
    return svg


def _png_of(spec: dict[str, Any], scale: float) -> bytes:
    """The chart as PNG: rasterised from its SVG, unless the SVG holds images.

    An image (an image mark's URL) is left to vl-convert's own PNG export with
    no base URL allowed, so a later vl-convert that checks image URLs there
    keeps checking them; the workbench's charts have none.
    """
    svg = _svg_of(spec)
    if "<image" in svg:
        return vlc.vegalite_to_png(
            spec, vl_version=_vl_version(), scale=scale, allowed_base_urls=[]
        )
    return vlc.svg_to_png(svg, scale=scale)


def _spec(chart: alt.TopLevelMixin | dict[str, Any]) -> dict[str, Any]:
    if isinstance(chart, dict):
        return chart
    # Schema validation costs a third of a redraw in the explorer; every chart
    # function's spec is validated by its own test (tests/charts), not at draw time.
    return chart.to_dict(validate=False)


def _script_json(obj: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (cannot close or comment it)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def chart_spec_json(chart: alt.TopLevelMixin | dict[str, Any]) -> str:
    """The chart's vega-lite spec as script-safe JSON.

    Args:
        chart: an altair chart (or a vega-lite spec dict).

    Returns:
        Compact JSON with ``<``, ``>`` and ``&`` escaped as unicode escapes.

    Examples:
        >>> "</script>" in chart_spec_json({"title": "</script>"})
        False
    """
    return _script_json(_spec(chart))


def chart_html(
    chart: alt.TopLevelMixin | dict[str, Any],
    *,
    div_id: str | None = None,
    include_bundle: bool = False,
) -> str:
    """HTML for one chart: its own ``<div>`` and a ``<script>`` that draws it.

    The page must also contain :func:`vega_bundle` once (``page_html`` and
    ``display`` take care of that); the script waits for ``vegaEmbed`` when the
    bundle comes later in the page. Nothing is loaded from the network.

    Args:
        chart: an altair chart or a vega-lite spec dict.
        div_id: the id of the div (letters, digits, ``-``, ``_``); a fresh one
            when None.
        include_bundle: put the bundle in front of the chart (a standalone
            fragment; avoid with several charts on one page).

    Returns:
        An HTML fragment.

    Raises:
        ValueError: when ``div_id`` is not a plain identifier.

    Examples:
        >>> frag = chart_html({"mark": "point"}, div_id="c1")
        >>> frag.startswith('<div id="c1"')
        True
    """
    spec_json = chart_spec_json(chart)
    if div_id is None:
        digest = hashlib.sha1(spec_json.encode()).hexdigest()[:8]
        div_id = f"jw-chart-{digest}-{next(_IDS)}"
    elif not _ID_RE.match(div_id):
        raise ValueError(f"div_id must be a plain identifier, got {div_id!r}")
    opts = _script_json(_EMBED_OPTIONS)
    script = (
        "(function(){"
        f'var el=document.getElementById("{div_id}");'
        f"var spec={spec_json};var opts={opts};"
        "function draw(){el.textContent='';"
        "window.vegaEmbed(el,spec,opts).catch(function(err){"
        "el.className+=' jw-chart-error';el.textContent='Chart error: '+err;});}"
        "if(window.vegaEmbed){draw();}"
        "else{(window.__jwPending=window.__jwPending||[]).push(draw);}"
        "})();"
    )
    # The placeholder text stays visible only if the bundle never loads.
    placeholder = (
        "Chart not drawn: the chart library is not loaded in this page. "
        "In a notebook, run journeylib.present.render.reset_display() and re-run the cell."
    )
    parts = []
    if include_bundle:
        parts.append(_bundle_script())
    parts.append(
        f'<div id="{div_id}" class="jw-chart" data-jw-chart>{html.escape(placeholder)}</div>'
    )
    parts.append(f'<script type="text/javascript">{script}</script>')
    return "\n".join(parts)


def _bundle_script() -> str:
    """The bundle in a script element, then drawing of any charts that waited for it.

    ``data-jw-bundle`` on the bundle's script and ``data-jw-chart`` on each
    chart div let the report assembler find them in notebook outputs.
    """
    flush = (
        "(function(){var q=window.__jwPending||[];window.__jwPending=[];"
        "q.forEach(function(f){f();});})();"
    )
    return f'<script type="text/javascript" data-jw-bundle>{vega_bundle()}\n{flush}</script>'


def page_html(
    items: Iterable[alt.TopLevelMixin | dict[str, Any] | str] | alt.TopLevelMixin,
    *,
    title: str,
) -> str:
    """A full standalone HTML page: the bundle inlined once, each chart in its own div.

    Args:
        items: charts (altair or spec dicts) and HTML fragments (``str``, inserted
            as they are: escape any client text in them first, e.g. with
            ``html.escape``).
        title: the page title (escaped here), also shown as the heading.

    Returns:
        The HTML document; it makes no network requests.

    Examples:
        >>> page = page_html([{"mark": "point"}, "<p>Note</p>"], title="A & B")
        >>> page.count("window.vegaEmbed=") == 1 and "<title>A &amp; B</title>" in page
        True
    """
    if isinstance(items, alt.TopLevelMixin):
        items = [items]
    body = []
    for item in items:
        if isinstance(item, str):
            body.append(item)
        else:
            body.append(chart_html(item))
    safe_title = html.escape(title)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{safe_title}</title>\n<style>{_PAGE_CSS}</style>\n"
        f"{_bundle_script()}\n</head>\n<body>\n<h1>{safe_title}</h1>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def chart_svg(chart: alt.TopLevelMixin | dict[str, Any]) -> str:
    """The chart as a static SVG string (vl-convert, no network).

    Examples:
        >>> chart_svg({"mark": "point", "data": {"values": [{}]}}).startswith("<svg")
        True
    """
    _fonts.register_chart_fonts()
    return vlc.vegalite_to_svg(_spec(chart), vl_version=_vl_version(), allowed_base_urls=[])


def save_chart(
    chart: alt.TopLevelMixin | dict[str, Any], path: str | Path, *, scale: float = 2.0
) -> Path:
    """Write the chart to ``.svg``, ``.png``, ``.pdf`` or ``.html`` (by suffix).

    Static formats go through vl-convert; ``.html`` is a standalone offline page.
    A PNG is rasterised from the chart's SVG, which is kept for the last few
    charts: saving a chart as SVG and then as PNG runs Vega once. Parent
    folders are created.

    Args:
        chart: an altair chart or a vega-lite spec dict.
        path: the file to write.
        scale: pixel scale for PNG (2 = sharp on slides and retina screens).

    Returns:
        The path written.

    Raises:
        ValueError: for another suffix.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.svg"
        >>> save_chart({"mark": "point", "data": {"values": [{}]}}, p).read_text()[:4]
        '<svg'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    spec = _spec(chart)
    _fonts.register_chart_fonts()
    version = _vl_version()
    if suffix == ".svg":
        content: str | bytes = _svg_of(spec)
    elif suffix == ".png":
        content = _png_of(spec, scale)
    elif suffix == ".pdf":
        content = vlc.vegalite_to_pdf(spec, vl_version=version, allowed_base_urls=[])
    elif suffix == ".html":
        title = _title_of(spec) or path.stem
        content = page_html([spec], title=title)
    else:
        raise ValueError(f"unsupported chart file type {suffix!r}: use .svg, .png, .pdf or .html")
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _title_of(spec: dict[str, Any]) -> str | None:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    return str(title) if title else None


def display(
    chart: alt.TopLevelMixin | dict[str, Any],
    *,
    finding: str | None = None,
    report: str | None = None,
    name: str | None = None,
) -> None:
    """Show a chart in a notebook, offline (JupyterLab and nbconvert HTML).

    The first call in a kernel also emits the vega bundle; later calls emit only
    the chart's div and script, which draws as soon as the bundle is there.

    Args:
        chart: an altair chart or a vega-lite spec dict.
        finding: one sentence shown above the chart (escaped).
        report: put the output in the client report too (``report.html``), as
            this kind of item (``"chart"``, ``"wide"``): the output's display
            metadata ``{"journeylib": {"report": report}}`` tells the report so.
        name: the chart's file name (``show``'s ``save_as``), kept in that
            metadata: the report's appendix defines the analyses of the charts it shows.

    Examples:
        >>> reset_display()
        >>> display({"mark": "point"})  # doctest: +ELLIPSIS
        <IPython.core.display.HTML object>
    """
    global _BUNDLE_EMITTED
    from IPython.display import HTML
    from IPython.display import display as ipy_display

    fragment = chart_html(chart, include_bundle=not _BUNDLE_EMITTED)
    _BUNDLE_EMITTED = True
    if finding:
        fragment = f'<p class="jw-finding">{html.escape(finding)}</p>\n{fragment}'
    ipy_display(HTML(fragment), metadata=report_metadata(report, name))


def report_metadata(report: str | None, name: str | None = None) -> dict[str, Any] | None:
    """The display metadata that marks an output for the client report (None: not marked).

    Examples:
        >>> report_metadata("chart", "05_forecast"), report_metadata(None, "x")
        ({'journeylib': {'report': 'chart', 'chart': '05_forecast'}}, None)
    """
    if not report:
        return None
    return {"journeylib": {"report": report, **({"chart": name} if name else {})}}


def reset_display() -> None:
    """Make the next :func:`display` emit the bundle again (e.g. after a page reload).

    Examples:
        >>> reset_display()
    """
    global _BUNDLE_EMITTED
    _BUNDLE_EMITTED = False


def save_charts(
    charts: Mapping[str, Any],
    charts_dir: str | Path | None,
    *,
    formats: Sequence[str] = ("svg", "png"),
) -> list[Path]:
    """Write each named chart to ``charts_dir/<name>.<format>``; nothing when ``charts_dir`` is None.

    Returns:
        The paths written.
    """
    if charts_dir is None:
        return []
    return [
        save_chart(chart, Path(charts_dir) / f"{name}.{fmt}")
        for name, chart in charts.items()
        for fmt in formats
    ]
