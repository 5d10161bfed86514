r"""What the report inlines that may carry client text, made safe: markdown and SVG.

* ``text/markdown`` outputs (``display(Markdown(...))``) may interpolate client
  data. Notebooks must pass client text through :func:`html.escape` first; on
  top of that :func:`untrusted_markdown_html` sanitises the rendered HTML
  (bleach), so a forgotten escape shows the markup as text instead of running it.
  Markdown *cells* are our own prose: :func:`markdown_html` renders them as is.
* The journey-map SVGs are files of the run folder written by vl-convert from
  our own specs (client text is escaped in their ``<text>`` elements). They
  are inlined only after :func:`clean_svg` parsed them as XML and wrote them
  out again without scripts, ``foreignObject``, styles, links, event-handler
  attributes or references that leave the document, every value escaped.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

__all__ = [
    "CleanSvg",
    "clean_svg",
    "clean_svg_document",
    "markdown_html",
    "untrusted_markdown_html",
]

# --------------------------------------------------------------------------- markdown

_MARKDOWN_PLUGINS = ["table", "strikethrough"]

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


def markdown_html(text: str) -> str:
    """Our own markdown (notebook cells) to HTML, as written.

    Examples:
        >>> markdown_html("**Goals** <b>set</b>").strip()
        '<p><strong>Goals</strong> <b>set</b></p>'
    """
    import mistune

    return str(mistune.create_markdown(escape=False, plugins=_MARKDOWN_PLUGINS)(text))


def untrusted_markdown_html(text: str) -> str:
    """Markdown that may hold client data (``text/markdown`` outputs), sanitised.

    Examples:
        >>> untrusted_markdown_html("**Top** <script>alert(1)</script>").strip()
        '<p><strong>Top</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>'
    """
    import bleach

    return bleach.clean(markdown_html(text), tags=_SAFE_TAGS, attributes=_safe_attr, strip=False)


# --------------------------------------------------------------------------- SVG

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


@dataclass(frozen=True)
class CleanSvg:
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


def clean_svg_document(text: str, id_prefix: str) -> CleanSvg | None:
    """An SVG document rebuilt safe to inline, with its size and rules (see :func:`clean_svg`)."""
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
    return CleanSvg("".join(parts), width, height, tuple(sorted(rules)))


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
    cleaned = clean_svg_document(text, id_prefix)
    return cleaned.markup if cleaned else None
