"""A metric value as text: one formatter for sentences, tables, map cells and chart labels.

Two styles, for the two places a number is read:

* ``"text"``: sentences, tables, the report and the command line. Fixed
  decimals per unit, units as words: ``12.3%``, ``10.6 days``,
  ``12,346 EUR``, ``+32``.
* ``"compact"``: a narrow journey-map cell or a chart label. One decimal below
  10 and none above (a trailing ``.0`` dropped), thousands abbreviated
  (``12k``, ``1.5M``), short unit marks, a duration in the largest unit it
  reaches: ``12%``, ``2.1%``, ``363k EUR``, ``4.2 d``, ``12 h``.

The same things look the same in both: a missing value (None, NaN, an
infinity) is :data:`MISSING`, a percentage has no space before ``%``, an amount
has its currency code after the number, NPS and changes carry their sign, zero
never does.

In another language than English (:func:`journeylib.i18n.use_language`) the
same rules hold (decimals, signs, where abbreviation starts, the missing
dash) and Babel writes the number for the locale:

* digits stay Latin (see :mod:`journeylib.i18n`), separators, the percent
  sign and the plus and minus signs are the locale's; a sign comes first;
* an amount is written with the locale's currency pattern and symbol,
  ``US$12,346`` in Chinese and ``12,346 US$`` in Arabic (after a
  right-to-left mark), instead of ``12,346 USD``;
* compact numbers from 10,000 on take the locale's own compact forms
  (``1.2万``, ``36万``, ``25亿``; ``12 ألف``, ``1.5 مليون``) instead of k/M/B;
* unit words (``days``, ``h``, ``pts``, ``yes``) come from the message catalog;
* dates are written for the locale (``2025年3月1日``, ``1 مارس 2025``; a month
  ``2025年3月``, ``مارس 2025``), a time in 24 hours.

English keeps its own code path below, unchanged, byte for byte.
"""

from __future__ import annotations

import copy
import datetime as _dt
import decimal
import functools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from babel import dates as _bdates
from babel import numbers as _bnumbers
from babel.numbers import NumberPattern

from journeylib.i18n import NUMBERING_SYSTEM, babel_locale, current_language, direction, gettext

__all__ = [
    "MISSING",
    "STYLES",
    "UNITS",
    "Style",
    "format_delta",
    "format_month",
    "format_p_value",
    "format_value",
]

#: What a missing value (None, NaN, an infinity) looks like, everywhere.
MISSING = "—"

Style = Literal["text", "compact"]
#: The presentations :func:`format_value` knows.
STYLES: tuple[str, ...] = ("text", "compact")


@dataclass(frozen=True)
class _Unit:
    """How one unit is written."""

    text: str = ""  # after the number in "text" style
    compact: str = ""  # after the number in "compact" style
    digits: int | None = None  # "text" decimals; None: integers as they are, others 2
    compact_digits: int | None = None  # "compact" decimals; None: 1 below 10, 0 above
    scale: int = 1  # a fraction is shown as a percentage
    signed: bool = False
    abbreviate: bool = False  # "compact": 12k, 1.5M
    seconds: int | None = None  # a duration: "compact" picks the largest unit it reaches
    delta: Literal["relative", "points", "absolute"] = "relative"  # see format_delta


_UNITS: dict[str | None, _Unit] = {
    None: _Unit(abbreviate=True),
    "score": _Unit(abbreviate=True),
    "count": _Unit(digits=0, abbreviate=True),
    "currency": _Unit(digits=0, abbreviate=True),
    "fraction": _Unit("%", "%", digits=1, scale=100, delta="points"),
    "nps": _Unit(digits=0, compact_digits=0, signed=True, delta="points"),
    "ratio": _Unit("×", "×", digits=2),
    # a comment's sentiment, in [-1, 1]: signed, as NPS is
    "sentiment": _Unit(digits=2, compact_digits=2, signed=True, delta="absolute"),
    "months": _Unit(" months", " mo", digits=1, delta="absolute"),
    "days": _Unit(" days", " d", digits=1, seconds=86400, delta="absolute"),
    "hours": _Unit(" hours", " h", digits=1, seconds=3600, delta="absolute"),
    "seconds": _Unit(" seconds", " s", digits=0, seconds=1, delta="absolute"),
}
# Calendar units: the value's own date, in the same writing in both styles.
_DATES = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M", "month": "%Y-%m"}
#: The units :func:`format_value` knows (None is a plain number).
UNITS: tuple[str, ...] = (*(u for u in _UNITS if u), *_DATES)

