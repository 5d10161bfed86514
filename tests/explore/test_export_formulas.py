"""The explorer's "accounts behind the number" export is safe to open in a spreadsheet.

The export carries the accounts' ``name`` (client-supplied text). A copy of the
explorer tests' client gets hostile names (``=HYPERLINK(...)``, ``@SUM(...)``,
``+…``, ``-…``); the exported file's text must hold each of them behind one
leading ``'``, never as a live formula, while the panel keeps the names as
they are.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

import journeylib as jl
from journeylib.explore import Explorer
from journeylib.frames import FORMULA_STARTS

HYPERLINK = '=HYPERLINK("http://x","y")'
#: Names given in turn to the client's accounts (by row), HYPERLINK the most often.
HOSTILE = [HYPERLINK, "@SUM(1+1)", HYPERLINK, "+1 555 0100", HYPERLINK, "-2+3", "Plain Co"]


@pytest.fixture(scope="module")
def hostile_client(client_dir, tmp_path_factory):
    """The explorer tests' client with formula-like account names."""
    path = tmp_path_factory.mktemp("explore") / "formulas"
    shutil.copytree(client_dir, path)
    acc = pl.read_csv(path / "accounts.csv", infer_schema=False)
    names = pl.Series("name", HOSTILE * (acc.height // len(HOSTILE) + 1))[: acc.height]
    acc.with_columns(names).write_csv(path / "accounts.csv")
    return jl.load_client(path)


def test_the_export_neutralises_formula_names(hostile_client, tmp_path):
    ex = Explorer(hostile_client, lazy_tabs=False, export_dir=tmp_path / "exports")
    ex.steps.value = ["signed_up", "subscription_started"]
    ex.window.value = "30d"
    ex.drop_step.value = 2
    panel = ex.results["accounts"]
    assert panel is not None and "name" in panel.columns
    names = panel["name"].to_list()
    assert HYPERLINK in names, "an account named =HYPERLINK(...) is among the dropped accounts"
    assert {"@SUM(1+1)", "+1 555 0100", "-2+3"} & set(names)

    path = ex.export_dropped()
    assert path is not None and path.parent == tmp_path / "exports"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")

    # in the file's text: the quoted, neutralised name, and no field that opens a formula
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in text
    assert not re.search(r'(^|,)"?=HYPERLINK', text, flags=re.MULTILINE)
    assert not re.search(r'(^|,)"?[=+\-@]', text, flags=re.MULTILINE)

    # as a spreadsheet reads it: every text cell safe, each name one ' away from the original
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert header == panel.columns
    assert len(rows) == panel.height
    for row in rows:
        assert all(cell[:1] not in FORMULA_STARTS for cell in row), row
    written = [row[header.index("name")] for row in rows]
    assert written == [f"'{n}" if n[:1] in FORMULA_STARTS else n for n in names]
    assert f"'{HYPERLINK}" in written and HYPERLINK not in written
    ids = [row[header.index("account_id")] for row in rows]
    assert ids == panel["account_id"].to_list()

    # the panel itself keeps the names as they are
    assert ex.results["accounts"]["name"].to_list() == names
    assert str(path) in ex.export_note.value


def test_the_export_still_reads_back_as_a_table(hostile_client, tmp_path):
    ex = Explorer(hostile_client, lazy_tabs=False, export_dir=Path(tmp_path))
    ex.steps.value = ["signed_up", "subscription_started"]
    ex.drop_step.value = 2
    path = ex.export_dropped()
    back = pl.read_csv(path)
    panel = ex.results["accounts"]
    assert back.columns == panel.columns
    assert back["account_id"].to_list() == panel["account_id"].to_list()
    assert back["name"].str.strip_prefix("'").to_list() == panel["name"].to_list()
