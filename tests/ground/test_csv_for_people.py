"""journeylib.frames: CSV written for people neutralises spreadsheet formulas (quality.md, Security).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is written with a leading ``'``; everything else is written as it is.
The files are read back as text with the ``csv`` module, the way a
spreadsheet sees them.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib import frames
from journeylib.frames import FORMULA_STARTS, neutralise_formulas, write_csv_for_people

BOM = b"\xef\xbb\xbf"


def read_cells(path: Path) -> list[list[str]]:
    """The file's rows as text, header first (the byte-order mark dropped)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def expected_cell(value: str | None) -> str:
    """What a text value must look like in the file: one ``'`` added before a formula start."""
    if value is None:
        return ""
    return f"'{value}" if value[:1] in FORMULA_STARTS else value


# ---------------------------------------------------------------- by hand
def test_the_formula_starts_are_the_specs_six():
    assert set(FORMULA_STARTS) == {"=", "+", "-", "@", "\t", "\r"}
    assert {"FORMULA_STARTS", "neutralise_formulas", "write_csv_for_people"} <= set(frames.__all__)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("=1+1", "'=1+1"),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=cmd", "'\t=cmd"),
        ("\rline", "'\rline"),
        ("-", "'-"),
        ("=", "'="),
    ],
)
def test_each_formula_start_gets_one_quote(value, written):
    out = neutralise_formulas(pl.DataFrame({"name": [value]}))
    assert out["name"].to_list() == [written]


@pytest.mark.parametrize(
    "value",
    [
        "a=b",  # = in the middle
        "Acme = Widgets",
        "x+y-z@w",
        " =1",  # a space first: not one of the six
        "'=already quoted",  # already starts with a quote: nothing added
        "",
        "Zoë & Co",
        "شركة",
        "公司",
        "1,2\n3",
    ],
)
def test_other_text_is_untouched(value):
    out = neutralise_formulas(pl.DataFrame({"name": [value]}))
    assert out["name"].to_list() == [value]


def test_nulls_stay_null():
    df = pl.DataFrame({"name": [None, "=x", None]}, schema={"name": pl.String})
    assert neutralise_formulas(df)["name"].to_list() == [None, "'=x", None]
    empty = pl.DataFrame({"name": [None, None]}, schema={"name": pl.String})
    assert neutralise_formulas(empty)["name"].to_list() == [None, None]


def test_numbers_dates_and_booleans_are_untouched():
    df = pl.DataFrame(
        {
            "mrr": [-5, 0, 12],
            "delta": [-0.5, 1.25, -3.0],
            "day": [dt.date(2024, 1, 1), None, dt.date(2024, 3, 1)],
            "at": [dt.datetime(2024, 1, 1, 9), None, None],
            "flag": [True, False, None],
        }
    )
    out = neutralise_formulas(df)
    assert out.schema == df.schema
    assert out.equals(df)


def test_categorical_and_enum_columns_are_neutralised_as_text():
    df = pl.DataFrame(
        {
            "persona": pl.Series(["@ops", "founder", None], dtype=pl.Categorical),
            "plan": pl.Series(["-basic", "pro", "-basic"], dtype=pl.Enum(["-basic", "pro"])),
            "n": [-1, 2, 3],
        }
    )
    out = neutralise_formulas(df)
    assert out.schema == pl.Schema({"persona": pl.String, "plan": pl.String, "n": pl.Int64})
    assert out.rows() == [("'@ops", "'-basic", -1), ("founder", "pro", 2), (None, "'-basic", 3)]


def test_column_order_names_and_other_columns_are_kept():
    df = pl.DataFrame({"b": [1], "=a": ["=x"], "c": ["ok"]})
    out = neutralise_formulas(df)
    assert out.columns == ["b", "=a", "c"]
    assert out.row(0) == (1, "'=x", "ok")
    assert df["=a"].to_list() == ["=x"], "the input frame is not changed"


