"""The notebooks' own words in the client's language: one message per markdown cell.

The step notebooks are written in English; their markdown cells are the
messages of the ``notebooks`` gettext domain, beside the workbench's own
words (``journey``, :mod:`journeylib.i18n`):

* ``journeylib/locales/notebooks.pot``: the template, extracted from
  ``notebooks/0[1-7]_*.ipynb`` by ``python -m journeylib.report.translate extract``
  (``make messages``);
* ``journeylib/locales/<lang>/LC_MESSAGES/notebooks.po``: the translations,
  read with Babel and compiled in memory on first use (no compile step).

One message is one markdown cell, its whole source exactly as written (empty
cells are skipped), so a translation keeps or changes the cell's Markdown as
a whole: headings, lists, inline code. Its context (``msgctxt``) is
``<notebook stem>:<cell id>``: each cell is a message of its own even when its
text is the same as another cell's (the "Load the client" cell of every
notebook), so two identical cells may be translated alike or not; a
translator who wants them alike writes the same translation twice. Cells
therefore need ids (nbformat 4.5 and later gives every cell one).

When a cell's text changes, ``extract`` keeps its old translation under the
same context but marks it *fuzzy*, for the translator to review against the
new English (the old English is in the notebook's git history: Babel cannot
read back a multi-line ``#| msgid``, so none is written). A fuzzy or empty
translation is never used: that cell stays English until it is translated
again, and ``python -m journeylib.report.translate check`` fails naming it.
Messages of cells that no longer exist are dropped (git keeps them).

:func:`translate_notebook` writes the copy of a notebook that a run in
another language executes (:func:`journeylib.report.runner.run_client`):
every markdown cell replaced by its translation, everything else (code, tags,
metadata, cell ids) unchanged.
"""

from __future__ import annotations

import argparse
import functools
import io
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

from journeylib import paths
from journeylib.i18n import LANGUAGES, LOCALES_DIR, check_language

__all__ = [
    "DOMAIN",
    "NOTEBOOK_GLOB",
    "extract_notebooks",
    "message_context",
    "po_path",
    "pot_path",
    "problems",
    "translate_notebook",
    "update_catalogs",
]

#: The gettext domain of the notebooks' markdown: ``locales/<lang>/LC_MESSAGES/notebooks.po``.
DOMAIN = "notebooks"
#: The step notebooks whose markdown is extracted (the runner's own glob).
NOTEBOOK_GLOB = "0[1-7]_*.ipynb"
# Flags Babel sets by itself when a msgid looks like a format string ("40 % of"):
# markdown is never formatted, so they would only mislead a translator or a checker.
_FORMAT_FLAGS = ("python-format", "python-brace-format")
# The Language-Team of a new catalog (as in journey.po).
_LANGUAGE_NAMES = {"ar": "Arabic", "zh": "Simplified Chinese"}


def pot_path(locales_dir: Path | None = None) -> Path:
    """The template of the notebooks' messages, ``locales/notebooks.pot``."""
    return (locales_dir or LOCALES_DIR) / f"{DOMAIN}.pot"


def po_path(lang: str, locales_dir: Path | None = None) -> Path:
    """The catalog of ``lang``, ``locales/<lang>/LC_MESSAGES/notebooks.po``.

    Examples:
        >>> po_path("zh").relative_to(LOCALES_DIR).as_posix()
        'zh/LC_MESSAGES/notebooks.po'
    """
    return (locales_dir or LOCALES_DIR) / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def message_context(notebook: str | Path, cell_id: str) -> str:
    """The ``msgctxt`` of a markdown cell: ``<notebook stem>:<cell id>``.

    Examples:
        >>> message_context("notebooks/07_visualize_journey.ipynb", "title")
        '07_visualize_journey:title'
    """
    return f"{Path(notebook).stem}:{cell_id}"


def _shown_path(path: Path) -> str:
    """A notebook as the catalog names it: relative to the project root when under it."""
    try:
        return path.resolve().relative_to(paths.PROJ_ROOT.resolve()).as_posix()
    except ValueError:
        return path.name


def _read_notebook(path: Path) -> Any:
    import nbformat

    return nbformat.read(path, as_version=4)


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _version() -> str:
    try:
        return metadata.version("journeylib")
    except metadata.PackageNotFoundError:
        return "0"


def _new_catalog(locale: str | None = None, **kw: Any) -> Catalog:
    return Catalog(
        locale=locale,
        domain=DOMAIN,
        project="journeylib",
        version=_version(),
        copyright_holder="Journey Workbench maintainers",
        **kw,
    )


