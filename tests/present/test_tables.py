"""journeylib.present.tables: escaped HTML tables whose cells are written by journeylib.formatting.

great-tables lays the tables out; the output is read back with the standard library's
HTML parser, so a test checks what a browser would see (tags, attributes, texts).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import polars as pl
import pytest

from journeylib.formatting import MISSING
from journeylib.i18n import use_language
from journeylib.present.tables import FORMATS, format_cell, frame_html

PAYLOADS = (
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    '"><svg onload=alert(3)>',
)


@dataclass
class Cell:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class Parsed(HTMLParser):
    """Every element's tag and attributes, and the cells (th/td) of each part of the table."""

    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    parts: dict[str, list[list[Cell]]] = field(default_factory=dict)
    _part: str = ""
    _cell: Cell | None = None

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attrs))
        if tag in ("thead", "tbody", "tfoot"):
            self._part = tag
        elif tag == "tr":
            self.parts.setdefault(self._part, []).append([])
        elif tag in ("th", "td"):
            self._cell = Cell(tag, attrs)
            self.parts[self._part][-1].append(self._cell)

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.text += data


def parse(out: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(out)
    parsed.close()
    return parsed


def body_texts(out: str) -> list[list[str]]:
    return [[c.text for c in row] for row in parse(out).parts.get("tbody", [])]


def test_frame_html_escapes_cells_headers_and_caption():
    df = pl.DataFrame({"<th>": ["<script>alert(1)</script>"], "rate": [0.25]})
    out = frame_html(df, formats={"rate": "pct"}, caption="a & b")
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;th&gt;</th>" in out
    # The caption is the table's title (great-tables' title row), no longer a <caption>.
    assert re.search(r'class="[^"]*gt_title[^"]*"[^>]*>a &amp; b</td>', out)
    assert "25.0%" in out


def test_frame_html_max_rows_and_missing():
    df = pl.DataFrame({"x": [1.0, None, 3.0]})
    out = frame_html(df, max_rows=2)
    assert out.count("<tr") == 4  # header, 2 rows, the footer (rows now carry classes)
    assert "1 more row not shown" in out
    assert "—" in out


def test_frame_html_unknown_format_is_an_error():
    with pytest.raises(ValueError, match="unknown table format"):
        frame_html(pl.DataFrame({"x": [1]}), formats={"x": "nope"})


@pytest.mark.parametrize(
    "value,fmt,text",
    [
        (0.1234, "pct", "12.3%"),
        (0.1234, "pct0", "12%"),
        (1234.5, "money", "1,234"),  # half to even, as before
        (1234.567, "money2", "1,234.57"),
        (1234.6, "int", "1,235"),
        (12.345, "num0", "12"),
        (12.345, "num1", "12.3"),
        (2, "num2", "2.00"),
        (0.000123, "num4", "0.0001"),
        (dt.date(2025, 3, 1), "date", "2025-03-01"),
        (dt.datetime(2025, 3, 1, 9, 5), "datetime", "2025-03-01 09:05"),
        (dt.date(2025, 3, 1), "month", "2025-03"),
        (1.5, "str", "1.5"),
        ("n/a", "pct", "n/a"),  # text in a number column passes through
        (None, "pct", "—"),
        (float("nan"), "str", "—"),
        (float("nan"), None, "—"),
        (1234.5, None, "1,234.50"),
        (1234, None, "1,234"),
        (True, None, "yes"),
        (["a", 2.5, None], None, "a, 2.50, —"),
    ],
)
def test_format_cell(value, fmt, text):
    assert format_cell(value, fmt) == text


def test_every_named_format_writes_a_missing_value_the_same_way():
    assert {format_cell(None, fmt) for fmt in FORMATS} == {"—"}


# --------------------------------------------------------------------------- great-tables layout


def test_client_text_in_a_column_name_a_cell_and_the_caption_stays_text():
    df = pl.DataFrame({p: [p] for p in PAYLOADS})
    out = frame_html(df, caption=PAYLOADS[1])
    parsed = parse(out)
    assert {tag for tag, _ in parsed.tags} <= {"table", "thead", "tbody", "tfoot", "tr", "th", "td"}
    assert not [(t, a) for t, a in parsed.tags for name in a if name.startswith("on")]
    assert "<script" not in out and "<img" not in out and "<svg" not in out
    assert [c.text for c in parsed.parts["thead"][1]] == list(PAYLOADS)  # shown as written
    assert body_texts(out) == [list(PAYLOADS)]
    assert parsed.parts["thead"][0][0].text == PAYLOADS[1]


def test_the_table_fetches_nothing_and_brings_no_stylesheet():
    df = pl.DataFrame({"name": ["a"], "rate": [0.5], "day": [dt.date(2025, 3, 1)]})
    out = frame_html(df, caption="c", max_rows=0)
    assert "http" not in out and "@import" not in out and "<link" not in out
    assert "<style" not in out  # great-tables' ~9 kB per table would reach every table of the page
    assert out.startswith('<table class="jw-table') and out.endswith("</table>")


def test_numbers_are_at_the_end_of_their_cells_and_text_at_the_start():
    df = pl.DataFrame({"name": ["a", "b"], "n": [1, 2], "rate": [0.5, None]})
    parsed = parse(frame_html(df, formats={"rate": "pct"}))
    head, *rows = [parsed.parts["thead"][-1], *parsed.parts["tbody"]]
    for row in (head, *rows):
        styles = [c.attrs["style"] for c in row]
        # start/end, not left/right: in a right-to-left page a number sits at the left end.
        assert [s.split(";")[0] for s in styles] == ["text-align:start", *["text-align:end"] * 2]


def test_align_puts_text_columns_of_written_numbers_at_the_end():
    df = pl.DataFrame({"goal": ["MRR"], "current": ["12,346 EUR"]})
    row = parse(frame_html(df, align={"current": "end"})).parts["tbody"][0]
    assert [c.attrs["style"].split(";")[0] for c in row] == ["text-align:start", "text-align:end"]
    with pytest.raises(ValueError, match="expected 'start' or 'end'"):
        frame_html(df, align={"current": "right"})


def test_sixty_rows_with_max_rows_ten_show_ten_and_the_note():
    df = pl.DataFrame(
        {"account": [f"a{i}" for i in range(60)], "mrr": [i * 100.0 for i in range(60)]}
    )
    parsed = parse(frame_html(df, formats={"mrr": "money"}, max_rows=10))
    assert [[c.text for c in r] for r in parsed.parts["tbody"]] == [
        [f"a{i}", format_cell(i * 100.0, "money")] for i in range(10)
    ]
    assert [[c.text for c in r] for r in parsed.parts["tfoot"]] == [["… 50 more rows not shown"]]
    assert "more rows" not in frame_html(df, max_rows=-1) and "more rows" not in frame_html(
        df.head(10), max_rows=10
    )


@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_cells_are_the_formatting_layers_texts_in_the_current_language(lang):
    values = {
        "day": [dt.date(2025, 3, 1), None],
        "rate": [0.1234, float("nan")],
        "mrr": [12345.6, 7.0],
    }
    formats = {"day": "date", "rate": "pct", "mrr": "money"}
    with use_language(lang):
        out = frame_html(pl.DataFrame(values), formats=formats)
        expected = [[format_cell(values[c][i], formats[c]) for c in values] for i in range(2)]
    assert body_texts(out) == expected
    assert expected[1][:2] == [MISSING, MISSING]


def test_the_same_frame_gives_the_same_html_and_two_tables_share_no_id():
    a, b = pl.DataFrame({"x": [1]}), pl.DataFrame({"x": [2]})
    assert frame_html(a) == frame_html(a)
    ids = [
        attrs["id"]
        for out in (frame_html(a, caption="t"), frame_html(b, caption="t"))
        for _, attrs in parse(out).tags
        if "id" in attrs
    ]
    assert len(ids) == 4 and len(set(ids)) == 4


def test_classes_wrap_cells_in_a_span_the_page_can_colour():
    df = pl.DataFrame(
        {
            "goal": ["a", "b", "c"],
            "status": ["on track", "<b>x</b>", "—"],
            "cls": ["status on_track", 'x" onclick="y', None],
        }
    )
    out = frame_html(df, classes={"status": "cls"})
    parsed = parse(out)
    spans = [a["class"] for t, a in parsed.tags if t == "span"]
    assert spans == ["status on_track", "x onclick y"]  # only name characters survive
    assert not [a for _, a in parsed.tags for name in a if name.startswith("on")]
    assert body_texts(out) == [["a", "on track"], ["b", "<b>x</b>"], ["c", "—"]]  # cls is not shown
    for wrong in ({"status": "nope"}, {"status": "status"}, {"nope": "cls"}):
        with pytest.raises(ValueError, match="expected a shown column -> another column"):
            frame_html(df, classes=wrong)


def test_an_empty_frame_is_an_empty_table():
    assert body_texts(frame_html(pl.DataFrame({"x": []}, schema={"x": pl.Int64}))) == []
    assert parse(frame_html(pl.DataFrame())).tags[0][0] == "table"