# "compact": (from, divisor, mark), largest first; 9,999 is still written out.
_ABBREVIATIONS = ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k"))
# "compact" durations, in seconds: the largest unit the duration reaches.
_LADDER = ((86400, " d"), (3600, " h"), (60, " min"), (1, " s"))


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return not math.isfinite(value)
    return False


def _spec(unit: str | None, style: str) -> _Unit | None:
    """The unit's spec (None for a calendar unit); a typo fails loudly."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected one of {', '.join(STYLES)}")
    if unit in _DATES:
        return None
    if unit not in _UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected None or one of {', '.join(UNITS)}")
    return _UNITS[unit]


def _fixed(v: float, digits: int, signed: bool) -> str:
    """``v`` with ``digits`` decimals and thousands separators; zero has no sign."""
    if isinstance(v, numbers.Integral) and digits == 0:
        v = int(v)  # exact, however large
        return f"{v:{'+' if signed and v else ''},d}"
    r = round(v, digits)
    if r == 0:
        return f"{0:.{digits}f}"
    return f"{r:{'+' if signed else ''},.{digits}f}"


def _short(v: float, digits: int | None, signed: bool) -> str:
    """A "compact" number: one decimal below 10, none above, no trailing ``.0``."""
    if digits is not None:
        return _fixed(v, digits, signed)
    text = _fixed(v, 0 if abs(v) >= 9.95 else 1, signed)
    return text.removesuffix(".0")


def _abbreviated(v: float) -> tuple[float, str]:
    # On three significant digits, as shown: 999,999 is "1M", not "1,000k".
    shown = float(f"{abs(v):.3g}")
    for start, divisor, mark in _ABBREVIATIONS:
        if (shown if divisor > 1e3 else abs(v)) >= start:
            return v / divisor, mark
    return v, ""


def _number(v: float, u: _Unit, style: str, digits: int | None, signed: bool) -> str:
    """A finite number in unit ``u`` (without the currency code)."""
    if style == "compact" and u.seconds:
        secs = v * u.seconds
        size, mark = next(((s, m) for s, m in _LADDER if abs(secs) >= s), _LADDER[-1])
        return _short(secs / size, digits, signed) + mark
    if u.scale != 1:
        v = v * u.scale
    if style == "text":
        d = u.digits if digits is None else digits
        if d is None:
            d = 0 if isinstance(v, numbers.Integral) else 2
        return _fixed(v, d, signed) + u.text
    mark = ""
    if u.abbreviate:
        v, mark = _abbreviated(v)
    return _short(v, u.compact_digits if digits is None else digits, signed) + mark + u.compact


def format_value(
    value: Any,
    unit: str | None = None,
    *,
    style: Style = "text",
    currency: str | None = None,
    digits: int | None = None,
) -> str:
    """A value as text for people, by its catalogue unit.

    Args:
        value: a number, a date, or anything else (shown as ``str(value)``).
            None, NaN and infinities are :data:`MISSING`; booleans ``yes``/``no``.
        unit: a catalogue unit (``fraction``, ``currency``, ``count``, ``nps``,
            ``ratio``, ``score``, ``days``, ``hours``, ``months``), ``seconds``,
            a calendar unit (``date``, ``datetime``, ``month``), or None for a
            plain number (integers as they are, other numbers with 2 decimals).
        style: ``"text"`` for sentences and tables, ``"compact"`` for a map
            cell or a chart label (see the module docstring).
        currency: the currency code written after an amount (``unit="currency"``).
        digits: decimals instead of the unit's own (a table's ``num2``).

    Returns:
        The text.

    Raises:
        ValueError: an unknown unit or style.

    Examples:
        >>> format_value(0.1234, "fraction"), format_value(0.1234, "fraction", style="compact")
        ('12.3%', '12%')
        >>> format_value(12345.6, "currency", currency="EUR")
        '12,346 EUR'
        >>> format_value(362739.0, "currency", style="compact", currency="EUR")
        '363k EUR'
        >>> format_value(10.55, "days"), format_value(0.5, "days", style="compact")
        ('10.6 days', '12 h')
        >>> format_value(32, "nps"), format_value(None, "nps"), format_value(float("nan"))
        ('+32', '—', '—')
        >>> format_value(1234), format_value(1234.5), format_value(1234.5, digits=0)
        ('1,234', '1,234.50', '1,234')

        In the current language (:func:`journeylib.i18n.use_language`):

        >>> from journeylib.i18n import use_language
        >>> with use_language("zh"):
        ...     format_value(12345.6, "currency", currency="USD"), format_value(362739, style="compact")
        ('US$12,346', '36万')
    """
    u = _spec(unit, style)
    if isinstance(value, Decimal):  # a polars Decimal column
        value = float(value)
    if _missing(value):
        return MISSING
    if current_language() != "en":
        return _locale_value(value, unit, u, style, currency, digits)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, _dt.date):
        if u is None or unit is None:
            default = "datetime" if isinstance(value, _dt.datetime) else "date"
            return value.strftime(_DATES[unit or default])
        return str(value)
    if u is None or not isinstance(value, numbers.Real):
        return str(value)
    try:
        text = _number(value, u, style, digits, u.signed)
    except OverflowError:  # an integer too large for a float
        return str(value)
    return f"{text} {currency}" if currency and unit == "currency" else text


def format_p_value(p: Any, *, relation: bool = False) -> str:
    """A p-value for people: two significant digits, ``< 0.001`` below that.

    With ``relation`` the text says how it compares: ``= 0.012`` or ``< 0.001``
    (for "p = 0.012" and "p < 0.001"). Missing values are :data:`MISSING`. The
    digits follow the current language, as :func:`format_value` writes them.

    Examples:
        >>> format_p_value(0.0462), format_p_value(0.5), format_p_value(2e-9), format_p_value(None)
        ('0.046', '0.50', '< 0.001', '—')
        >>> format_p_value(0.0123, relation=True), format_p_value(1e-5, relation=True)
        ('= 0.012', '< 0.001')
    """
    if _missing(p):
        return MISSING
    if p < 0.001:
        return "< " + format_value(0.001, digits=3)
    text = format_value(p, digits=max(2, 1 - math.floor(math.log10(p))))
    return f"= {text}" if relation else text


def format_month(label: Any) -> str:
    """A ``YYYY-MM`` month label for the current language: as it is in English.

    In Arabic and Chinese it is written as a month of the locale (an ISO
    ``2025-11`` after Arabic words would read reversed); anything that is not
    such a label comes back as ``str(label)``.

    Examples:
        >>> format_month("2025-11")
        '2025-11'
        >>> from journeylib.i18n import use_language
        >>> with use_language("zh"):
        ...     format_month("2025-11")
        '2025年11月'
    """
    text = "" if label is None else str(label)
    if current_language() == "en" or len(text) != 7 or text[4] != "-":
        return text
    try:
        month = _dt.date(int(text[:4]), int(text[5:]), 1)
    except ValueError:
        return text
    return format_value(month, "month", style="compact")


def format_delta(
    current: Any,
    previous: Any,
    unit: str | None = None,
    *,
    style: Style = "text",
    currency: str | None = None,
) -> str:
    """The change from ``previous`` to ``current``, signed.

    Fractions and NPS change by points (``+2.0 pts``), durations by their own
    unit (``+0.4 days``), everything else by a relative share of ``previous``
    (``+10.0%``); from a previous value of zero, by the plain difference.

    Examples:
        >>> format_delta(0.12, 0.10, "fraction"), format_delta(30, 25, "nps")
        ('+2.0 pts', '+5 pts')
        >>> format_delta(1100, 1000, "currency"), format_delta(900, 1000, "currency", style="compact")
        ('+10.0%', '-10%')
        >>> format_delta(6.9, 6.5, "days"), format_delta(50, 0, "count"), format_delta(None, 1)
        ('+0.4 days', '+50', '—')
    """
    u = _spec(unit, style)
    if u is None:
        raise ValueError(f"a change of unit {unit!r} has no text")
    numeric = all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (current, previous)
    )
    if not numeric or _missing(current) or _missing(previous):
        return MISSING
    if current_language() != "en":
        return _locale_delta(current, previous, unit, u, style, currency)
    try:
        diff = current - previous
        if u.delta == "points":
            return (
                _number(
                    diff,
                    _Unit(digits=u.digits, compact_digits=u.compact_digits, scale=u.scale),
                    style,
                    None,
                    True,
                )
                + " pts"
            )
        if u.delta == "absolute" or not previous:
            text = _number(diff, u, style, None, True)
            return f"{text} {currency}" if currency and unit == "currency" else text
        return _number(diff / abs(previous), _UNITS["fraction"], style, None, True)
    except OverflowError:  # integers too large for a float
        return MISSING


# ---------------------------------------------------------------- the locale path (ar, zh)
# Each unit word of the locale path, translated when read: literal gettext
# calls, so that ``pybabel extract`` finds them. "%" is written by Babel.
_WORDS: dict[str, Callable[[], str]] = {
    "": lambda: "",
    "%": lambda: "",
    "×": lambda: "×",
    " days": lambda: gettext(" days"),
    " hours": lambda: gettext(" hours"),
    " seconds": lambda: gettext(" seconds"),
    " months": lambda: gettext(" months"),
    " d": lambda: gettext(" d"),
    " h": lambda: gettext(" h"),
    " min": lambda: gettext(" min"),
    " s": lambda: gettext(" s"),
    " mo": lambda: gettext(" mo"),
}
_Kind = Literal["decimal", "percent", "currency"]
# CLDR's compact forms end below a thousand trillion (in en, ar and zh alike):
# a larger number is written out in full rather than as ungrouped digits.
_COMPACT_UNTIL = 1e15


@functools.cache
def _pattern(lang: str, kind: _Kind, digits: int) -> NumberPattern:
    """The locale's pattern for ``kind`` with exactly ``digits`` decimals."""
    loc = babel_locale(lang)
    if kind == "percent":
        base = loc.percent_formats[None]
    elif kind == "currency":
        base = loc.currency_formats["standard"]
    else:
        base = loc.decimal_formats[None]
    pattern = copy.copy(base)
    pattern.frac_prec = (digits, digits)
    return pattern