def extract_notebooks(notebooks: Iterable[str | Path]) -> Catalog:
    """The messages of the notebooks: one per non-empty markdown cell, in notebook order.

    Each message is the cell's whole source, with the context
    ``<notebook stem>:<cell id>`` (:func:`message_context`), the notebook as
    its location and ``cell <index> (id <id>)`` as an extracted comment.

    Raises:
        ValueError: a markdown cell without an id, or two cells of one
            notebook with the same id.

    Examples:
        >>> import nbformat, tempfile
        >>> from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
        >>> nb = new_notebook(cells=[new_markdown_cell("# 01 Hi", id="title"),
        ...     new_code_cell("x = 1"), new_markdown_cell("", id="empty")])
        >>> path = Path(tempfile.mkdtemp()) / "01_hi.ipynb"
        >>> nbformat.write(nb, path)
        >>> [(m.context, m.id, m.auto_comments) for m in extract_notebooks([path]) if m.id]
        [('01_hi:title', '# 01 Hi', ['cell 0 (id title)'])]
    """
    catalog = _new_catalog()
    for path in map(Path, notebooks):
        nb = _read_notebook(path)
        seen: set[str] = set()
        for index, cell in enumerate(nb.cells):
            cell_id = cell.get("id")
            if cell_id and cell_id in seen:
                raise ValueError(f"{path}: two cells have the id {cell_id!r}; cell ids must differ")
            seen.add(cell_id)
            if cell.cell_type != "markdown" or not _source(cell).strip():
                continue
            if not cell_id:
                raise ValueError(
                    f"{path}: markdown cell {index} has no id; save the notebook with "
                    "JupyterLab 3 or later (nbformat 4.5), which gives every cell one"
                )
            catalog.add(
                _source(cell),
                locations=[(_shown_path(path), None)],  # type: ignore[list-item]  # no line
                auto_comments=[f"cell {index} (id {cell_id})"],
                context=message_context(path, cell_id),
            )
    return catalog


# --------------------------------------------------------------------------- translating


def _read_catalog(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


@functools.cache
def _translations(lang: str, locales_dir: Path | None) -> Translations:
    """The compiled catalog of ``lang`` (cached): empty and fuzzy entries left out."""
    path = po_path(lang, locales_dir)
    catalog = _read_catalog(path, lang) if path.is_file() else _new_catalog(lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # use_fuzzy=False: a fuzzy translation is never used
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def translate_notebook(
    src: str | Path, dst: str | Path, lang: str, *, locales_dir: Path | None = None
) -> Path:
    """Write ``src`` to ``dst`` with every markdown cell in ``lang``; return the path to run.

    A cell whose catalog entry is missing, empty or fuzzy stays English; code
    cells, outputs, tags, metadata and cell ids are copied unchanged. For
    ``en`` (the notebooks' own language) nothing is written and ``src`` is
    returned.

    Args:
        src: the English notebook.
        dst: where to write the translated copy (its folder is created).
        lang: ``en``, ``ar`` or ``zh``.
        locales_dir: the folder of the catalogs; default ``journeylib/locales``.

    Raises:
        ValueError: an unknown language.

    Examples:
        >>> src = Path("notebooks/01_define_goals.ipynb")
        >>> translate_notebook(src, "unused.ipynb", "en") == src
        True
    """
    lang = check_language(lang)
    src = Path(src)
    if lang == "en":
        return src
    import nbformat

    translations = _translations(lang, locales_dir)
    nb = _read_notebook(src)
    for cell in nb.cells:
        source = _source(cell)
        if cell.cell_type == "markdown" and source.strip() and cell.get("id"):
            cell.source = translations.pgettext(message_context(src, cell.id), source)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)
    return dst


# --------------------------------------------------------------------------- catalogs


def _merged(template: Catalog, old: Catalog | None, lang: str) -> Catalog:
    """``lang``'s catalog for ``template``, keeping what ``old`` translated.

    The same cell with the same text keeps its translation (and flags); the
    same cell with new text keeps the old translation marked fuzzy; a new
    cell starts untranslated; a cell that is gone is dropped.
    """
    header: dict[str, Any] = {
        "header_comment": (
            f"# {_LANGUAGE_NAMES.get(lang, lang)} translations of the step notebooks' markdown.\n"
            "# This file is distributed under the same license as the journeylib project.\n#"
        ),
        "last_translator": "Journey Workbench maintainers",
        "language_team": _LANGUAGE_NAMES.get(lang, lang),
    }
    if old is not None:
        header = {
            "header_comment": old.header_comment,
            "last_translator": old.last_translator,
            "language_team": old.language_team,
            "revision_date": old.revision_date,
        }
    catalog = _new_catalog(lang, creation_date=template.creation_date, fuzzy=False, **header)
    by_context: dict[str | None, Message] = {}
    if old is not None:
        by_context = {m.context: m for m in old if m.id}
    for msg in template:
        if not msg.id:
            continue
        before = by_context.get(msg.context)
        string, flags, comments = "", set(), []
        if before is not None and before.string:
            string, comments = before.string, before.user_comments
            # A changed cell: the old translation is a starting point, never used as is.
            flags = set(before.flags) if before.id == msg.id else {"fuzzy"}
        catalog.add(
            msg.id,
            string,
            locations=msg.locations,
            flags=flags - set(_FORMAT_FLAGS),
            auto_comments=msg.auto_comments,
            user_comments=comments,
            context=msg.context,
        )
    return catalog


def _po_text(catalog: Catalog) -> str:
    for msg in catalog:
        msg.flags.difference_update(_FORMAT_FLAGS)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_previous=False, ignore_obsolete=True)
    return buffer.getvalue().decode("utf-8")


