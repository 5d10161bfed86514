"""The language of the report and the notebooks: message catalogs and Babel locales.

A client's ``language`` (``en``, ``ar`` or ``zh``, from ``client.yaml``) is
the *current language*, held in a :class:`~contextvars.ContextVar` (default
``en``): :func:`use_language` sets it for a block, :func:`gettext` /
:func:`ngettext` translate the workbench's own words into it, and
:mod:`journeylib.formatting` writes numbers and dates for it.

The catalogs are ``journeylib/locales/<lang>/LC_MESSAGES/journey.po``, read
and compiled in memory on first use (no compile step at install time). English
is the language of the source: its words come back unchanged, and a word a
catalog lacks (or leaves empty) falls back to English.

Numbers keep Latin digits in every language (Babel's ``latn`` numbering
system, which is also CLDR's default for ``ar``): Babel does not transliterate
digits, so the ``arab`` system would mix Latin digits with Arabic separators
(``1٬234٫5``), and charts and dates are written with Latin digits anyway.

A new thread starts with the default language: run work that formats in
another thread inside :func:`contextvars.copy_context` or set the language
there again.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Iterator
from contextvars import ContextVar, Token
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "LOCALES_DIR",
    "NUMBERING_SYSTEM",
    "N_",
    "Direction",
    "Language",
    "babel_locale",
    "check_language",
    "current_language",
    "direction",
    "gettext",
    "html_lang",
    "install_jinja",
    "ngettext",
    "reset_language",
    "set_default_language",
    "set_language",
    "translations",
    "use_language",
]

Language = Literal["en", "ar", "zh"]
#: The languages of the report and the notebooks; ``en`` is the source language.
LANGUAGES: tuple[Language, ...] = get_args(Language)
Direction = Literal["ltr", "rtl"]

#: The gettext domain: ``locales/<lang>/LC_MESSAGES/journey.po``.
DOMAIN = "journey"
#: The folder of the message catalogs (shipped inside the package).
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
#: Babel's numbering system for every language: Latin digits (see the module docstring).
NUMBERING_SYSTEM = "latn"

# The Babel locale of each language: a script and region where the bare code is ambiguous.
_LOCALES: dict[str, str] = {"en": "en_US", "ar": "ar", "zh": "zh_Hans_CN"}
# The HTML ``lang`` attribute (BCP 47) of each language.
_HTML_LANG: dict[str, str] = {"en": "en", "ar": "ar", "zh": "zh-Hans"}
_RTL = frozenset({"ar"})

_current: ContextVar[Language | None] = ContextVar("journeylib_language", default=None)
# The language where no block set one: "en", or what set_default_language chose for the
# process (a notebook kernel, whose cells may each run in a fresh context).
_default: list[Language] = ["en"]


def check_language(lang: str) -> Language:
    """Return ``lang`` when it is a known language.

    Raises:
        ValueError: an unknown language, naming the allowed ones.

    Examples:
        >>> check_language("ar")
        'ar'
        >>> check_language("fr")
        Traceback (most recent call last):
        ...
        ValueError: unknown language 'fr'; expected one of en, ar, zh
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return lang  # type: ignore[return-value]  # checked just above


def current_language() -> Language:
    """The current language (``en`` unless set).

    Examples:
        >>> current_language()
        'en'
    """
    return _current.get() or _default[0]


def set_default_language(lang: str) -> Language:
    """Make ``lang`` the language of this process wherever no block set another.

    A notebook kernel may run each cell in a context of its own, so a
    :func:`set_language` in one cell would not reach the next:
    ``journeylib.present.notebook.setup`` sets the client's language here.

    Examples:
        >>> set_default_language("zh")
        'zh'
        >>> current_language()
        'zh'
        >>> set_default_language("en")
        'en'
    """
    _default[0] = check_language(lang)
    return _default[0]