def _locale_fixed(
    v: float, digits: int, signed: bool, kind: _Kind = "decimal", currency: str | None = None
) -> str:
    """``v`` with ``digits`` decimals in the locale's writing; zero has no sign.

    ``v`` is in the units shown (a percentage as 12.3, not 0.123); ``currency``
    is the code of a ``kind="currency"`` amount.
    """
    # round as the English path does, then hand Babel the exact decimal it shows
    if isinstance(v, numbers.Integral) and digits == 0:
        x = Decimal(int(v))
    else:
        x = Decimal(str(round(v, digits)))
    if x == 0:
        x = Decimal(0)  # no "-0.0"
    size = abs(x)
    loc = babel_locale()
    pattern = _pattern(current_language(), kind, digits)
    # Babel rounds in the decimal context: room for every digit of a large integer
    with decimal.localcontext(prec=max(28, size.adjusted() + digits + 3)):
        if kind == "percent":
            text = _bnumbers.format_percent(
                size.scaleb(-2), pattern, locale=loc, numbering_system=NUMBERING_SYSTEM
            )
        elif kind == "currency":
            text = _bnumbers.format_currency(
                size,
                currency,
                pattern,
                locale=loc,
                currency_digits=False,
                numbering_system=NUMBERING_SYSTEM,
            )
        else:
            text = _bnumbers.format_decimal(
                size, pattern, locale=loc, numbering_system=NUMBERING_SYSTEM
            )
    return _sign(x, signed) + text