def _without_dates(text: str) -> str:
    return "\n".join(
        line
        for line in text.splitlines()
        if not line.startswith(('"POT-Creation-Date:', '"PO-Revision-Date:'))
    )


def _write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` unless only its dates differ from the file's: ``make messages`` twice changes nothing."""
    if path.is_file() and _without_dates(path.read_text(encoding="utf-8")) == _without_dates(text):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def _notebooks(notebooks: Sequence[str | Path] | None) -> list[Path]:
    if notebooks is not None:
        return [Path(p) for p in notebooks]
    return sorted((paths.PROJ_ROOT / "notebooks").glob(NOTEBOOK_GLOB))


def update_catalogs(
    notebooks: Sequence[str | Path] | None = None,
    *,
    locales_dir: Path | None = None,
    languages: Sequence[str] = (),
) -> list[Path]:
    """Extract the notebooks into ``notebooks.pot`` and bring every ``notebooks.po`` up to date.

    Args:
        notebooks: default ``notebooks/0[1-7]_*.ipynb`` of the project.
        locales_dir: default ``journeylib/locales``.
        languages: default every language but English.

    Returns:
        The files written (those whose content changed beyond their dates).
    """
    template = extract_notebooks(_notebooks(notebooks))
    written: list[Path] = []
    if _write_if_changed(pot_path(locales_dir), _po_text(template)):
        written.append(pot_path(locales_dir))
    for lang in languages or [lang for lang in LANGUAGES if lang != "en"]:
        path = po_path(check_language(lang), locales_dir)
        old = _read_catalog(path, lang) if path.is_file() else None
        if _write_if_changed(path, _po_text(_merged(template, old, lang))):
            written.append(path)
    _translations.cache_clear()
    return written


def problems(
    notebooks: Sequence[str | Path] | None = None,
    *,
    locales_dir: Path | None = None,
    languages: Sequence[str] = (),
) -> list[str]:
    """What keeps the notebooks from being fully translated: one line per message and language.

    A message is a markdown cell of the notebooks as they are now (not as
    the catalog last saw them): missing from a catalog (run ``extract``),
    untranslated, or fuzzy.
    """
    template = extract_notebooks(_notebooks(notebooks))
    found: list[str] = []
    for lang in languages or [lang for lang in LANGUAGES if lang != "en"]:
        path = po_path(check_language(lang), locales_dir)
        catalog = _read_catalog(path, lang) if path.is_file() else _new_catalog(lang)
        for msg in template:
            if not msg.id:
                continue
            entry = catalog.get(msg.id, context=msg.context)
            if entry is None:
                found.append(f"{lang}: {msg.context}: missing from {path.name} (run extract)")
            elif not entry.string:
                found.append(f"{lang}: {msg.context}: untranslated")
            elif entry.fuzzy:
                found.append(f"{lang}: {msg.context}: fuzzy (the English changed; review it)")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m journeylib.report.translate extract|check``."""
    parser = argparse.ArgumentParser(
        prog="python -m journeylib.report.translate",
        description="The message catalogs of the step notebooks' markdown cells.",
    )
    parser.add_argument(
        "command",
        choices=["extract", "check"],
        help="extract: write notebooks.pot and update every notebooks.po; "
        "check: exit 1 naming every untranslated or fuzzy cell",
    )
    parser.add_argument(
        "notebooks", nargs="*", help="the notebooks (default notebooks/0[1-7]_*.ipynb)"
    )
    args = parser.parse_args(argv)
    notebooks = args.notebooks or None
    if args.command == "extract":
        written = update_catalogs(notebooks)
        for path in written:
            print(f"wrote {_shown_path(path)}")
        if not written:
            print("the notebook catalogs are up to date")
        return 0
    found = problems(notebooks)
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} notebook message(s) to translate", file=sys.stderr)
        return 1
    print("every markdown cell of the notebooks is translated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