def set_language(lang: str) -> Token[Language]:
    """Make ``lang`` the current language until :func:`reset_language` (or use :func:`use_language`).

    Returns:
        The token of the change, for :func:`reset_language`.

    Raises:
        ValueError: an unknown language.

    Examples:
        >>> token = set_language("ar")
        >>> current_language()
        'ar'
        >>> reset_language(token)
        >>> current_language()
        'en'
    """
    return _current.set(check_language(lang))


def reset_language(token: Token[Language]) -> None:
    """Undo the :func:`set_language` call that returned ``token``."""
    _current.reset(token)


@contextlib.contextmanager
def use_language(lang: str) -> Iterator[Language]:
    """Make ``lang`` the current language inside a ``with`` block.

    Examples:
        >>> with use_language("zh"):
        ...     current_language()
        'zh'
        >>> current_language()
        'en'
    """
    token = set_language(lang)
    try:
        yield current_language()
    finally:
        _current.reset(token)


def _lang(lang: str | None) -> Language:
    return current_language() if lang is None else check_language(lang)


def _compile(catalog: Catalog) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # leaves out empty and fuzzy entries: they fall back to English
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


@functools.cache
def translations(lang: str) -> Translations:
    """The compiled catalog of ``lang`` (cached); English's is empty, so its words come back unchanged.

    Examples:
        >>> translations("en").gettext("yes")
        'yes'
    """
    lang = check_language(lang)
    if lang == "en":
        return _compile(Catalog(locale="en", domain=DOMAIN))
    path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=_LOCALES[lang], domain=DOMAIN)
    return _compile(catalog)


def gettext(message: str) -> str:
    """``message`` in the current language (English when the catalog lacks it).

    Examples:
        >>> gettext("yes")
        'yes'
    """
    return translations(current_language()).gettext(message)


_ = gettext


def N_(message: str) -> str:
    """``message`` unchanged: marks a word kept in a table for the catalog (pybabel finds ``N_``).

    Translate it where it is shown, with :func:`gettext`.

    Examples:
        >>> TABS = (N_("Current state"), N_("Future state"))
        >>> [gettext(tab) for tab in TABS]
        ['Current state', 'Future state']
    """
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` (an integer), by the current language's plural rules.

    Examples:
        >>> ngettext("%(n)s row", "%(n)s rows", 2) % {"n": 2}
        '2 rows'
    """
    return translations(current_language()).ngettext(singular, plural, n)


def direction(lang: str | None = None) -> Direction:
    """The writing direction of ``lang`` (default: the current language).

    Examples:
        >>> direction("ar"), direction("zh"), direction()
        ('rtl', 'ltr', 'ltr')
    """
    return "rtl" if _lang(lang) in _RTL else "ltr"


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(_LOCALES[lang])


def babel_locale(lang: str | None = None) -> Locale:
    """The Babel locale of ``lang`` (default: the current language): en_US, ar or zh_Hans_CN.

    Examples:
        >>> str(babel_locale("zh")), str(babel_locale("ar")), str(babel_locale())
        ('zh_Hans_CN', 'ar', 'en_US')
    """
    return _locale(_lang(lang))


def html_lang(lang: str | None = None) -> str:
    """The HTML ``lang`` attribute of ``lang`` (default: the current language).

    Examples:
        >>> html_lang("zh"), html_lang("ar"), html_lang("en")
        ('zh-Hans', 'ar', 'en')
    """
    return _HTML_LANG[_lang(lang)]


def install_jinja(env: jinja2.Environment) -> jinja2.Environment:
    """Install the gettext callables (newstyle) into ``env``, adding ``jinja2.ext.i18n`` if needed.

    The callables read the current language each time a template calls them,
    so one environment renders any language inside :func:`use_language`.

    Returns:
        ``env``.

    Examples:
        >>> import jinja2
        >>> env = install_jinja(jinja2.Environment())
        >>> env.from_string('{{ _("yes") }}, {{ ngettext("%(num)s row", "%(num)s rows", 3) }}').render()
        'yes, 3 rows'
    """
    if "jinja2.ext.InternationalizationExtension" not in env.extensions:
        env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env
