"""The Arabic and Chinese journey templates mirror the English ones they translate.

``templates/journeys/<lang>/<name>.yaml`` must keep every machine-read value of
``templates/journeys/<name>.yaml`` (ids, KPI metric ids, events, kinds, channels,
feeds_into, and the phase words the code looks up) and translate every piece of
human-readable text into the language's script.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from journeylib.analysis.onboarding import _onboarding_stage
from journeylib.config import JourneyTemplate, Stage, Touchpoint, load_template
from journeylib.paths import templates_dir

JOURNEYS = templates_dir() / "journeys"
NAMES = ["b2b_saas_8_stage", "saas_5_stage"]
SCRIPTS = {
    "ar": re.compile("[\u0600-\u06ff]"),  # Arabic letters
    "zh": re.compile("[\u4e00-\u9fff]"),  # CJK ideographs
}
CASES = [(name, lang) for name in NAMES for lang in sorted(SCRIPTS)]

# Every field of the template models is either read by code (kept as is) or
# human-readable text (translated). A new model field fails test_every_field_is_classified
# until it is put in one of these lists.
TOP_MACHINE = ("id",)
TOP_TEXT = ("label", "description", "source")
STAGE_MACHINE = ("id", "kpis")
STAGE_TEXT = (
    "label",
    "situation",
    "phases",
    "actions",
    "decisions",
    "information_needs",
    "emotions",
    "pain_points",
    "opportunities",
)
TP_MACHINE = ("id", "events", "kind", "channel", "feeds_into")
TP_TEXT = (
    "label",
    "description",
    "customer_goal",
    "company_goal",
    "customer_does",
    "company_does",
    "customer_feels",
    "desired_outcome",
)
# Phases are display text, except these words: journeylib/analysis/onboarding.py and
# journeylib/explore/source.py take the stage whose phases include "onboarding" as the
# onboarding stage when no stage has the id "onboarding" (the five-stage conversion).
PHASE_TOKENS = {"onboarding"}
# Latin words that may stay in translated text: product names. Acronyms (all capitals,
# e.g. SEO, NPS, CAC, B2B) and words of at most three letters are fine as well.
PRODUCT_NAMES = {"SaaS"}


def _path(name: str, lang: str | None = None) -> Path:
    return JOURNEYS / lang / f"{name}.yaml" if lang else JOURNEYS / f"{name}.yaml"


def _raw(path: Path) -> dict[str, Any]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(raw, dict), path
    return raw


def _shape(node: Any) -> Any:
    """The YAML tree without its text: keys in order, list lengths, value types."""
    if isinstance(node, dict):
        return [(k, _shape(v)) for k, v in node.items()]
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return type(node).__name__


def _machine(tpl: JourneyTemplate) -> dict[str, Any]:
    """Everything in a template that code reads, in order."""
    return {
        **{f: getattr(tpl, f) for f in TOP_MACHINE},
        "stages": [
            {
                **{f: getattr(s, f) for f in STAGE_MACHINE},
                "phase_tokens": [p.lower() for p in s.phases if p.lower() in PHASE_TOKENS],
                "touchpoints": [{f: getattr(tp, f) for f in TP_MACHINE} for tp in s.touchpoints],
            }
            for s in tpl.stages
        ],
    }


def _texts(tpl: JourneyTemplate) -> dict[str, str]:
    """Every human-readable string, keyed by its position (``stages.2.touchpoints.0.label``)."""
    out: dict[str, str] = {}

    def put(where: str, obj: Any, fields: tuple[str, ...]) -> None:
        for f in fields:
            v = getattr(obj, f)
            if v is None:
                continue
            if isinstance(v, list):
                for i, item in enumerate(v):
                    if f == "phases" and item.lower() in PHASE_TOKENS:
                        continue  # machine-read, compared by _machine
                    out[f"{where}{f}.{i}"] = item
            else:
                out[f"{where}{f}"] = v

    put("", tpl, TOP_TEXT)
    for i, s in enumerate(tpl.stages):
        put(f"stages.{i}.", s, STAGE_TEXT)
        for j, tp in enumerate(s.touchpoints):
            put(f"stages.{i}.touchpoints.{j}.", tp, TP_TEXT)
    return out


def _may_stay_latin(text: str) -> bool:
    """No Latin word but acronyms, product names and words of up to three letters."""
    return all(
        len(w) <= 3 or w.isupper() or w in PRODUCT_NAMES for w in re.findall(r"[A-Za-z]+", text)
    )


def structure_problems(english: JourneyTemplate, other: JourneyTemplate) -> list[str]:
    """Differences in machine-read content between a template and its translation."""
    a, b = _machine(english), _machine(other)
    problems = [f"{f}: {a[f]!r} != {b[f]!r}" for f in TOP_MACHINE if a[f] != b[f]]
    ids_a = [s["id"] for s in a["stages"]]
    ids_b = [s["id"] for s in b["stages"]]
    if ids_a != ids_b:
        return [*problems, f"stage ids {ids_a} != {ids_b}"]
    for sa, sb in zip(a["stages"], b["stages"], strict=True):
        for f in (*STAGE_MACHINE, "phase_tokens"):
            if sa[f] != sb[f]:
                problems.append(f"stage {sa['id']}.{f}: {sa[f]!r} != {sb[f]!r}")
        tps_a = [tp["id"] for tp in sa["touchpoints"]]
        tps_b = [tp["id"] for tp in sb["touchpoints"]]
        if tps_a != tps_b:
            problems.append(f"stage {sa['id']} touchpoints {tps_a} != {tps_b}")
            continue
        for ta, tb in zip(sa["touchpoints"], sb["touchpoints"], strict=True):
            problems += [
                f"touchpoint {ta['id']}.{f}: {ta[f]!r} != {tb[f]!r}"
                for f in TP_MACHINE
                if ta[f] != tb[f]
            ]
    return problems


def text_problems(english: JourneyTemplate, other: JourneyTemplate, lang: str) -> list[str]:
    """Missing, empty, untranslated or wrong-script text in a translation."""
    script = SCRIPTS[lang]
    a, b = _texts(english), _texts(other)
    problems = [f"{k}: missing (English has {a[k]!r})" for k in a if k not in b]
    problems += [f"{k}: not in the English template" for k in b if k not in a]
    for k, v in b.items():
        if not v.strip():
            problems.append(f"{k}: empty")
        elif not script.search(v):
            problems.append(f"{k}: no {lang} character in {v!r}")
        elif not _may_stay_latin(v):
            problems.append(f"{k}: English words left in {v!r}")
        if k in a and v.strip() == a[k].strip() and not _may_stay_latin(a[k]):
            problems.append(f"{k}: same as the English {a[k]!r}")
    return problems


@pytest.fixture(scope="module")
def english() -> dict[str, JourneyTemplate]:
    return {name: load_template(name) for name in NAMES}


# ------------------------------------------------------------------ the translations
@pytest.mark.parametrize(("name", "lang"), CASES)
def test_translation_loads_and_validates(name, lang):
    path = _path(name, lang)
    assert path.is_file(), f"{path} is missing"
    tpl = JourneyTemplate.model_validate(_raw(path))
    assert load_template(str(path)) == tpl  # the loader a client.yaml path goes through
    assert tpl.id == name


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_translation_keeps_the_machine_read_structure(name, lang, english):
    path = _path(name, lang)
    assert _shape(_raw(path)) == _shape(_raw(_path(name))), "keys, order or list lengths differ"
    tpl = load_template(str(path))
    assert structure_problems(english[name], tpl) == []
    assert tpl.event_map() == english[name].event_map()


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_translation_finds_the_same_onboarding_stage(name, lang, english):
    tpl = load_template(str(_path(name, lang)))
    found, expected = _onboarding_stage(tpl), _onboarding_stage(english[name])
    assert expected is not None
    assert found is not None and found.id == expected.id


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_translation_translates_every_text(name, lang, english):
    tpl = load_template(str(_path(name, lang)))
    assert text_problems(english[name], tpl, lang) == []
    script = SCRIPTS[lang]
    labels = [s.label for s in tpl.stages] + [tp.label or "" for tp in tpl.touchpoints]
    assert [x for x in labels if not script.search(x)] == []
    # every stage text is filled (text_problems already holds each field to the English one)
    assert [f"{s.id}.{f}" for s in tpl.stages for f in STAGE_TEXT if not getattr(s, f)] == []


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_translation_keeps_a_translated_leading_comment(name, lang):
    lines = _path(name, lang).read_text(encoding="utf-8").splitlines()
    head = []
    for line in lines:
        if not line.startswith("#"):
            break
        head.append(line)
    assert len(head) >= 5, "the leading comment block is missing"
    text = "\n".join(head)
    assert SCRIPTS[lang].search(text), "the leading comment is not translated"
    assert name in text, "the comment does not name the English template it mirrors"


# ------------------------------------------------------------------ the checks themselves
def test_every_field_is_classified():
    assert set(JourneyTemplate.model_fields) == {*TOP_MACHINE, *TOP_TEXT, "stages"}
    assert set(Stage.model_fields) == {*STAGE_MACHINE, *STAGE_TEXT, "touchpoints"}
    assert set(Touchpoint.model_fields) == {*TP_MACHINE, *TP_TEXT}


def test_the_checks_catch_a_missing_touchpoint_and_an_untranslated_label(english):
    name, lang = "saas_5_stage", "zh"
    raw = _raw(_path(name, lang))
    good = JourneyTemplate.model_validate(raw)
    assert structure_problems(english[name], good) == []
    assert text_problems(english[name], good, lang) == []

    dropped = _raw(_path(name, lang))
    del dropped["stages"][1]["touchpoints"][2]
    assert structure_problems(english[name], JourneyTemplate.model_validate(dropped))

    untranslated = _raw(_path(name, lang))
    untranslated["stages"][0]["touchpoints"][1]["label"] = english[name].touchpoints[1].label
    problems = text_problems(english[name], JourneyTemplate.model_validate(untranslated), lang)
    assert any("stages.0.touchpoints.1.label" in p for p in problems)

    mixed = _raw(_path(name, lang))
    mixed["stages"][2]["pain_points"][0] = "结账 checkout is slow"
    assert text_problems(english[name], JourneyTemplate.model_validate(mixed), lang)

    lost_token = _raw(_path(name, lang))
    lost_token["stages"][2]["phases"] = ["购买", "上手"]
    assert structure_problems(english[name], JourneyTemplate.model_validate(lost_token))

    other_event = _raw(_path(name, lang))
    other_event["stages"][3]["touchpoints"][0]["events"].append("login_failed")
    assert structure_problems(english[name], JourneyTemplate.model_validate(other_event))


def test_acronyms_and_product_names_may_stay_latin():
    assert _may_stay_latin("محركات البحث (SEO)")
    assert _may_stay_latin("رحلة عملاء B2B SaaS")
    assert _may_stay_latin("回答 NPS 问题")
    assert not _may_stay_latin("Search engines (SEO)")
    assert not _may_stay_latin("客户 reviews")
