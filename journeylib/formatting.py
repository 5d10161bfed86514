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
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

__all__ = ["MISSING", "STYLES", "UNITS", "Style", "format_delta", "format_value"]

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
    """
    u = _spec(unit, style)
    if isinstance(value, Decimal):  # a polars Decimal column
        value = float(value)
    if _missing(value):
        return MISSING
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
