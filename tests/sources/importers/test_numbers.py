"""Number parsing of exports in both conventions (1,234.5 and 1.234,5), with ambiguity said (#21)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from journeylib.sources.importers._common import (
    NumberConvention,
    number_convention,
    parse_number,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
NBSP, THIN, NNBSP = "\u00a0", "\u2009", "\u202f"


def parsed(values: list[str | None], decimal=None, **kw) -> list[float | None]:
    return parse_number(pl.Series(values, dtype=pl.String), decimal, **kw).to_list()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # decimal point, thousands comma
        ("1,234.5", 1234.5),
        ("1,234,567", 1234567.0),
        ("12.5", 12.5),
        ("0.123", 0.123),  # a leading 0 is no thousands group
        # decimal comma, thousands point: 1 comma + 1-2 or 4+ digits is decimal
        ("4,2", 4.2),
        ("0,53", 0.53),
        ("12,5", 12.5),
        ("3,1416", 3.1416),
        ("0,530", 0.53),
        ("1.234,5", 1234.5),
        ("1.234.567", 1234567.0),
        # blanks and apostrophes group thousands in both
        (f"1{NBSP}234", 1234.0),
        (f"1{THIN}234,5", 1234.5),
        (f"1{NNBSP}234{NNBSP}567.25", 1234567.25),
        ("1'234.50", 1234.5),
        # percent, currency, signs
        ("4,2 %", 4.2),
        (f"4,2{NNBSP}%", 4.2),
        ("4.2%", 4.2),
        ("€1.200,50", 1200.5),
        ("-3,5", -3.5),
        ("\u22123,5", -3.5),  # the minus sign
        ("٣٫٥", 3.5),  # Arabic-Indic digits and decimal separator
        # not numbers in either convention: never a silent guess
        ("12,34,567", None),
        ("1,2,3", None),
        ("4 2", None),
        ("abc", None),
    ],
)
def test_one_value_decides_itself(value: str, expected: float | None) -> None:
    assert parsed([value]) == [expected]


def test_backward_compatible_call() -> None:
    """The call other importers make, and the original doctest's values."""
    s = pl.Series("amount", ["$1,200.50", "49", "abc", None, "12%"])
    out = parse_number(s)
    assert out.name == "amount" and out.dtype == pl.Float64
    assert out.to_list() == [1200.5, 49.0, None, None, 12.0]


def test_the_column_shows_the_separator_of_its_ambiguous_values() -> None:
    # "1,234" alone reads 1234 (the default point); next to "4,2" it is 1.234
    assert parsed(["1,234"]) == [1234.0]
    assert parsed(["1,234", "4,2"]) == [1.234, 4.2]
    # "1.234" alone reads 1.234; next to "1.234,5" it is 1234
    assert parsed(["1.234"]) == [1.234]
    assert parsed(["1.234", "1.234,5"]) == [1234.0, 1234.5]


def test_file_level_convention_from_several_columns() -> None:
    clicks = pl.Series(["1.234", "12"])  # ambiguous, whole
    ctr = pl.Series(["4,2 %", "0,5 %"])  # decimal commas
    position = pl.Series(["8", "3,5"])
    conv = number_convention([clicks, ctr, position])
    assert (conv.decimal, conv.thousands, conv.shown_by, conv.against) == (",", ".", "4,2 %", None)
    assert conv.basis == "3 values such as '4,2 %' show it"
    notes: list[str] = []
    assert parse_number(clicks, conv, notes=notes, name="Clicks").to_list() == [1234.0, 12.0]
    assert notes == [
        "Clicks: 1 value(s) such as '1.234' (1234 or 1.234) read as 1234, with ',' as decimal "
        "separator: 3 values such as '4,2 %' show it"
    ]


def test_no_evidence_uses_the_default_and_says_so() -> None:
    conv = number_convention([pl.Series(["1,234", "7"])], default=",", default_basis="French")
    assert (conv.decimal, conv.shown_by, conv.basis) == (",", None, "French")
    notes: list[str] = []
    assert parsed(["1,234", "7"], conv, notes=notes, name="x") == [1.234, 7.0]
    assert notes == [
        "x: 1 value(s) such as '1,234' (1.234 or 1234) read as 1.234, with ',' as "
        "decimal separator: French"
    ]


def test_a_tie_uses_the_default() -> None:
    conv = number_convention([pl.Series(["1,234.5", "4,2"])])
    assert (conv.decimal, conv.against) == (".", "4,2")
    assert conv.basis.startswith("as many values show '.' as ','")


