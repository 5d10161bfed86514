"""Numbers as exports write them: either decimal convention, detected per file.

Exports write numbers in the exporting screen's locale. :func:`parse_number`
reads a column of them, :func:`number_convention` decides a file's convention
from several columns; a value is never read wrongly without a note.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

__all__ = ["NumberConvention", "number_convention", "parse_number"]

# Exports write numbers in the exporting screen's locale: 1,234.5 (English, Chinese, Japanese)
# or 1.234,5 (French, German, Spanish, Portuguese), thousands also grouped by blanks
# (NBSP, thin space) or apostrophes. Each value is read under both conventions; one that fits
# only one shows the file's convention, one that fits both with different values ("1,234":
# 1234 or 1.234) is ambiguous and read as the file's other values show, with a note.
# In a column of whole numbers (counts) the ambiguity does not exist: an export never
# writes a count with three decimals, so "1.000", "2.500", "1,000" group thousands.
_GROUPS = r"[\s'\u2019]+"  # blanks of any kind (NBSP, thin, narrow NBSP) and apostrophes
_FOREIGN = ["\u2212", "\u066b", "\u066c", "\u066a", *"٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹"]
_ASCII = ["-", ".", ",", "%", *"01234567890123456789"]
_SHAPE = {
    ".": r"^[+-]?(?:(?:\d+|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d{0,2}(?: \d{3})+)(?:\.\d+)?|\.\d+)$",
    ",": r"^[+-]?(?:(?:\d+|[1-9]\d{0,2}(?:\.\d{3})+|[1-9]\d{0,2}(?: \d{3})+)(?:,\d+)?|,\d+)$",
}
# Thousands grouped by one kind of separator and nothing else: a whole number, whichever
# the file's decimal separator ("1.000", "2,500", "1.000.000").
_GROUPED = r"^[+-]?[1-9]\d{0,2}(?:(?:\.\d{3})+|(?:,\d{3})+)$"


@dataclass(frozen=True)
class NumberConvention:
    """How a file writes its numbers: the decimal separator and what showed it.

    Attributes:
        decimal: ``"."`` (``1,234.5``) or ``","`` (``1.234,5``).
        shown_by: a value of the file that can only be read with ``decimal``
            (None: no value shows it, ``decimal`` is the default).
        against: a value that can only be read with the other separator (a file
            mixing both), else None.
        basis: why ``decimal`` was chosen, for the notes.
    """

    decimal: str = "."
    shown_by: str | None = None
    against: str | None = None
    basis: str = "the default"

    @property
    def thousands(self) -> str:
        """The thousands separator that goes with :attr:`decimal`."""
        return "," if self.decimal == "." else "."


def _number_text(s: pl.Series) -> pl.Series:
    """Numeric text, cleaned: currency signs and ``%`` dropped, blanks and apostrophes as one blank."""
    t = s.cast(pl.String).str.replace_many(_FOREIGN, _ASCII)
    t = t.str.replace_all(r"[$€£¥₹%]", "").str.strip_chars()
    return t.str.replace_all(_GROUPS, " ")


def _read_as(text: pl.Series, decimal: str) -> pl.Series:
    """``text`` read with ``decimal`` as decimal separator; null where the value does not fit."""
    drop = r"[, ]" if decimal == "." else r"[. ]"
    number = text.str.replace_all(drop, "").str.replace(",", ".", literal=True)
    fits = text.str.contains(_SHAPE[decimal]).fill_null(False)
    return pl.select(pl.when(fits).then(number.cast(pl.Float64, strict=False))).to_series()


def _grouped(text: pl.Series) -> pl.Series:
    """True where ``text`` is a whole number grouped in thousands by ``.`` or ``,`` alone."""
    return text.str.contains(_GROUPED).fill_null(False)


def _both_ways(s: pl.Series, whole: bool = False) -> tuple[pl.Series, pl.Series, pl.Series]:
    """``(text, read with '.', read with ',')``; with ``whole``, grouped values read alike."""
    text = _number_text(s)
    dot, comma = _read_as(text, "."), _read_as(text, ",")
    if whole:
        grouped = _grouped(text)
        n = text.str.replace_all(r"[.,]", "").cast(pl.Float64, strict=False)
        dot, comma = (
            pl.select(pl.when(grouped).then(n).otherwise(r)).to_series() for r in (dot, comma)
        )
    return text, dot, comma


def number_convention(
    columns: Iterable[pl.Series],
    *,
    whole: Iterable[pl.Series] = (),
    default: str = ".",
    default_basis: str | None = None,
) -> NumberConvention:
    """The decimal separator of a file, decided from the values of all its numeric ``columns``.

    A value that fits only one convention counts for it: ``1,234.5``, ``12.5``,
    ``1,234,567`` for ``.``; ``1.234,5``, ``4,2``, ``0,53``, ``12,5``, ``1.234.567``
    for ``,``. ``1,234``, ``1.234`` and whole numbers count for neither. The
    convention with more values wins; with none (or a tie), ``default``.

    Args:
        columns: the text columns of numbers (several columns: one decision per file).
        whole: more columns, of whole numbers (counts): their values grouped in
            thousands (``1.000``, ``2,500``, ``1.000.000``) count for neither
            convention, since they are whole numbers in both.
        default: the separator when no value decides (e.g. the export's language's).
        default_basis: why the default applies, for the notes.

    Examples:
        >>> number_convention([pl.Series(["12", "1,234"]), pl.Series(["4,2 %"])]).decimal
        ','
        >>> c = number_convention([pl.Series(["1,234", "7"])])
        >>> (c.decimal, c.shown_by, c.basis)
        ('.', None, 'no value shows the separator; the default')
        >>> number_convention([pl.Series(["3.5"])], whole=[pl.Series(["1.000.000", "2.500"])]).decimal
        '.'
    """
    counts = {".": 0, ",": 0}
    examples: dict[str, str | None] = {".": None, ",": None}
    marked = [(s, False) for s in columns] + [(s, True) for s in whole]
    for s, is_whole in marked:
        text, dot, comma = _both_ways(s, is_whole)
        for sep, only in (
            (".", dot.is_not_null() & comma.is_null()),
            (",", comma.is_not_null() & dot.is_null()),
        ):
            only = only.fill_null(False)
            n = int(only.sum())
            counts[sep] += n
            if n and examples[sep] is None:
                examples[sep] = s.filter(only)[0]
    if counts["."] != counts[","]:
        decimal = "." if counts["."] > counts[","] else ","
        other = "," if decimal == "." else "."
        mixed = f"; {counts[other]:,} written the other way" if counts[other] else ""
        return NumberConvention(
            decimal,
            shown_by=examples[decimal],
            against=examples[other],
            basis=f"{counts[decimal]:,} values such as '{examples[decimal]}' show it{mixed}",
        )
    basis = default_basis or "no value shows the separator; the default"
    if counts["."]:
        basis = f"as many values show '.' as ','; {basis}"
    return NumberConvention(default, against=examples["," if default == "." else "."], basis=basis)


def _shown(v: float) -> str:
    return str(int(v)) if v.is_integer() else repr(v)


def parse_number(
    s: pl.Series,
    decimal: str | NumberConvention | None = None,
    *,
    notes: list[str] | None = None,
    name: str | None = None,
    whole: bool = False,
) -> pl.Series:
    """Text to Float64: currency signs, thousands separators, ``%`` and blanks removed; null when unparseable.

    The decimal separator is ``decimal`` (a :class:`NumberConvention` decided for
    the whole file by :func:`number_convention`, or ``"."`` / ``","``); without
    it, it is decided from the column's own values (``"."`` when none shows it).
    A value that only fits the other separator is null (the importer quarantines
    its row); an ambiguous value (``1,234``) is read with the decided separator.

    With ``whole`` (a column of counts), a value whose only reading as a decimal
    would have exactly three decimals after each separator (``1.000``, ``2.500``,
    ``1,000``, ``1.000.000``) groups thousands, whatever the decimal separator:
    an export never writes a count with three decimals.

    Args:
        s: the text column.
        decimal: the separator, or the file's convention; None: from ``s``.
        notes: when given, a line is added for ambiguous values read one way and
            for values left null because they fit only the other separator.
        name: what ``s`` is (``"Queries.csv: Clicks"``), for the notes.
        whole: ``s`` holds whole numbers; a note says which values were read as
            thousands against the decimal separator.

    Examples:
        >>> parse_number(pl.Series(["$1,200.50", "49", "abc", None, "12%"])).to_list()
        [1200.5, 49.0, None, None, 12.0]
        >>> parse_number(pl.Series(["4,2 %", "1.234,5", "0,53", "1\u202f234", "1,234"])).to_list()
        [4.2, 1234.5, 0.53, 1234.0, 1.234]
        >>> notes = []
        >>> parse_number(pl.Series(["1,234", "4,2"]), ".", notes=notes, name="x").to_list()
        [1234.0, None]
        >>> parse_number(pl.Series(["1.000", "2.500", "1,000"]), ".", whole=True).to_list()
        [1000.0, 2500.0, 1000.0]
    """
    if isinstance(decimal, NumberConvention):
        conv = decimal
    elif decimal is None:
        conv = number_convention([], whole=[s]) if whole else number_convention([s])
    else:
        conv = NumberConvention(decimal, basis=f"'{decimal}' as given")
    text, dot, comma = _both_ways(s, whole)
    value, other = (dot, comma) if conv.decimal == "." else (comma, dot)
    if notes is not None:
        where = f"{name}: " if name else ""
        # Whole numbers the file's decimal separator alone would have read otherwise.
        plain = _read_as(text, conv.decimal)
        regrouped = (_grouped(text) & (plain.is_null() | (plain != value))).fill_null(False)
        if whole and regrouped.any():
            ex, v = s.filter(regrouped)[0], value.filter(regrouped)[0]
            p = plain.filter(regrouped)[0]
            as_decimal = "left unread" if p is None else _shown(p)
            notes.append(
                f"{where}{int(regrouped.sum()):,} value(s) such as '{ex}' read as {_shown(v)}, "
                f"with '{conv.decimal}' grouping thousands: the column holds whole numbers, "
                f"never written with three decimals (with the file's decimal separator "
                f"'{conv.decimal}', {conv.basis}, it would be {as_decimal})"
            )
        ambiguous = (value.is_not_null() & other.is_not_null() & (value != other)).fill_null(False)
        if ambiguous.any():
            n, ex = int(ambiguous.sum()), s.filter(ambiguous)[0]
            v, w = value.filter(ambiguous)[0], other.filter(ambiguous)[0]
            notes.append(
                f"{where}{n:,} value(s) such as '{ex}' ({_shown(v)} or {_shown(w)}) read as "
                f"{_shown(v)}, with '{conv.decimal}' as decimal separator: {conv.basis}"
            )
        unfit = (value.is_null() & other.is_not_null()).fill_null(False)
        if unfit.any():
            notes.append(
                f"{where}{int(unfit.sum()):,} value(s) such as '{s.filter(unfit)[0]}' fit only "
                f"the other decimal separator than the file's '{conv.decimal}' "
                f"({conv.basis}): left unread"
            )
    return value.alias(s.name)