def test_a_frame_without_text_or_rows_is_returned_as_it_is():
    nums = pl.DataFrame({"n": [-1, -2]})
    assert neutralise_formulas(nums).equals(nums)
    none = pl.DataFrame(schema={"name": pl.String, "n": pl.Int64})
    assert neutralise_formulas(none).schema == none.schema


def test_nested_columns_are_left_alone():
    df = pl.DataFrame({"tags": [["=x", "y"]], "s": [{"k": "=z"}], "name": ["=n"]})
    out = neutralise_formulas(df)
    assert out["tags"].to_list() == [["=x", "y"]]
    assert out["s"].to_list() == [{"k": "=z"}]
    assert out["name"].to_list() == ["'=n"]


# ---------------------------------------------------------------- the file
def test_write_csv_for_people_writes_a_bom_utf8_file_in_a_new_folder(tmp_path):
    df = pl.DataFrame(
        {
            "account_id": ["@a1", "b2", "c3"],
            "name": ['=HYPERLINK("http://x","y")', "شركة النور", "北京公司"],
            "mrr": [-5.5, 0.0, 12.0],
            "signup_at": [dt.date(2024, 1, 2), None, dt.date(2024, 2, 3)],
        }
    )
    target = tmp_path / "not" / "yet" / "there.csv"
    out = write_csv_for_people(df, str(target))
    assert out == target and isinstance(out, Path)
    raw = target.read_bytes()
    assert raw.startswith(BOM) and not raw.startswith(BOM + BOM)
    text = raw.decode("utf-8-sig")
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in text
    assert read_cells(target) == [
        ["account_id", "name", "mrr", "signup_at"],
        ["'@a1", '\'=HYPERLINK("http://x","y")', "-5.5", "2024-01-02"],
        ["b2", "شركة النور", "0.0", ""],
        ["c3", "北京公司", "12.0", "2024-02-03"],
    ]
    # the numbers stay numbers for a reader of the file
    assert pl.read_csv(target)["mrr"].to_list() == [-5.5, 0.0, 12.0]


def test_write_csv_for_people_neutralises_the_header_too(tmp_path):
    df = pl.DataFrame({"=cmd": ["x"], "plain": ["-y"]})
    path = write_csv_for_people(df, tmp_path / "h.csv")
    assert read_cells(path) == [["'=cmd", "plain"], ["x", "'-y"]]
    assert df.columns == ["=cmd", "plain"], "the input frame is not renamed"


def test_write_csv_for_people_replaces_an_old_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("old,content\n1,2\n3,4\n")
    write_csv_for_people(pl.DataFrame({"a": ["+x"]}), path)
    assert read_cells(path) == [["a"], ["'+x"]]


# ---------------------------------------------------------------- property
_starts = st.sampled_from([*FORMULA_STARTS, "'", " ", "a", "1", '"', ","])
_text = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.tuples(_starts, st.text(max_size=12)).map("".join),
)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(-(10**6), 10**6), _text, _text),
        max_size=20,
    ),
    categorical=st.booleans(),
)
def test_no_written_text_cell_starts_a_formula(rows, categorical):
    ids = [r[0] for r in rows]
    names = [r[1] for r in rows]
    kinds = [r[2] for r in rows]
    df = pl.DataFrame(
        {
            "n": pl.Series(ids, dtype=pl.Int64),
            "name": pl.Series(names, dtype=pl.String),
            "kind": pl.Series(kinds, dtype=pl.Categorical if categorical else pl.String),
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv_for_people(df, Path(folder) / "out.csv")
        assert path.read_bytes().startswith(BOM)
        header, *body = read_cells(path)
    assert header == ["n", "name", "kind"]
    assert len(body) == len(rows)
    for (n, name, kind), (n_cell, name_cell, kind_cell) in zip(rows, body, strict=True):
        assert n_cell == str(n), "numbers (negatives too) are written as they are"
        for original, cell in ((name, name_cell), (kind, kind_cell)):
            assert cell[:1] not in FORMULA_STARTS, cell
            assert cell == expected_cell(original)
            if original is not None and cell != original:
                assert cell[0] == "'" and cell[1:] == original  # one ' added, nothing else
