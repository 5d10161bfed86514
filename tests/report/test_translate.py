"""The notebooks' markdown in Arabic and Chinese: catalogs, translated copies, the runner.

The catalogs are ``journeylib/locales/<lang>/LC_MESSAGES/notebooks.po``, one
message per markdown cell (context ``<notebook stem>:<cell id>``). The runner
test replaces papermill's ``execute_notebook`` with a copy: no kernel starts.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import nbformat
import papermill
import pytest
from babel.messages.pofile import read_po
from nbformat.v4 import new_markdown_cell

from journeylib.i18n import LOCALES_DIR
from journeylib.report import runner, translate
from journeylib.report.runner import discover_notebooks, run_client
from journeylib.report.sanitize import markdown_html
from journeylib.report.translate import (
    extract_notebooks,
    message_context,
    po_path,
    problems,
    translate_notebook,
    update_catalogs,
)

NOTEBOOKS = discover_notebooks()
LANGS = ("ar", "zh")
# The bold label of each notebook's question (notebook_html finds the question by it).
QUESTION_LABEL = {"ar": "**السؤال**:", "zh": "**问题**："}

_HEADING = re.compile(r"^(#{1,6})\s+(\d+\.|\d{2}(?=\s))?", re.MULTILINE)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_HTML_TAG = re.compile(r"<(h[1-6]|ul|ol|li|strong|em|code|a|table|blockquote|pre)\b")


def _markdown_cells(path: Path) -> list:
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "markdown" and c.source.strip()]


def _catalog(lang: str, locales_dir: Path | None = None):
    with po_path(lang, locales_dir).open("rb") as fh:
        return read_po(fh, locale=lang)


def _untranslated(notebooks, lang: str, locales_dir: Path | None = None) -> list[str]:
    """The cells of ``notebooks`` without a usable translation: missing, empty or fuzzy."""
    catalog = _catalog(lang, locales_dir)
    missing = []
    for path in notebooks:
        for cell in _markdown_cells(path):
            entry = catalog.get(cell.source, context=message_context(path, cell.id))
            if entry is None or not entry.string or entry.fuzzy:
                missing.append(message_context(path, cell.id))
    return missing


def _with_new_cell(tmp_path: Path, text: str = "## 10. A section nobody translated") -> Path:
    src = NOTEBOOKS[0]
    nb = nbformat.read(src, as_version=4)
    nb.cells.append(new_markdown_cell(text, id="brand-new"))
    dst = tmp_path / src.name
    nbformat.write(nb, dst)
    return dst


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple]:
    """(lang, notebook stem) -> (English notebook, translated notebook)."""
    out = tmp_path_factory.mktemp("translated")
    pairs = {}
    for lang in LANGS:
        for src in NOTEBOOKS:
            dst = translate_notebook(src, out / lang / src.name, lang)
            pairs[lang, src.stem] = (
                nbformat.read(src, as_version=4),
                nbformat.read(dst, as_version=4),
            )
    return pairs


def _pairs(translated, lang):
    for stem in (p.stem for p in NOTEBOOKS):
        english, other = translated[lang, stem]
        for a, b in zip(english.cells, other.cells, strict=True):
            if a.cell_type == "markdown" and a.source.strip():
                yield f"{stem}:{a.id}", a.source, b.source


# ---------------------------------------------------------------- the catalogs


def test_the_seven_notebooks_are_there() -> None:
    assert [p.name[:3] for p in NOTEBOOKS] == [f"0{i}_" for i in range(1, 8)]
    assert sum(len(_markdown_cells(p)) for p in NOTEBOOKS) >= 70


@pytest.mark.parametrize("lang", LANGS)
def test_every_markdown_cell_is_translated(lang) -> None:
    assert _untranslated(NOTEBOOKS, lang) == []
    assert problems(languages=[lang]) == []


@pytest.mark.parametrize("lang", LANGS)
def test_a_new_cell_without_translation_fails(tmp_path, lang) -> None:
    nb = _with_new_cell(tmp_path)
    expected = f"{nb.stem}:brand-new"
    assert _untranslated([nb], lang) == [expected]
    assert problems([nb], languages=[lang]) == [
        f"{lang}: {expected}: missing from notebooks.po (run extract)"
    ]
    # ... and the run shows it in English, every other cell translated.
    out = nbformat.read(translate_notebook(nb, tmp_path / "out.ipynb", lang), as_version=4)
    assert out.cells[-1].source == "## 10. A section nobody translated"
    assert out.cells[0].source != nbformat.read(nb, as_version=4).cells[0].source


def test_the_template_and_catalogs_are_up_to_date(tmp_path) -> None:
    # `make messages` was run after the last change of a notebook: extracting again writes nothing.
    locales = tmp_path / "locales"
    locales.mkdir()
    shutil.copy(translate.pot_path(), translate.pot_path(locales))
    for lang in LANGS:
        po_path(lang, locales).parent.mkdir(parents=True)
        shutil.copy(po_path(lang), po_path(lang, locales))
    assert update_catalogs(locales_dir=locales) == []


def test_extraction_one_message_per_cell_with_its_context() -> None:
    catalog = extract_notebooks(NOTEBOOKS)
    messages = [m for m in catalog if m.id]
    cells = [(p, c) for p in NOTEBOOKS for c in _markdown_cells(p)]
    assert [(m.context, m.id) for m in messages] == [
        (f"{p.stem}:{c.id}", c.source) for p, c in cells
    ]
    first = messages[0]
    assert first.locations == [("notebooks/01_define_goals.ipynb", None)]
    assert first.auto_comments == ["cell 0 (id title)"]
    # The same text in two notebooks is two messages, translated on their own.
    load = [m.context for m in messages if m.id.startswith("## Load the client")]
    assert len(load) == len(NOTEBOOKS) == len(set(load))


def test_a_changed_cell_becomes_fuzzy_and_is_not_used(tmp_path) -> None:
    locales = tmp_path / "locales"
    src = NOTEBOOKS[0]
    update_catalogs([src], locales_dir=locales, languages=["zh"])  # a fresh, empty catalog
    catalog = _catalog("zh", locales)
    title = next(m for m in catalog if m.context == f"{src.stem}:title")
    title.string = "# 01 确定目标\n\n旧的译文。"
    po_path("zh", locales).write_text(translate._po_text(catalog), encoding="utf-8")
    assert problems([src], locales_dir=locales, languages=["zh"])[0] == (
        f"zh: {src.stem}:purpose: untranslated"
    )

    nb = nbformat.read(src, as_version=4)
    old_english = nb.cells[0].source
    nb.cells[0].source = old_english + " One more sentence."
    changed = tmp_path / src.name
    nbformat.write(nb, changed)
    update_catalogs([changed], locales_dir=locales, languages=["zh"])

    entry = _catalog("zh", locales).get(nb.cells[0].source, context=f"{src.stem}:title")
    assert entry.fuzzy and entry.string == "# 01 确定目标\n\n旧的译文。"
    assert _catalog("zh", locales).get(old_english, context=f"{src.stem}:title") is None
    assert update_catalogs([changed], locales_dir=locales, languages=["zh"]) == []  # stays so
    assert f"zh: {src.stem}:title: fuzzy (the English changed; review it)" in problems(
        [changed], locales_dir=locales, languages=["zh"]
    )
    out = translate_notebook(changed, tmp_path / "out.ipynb", "zh", locales_dir=locales)
    assert nbformat.read(out, as_version=4).cells[0].source == nb.cells[0].source


def test_check_command_names_what_is_missing(tmp_path, capsys) -> None:
    assert translate.main(["check"]) == 0
    nb = _with_new_cell(tmp_path)
    assert translate.main(["check", str(nb)]) == 1
    out = capsys.readouterr().out
    assert f"ar: {nb.stem}:brand-new: missing" in out and f"zh: {nb.stem}:brand-new" in out


# ---------------------------------------------------------------- translated notebooks


def test_english_is_the_source_itself(tmp_path) -> None:
    dst = tmp_path / "never.ipynb"
    assert translate_notebook(NOTEBOOKS[0], dst, "en") == NOTEBOOKS[0]
    assert not dst.exists()
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        translate_notebook(NOTEBOOKS[0], dst, "fr")


@pytest.mark.parametrize("lang", LANGS)
def test_only_the_markdown_changes(translated, lang) -> None:
    for stem in (p.stem for p in NOTEBOOKS):
        english, other = translated[lang, stem]
        assert other.metadata == english.metadata
        assert len(other.cells) == len(english.cells)
        for a, b in zip(english.cells, other.cells, strict=True):
            assert (b.id, b.cell_type, b.metadata) == (a.id, a.cell_type, a.metadata)
            if a.cell_type == "code":
                assert b.source == a.source and b.get("outputs") == a.get("outputs")
            elif a.source.strip():
                assert b.source != a.source, f"{stem}:{a.id} is still English"


@pytest.mark.parametrize("lang", LANGS)
def test_headings_keep_their_level_and_number(translated, lang) -> None:
    for where, english, other in _pairs(translated, lang):
        assert _HEADING.findall(other) == _HEADING.findall(english), where
    for stem in (p.stem for p in NOTEBOOKS):
        title = translated[lang, stem][1].cells[0].source.splitlines()[0]
        assert re.fullmatch(rf"# {stem[:2]} \S.*", title), title
        assert not re.search(r"[A-Za-z]{3}", title), f"{title!r} is not translated"


@pytest.mark.parametrize("lang", LANGS)
def test_inline_code_is_kept_exactly(translated, lang) -> None:
    for where, english, other in _pairs(translated, lang):
        assert Counter(_CODE_SPAN.findall(other)) == Counter(_CODE_SPAN.findall(english)), where


@pytest.mark.parametrize("lang", LANGS)
def test_markdown_structure_renders_the_same(translated, lang) -> None:
    # Same lists, items, emphasis, code and headings once rendered; an emphasis that
    # Markdown could not close (e.g. "**收入。**的" in Chinese) would leave a "**".
    for where, english, other in _pairs(translated, lang):
        html = markdown_html(other)
        tags = Counter(_HTML_TAG.findall(html))
        assert tags == Counter(_HTML_TAG.findall(markdown_html(english))), where
        assert "**" not in re.sub(r"<code>.*?</code>", "", html), where


@pytest.mark.parametrize("lang", LANGS)
def test_the_question_label(translated, lang) -> None:
    for stem in (p.stem for p in NOTEBOOKS):
        english, other = translated[lang, stem]
        purpose = next(c for c in other.cells if c.id == "purpose")
        assert "**Question**:" in next(c for c in english.cells if c.id == "purpose").source
        assert re.search(rf"^\* {re.escape(QUESTION_LABEL[lang])}\s*\S", purpose.source, re.M), stem


# ---------------------------------------------------------------- the runner


def _fake_papermill(monkeypatch) -> list[dict]:
    """papermill.execute_notebook replaced by a copy of its input: records what it was given."""
    calls: list[dict] = []

    def execute_notebook(input_path, output_path, **kw):
        calls.append({"input": Path(input_path), "output": Path(output_path), **kw})
        nb = nbformat.read(input_path, as_version=4)
        nb.metadata["papermill"] = {"input_path": input_path, "exception": None}
        nbformat.write(nb, output_path)
        return nb

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    return calls


def _stub_client(monkeypatch, language: str) -> None:
    client = SimpleNamespace(
        config=SimpleNamespace(client="Acme", language=language, pdf=False),
        template=SimpleNamespace(stages=[]),
    )
    monkeypatch.setattr(runner, "_load_client", lambda client_dir, say=None: client)
    monkeypatch.setattr(runner, "metrics_document", lambda client: None)
    monkeypatch.setattr(runner, "write_rejected", lambda client, run_dir: None)


def _title(stem: str, lang: str) -> str:
    """The step title report.html shows: "N. <translated title>"."""
    entry = next(m for m in _catalog(lang) if m.context == f"{stem}:title")
    return re.sub(r"^# 0*(\d+) ", r"\1. ", entry.string.splitlines()[0])


def test_a_chinese_run_executes_translated_copies(data_root, tmp_path, monkeypatch) -> None:
    calls = _fake_papermill(monkeypatch)
    _stub_client(monkeypatch, "zh")
    result = run_client("acme", out_dir=tmp_path / "out", jobs=2)

    assert result.ok, result.error
    by_name = {c["input"].name: c for c in calls}
    assert sorted(by_name) == [p.name for p in NOTEBOOKS]
    for nb in NOTEBOOKS:
        call = by_name[nb.name]
        tmp_dir = call["output"].parent.parent
        assert call["input"] == tmp_dir / ".sources" / nb.name  # the translated copy
        assert call["output"] == tmp_dir / "notebooks" / nb.name  # the usual name
        assert tmp_dir.name == f".{result.run_id}.tmp"
        assert call["resources"]["metadata"]["path"] == str(nb.parent)  # the kernel's folder
    assert not (result.run_dir / ".sources").exists()
    assert sorted(p.name for p in (result.run_dir / "notebooks").iterdir()) == [
        p.name for p in NOTEBOOKS
    ]

    page = (result.run_dir / "report.html").read_text(encoding="utf-8")
    assert _title("01_define_goals", "zh") == "1. 确定目标"
    for nb in NOTEBOOKS:
        assert _title(nb.stem, "zh") in page
    assert "Define goals" not in page and "Visualise the journey" not in page
    analysis = (result.run_dir / "analysis.html").read_text(encoding="utf-8")
    assert "加载客户数据" in analysis and "Load the client" not in analysis


def test_an_english_run_executes_the_notebooks_themselves(data_root, tmp_path, monkeypatch) -> None:
    calls = _fake_papermill(monkeypatch)
    _stub_client(monkeypatch, "en")
    result = run_client("acme", out_dir=tmp_path / "out", jobs=2)

    assert result.ok, result.error
    assert sorted(c["input"] for c in calls) == NOTEBOOKS
    page = (result.run_dir / "report.html").read_text(encoding="utf-8")
    assert "1. Define goals" in page and "7. Visualise the journey" in page


def test_a_translation_failure_fails_that_notebook_only(data_root, tmp_path, monkeypatch) -> None:
    _fake_papermill(monkeypatch)
    _stub_client(monkeypatch, "zh")

    def broken(src, dst, lang, **kw):
        if Path(src).name.startswith("03_"):
            raise OSError("notebooks.po unreadable")
        return translate_notebook(src, dst, lang, **kw)

    monkeypatch.setattr(translate, "translate_notebook", broken)
    result = run_client("acme", out_dir=tmp_path / "out", jobs=2)
    failed = [(n.name, n.error) for n in result.notebooks if n.status == "failed"]
    assert failed == [("03_touchpoints", "OSError: notebooks.po unreadable")]
    assert result.run_dir.is_dir() and not (result.run_dir / ".sources").exists()


def test_the_locales_are_the_i18n_ones() -> None:
    assert po_path("ar") == LOCALES_DIR / "ar" / "LC_MESSAGES" / "notebooks.po"
