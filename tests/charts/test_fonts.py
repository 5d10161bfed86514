"""Chinese and Arabic labels are drawn in exported charts (PNG, SVG, PDF), never as empty boxes.

A character no font has is drawn as the fallback font's "missing glyph" box
(.notdef), the same box for every such character. So each chart is also
rendered with its Chinese (then Arabic) characters replaced by private-use
code points that no font has: if the real labels render exactly like those,
their glyphs are missing. In the PDF, a missing glyph is glyph 0 of the font;
the fonts' ToUnicode maps say which characters have a real glyph.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import altair as alt
import numpy as np
import pytest
from PIL import Image

from journeylib.charts import fonts
from journeylib.charts.theme import FONT
from journeylib.present import render

pytestmark = pytest.mark.slow

CJK_LABELS = ["注册", "激活", "付费"]
ARABIC_LABELS = ["التسجيل", "التفعيل", "الدفع"]
TITLE = "用户旅程"  # customer journey
# One word each: a missing Arabic word draws as boxes right to left, its private-use
# stand-in left to right; in one word both are the same row of boxes.
SUBTITLE = "الرحلة"  # the journey
BAR = "#0072B2"


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _is_arabic(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff"


def _missing(text: str, script, base: int = 0xF0000) -> str:
    """``text`` with each character of the script replaced by a private-use one (no font has it)."""
    return "".join(chr(base + ord(ch) % 0x100) if script(ch) else ch for ch in text)


def _chart(swap=lambda s: s) -> alt.Chart:
    labels = [swap(s) for s in CJK_LABELS + ARABIC_LABELS]
    data = alt.Data(values=[{"step": s, "n": 60 - 8 * i} for i, s in enumerate(labels)])
    return (
        alt.Chart(data, title=alt.Title(swap(TITLE), subtitle=swap(SUBTITLE)))
        .mark_bar(color=BAR)
        .encode(
            y=alt.Y("step:N", sort=None, axis=alt.Axis(title=None, ticks=False, domain=False)),
            x=alt.X("n:Q", axis=None),
        )
        .properties(width=200, height=alt.Step(40))
    )


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _regions(img: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The title band above the bars and, per bar, the label strip left of it (right-aligned)."""
    is_bar = (np.abs(img - (0, 114, 178)).sum(axis=2) <= 12).astype(int)
    rows = np.flatnonzero(is_bar.sum(axis=1) > 10)
    left = int(np.flatnonzero(is_bar[rows].sum(axis=0))[0])
    bands = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    assert len(bands) == len(CJK_LABELS + ARABIC_LABELS), "one bar per label"
    title = img[: bands[0][0] - 2, :]
    labels = [img[band[0] : band[-1] + 1, : left - 2] for band in bands]
    return title, labels


def _ink(region: np.ndarray) -> int:
    return int((region.max(axis=2) < 140).sum())


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal pixels, labels compared right-aligned (they end at the bars)."""
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    return np.array_equal(a[:h, a.shape[1] - w :], b[:h, b.shape[1] - w :])


def _check_glyphs(render_png, what: str) -> None:
    def regions(swap=lambda s: s):
        return _regions(_pixels(render_png(_chart(swap))))

    real = regions()
    no_cjk = regions(lambda s: _missing(s, _is_cjk))
    no_arabic = regions(lambda s: _missing(s, _is_arabic))
    # The premise: characters without a glyph all draw the same box.
    other = regions(lambda s: _missing(s, _is_cjk, base=0xF1000))
    premise = all(_same(a, b) for a, b in zip(no_cjk[1], other[1], strict=True))
    assert premise, f"{what}: characters without a glyph do not all draw the same box"

    for i, label in enumerate(CJK_LABELS + ARABIC_LABELS):
        strip = real[1][i]
        assert _ink(strip) > 40, f"{what}: no ink where {label!r} is drawn"
        boxes = _same(strip, (no_cjk if _is_cjk(label[0]) else no_arabic)[1][i])
        assert not boxes, f"{what}: {label!r} is drawn as missing-glyph boxes"
    assert _ink(real[0]) > 200, f"{what}: no title"
    boxes = _same(real[0], no_cjk[0])
    assert not boxes, f"{what}: the Chinese title {TITLE!r} is drawn as boxes"
    boxes = _same(real[0], no_arabic[0])
    assert not boxes, f"{what}: the Arabic subtitle {SUBTITLE!r} is drawn as boxes"


def test_png_export_draws_chinese_and_arabic(tmp_path: Path) -> None:
    def png(chart: alt.Chart) -> bytes:
        return render.save_chart(chart, tmp_path / "chart.png", scale=2).read_bytes()

    _check_glyphs(png, "PNG")


def test_svg_export_draws_chinese_and_arabic(tmp_path: Path) -> None:
    import vl_convert as vlc

    def png(chart: alt.Chart) -> bytes:
        svg = render.save_chart(chart, tmp_path / "chart.svg").read_text(encoding="utf-8")
        return vlc.svg_to_png(svg, scale=2)

    svg = render.save_chart(_chart(), tmp_path / "real.svg").read_text(encoding="utf-8")
    for text in [*CJK_LABELS, *ARABIC_LABELS, TITLE, SUBTITLE]:
        assert f">{text}</text>" in svg, text  # text, not paths: a browser can reflow it
    assert "Noto Sans CJK SC" in svg
    _check_glyphs(png, "SVG")


def _pdf_glyph_chars(pdf: bytes) -> tuple[set[str], set[str]]:
    """Characters drawn with a real glyph, and with glyph 0 (.notdef), by the fonts' ToUnicode maps."""
    drawn: set[str] = set()
    notdef: set[str] = set()
    seen_map = False
    # Each stream object: its dictionary (after "obj", within the object), then its data.
    streams = rb"\bobj\b((?:(?!endobj).)*?)\bstream\r?\n(.*?)endstream"
    for m in re.finditer(streams, pdf, re.S):
        head, body = m.groups()
        if b"/Filter" in head:
            if b"/FlateDecode" not in head:
                continue
            try:
                body = zlib.decompressobj().decompress(body)
            except zlib.error:
                continue
        if b"begincmap" not in body:
            continue
        seen_map = True
        text = body.decode("latin-1")
        for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
            for code, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                chars = bytes.fromhex(dst).decode("utf-16-be")
                (notdef if int(code, 16) == 0 else drawn).update(chars)
        for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
            for lo, hi, dst in re.findall(
                r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
            ):
                start = int(dst, 16)
                for k, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                    (notdef if code == 0 else drawn).add(chr(start + k))
    assert seen_map, "no ToUnicode map found in the PDF: the check needs updating"
    return drawn, notdef


