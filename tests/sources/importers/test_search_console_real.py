"""Search Console exports as real screens write them: Filters.csv dates, translated exports (#21).

Every expected value is worked out by hand from the fixture rows.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import unicodedata
from pathlib import Path

import polars as pl
import pytest

from journeylib.errors import DataError
from journeylib.sources.importers import import_files
from journeylib.sources.importers.search_console import range_end

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
JOURNEY = Path(sys.executable).with_name("journey")
QUERIES = (FIX / "Queries.csv").read_text()


def journey(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(JOURNEY), *args], capture_output=True, text=True, timeout=120)


def export(tmp_path: Path, files: dict[str, str]) -> Path:
    """An unzipped export folder; returns the path of its first file (the queries file)."""
    folder = tmp_path / "export"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder / next(iter(files))


def read(client: Path) -> pl.DataFrame:
    return pl.read_csv(client / "search_queries.csv", infer_schema=False)


def rows(client: Path) -> list[tuple[str, ...]]:
    q = read(client)
    return [tuple(r) for r in q.select("date", "query", "clicks", "impressions", "position").rows()]


# ------------------------------------------------------------------ Filters.csv dates
@pytest.mark.parametrize(
    ("filters", "day"),
    [
        # US range, quoted as a CSV writer quotes it
        ('Filter,Value\nSearch type,Web\nDate,"Mar 1, 2026-Mar 31, 2026"\n', "2026-03-31"),
        # the same range unquoted: its commas split it over cells
        ("Filter,Value\nDate,Mar 1, 2026-Mar 31, 2026\n", "2026-03-31"),
        # day-first range
        ("Filter,Value\nSearch type,Web\nDate,1 Jan 2025-31 Dec 2025\n", "2025-12-31"),
        # a "Time range" row instead of "Date" (2024 is a leap year)
        ('Filter,Value\nTime range,"Feb 1, 2024-Feb 29, 2024"\n', "2024-02-29"),
        # ISO dates, as before
        ("Filter,Value\nDate,2024-01-01 - 2024-02-29\n", "2024-02-29"),
    ],
)
def test_filters_date_forms(tmp_path: Path, filters: str, day: str) -> None:
    path = export(tmp_path, {"Queries.csv": QUERIES, "Filters.csv": filters})
    rep = import_files("search_console", [path], tmp_path / "c")
    assert set(read(tmp_path / "c")["date"]) == {day}
    assert any(f"rows dated {day}" in n and "Filters.csv" in n for n in rep.notes), rep.notes


def test_range_end_other_languages() -> None:
    """Day-first ranges with month names of the mapped languages, CJK and Arabic digits."""
    assert [
        range_end(v)
        for v in (
            "1. Jan. 2025 - 31. Dez. 2025",  # German
            "1 de ene. de 2025 - 31 de dic. de 2025",  # Spanish
            "1 de fev. de 2024 - 29 de fev. de 2024",  # Portuguese
            "2025年1月1日～2025年12月31日",  # Chinese / Japanese
            "١ يناير ٢٠٢٥ - ٣١ ديسمبر ٢٠٢٥",  # Arabic, Arabic-Indic digits
            "1 févr. 2026 - 28 févr. 2026",  # French
        )
    ] == [
        dt.date(2025, 12, 31),
        dt.date(2025, 12, 31),
        dt.date(2024, 2, 29),
        dt.date(2025, 12, 31),
        dt.date(2025, 12, 31),
        dt.date(2026, 2, 28),
    ]
    # not a day: a relative preset, an impossible date
    assert range_end("Last 12 months") is None and range_end("Feb 30, 2026") is None


def test_relative_range_asks_for_date_by_name(tmp_path: Path) -> None:
    path = export(
        tmp_path,
        {"Queries.csv": QUERIES, "Filters.csv": "Filter,Value\nDate,Last 12 months\n"},
    )
    with pytest.raises(DataError) as info:
        import_files("search_console", [path], tmp_path / "c")
    err = info.value
    assert err.where == "date" and err.fix == "import the file again with date=YYYY-MM-DD"
    assert "'Last 12 months'" in err.found and "relative to the day of the export" in err.found
    assert "\n" not in str(err) and not (tmp_path / "c").exists()
    # with the date given, the same export imports
    import_files("search_console", [path], tmp_path / "c", date="2026-03-31")
    assert set(read(tmp_path / "c")["date"]) == {"2026-03-31"}


def test_cli_relative_range_one_line_with_date_flag(tmp_path: Path) -> None:
    path = export(
        tmp_path,
        {"Queries.csv": QUERIES, "Filters.csv": "Filter,Value\nDate,Last 12 months\n"},
    )
    r = journey("import", "search_console", str(path), "--client", str(tmp_path / "c"))
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert lines[0].startswith("error: --date: the Search Console export's date range names no day")
    assert (
        "'Last 12 months'" in lines[0]
        and "Fix: import the file again with --date YYYY-MM-DD" in lines[0]
    )


# ------------------------------------------------------------------ French export, end to end
def test_cli_french_export_end_to_end(tmp_path: Path) -> None:
    """Requêtes.csv + Filtres.csv (Filtre,Valeur), decimal commas, NBSP thousands, '12 %' CTR."""
    path = export(
        tmp_path,
        {
            "Requêtes.csv": (FIX / "gsc_fr_queries.csv").read_text(encoding="utf-8"),
            "Filtres.csv": (FIX / "gsc_fr_filters.csv").read_text(encoding="utf-8"),
        },
    )
    client = tmp_path / "acme"
    r = journey("import", "search_console", str(path), "--client", str(client))
    assert r.returncode == 0, r.stderr
    assert "search_queries: 4 added" in r.stdout
    # the empty query, impressions 1,5 (= 1.5, not whole), position "abc"
    assert "3 rows quarantined" in r.stdout
    assert "query_missing (1)" in r.stdout and "bad_integer (1)" in r.stdout
    assert "bad_position (1)" in r.stdout
    assert "read as a French Search Console export" in r.stdout
    assert (
        "2026-03-31, the end of the range '1 mars 2026 - 31 mars 2026' in Filtres.csv" in r.stdout
    )
    # 1.234 impressions is 1234 in either convention: a count has no decimals, no note
    assert "'1.234'" not in r.stdout
    assert rows(client) == [
        ("2026-03-31", "acme analytics", "120", "1000", "1.2"),
        ("2026-03-31", "logiciel tableau de bord", "15", "3000", "8.4"),
        ("2026-03-31", "acme connexion", "40", "200", "1.0"),
        ("2026-03-31", "acme tarifs", "3", "1234", "12.5"),
    ]
    rej = pl.read_csv(client / "import_rejected" / "search_console.csv", infer_schema=False)
    assert rej.select("line", "reason").rows() == [
        ("6", "query_missing"),
        ("7", "bad_integer"),
        ("8", "bad_position"),
    ]
    assert journey("validate", str(client)).returncode == 0


# ------------------------------------------------------------------ numbers in the importer
def test_english_thousands_and_ambiguous_counts(tmp_path: Path) -> None:
    text = (
        "Top queries,Clicks,Impressions,CTR,Position\n"
        'acme,"1,234","12,345",10.0%,2.5\n'  # 2.5 and 10.0% show the decimal point
        'beta,5,"1,000",0.5%,3\n'
    )
    path = export(tmp_path, {"Queries.csv": text})
    rep = import_files("search_console", [path], tmp_path / "c", date="2026-03-31")
    assert rows(tmp_path / "c") == [
        ("2026-03-31", "acme", "1234", "12345", "2.5"),
        ("2026-03-31", "beta", "5", "1000", "3.0"),
    ]
    # "1,234", "12,345", "1,000" are counts: thousands in either convention, nothing to say
    assert rep.notes == []


def test_no_value_shows_the_separator_language_decides_and_says_so(tmp_path: Path) -> None:
    # "1,500" as a position is 1500 or 1.5: no other value tells, English writes '.'
    text = 'Top queries,Clicks,Impressions,CTR,Position\nacme,3,"1,200",0%,"1,500"\n'
    path = export(tmp_path, {"Queries.csv": text})
    rep = import_files("search_console", [path], tmp_path / "c", date="2026-03-31")
    assert rows(tmp_path / "c") == [("2026-03-31", "acme", "3", "1200", "1500.0")]
    assert rep.notes == [
        "Queries.csv: Position: 1 value(s) such as '1,500' (1500 or 1.5) read as 1500, with '.' "
        "as decimal separator: no value shows the separator; English exports write '.'"
    ]


# ------------------------------------------------------------------ whole-number columns
def test_english_counts_with_a_point_are_thousands(tmp_path: Path) -> None:
    """Review case: "1.000" and "2.500" impressions in an English file are 1000 and 2500.

    As decimals they would be 1 (three decimals) and 2.5 (not whole: quarantined);
    a count is never written with three decimals. CTR 1% / 0% and positions 3 / 5
    show no separator, so the file keeps English's '.', and a note says which
    values were read against it.
    """
    text = 'Top queries,Clicks,Impressions,CTR,Position\nfoo,12,"1.000",1%,3\nbar,3,"2.500",0%,5\n'
    path = export(tmp_path, {"Queries.csv": text})
    rep = import_files("search_console", [path], tmp_path / "c", date="2026-03-31")
    assert rows(tmp_path / "c") == [
        ("2026-03-31", "foo", "12", "1000", "3.0"),
        ("2026-03-31", "bar", "3", "2500", "5.0"),
    ]
    assert rep.rejected == 0
    assert rep.notes == [
        "Queries.csv: Impressions: 2 value(s) such as '1.000' read as 1000, with '.' grouping "
        "thousands: the column holds whole numbers, never written with three decimals (with the "
        "file's decimal separator '.', no value shows the separator; English exports write '.', "
        "it would be 1)"
    ]


def test_french_counts_with_a_comma_are_thousands(tmp_path: Path) -> None:
    """ "1,000" clicks in a French file is 1000, not 1; "2,5" and "8,4" show the decimal comma."""
    text = (
        "Requêtes les plus fréquentes,Clics,Impressions,CTR,Position\n"
        'acme,"1,000","20 000","5 %","2,5"\n'
        'beta,7,"1,5","1 %","8,4"\n'  # 1,5 impressions: a decimal (showing ','), not whole
    )
    path = export(tmp_path, {"Requêtes.csv": text})
    rep = import_files("search_console", [path], tmp_path / "c", date="2026-03-31")
    assert rows(tmp_path / "c") == [("2026-03-31", "acme", "1000", "20000", "2.5")]
    assert rep.reasons == {"bad_integer": 1}
    assert (
        "Requêtes.csv: Clics: 1 value(s) such as '1,000' read as 1000, with ',' grouping "
        "thousands: the column holds whole numbers, never written with three decimals (with the "
        "file's decimal separator ',', 3 values such as '2,5' show it, it would be 1)"
    ) in rep.notes


def test_grouped_counts_do_not_sway_the_files_convention(tmp_path: Path) -> None:
    """Counts "1.000", "2.000" and "1.000.000" fit ',' as decimal, but the positions 3.5 decide."""
    text = (
        "Top queries,Clicks,Impressions,CTR,Position\n"
        'a,"1.000","1.000.000",0.1%,3.5\n'
        'b,"2.000",5,0%,1\n'
    )
    path = export(tmp_path, {"Queries.csv": text})
    rep = import_files("search_console", [path], tmp_path / "c", date="2026-03-31")
    assert rows(tmp_path / "c") == [
        ("2026-03-31", "a", "1000", "1000000", "3.5"),
        ("2026-03-31", "b", "2000", "5", "1.0"),
    ]
    notes = " | ".join(rep.notes)
    assert "2 values such as '3.5' show it" in notes
    assert "Impressions: 1 value(s) such as '1.000.000' read as 1000000" in notes
    assert "it would be left unread" in notes


# ------------------------------------------------------------------ semicolon-separated
def test_cli_semicolon_queries_end_to_end(tmp_path: Path) -> None:
    """French/German Excel re-saves a CSV with ';': read as such, decimal commas included."""
    path = export(
        tmp_path,
        {"Queries.csv": "Top queries;Clicks;Impressions;CTR;Position\nfoo;1.234;29.000;4,2%;3,1\n"},
    )
    client = tmp_path / "acme"
    r = journey(
        "import", "search_console", str(path), "--client", str(client), "--date", "2026-03-31"
    )
    assert r.returncode == 0, r.stderr
    assert "search_queries: 1 added" in r.stdout
    assert rows(client) == [("2026-03-31", "foo", "1234", "29000", "3.1")]
    assert "note:" not in r.stdout  # nothing read against the file's decimal comma
    assert journey("validate", str(client)).returncode == 0


def test_mixed_separators_quarantine_the_odd_rows(tmp_path: Path) -> None:
    text = (
        "Top queries,Clicks,Impressions,CTR,Position\n"
        "a,1,10,10.0%,2.5\n"
        "b,2,20,10.0%,3.5\n"
        'c,3,30,10.0%,"4,5"\n'  # the only decimal comma: not read as 45
    )
    path = export(tmp_path, {"Queries.csv": text})
    rep = import_files("search_console", [path], tmp_path / "c", date="2026-03-31")
    assert [r[1] for r in rows(tmp_path / "c")] == ["a", "b"]
    assert rep.reasons == {"bad_position": 1}
    assert any("'4,5' fit only the other decimal separator" in n for n in rep.notes), rep.notes


# ------------------------------------------------------------------ other languages
@pytest.mark.parametrize(
    ("queries_file", "header", "row"),
    [
        (
            "Suchanfragen.csv",
            "Häufigste Suchanfragen,Klicks,Impressionen,Klickrate,Position",
            'büro,"1.234","45.678","2,7 %","12,3"',
        ),
        (
            "Consultas.csv",
            "Consultas principales,Clics,Impresiones,CTR,Posición media",
            'oficina,"1.234","45.678","2,7 %","12,3"',
        ),
        (
            "Consultas.csv",
            "Principais consultas,Cliques,Impressões,CTR,Posição",
            'escritório,"1.234","45.678","2,7 %","12,3"',
        ),
        (
            "クエリ.csv",
            "上位のクエリ,クリック数,表示回数,CTR,掲載順位",
            'オフィス,"1,234","45,678",2.7%,12.3',
        ),
        ("查询.csv", "热门查询,点击次数,展示次数,点击率,排名", '办公室,"1,234","45,678",2.7%,12.3'),
        (
            "طلبات البحث.csv",
            "أهم طلبات البحث,النقرات,مرات الظهور,نسبة النقر إلى الظهور,الموضع",
            "مكتب,١٢٣٤,٤٥٦٧٨,٢٫٧٪,١٢٫٣",
        ),
    ],
)
def test_translated_exports(tmp_path: Path, queries_file: str, header: str, row: str) -> None:
    """German, Spanish, Portuguese (decimal commas), Japanese, Chinese, Arabic (digits ١٢٣)."""
    path = export(tmp_path, {queries_file: f"{header}\n{row}\n"})
    import_files("search_console", [path], tmp_path / "c", date="2026-03-31")
    q = read(tmp_path / "c")
    assert q.select("clicks", "impressions", "position").rows() == [("1234", "45678", "12.3")]


def test_unknown_language_names_it_and_how_to_export_in_english(tmp_path: Path) -> None:
    path = export(
        tmp_path, {"검색어.csv": (FIX / "gsc_ko_queries.csv").read_text(encoding="utf-8")}
    )
    r = journey("import", "gsc", str(path), "--client", str(tmp_path / "c"))
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert (
        "the Search Console export is in Korean, a language this importer cannot read" in lines[0]
    )
    assert "Fix: open Search Console in English (add ?hl=en to its address" in lines[0]
    assert "English, French, German, Spanish, Portuguese, Arabic, Chinese or Japanese" in lines[0]
    assert not (tmp_path / "c").exists()


def test_unrecognised_language_says_so(tmp_path: Path) -> None:
    text = "Suosituimmat kyselyt,Klikkaukset,Näyttökerrat,CTR,Sijainti\nx,1,2,50%,3\n"
    path = export(tmp_path, {"Kyselyt.csv": text})
    with pytest.raises(
        DataError, match="the Search Console export's language is not recognised"
    ) as info:
        import_files("search_console", [path], tmp_path / "c")
    assert "hl=en" in info.value.fix and "\n" not in str(info.value)


def test_french_pages_file_is_not_a_queries_export(tmp_path: Path) -> None:
    text = 'Pages les plus populaires,Clics,Impressions,CTR,Position\nhttps://a.fr/,1,2,"50 %",3\n'
    path = export(tmp_path, {"Pages.csv": text})
    with pytest.raises(
        DataError,
        match=r"Pages.csv: Requêtes les plus fréquentes: this is not a "
        r"Search Console Queries export \(French\)",
    ):
        import_files("search_console", [path], tmp_path / "c")


def test_decomposed_unicode_headers_and_file_names(tmp_path: Path) -> None:
    """An export unzipped on macOS spells é as e + U+0301 in headers and names."""
    nfd = unicodedata.normalize("NFD", (FIX / "gsc_fr_queries.csv").read_text(encoding="utf-8"))
    path = export(
        tmp_path,
        {
            unicodedata.normalize("NFD", "Requêtes.csv"): nfd,
            "Filtres.csv": (FIX / "gsc_fr_filters.csv").read_text(encoding="utf-8"),
        },
    )
    rep = import_files("search_console", [path], tmp_path / "c")
    assert rep.tables["search_queries"]["added"] == 4
