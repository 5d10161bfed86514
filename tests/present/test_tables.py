"""journeylib.present.tables: escaped HTML tables whose cells are written by journeylib.formatting."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from journeylib.present.tables import FORMATS, format_cell, frame_html


def test_frame_html_escapes_cells_headers_and_caption():
    df = pl.DataFrame({"<th>": ["<script>alert(1)</script>"], "rate": [0.25]})
    out = frame_html(df, formats={"rate": "pct"}, caption="a & b")
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;th&gt;</th>" in out
    assert "<caption>a &amp; b</caption>" in out
    assert "25.0%" in out


def test_frame_html_max_rows_and_missing():
    df = pl.DataFrame({"x": [1.0, None, 3.0]})
    out = frame_html(df, max_rows=2)
    assert out.count("<tr>") == 4  # header, 2 rows, the footer
    assert "1 more rows not shown" in out
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
