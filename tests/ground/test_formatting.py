"""journeylib.formatting: one formatter, the same writing everywhere (values worked out by hand)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeylib.formatting import MISSING, STYLES, UNITS, format_delta, format_value

NUMERIC_UNITS = [None, *(u for u in UNITS if u not in ("date", "datetime", "month"))]

# (value, unit, text, compact): each unit in both styles, by hand.
CASES = [
    # plain numbers: integers as they are, others 2 decimals; compact one decimal below 10
    (1234, None, "1,234", "1,234"),
    (1234.5, None, "1,234.50", "1,234"),
    (3.14159, None, "3.14", "3.1"),
    (12_345, None, "12,345", "12k"),
    (0.0, None, "0.00", "0"),
    (42.0, "score", "42.00", "42"),
    # fractions: a percentage without a space
    (0.1234, "fraction", "12.3%", "12%"),
    (0.021, "fraction", "2.1%", "2.1%"),
    (0.5, "fraction", "50.0%", "50%"),
    (1.04, "fraction", "104.0%", "104%"),
    (0, "fraction", "0.0%", "0%"),
    # amounts: no decimals in text, abbreviated compact
    (12_345.6, "currency", "12,346", "12k"),
    (362_739.0, "currency", "362,739", "363k"),
    (1.5e6, "currency", "1,500,000", "1.5M"),
    (2.5e9, "currency", "2,500,000,000", "2.5B"),
    (999.4, "currency", "999", "999"),
    (9_999, "count", "9,999", "9,999"),
    (99_999, "count", "99,999", "100k"),
    (999_999, "count", "999,999", "1M"),  # not "1,000k": abbreviated as shown
    (1830, "count", "1,830", "1,830"),
    # NPS: signed, whole points, zero unsigned
    (32, "nps", "+32", "+32"),
    (-12.0, "nps", "-12", "-12"),
    (0, "nps", "0", "0"),
    (5.4, "nps", "+5", "+5"),
    (4.25, "ratio", "4.25×", "4.2×"),
    (12.0, "ratio", "12.00×", "12×"),
    # sentiment in [-1, 1]: signed like NPS, two decimals in both styles
    (0.1, "sentiment", "+0.10", "+0.10"),
    (-0.08, "sentiment", "-0.08", "-0.08"),
    (0.0, "sentiment", "0.00", "0.00"),
    # durations: words in text, the largest unit reached in compact
    (10.55, "days", "10.6 days", "11 d"),
    (4.25, "days", "4.2 days", "4.2 d"),
    (0.5, "days", "0.5 days", "12 h"),
    (0.04, "days", "0.0 days", "58 min"),
    (30.0, "hours", "30.0 hours", "1.2 d"),
    (2.5, "hours", "2.5 hours", "2.5 h"),
    (90, "seconds", "90 seconds", "1.5 min"),
    (30, "seconds", "30 seconds", "30 s"),
    (129_600, "seconds", "129,600 seconds", "1.5 d"),
    (10.55, "months", "10.6 months", "11 mo"),
    (1.0, "months", "1.0 months", "1 mo"),
]


@pytest.mark.parametrize("value,unit,text,compact", CASES)
def test_each_unit_in_both_styles(value, unit, text, compact):
    assert format_value(value, unit) == text
    assert format_value(value, unit, style="text") == text
    assert format_value(value, unit, style="compact") == compact


@pytest.mark.parametrize("unit", NUMERIC_UNITS)
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("missing", [None, float("nan"), math.inf, -math.inf, np.float64("nan")])
def test_missing_is_one_mark_everywhere(unit, style, missing):
    assert format_value(missing, unit, style=style, currency="EUR") == MISSING == "—"


@pytest.mark.parametrize(
    "value,unit,text,compact",
    [
        (-0.1234, "fraction", "-12.3%", "-12%"),
        (-12_345.6, "currency", "-12,346", "-12k"),
        (-1.5e6, None, "-1,500,000.00", "-1.5M"),
        (-0.5, "days", "-0.5 days", "-12 h"),
        (-0.0004, "fraction", "0.0%", "0%"),  # rounds to zero: no "-0.0%"
        (-0.04, None, "-0.04", "0"),
    ],
)
def test_negative_numbers(value, unit, text, compact):
    assert (format_value(value, unit), format_value(value, unit, style="compact")) == (
        text,
        compact,
    )


def test_large_numbers():
    assert format_value(10**20) == "100,000,000,000,000,000,000"  # exact: no float on the way
    assert format_value(10**20, "count") == "100,000,000,000,000,000,000"
    assert format_value(1e12, style="compact") == "1,000B"
    assert format_value(1e15, "currency", currency="USD") == "1,000,000,000,000,000 USD"
    big = 10**400  # too large for a float: written out, never an error
    assert format_value(big, "fraction") == str(big)


def test_currency_code_after_the_number_in_both_styles():
    assert format_value(12_345.6, "currency", currency="EUR") == "12,346 EUR"
    assert format_value(1.5e6, "currency", style="compact", currency="EUR") == "1.5M EUR"
    assert format_value(None, "currency", currency="EUR") == MISSING
    assert format_value(0.5, "fraction", currency="EUR") == "50.0%"  # only amounts carry it


def test_digits_override():
    assert format_value(0.1234, "fraction", digits=0) == "12%"
    assert format_value(1234.567, "currency", digits=2) == "1,234.57"
    assert format_value(12.345, digits=1) == "12.3"
    assert format_value(1, digits=4) == "1.0000"
    assert format_value(12_345, "count", style="compact", digits=1) == "12.3k"


def test_other_values():
    assert format_value(True) == "yes" and format_value(False, "count") == "no"
    assert format_value("n/a", "currency") == "n/a"
    assert format_value(dt.date(2025, 3, 1)) == "2025-03-01"
    assert format_value(dt.datetime(2025, 3, 1, 9, 5)) == "2025-03-01 09:05"
    assert format_value(dt.datetime(2025, 3, 1, 9, 5), "date") == "2025-03-01"
    assert format_value(dt.date(2025, 3, 1), "month", style="compact") == "2025-03"
    assert format_value("2025-03", "month") == "2025-03"
    assert format_value(3, "month") == "3"
    assert format_value(np.int64(1234)) == "1,234"
    assert format_value(np.float64(0.25), "fraction") == "25.0%"


def test_unknown_unit_or_style_fails_loudly():
    with pytest.raises(ValueError, match="unknown unit"):
        format_value(1, "percent")
    with pytest.raises(ValueError, match="unknown style"):
        format_value(1, "count", style="wide")


@pytest.mark.parametrize(
    "cur,prev,unit,text,compact",
    [
        (0.12, 0.10, "fraction", "+2.0 pts", "+2 pts"),
        (0.089, 0.1, "fraction", "-1.1 pts", "-1.1 pts"),
        (30, 25, "nps", "+5 pts", "+5 pts"),
        (1100, 1000, "currency", "+10.0%", "+10%"),
        (0.98, 1.0, "ratio", "-2.0%", "-2%"),
        (1045, 1000, "count", "+4.5%", "+4.5%"),
        (6.9, 6.5, "days", "+0.4 days", "+9.6 h"),
        (50, 0, "count", "+50", "+50"),
        (0.5, 0.5, "fraction", "0.0 pts", "0 pts"),
        (None, 1.0, "fraction", MISSING, MISSING),
        (1.0, float("nan"), None, MISSING, MISSING),
    ],
)
def test_format_delta(cur, prev, unit, text, compact):
    assert format_delta(cur, prev, unit) == text
    assert format_delta(cur, prev, unit, style="compact") == compact


def test_format_delta_from_zero_keeps_the_currency():
    assert format_delta(250, 0, "currency", currency="EUR") == "+250 EUR"


numbers = st.one_of(st.none(), st.integers(), st.floats(allow_nan=True, allow_infinity=True))


@given(value=numbers, unit=st.sampled_from(NUMERIC_UNITS), style=st.sampled_from(STYLES))
def test_never_raises_on_numbers(value, unit, style):
    text = format_value(value, unit, style=style, currency="EUR")
    assert isinstance(text, str) and text
    assert isinstance(format_delta(value, 1.5, unit, style=style), str)
    assert isinstance(format_delta(1.5, value, unit, style=style), str)


@given(
    value=st.floats(allow_nan=False, allow_infinity=False, width=64), style=st.sampled_from(STYLES)
)
def test_a_fraction_always_ends_in_percent(value, style):
    assert format_value(value, "fraction", style=style).endswith("%")