def test_pdf_export_draws_chinese_and_arabic(tmp_path: Path) -> None:
    pdf = render.save_chart(_chart(), tmp_path / "chart.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    drawn, notdef = _pdf_glyph_chars(pdf)
    wanted = set("".join([*CJK_LABELS, *ARABIC_LABELS, TITLE, SUBTITLE]))
    assert not wanted - drawn, f"no glyph in the PDF for {''.join(sorted(wanted - drawn))}"
    assert not wanted & notdef, f"drawn as .notdef: {''.join(sorted(wanted & notdef))}"
    assert b"NotoSansCJKsc-Regular" in pdf  # the Chinese font is embedded

    # The check sees missing glyphs: private-use characters have none.
    boxes = render.save_chart(
        _chart(lambda s: _missing(s, _is_cjk)), tmp_path / "boxes.pdf"
    ).read_bytes()
    drawn, _ = _pdf_glyph_chars(boxes)
    pua = {_missing(ch, _is_cjk) for ch in "".join([*CJK_LABELS, TITLE])}
    assert not pua & drawn


def test_theme_keeps_latin_fonts_first_and_falls_back_to_cjk_and_arabic() -> None:
    families = FONT.split(", ")
    assert families[:4] == ["Helvetica Neue", "Helvetica", "Arial", "DejaVu Sans"]
    assert fonts.CJK_FAMILY in families and fonts.SYSTEM_ARABIC_FAMILY in families
    assert families[-1] == "sans-serif"
    assert fonts.font_stack("zh").startswith(fonts.CJK_FAMILY + ", ")
    assert fonts.font_stack("en") == FONT


def test_font_files_are_only_the_ofl_ones() -> None:
    files = fonts.font_files()
    assert files["cjk"].name == "NotoSansCJKsc-Regular.otf"
    assert {"latin", "latin-bold", "arabic"} <= set(files)
    folder = fonts.chart_font_dir()
    assert folder is not None
    linked = {p.resolve() for p in (folder / "fonts").iterdir()}
    assert linked == set(files.values())  # never the whole mplfonts folder (SimHei is not OFL)
    fonts.register_chart_fonts()
    fonts.register_chart_fonts()  # idempotent


def test_fonts_folder_is_made_once_and_shared(tmp_path: Path, monkeypatch) -> None:
    files = fonts.font_files()
    first = fonts._make_shared(tmp_path, files)
    assert fonts._make_shared(tmp_path, files) == first
    assert (first / "fonts.conf").read_text().count("<dir>") == 1

    # Another process made the folder while this one built its own: the rename
    # fails, this one's copy is dropped and the other's is used.
    real_is_ready = fonts._is_ready
    calls: list[Path] = []

    def not_yet(root: Path, files) -> bool:
        calls.append(root)
        return len(calls) > 1 and real_is_ready(root, files)

    monkeypatch.setattr(fonts, "_is_ready", not_yet)
    assert fonts._make_shared(tmp_path, files) == first
    assert len(calls) == 2
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no leftovers


def test_missing_font_package_is_no_crash(tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.setattr(fonts, "_package_file", lambda package, relative: None)
    monkeypatch.setattr(fonts, "_system_font", lambda family: None)
    monkeypatch.setattr(fonts, "_REGISTERED", False)
    fonts.font_files.cache_clear()
    fonts.chart_font_dir.cache_clear()
    try:
        assert fonts.font_files() == {}
        assert "chart fonts not found: latin" in caplog.text
        assert fonts.chart_font_dir() is None
        assert fonts.fontconfig_env({"A": "1"}) == {"A": "1"}
        fonts.register_chart_fonts()
        assert render.save_chart(_chart(), tmp_path / "c.svg").stat().st_size > 0
    finally:
        fonts.font_files.cache_clear()
        fonts.chart_font_dir.cache_clear()


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="no fontconfig")
def test_fontconfig_env_adds_the_chinese_font() -> None:
    env = fonts.fontconfig_env()
    assert Path(env["FONTCONFIG_FILE"]).is_file()
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert fonts.CJK_FAMILY in out
