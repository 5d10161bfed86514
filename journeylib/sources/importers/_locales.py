"""Search Console's export in the languages of its screens: headers, file names, months.

The Performance report's export is written in the language of the Search
Console screens (the Google Account's language, or ``hl=`` in the address):
file names (``Queries.csv`` / ``Requêtes.csv``), column headers (``Top queries``
/ ``Requêtes les plus fréquentes``), the ``Filters.csv`` rows and its date range
(``Mar 1, 2026-Mar 31, 2026`` / ``1 mars 2026 - 31 mars 2026``).

**What is verified.** English and the French strings named in issue #21
(``Requêtes.csv``, ``Requêtes les plus fréquentes``, ``Clics``, ``Impressions``,
``CTR``, ``Position``, ``Filtres.csv`` with ``Filtre,Valeur``). The German,
Spanish, Japanese and Chinese headers agree with scripts that read real exports
(public code, not Google's own list). Everything else (Portuguese, Arabic, the
other file names, the date-row names, the month abbreviations as the export
writes them) is Search Console's UI wording as best remembered, **unverified**;
every language carries several spellings, and a file that matches none stops
the import naming its language and how to export in English.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LANGUAGES",
    "MONTHS",
    "Language",
    "aliases",
    "detect_unmapped",
    "fold",
]


@dataclass(frozen=True)
class Language:
    """One language of Search Console's screens, as its export writes it.

    Attributes:
        name: the language, in English.
        decimal: the decimal separator its numbers usually show (the fallback
            when no value of a file shows which one it uses).
        verified: whether the strings were checked against a real export.
        query, clicks, impressions, ctr, position: the headers of the Queries file.
        date: the header of the per-day file's date column, and the ``Filters.csv``
            row naming the date range.
        date_rows: other ``Filters.csv`` row names of the date range.
        queries_file, filters_file, dates_file, chart_file: the file names.
    """

    name: str
    decimal: str
    verified: bool
    query: tuple[str, ...]
    clicks: tuple[str, ...]
    impressions: tuple[str, ...]
    ctr: tuple[str, ...]
    position: tuple[str, ...]
    date: tuple[str, ...]
    date_rows: tuple[str, ...]
    queries_file: tuple[str, ...]
    filters_file: tuple[str, ...]
    dates_file: tuple[str, ...]
    chart_file: tuple[str, ...] = ()


#: The languages, from ``search_console_languages.json`` beside this module (data, not
#: code: one object per language with the fields of :class:`Language`). English first:
#: it wins ties (Impressions, CTR, Position are also French).
LANGUAGES: tuple[Language, ...] = tuple(
    Language(**{k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()})
    for entry in json.loads(
        Path(__file__).with_name("search_console_languages.json").read_text(encoding="utf-8")
    )
)


def aliases(role: str) -> list[str]:
    """Every language's headers of ``role`` (``"query"``, ``"clicks"``, …), English first.

    Examples:
        >>> aliases("clicks")[:3]
        ['Clicks', 'Url Clicks', 'Clics']
    """
    out: list[str] = []
    for lang in LANGUAGES:
        out.extend(a for a in getattr(lang, role) if a not in out)
    return out


def fold(text: str) -> str:
    """``text`` for loose comparison: NFC, lower case, blanks collapsed, trailing dot dropped.

    Examples:
        >>> fold("  Févr. "), fold("Top  Queries")
        ('févr', 'top queries')
    """
    text = unicodedata.normalize("NFC", text).lstrip("\ufeff").casefold()
    return " ".join(text.split()).rstrip(".")


def _month_table() -> dict[str, int]:
    names = {
        1: "jan january janv janvier januar jänner ene enero janeiro يناير",
        2: "feb february févr fevr février fevrier februar febrero fev fevereiro فبراير",
        3: "mar march mars märz mär mrz marzo março marco مارس",
        4: "apr april avr avril abr abril أبريل ابريل",
        5: "may mai mayo maio مايو",
        6: "jun june juin juni junio junho يونيو",
        7: "jul july juil juillet juli julio julho يوليو",
        8: "aug august août aout ago agosto أغسطس اغسطس",
        9: "sep sept september septembre septiembre setiembre set setembro سبتمبر",
        10: "oct october octobre okt oktober octubre out outubro أكتوبر اكتوبر",
        11: "nov november novembre noviembre novembro نوفمبر",
        12: "dec december déc decembre décembre dez dezember dic diciembre dezembro ديسمبر",
    }
    return {fold(word): month for month, words in names.items() for word in words.split()}


#: Month names and abbreviations of the mapped languages -> month number (keys :func:`fold`-ed).
MONTHS: dict[str, int] = _month_table()

# Languages the table does not map, told by a header word (unverified UI strings: they only
# name the language in the error) or, failing that, by the script of the headers.
_UNMAPPED_WORDS = {
    "Italian": ("query principali", "clic", "impressioni", "posizione", "posizione media"),
    "Dutch": ("populairste zoekopdrachten", "klikken", "vertoningen", "positie"),
    "Polish": ("najpopularniejsze zapytania", "kliknięcia", "wyświetlenia", "pozycja"),
    "Turkish": ("en popüler sorgular", "tıklama", "tıklamalar", "görüntüleme", "ortalama konum"),
    "Czech": ("nejčastější dotazy", "kliknutí", "zobrazení", "průměrná pozice"),
    "Swedish": ("vanligaste sökfrågorna", "klick", "visningar", "klickfrekvens"),
    "Indonesian": ("kueri teratas", "klik", "tayangan", "posisi"),
    "Vietnamese": ("truy vấn hàng đầu", "lượt nhấp", "lượt hiển thị", "vị trí"),
}
_SCRIPTS = (
    (re.compile(r"[\u0400-\u04ff]"), "a Cyrillic-script language (e.g. Russian or Ukrainian)"),
    (re.compile(r"[\uac00-\ud7af]"), "Korean"),
    (re.compile(r"[\u0590-\u05ff]"), "Hebrew"),
    (re.compile(r"[\u0370-\u03ff]"), "Greek"),
    (re.compile(r"[\u0e00-\u0e7f]"), "Thai"),
    (re.compile(r"[\u0900-\u097f]"), "Hindi"),
    (re.compile(r"[\u0600-\u06ff]"), "an Arabic-script language"),
    (re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"), "Chinese or Japanese"),
)


def detect_unmapped(headers: list[str]) -> str | None:
    """The language of headers the table does not map, when something tells it; else None.

    Examples:
        >>> detect_unmapped(["인기 검색어", "클릭수"]), detect_unmapped(["Query principali", "Clic"])
        ('Korean', 'Italian')
        >>> detect_unmapped(["Alpha", "Beta"]) is None
        True
    """
    keys = {fold(h) for h in headers}
    for name, words in _UNMAPPED_WORDS.items():
        if keys & set(words):
            return name
    text = "".join(headers)
    for script, name in _SCRIPTS:
        if script.search(text):
            return name
    return None
