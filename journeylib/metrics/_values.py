"""Plain values shared by the metric families: a ratio and a quantile that may be undefined.

The metrics give ``None`` where a value is undefined (a zero denominator, a
median of nothing), never NaN or infinity: these two helpers are that rule.
"""

from __future__ import annotations

from typing import Any

__all__ = ["none_if_nan", "ratio"]


def ratio(num: float, den: float) -> float | None:
    """``num / den``, or ``None`` for a zero denominator (never NaN or infinity).

    Examples:
        >>> ratio(1, 4), ratio(1, 0)
        (0.25, None)
    """
    return None if den == 0 else num / den


def none_if_nan(value: Any) -> float | None:
    """``value`` as a float, or ``None`` when it is missing or NaN (a quantile of no rows).

    Examples:
        >>> none_if_nan(2), none_if_nan(float("nan")), none_if_nan(None)
        (2.0, None, None)
    """
    if value is None:
        return None
    value = float(value)
    return None if value != value else value
