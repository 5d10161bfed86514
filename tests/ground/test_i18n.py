"""journeylib.i18n: the current language, the catalogs, and the language of client.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest
from babel.messages.pofile import read_po

from journeylib import config as config_module
from journeylib import i18n
from journeylib.config import load_client_config, load_template
from journeylib.errors import ConfigError, TemplateError
from journeylib.i18n import (
    LANGUAGES,
    babel_locale,
    current_language,
    direction,
    gettext,
    html_lang,
    install_jinja,
    ngettext,
    reset_language,
    set_language,
    translations,
    use_language,
)
from journeylib.ingest.client import load_settings

LOCALES = Path(i18n.__file__).parent / "locales"
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|%\([A-Za-z_][A-Za-z0-9_]*\)[sdfr]|%[sd]")


# ------------------------------------------------------------------ the current language
def test_the_default_language_is_english():
    assert current_language() == "en"
    assert LANGUAGES == ("en", "ar", "zh")


def test_set_and_reset():
    token = set_language("ar")
    try:
        assert current_language() == "ar"
    finally:
        reset_language(token)
    assert current_language() == "en"


def test_use_language_nests_and_restores():
    with use_language("zh"):
        assert current_language() == "zh"
        with use_language("ar"):
            assert current_language() == "ar"
        assert current_language() == "zh"
    assert current_language() == "en"


def test_use_language_restores_after_an_error():
    with pytest.raises(RuntimeError), use_language("ar"):
        raise RuntimeError("boom")
    assert current_language() == "en"


@pytest.mark.parametrize("call", [set_language, direction, html_lang, babel_locale, translations])
def test_an_unknown_language_names_the_allowed_ones(call):
    with pytest.raises(ValueError, match=r"unknown language 'fr'; expected one of en, ar, zh"):
        call("fr")
    assert current_language() == "en"


# ------------------------------------------------------------------ words
def test_english_words_come_back_unchanged():
    assert gettext(" days") == " days"
    assert ngettext("%(n)s row", "%(n)s rows", 1) == "%(n)s row"
    assert ngettext("%(n)s row", "%(n)s rows", 2) == "%(n)s rows"


@pytest.mark.parametrize("lang,yes,days", [("ar", "نعم", " يوم"), ("zh", "是", "天")])
def test_words_in_the_current_language(lang, yes, days):
    with use_language(lang):
        assert (gettext("yes"), i18n._(" days")) == (yes, days)


@pytest.mark.parametrize("lang", ["ar", "zh"])
def test_a_missing_translation_falls_back_to_english(lang):
    with use_language(lang):
        assert gettext("No such message in any catalog") == "No such message in any catalog"
        assert ngettext("%(n)s thing", "%(n)s things", 3) == "%(n)s things"


def test_catalogs_are_compiled_once():
    assert translations("ar") is translations("ar")
    assert translations("ar") is not translations("zh")


def test_plural_forms_follow_the_language(tmp_path, monkeypatch):
    # a catalog of its own, so the test does not depend on which plurals the workbench has
    po = tmp_path / "ar" / "LC_MESSAGES" / "journey.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n'
        '"Plural-Forms: nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : '
        'n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);\\n"\n\n'
        'msgid "%(n)s account"\nmsgid_plural "%(n)s accounts"\n'
        'msgstr[0] "لا حسابات"\nmsgstr[1] "حساب واحد"\nmsgstr[2] "حسابان"\n'
        'msgstr[3] "%(n)s حسابات"\nmsgstr[4] "%(n)s حسابًا"\nmsgstr[5] "%(n)s حساب"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    translations.cache_clear()
    try:
        with use_language("ar"):
            forms = [ngettext("%(n)s account", "%(n)s accounts", n) for n in (0, 1, 2, 5, 11, 100)]
    finally:
        translations.cache_clear()
    assert forms == [
        "لا حسابات",
        "حساب واحد",
        "حسابان",
        "%(n)s حسابات",
        "%(n)s حسابًا",
        "%(n)s حساب",
    ]


# ------------------------------------------------------------------ locale, direction, HTML
def test_direction():
    assert [direction(lang) for lang in LANGUAGES] == ["ltr", "rtl", "ltr"]
    with use_language("ar"):
        assert direction() == "rtl"
    assert direction() == "ltr"


def test_babel_locales_and_html_lang():
    assert [str(babel_locale(lang)) for lang in LANGUAGES] == ["en_US", "ar", "zh_Hans_CN"]
    assert [html_lang(lang) for lang in LANGUAGES] == ["en", "ar", "zh-Hans"]
    with use_language("zh"):
        assert (str(babel_locale()), html_lang()) == ("zh_Hans_CN", "zh-Hans")


def test_jinja_follows_the_language_at_render_time():
    env = install_jinja(jinja2.Environment(autoescape=True))
    page = env.from_string(
        '{{ _("yes") }}|{% trans %}no{% endtrans %}|{{ ngettext("%(num)s row", "%(num)s rows", 2) }}'
    )
    assert page.render() == "yes|no|2 rows"
    with use_language("zh"):
        assert page.render() == "是|否|2 rows"
    with use_language("ar"):
        assert page.render() == "نعم|لا|2 rows"


def test_jinja_installs_into_an_environment_that_already_has_the_extension():
    env = install_jinja(jinja2.Environment(extensions=["jinja2.ext.i18n"]))
    with use_language("zh"):
        assert env.from_string('{{ _("yes") }}').render() == "是"


# ------------------------------------------------------------------ the catalogs
def _catalog(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def _ids(catalog) -> list:
    return [m.id for m in catalog if m.id]


@pytest.mark.parametrize("lang", ["ar", "zh"])
def test_every_message_of_the_template_is_translated(lang):
    template = _catalog(LOCALES / "journey.pot")
    catalog = _catalog(LOCALES / lang / "LC_MESSAGES" / "journey.po")
    assert _ids(template), "journey.pot is empty"
    assert sorted(map(str, _ids(catalog))) == sorted(map(str, _ids(template)))
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        strings = (
            translated.string if isinstance(translated.string, tuple) else (translated.string,)
        )
        assert all(s.strip() for s in strings), f"{lang}: {message.id!r} is not translated"
        assert not translated.fuzzy, f"{lang}: {message.id!r} is fuzzy"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = sorted(set(PLACEHOLDER.findall(ids[-1])))
        for s in strings:
            assert sorted(set(PLACEHOLDER.findall(s))) == wanted, f"{lang}: {message.id!r}: {s!r}"


@pytest.mark.parametrize("lang", ["ar", "zh"])
def test_catalog_plural_forms_match_the_language(lang):
    catalog = _catalog(LOCALES / lang / "LC_MESSAGES" / "journey.po")
    assert catalog.num_plurals == {"ar": 6, "zh": 1}[lang]


# ------------------------------------------------------------------ client.yaml's language
def _client(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "client.yaml"
    path.write_text(f"client: Acme\njourney: saas_5_stage\n{extra}", encoding="utf-8")
    return path


def test_language_defaults_to_english(tmp_path):
    assert load_client_config(_client(tmp_path)).language == "en"


@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_language_accepts_the_three(tmp_path, lang):
    assert load_client_config(_client(tmp_path, f"language: {lang}\n")).language == lang


@pytest.mark.parametrize("bad", ["fr", "EN", "[ar]", "1"])
def test_language_rejects_others_in_one_line(tmp_path, bad):
    with pytest.raises(ConfigError) as info:
        load_client_config(_client(tmp_path, f"language: {bad}\n"))
    message = str(info.value)
    assert "\n" not in message
    assert "client.yaml: language: bad value for 'language'" in message
    assert "one of en, ar, zh" in message


# ------------------------------------------------------------------ translated journey templates
TEMPLATE = "stages:\n  - id: s\n    label: {label}\n    touchpoints: [{{id: t, events: [login]}}]\n"


@pytest.fixture
def journeys(tmp_path, monkeypatch) -> Path:
    """A templates folder with one journey, ``mini``, in English and in Arabic only."""
    root = tmp_path / "templates"
    (root / "journeys" / "ar").mkdir(parents=True)
    (root / "journeys" / "zh").mkdir()
    (root / "journeys" / "mini.yaml").write_text(TEMPLATE.format(label="Start"), encoding="utf-8")
    (root / "journeys" / "ar" / "mini.yaml").write_text(
        TEMPLATE.format(label="البداية"), encoding="utf-8"
    )
    monkeypatch.setattr(config_module, "templates_dir", lambda: root)
    return root


def test_a_translated_template_is_read_when_it_exists(journeys):
    assert load_template("mini").stages[0].label == "Start"
    assert load_template("mini", language="en").stages[0].label == "Start"
    assert load_template("mini", language="ar").stages[0].label == "البداية"


def test_the_english_template_when_no_translation_exists(journeys):
    assert load_template("mini", language="zh").stages[0].label == "Start"


def test_a_path_is_read_as_it_is_in_any_language(journeys, tmp_path):
    own = tmp_path / "own.yaml"
    own.write_text(TEMPLATE.format(label="Mine"), encoding="utf-8")
    assert load_template("./own.yaml", client_dir=tmp_path, language="ar").stages[0].label == "Mine"


def test_language_folders_are_not_template_names(journeys):
    with pytest.raises(TemplateError) as info:
        load_template("ar", language="ar")
    assert "(expected one of mini, found 'ar')" in str(info.value)


def test_a_translation_without_the_english_template_is_unknown(journeys):
    (journeys / "journeys" / "ar" / "only_ar.yaml").write_text(
        TEMPLATE.format(label="x"), encoding="utf-8"
    )
    with pytest.raises(TemplateError, match="unknown journey template"):
        load_template("only_ar", language="ar")


def test_the_client_loader_reads_the_template_in_the_client_language(journeys, tmp_path):
    client = tmp_path / "acme"
    client.mkdir()
    (client / "client.yaml").write_text(
        "client: Acme\njourney: mini\nlanguage: ar\n", encoding="utf-8"
    )
    cfg, template = load_settings(client)
    assert (cfg.language, template.stages[0].label) == ("ar", "البداية")
