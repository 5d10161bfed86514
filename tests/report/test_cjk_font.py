"""A page with Chinese text carries the CJK font it needs, cut down to its characters.

Without it a machine with no CJK font (this one, a fresh Debian) shows empty
boxes; with it the page reads the same everywhere and still fetches nothing.
"""

from __future__ import annotations

import base64
import io
import re

import pytest
from fontTools.ttLib import TTFont

from journeylib.charts.fonts import cjk_font_face, font_files, page_characters
from journeylib.report.assemble import _with_cjk_font

pytestmark = pytest.mark.skipif("cjk" not in font_files(), reason="no CJK font file")

PAGE = (
    '<!DOCTYPE html><html lang="zh-Hans"><head><title>报告</title>'
    '<script>var s=\'</head>\';var spec={"title":"\\u6f0f\\u6597"};</script></head>'
    "<body><p>旅程地图 &#x5ba2;户</p></body></html>"
)


def _font_of(page: str) -> TTFont:
    m = re.search(r"base64,([A-Za-z0-9+/=]+)\) format\('woff'\)", page)
    assert m, "no inlined font"
    return TTFont(io.BytesIO(base64.b64decode(m.group(1))))


def test_characters_of_a_page_include_references_and_script_escapes() -> None:
    assert page_characters(PAGE) == set("报告旅程地图客户漏斗")
    assert page_characters("<p>journey map</p>") == set()


def test_a_chinese_page_gets_its_glyphs_and_nothing_else_changes() -> None:
    out = _with_cjk_font(PAGE)
    head, rest = out.split("<head>", 1)
    assert rest.startswith("\n<style>@font-face{font-family:'Noto Sans CJK SC'")
    assert out.replace(rest[: rest.index("</style>") + len("</style>")], "", 1) == PAGE
    cmap = _font_of(out).getBestCmap()
    assert all(ord(c) in cmap for c in "报告旅程地图客户漏斗AZ09")
    assert ord("龍") not in cmap  # cut down to the page's characters
    assert "http" not in rest[: rest.index("</style>")]


def test_a_page_without_chinese_is_left_alone() -> None:
    page = '<html lang="en"><head></head><body><p>Journey map</p></body></html>'
    assert _with_cjk_font(page) == page
    assert cjk_font_face("") is None


def test_the_subset_is_small() -> None:
    face = cjk_font_face("旅程地图")
    assert face is not None and len(face) < 60_000


def test_characters_of_the_skipped_bundle_do_not_count() -> None:
    bundle = "<script data-jw-bundle>var ranges='漢字かな';</script>"
    page = f'<html lang="en"><head>{bundle}</head><body><p>Journey map</p></body></html>'
    assert _with_cjk_font(page, skip=bundle) == page
    assert "@font-face" in _with_cjk_font(page)  # counted, it would have been inlined
