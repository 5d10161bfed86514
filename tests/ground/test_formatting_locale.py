"""journeylib.formatting in the current language: English unchanged, Arabic and Chinese by Babel.

The English table was recorded from the formatter before the locale path was
added; it must stay byte for byte (the metrics JSON and the CLI depend on it).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeylib.formatting import MISSING, STYLES, UNITS, format_delta, format_value
from journeylib.i18n import use_language

NUMERIC_UNITS = [None, *(u for u in UNITS if u not in ("date", "datetime", "month"))]
LRM = "\u200e"  # Babel's Arabic plus and minus signs open with a left-to-right mark
RLM = "\u200f"  # and its Arabic currency pattern with a right-to-left mark

# (value, unit, style, currency, digits, text) recorded in English before the change.
EN_VALUES = [
    (1234, None, "text", None, None, "1,234"),
    (1234.5, None, "compact", None, None, "1,234"),
    (3.14159, None, "compact", None, None, "3.1"),
    (12345, None, "compact", None, None, "12k"),
    (-0.04, None, "text", None, None, "-0.04"),
    (1000000000000.0, None, "compact", None, None, "1,000B"),
    (0.1234, "fraction", "text", None, None, "12.3%"),
    (0.1234, "fraction", "compact", None, None, "12%"),
    (0.021, "fraction", "compact", None, None, "2.1%"),
    (-0.0004, "fraction", "text", None, None, "0.0%"),
    (0.1234, "fraction", "text", None, 0, "12%"),
    (12345.6, "currency", "text", "EUR", None, "12,346 EUR"),
    (362739.0, "currency", "compact", "EUR", None, "363k EUR"),
    (1500000.0, "currency", "compact", "USD", None, "1.5M USD"),
    (2500000000.0, "currency", "compact", None, None, "2.5B"),
    (999.4, "currency", "text", "USD", None, "999 USD"),
    (1234.5, "currency", "text", "EUR", 2, "1,234.50 EUR"),
    (99999, "count", "compact", None, None, "100k"),
    (999999, "count", "compact", None, None, "1M"),
    (9999, "count", "compact", None, None, "9,999"),
    (12345, "count", "compact", None, 1, "12.3k"),
    (-12345.6, "currency", "compact", "EUR", None, "-12k EUR"),
    (42, "nps", "text", None, None, "+42"),
    (-1, "nps", "compact", None, None, "-1"),
    (0, "nps", "compact", None, None, "0"),
    (4.25, "ratio", "text", None, None, "4.25×"),
    (4.25, "ratio", "compact", None, None, "4.2×"),
    (0.5, "sentiment", "text", None, None, "+0.50"),
    (-0.5, "score", "compact", None, None, "-0.5"),
    (10.55, "days", "text", None, None, "10.6 days"),
    (10.55, "days", "compact", None, None, "11 d"),
    (0.5, "days", "compact", None, None, "12 h"),
    (0.04, "days", "compact", None, None, "58 min"),
    (4.25, "hours", "text", None, None, "4.2 hours"),
    (90, "seconds", "text", None, None, "90 seconds"),
    (90, "seconds", "compact", None, None, "1.5 min"),
    (129600, "seconds", "compact", None, None, "1.5 d"),
    (10.55, "months", "text", None, None, "10.6 months"),
    (10.55, "months", "compact", None, None, "11 mo"),
    (True, None, "text", None, None, "yes"),
    (False, "count", "compact", None, None, "no"),
    ("n/a", "currency", "text", None, None, "n/a"),
    (10**20, None, "text", None, None, "100,000,000,000,000,000,000"),
    (np.float64(0.25), "fraction", "text", None, None, "25.0%"),
    (Decimal("12.5"), "currency", "text", "EUR", None, "12 EUR"),
    (float("nan"), "currency", "text", "EUR", None, MISSING),
    (float("inf"), "fraction", "compact", None, None, MISSING),
    (dt.date(2025, 3, 1), None, "text", None, None, "2025-03-01"),
    (dt.datetime(2025, 3, 1, 9, 5), None, "compact", None, None, "2025-03-01 09:05"),
    (dt.date(2025, 3, 1), "month", "text", None, None, "2025-03"),
    (dt.date(2025, 3, 1), "count", "text", None, None, "2025-03-01"),
]
# (current, previous, unit, style, currency, text) recorded in English before the change.
EN_DELTAS = [
    (0.12, 0.1, "fraction", "text", None, "+2.0 pts"),
    (0.12, 0.1, "fraction", "compact", None, "+2 pts"),
    (30, 25, "nps", "text", None, "+5 pts"),
    (1100, 1000, "currency", "text", None, "+10.0%"),
    (1100, 1000, "currency", "compact", None, "+10%"),
    (6.9, 6.5, "days", "compact", None, "+9.6 h"),
    (6.9, 6.5, "days", "text", None, "+0.4 days"),
    (250, 0, "currency", "text", "EUR", "+250 EUR"),
    (10000000.0, 2.0, "count", "compact", None, "+499,999,900%"),
    (-3, 7, "ratio", "text", None, "-142.9%"),
    (None, 1.0, "fraction", "text", None, MISSING),
]


# ------------------------------------------------------------------ English: unchanged
@pytest.mark.parametrize("value,unit,style,currency,digits,text", EN_VALUES)
def test_english_is_unchanged(value, unit, style, currency, digits, text):
    got = format_value(value, unit, style=style, currency=currency, digits=digits)
    assert got == text
    # the same inside an explicit English block, and after another language's block
    with use_language("zh"):
        format_value(value, unit, style=style, currency=currency, digits=digits)
    with use_language("en"):
        assert format_value(value, unit, style=style, currency=currency, digits=digits) == got


@pytest.mark.parametrize("current,previous,unit,style,currency,text", EN_DELTAS)
def test_english_deltas_are_unchanged(current, previous, unit, style, currency, text):
    assert format_delta(current, previous, unit, style=style, currency=currency) == text


# ------------------------------------------------------------------ Chinese
# (value, unit, style, currency, text)
ZH = [
    (1234.5, None, "text", None, "1,234.50"),
    (0.1234, "fraction", "text", None, "12.3%"),
    (0.1234, "fraction", "compact", None, "12%"),
    (12345.6, "currency", "text", "USD", "US$12,346"),
    (12345.6, "currency", "text", "EUR", "€12,346"),
    (12345.6, "currency", "text", None, "12,346"),
    (-12345.6, "currency", "text", "EUR", "-€12,346"),
    # compact: the locale's own forms (万 = 10^4, 亿 = 10^8), from 10,000 on
    (9999, "count", "compact", None, "9,999"),
    (12345, "count", "compact", None, "1.2万"),
    (362739.0, "currency", "compact", "USD", "US$36万"),
    (1.5e6, "count", "compact", None, "150万"),
    (2.5e9, "count", "compact", None, "25亿"),
    (32, "nps", "text", None, "+32"),
    (0, "nps", "text", None, "0"),
    (10.55, "days", "text", None, "10.6天"),
    (0.5, "days", "compact", None, "12小时"),
    (90, "seconds", "compact", None, "1.5分钟"),
    (10.55, "months", "compact", None, "11个月"),
    (True, None, "text", None, "是"),
    (dt.date(2025, 3, 1), None, "text", None, "2025年3月1日"),
    (dt.date(2025, 3, 1), None, "compact", None, "2025/3/1"),
    (dt.date(2025, 3, 1), "month", "text", None, "2025年3月"),
    (dt.datetime(2025, 3, 1, 9, 5), None, "text", None, "2025年3月1日 09:05"),
]

# ------------------------------------------------------------------ Arabic (Latin digits)
AR = [
    (1234.5, None, "text", None, "1,234.50"),
    (0.1234, "fraction", "text", None, "12.3%"),
    # the trailing LRM keeps "US$" whole in right-to-left text (it would read "$US")
    (12345.6, "currency", "text", "USD", f"{RLM}12,346\xa0US${LRM}"),
    (12345.6, "currency", "text", "EUR", f"{RLM}12,346\xa0€{LRM}"),
    (-0.5, None, "text", None, f"{LRM}-0.50"),
    (32, "nps", "text", None, f"{LRM}+32"),
    # compact: the locale's own forms (ألف = thousand, مليون = million), from 10,000 on
    (12345, "count", "compact", None, "12\xa0ألف"),
    (362739.0, "count", "compact", None, "363\xa0ألف"),
    (1.5e6, "currency", "compact", "EUR", f"{RLM}1.5\xa0مليون\xa0€{LRM}"),
    (999_999, "count", "compact", None, "1\xa0مليون"),  # as shown: not "1,000 ألف"
    (10.55, "days", "text", None, "10.6 يوم"),
    (0.5, "days", "compact", None, "12 س"),
    (False, None, "text", None, "لا"),
    (dt.date(2025, 3, 1), None, "text", None, "1 مارس 2025"),
    (dt.date(2025, 3, 1), "month", "text", None, "مارس 2025"),
    (dt.date(2025, 3, 1), "month", "compact", None, "مارس 2025"),
]


@pytest.mark.parametrize("value,unit,style,currency,text", ZH)
def test_chinese(value, unit, style, currency, text):
    with use_language("zh"):
        assert format_value(value, unit, style=style, currency=currency) == text


@pytest.mark.parametrize("value,unit,style,currency,text", AR)
def test_arabic(value, unit, style, currency, text):
    with use_language("ar"):
        assert format_value(value, unit, style=style, currency=currency) == text


@pytest.mark.parametrize(
    "lang,current,previous,unit,style,text",
    [
        ("zh", 0.12, 0.10, "fraction", "text", "+2.0个百分点"),
        ("zh", 0.5, 0.5, "fraction", "compact", "0个百分点"),
        ("zh", 1100, 1000, "currency", "text", "+10.0%"),
        ("zh", 900, 1000, "currency", "compact", "-10%"),
        ("zh", 6.9, 6.5, "days", "compact", "+9.6小时"),
        ("ar", 30, 25, "nps", "text", f"{LRM}+5 نقطة"),
        ("ar", 6.9, 6.5, "days", "text", f"{LRM}+0.4 يوم"),
        ("ar", None, 1.0, "fraction", "text", MISSING),
    ],
)
def test_deltas_in_other_languages(lang, current, previous, unit, style, text):
    with use_language(lang):
        assert format_delta(current, previous, unit, style=style) == text


def test_a_change_from_zero_keeps_the_currency():
    with use_language("zh"):
        assert format_delta(250, 0, "currency", currency="EUR") == "+€250"


def test_arabic_keeps_latin_digits():
    # Babel would write the "arab" numbering system's separators around Latin digits
    # (1٬234٫5); the workbench keeps Latin digits and separators in every language.
    with use_language("ar"):
        text = format_value(1234.5, digits=1) + format_value(0.5, "fraction")
    assert text == "1,234.5" + "50.0%"
    assert not re.search("[\u0660-\u0669\u066b\u066c]", text)


@pytest.mark.parametrize("lang", ["ar", "zh"])
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("unit", NUMERIC_UNITS)
def test_missing_is_the_same_dash(lang, style, unit):
    with use_language(lang):
        assert format_value(None, unit, style=style, currency="EUR") == MISSING
        assert format_value(float("nan"), unit, style=style) == MISSING


@pytest.mark.parametrize("lang", ["ar", "zh"])
def test_zero_never_has_a_sign(lang):
    with use_language(lang):
        assert format_value(-0.0004, "fraction") == "0.0%"
        assert format_value(-0.04, style="compact") == "0"
        assert format_delta(0.5, 0.5, "nps") in ("0 نقطة", "0个百分点")


numbers = st.one_of(st.none(), st.integers(), st.floats(allow_nan=True, allow_infinity=True))


@given(
    value=numbers,
    unit=st.sampled_from(NUMERIC_UNITS),
    style=st.sampled_from(STYLES),
    lang=st.sampled_from(["ar", "zh"]),
)
def test_never_raises_on_numbers(value, unit, style, lang):
    with use_language(lang):
        text = format_value(value, unit, style=style, currency="EUR")
        assert isinstance(text, str) and text
        assert isinstance(format_delta(value, 1.5, unit, style=style), str)
        assert isinstance(format_delta(1.5, value, unit, style=style), str)