def _sign(x: Decimal | float, signed: bool) -> str:
    """The locale's minus for a negative number, its plus for a signed positive one."""
    if x < 0:
        return _bnumbers.get_minus_sign_symbol(babel_locale(), numbering_system=NUMBERING_SYSTEM)
    if signed and x > 0:
        return _bnumbers.get_plus_sign_symbol(babel_locale(), numbering_system=NUMBERING_SYSTEM)
    return ""


def _locale_short(
    v: float, digits: int | None, signed: bool, kind: _Kind, currency: str | None
) -> str:
    """A "compact" number: one decimal below 10, none above, no trailing zero decimal."""
    if digits is None:
        # as the English path: "2.0" is written "2", and 9.95 already reaches 10
        digits = 1 if abs(v) < 9.95 and round(v, 1) % 1 else 0
    return _locale_fixed(v, digits, signed, kind, currency)


def _locale_abbreviated(v: float, digits: int | None, signed: bool, currency: str | None) -> str:
    """From 10,000 on: the locale's compact form (万, ألف); one decimal below 10 of it, none above."""
    loc = babel_locale()

    def compact(fraction_digits: int) -> str:
        if currency:
            return _bnumbers.format_compact_currency(
                abs(v),
                currency,
                locale=loc,
                fraction_digits=fraction_digits,
                numbering_system=NUMBERING_SYSTEM,
            )
        return _bnumbers.format_compact_decimal(
            abs(v), locale=loc, fraction_digits=fraction_digits, numbering_system=NUMBERING_SYSTEM
        )

    if digits is not None:
        text = compact(digits)
    else:
        text = compact(1)  # Babel drops a trailing zero decimal itself
        point = _bnumbers.get_decimal_symbol(loc, numbering_system=NUMBERING_SYSTEM)
        if sum(c.isdigit() for c in text.split(point)[0]) >= 2:
            text = compact(0)
    return _sign(v, signed) + text