def test_mixed_file_majority_wins_and_the_rest_is_left_unread() -> None:
    s = pl.Series(["2.5", "3.5", "4,5"])
    conv = number_convention([s])
    assert (conv.decimal, conv.shown_by, conv.against) == (".", "2.5", "4,5")
    notes: list[str] = []
    assert parse_number(s, conv, notes=notes, name="Position").to_list() == [2.5, 3.5, None]
    assert len(notes) == 1 and "'4,5' fit only the other decimal separator" in notes[0]


def test_explicit_separator() -> None:
    assert parsed(["1.234", "4,2"], ",") == [1234.0, 4.2]
    assert parsed(["1.234", "4,2"], ".") == [1.234, None]
    assert isinstance(number_convention([]), NumberConvention)
    assert parsed([], ".") == []


def test_no_notes_without_ambiguity() -> None:
    notes: list[str] = []
    assert parsed(["1,234.5", "7", None], notes=notes, name="x") == [1234.5, 7.0, None]
    assert notes == []


def test_stripe_says_how_it_read_an_ambiguous_amount(tmp_path):
    from journeylib.sources.importers import import_files

    src = (FIXTURES / "stripe_subscriptions.csv").read_text().splitlines()
    header, first = src[0], src[1]
    # one amount written "1,234" (1234 or 1.234?) and no other amount showing the convention
    row = first.replace(",20.00,", ',"1,234",')
    export = tmp_path / "subs.csv"
    export.write_text(header + "\n" + row + "\n")
    report = import_files("stripe", [export], tmp_path / "acme")
    assert any("1,234" in n and "subs.csv: Amount" in n for n in report.notes), report.notes


# ------------------------------------------------------------------ whole-number columns
@pytest.mark.parametrize("decimal", [".", ",", None])
def test_whole_column_reads_three_decimals_as_thousands(decimal) -> None:
    """A count is never written with three decimals: "1.000", "2,500" group thousands."""
    values = ["1.000", "2.500", "1,000", "1.000.000", "12,345,678", "7", f"1{NBSP}234"]
    expected = [1000.0, 2500.0, 1000.0, 1e6, 12345678.0, 7.0, 1234.0]
    assert parsed(values, decimal, whole=True) == expected


def test_whole_column_keeps_real_decimals_and_says_what_it_regrouped() -> None:
    # "2.5" and "0.500" are no thousands groups: read as decimals (the importer quarantines them)
    notes: list[str] = []
    out = parsed(
        ["2.5", "0.500", "1.000", "1,000"], ".", notes=notes, name="Impressions", whole=True
    )
    assert out == [2.5, 0.5, 1000.0, 1000.0]
    assert notes == [
        "Impressions: 1 value(s) such as '1.000' read as 1000, with '.' grouping thousands: "
        "the column holds whole numbers, never written with three decimals (with the file's "
        "decimal separator '.', '.' as given, it would be 1)"
    ]


def test_grouped_whole_values_show_no_convention() -> None:
    counts = pl.Series(["1.000", "2.500", "1.000.000"])
    assert number_convention([counts]).decimal == ","  # as decimals, "1.000.000" shows ','
    conv = number_convention([pl.Series(["3.5"])], whole=[counts], default=",")
    assert (conv.decimal, conv.shown_by, conv.against) == (".", "3.5", None)
    assert number_convention([], whole=[counts], default=",").basis.startswith("no value")


# ------------------------------------------------------------------ semicolon-separated files
def test_semicolon_stripe_export_reads_like_the_comma_one(tmp_path):
    """The Stripe fixture re-saved by French Excel: ';' between fields, decimal commas."""
    import csv
    import io

    from journeylib.sources.importers import import_files

    rows = list(csv.reader(io.StringIO((FIXTURES / "stripe_subscriptions.csv").read_text())))
    amount = rows[0].index("Amount")
    for r in rows[1:]:  # 20.00 -> 20,00; 1,200.00 -> 1.200,00
        r[amount] = r[amount].replace(",", " ").replace(".", ",").replace(" ", ".")
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\n").writerows(rows)
    semi = tmp_path / "subs_fr.csv"
    semi.write_text(out.getvalue())
    assert semi.read_text().splitlines()[0].startswith("id;Customer ID;")
    ref = import_files("stripe", [FIXTURES / "stripe_subscriptions.csv"], tmp_path / "comma")
    rep = import_files("stripe", [semi], tmp_path / "semi")
    assert rep.reasons == ref.reasons == {"never_paid": 1, "unknown_interval": 1}
    for table in ("subscriptions.csv", "accounts.csv"):
        comma = pl.read_csv(tmp_path / "comma" / table, infer_schema=False)
        assert pl.read_csv(tmp_path / "semi" / table, infer_schema=False).equals(comma), table