def _locale_number(
    v: float, u: _Unit, style: str, digits: int | None, signed: bool, currency: str | None
) -> str:
    """A finite number in unit ``u``, written for the current language (with its currency)."""
    if style == "compact" and u.seconds:
        secs = v * u.seconds
        size, mark = next(((s, m) for s, m in _LADDER if abs(secs) >= s), _LADDER[-1])
        return _locale_short(secs / size, digits, signed, "decimal", None) + _WORDS[mark]()
    kind: _Kind = "percent" if u.scale != 1 else "currency" if currency else "decimal"
    if u.scale != 1:
        v = v * u.scale
    if style == "text":
        d = u.digits if digits is None else digits
        if d is None:
            d = 0 if isinstance(v, numbers.Integral) else 2
        return _locale_fixed(v, d, signed, kind, currency) + _WORDS[u.text]()
    if u.abbreviate and _ABBREVIATIONS[-1][0] <= abs(v) < _COMPACT_UNTIL:
        return _locale_abbreviated(v, digits, signed, currency)
    d = u.compact_digits if digits is None else digits
    return _locale_short(v, d, signed, kind, currency) + _WORDS[u.compact]()


def _locale_date(value: _dt.date, unit: str, style: str) -> str:
    """A date, a month or a date and time for the current language (24-hour time)."""
    loc = babel_locale()
    if unit == "month":
        return _bdates.format_skeleton("yMMMM" if style == "text" else "yMMM", value, locale=loc)
    day = _bdates.format_skeleton("yMMMd" if style == "text" else "yMd", value, locale=loc)
    if unit == "date":
        return day
    moment = value if isinstance(value, _dt.datetime) else _dt.datetime.combine(value, _dt.time())
    # naive stays as it is; an aware time is shown in its own zone, as the English path does
    time = _bdates.format_skeleton("Hm", moment, tzinfo=moment.tzinfo, locale=loc)
    joint = _bdates.get_datetime_format("medium" if style == "text" else "short", locale=loc)
    return joint.replace("'", "").replace("{1}", day).replace("{0}", time)


def _locale_value(
    value: Any,
    unit: str | None,
    u: _Unit | None,
    style: str,
    currency: str | None,
    digits: int | None,
) -> str:
    """:func:`format_value` for a language other than English (``value`` is not missing)."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, _dt.date):
        if u is None or unit is None:
            default = "datetime" if isinstance(value, _dt.datetime) else "date"
            return _locale_date(value, unit or default, style)
        return str(value)
    if u is None or not isinstance(value, numbers.Real):
        return str(value)
    try:
        text = _locale_number(
            value, u, style, digits, u.signed, currency if unit == "currency" else None
        )
    except (OverflowError, decimal.InvalidOperation):  # an integer too large for a float
        return str(value)
    if unit == "currency" and direction() == "rtl":
        # A left-to-right mark after "US$": without it the "$" joins the right-to-left
        # text around it and reads "$US".
        text += "\u200e"
    return text


def _locale_delta(
    current: float, previous: float, unit: str | None, u: _Unit, style: str, currency: str | None
) -> str:
    """:func:`format_delta` for a language other than English (both values finite)."""
    try:
        diff = current - previous
        if u.delta == "points":
            points = _Unit(digits=u.digits, compact_digits=u.compact_digits)
            # the points of a fraction are percentage points: scaled, written without "%"
            return _locale_number(diff * u.scale, points, style, None, True, None) + gettext(" pts")
        if u.delta == "absolute" or not previous:
            return _locale_number(
                diff, u, style, None, True, currency if unit == "currency" else None
            )
        return _locale_number(diff / abs(previous), _UNITS["fraction"], style, None, True, None)
    except (OverflowError, decimal.InvalidOperation):  # integers too large for a float
        return MISSING
