"""Anomaly flags: the months where a monthly KPI jumps far from its own recent past.

Definition (analytics.md §11): the series are ``revenue.months[].{mrr,
customers, new_customers, net_new_mrr, expansion_mrr, logo_churn_rate,
churn_rate_simple, gross_mrr_churn_rate, nrr_1m, grr_1m, arpa, quick_ratio}``
and ``acquisition.months[].cac`` of the metrics document; ``metric`` is that
key. A month is scored when it and its 6 preceding months all have values:
robust z = (x − median of the 6 months before) / (1.4826 × MAD of those 6);
flagged when |z| ≥ 3.5 and the MAD is not 0. In metrics.json as
``anomalies: [{metric, month, value, baseline, z}]`` (baseline = that median),
sorted by month then metric.

Readings of the spec chosen here:

* The series are read from the document itself, as ``metrics.json`` holds
  them (floats rounded to 10 decimals): the flags can be checked by anyone
  from the published file.
* "The 6 preceding months" are the 6 calendar months just before, all with a
  value (``null`` is no value); a series row missing for a month counts as no
  value, so a gap delays scoring by 6 months.
* MAD = the median of the absolute deviations of those 6 values from their
  median; medians of 6 values are the mean of the middle two.
* The test |z| ≥ 3.5 is evaluated exactly, in rational arithmetic on the
  decimals the document holds (``|x − median| ≥ 3.5 × 1.4826 × MAD``), so a
  value right on the threshold is flagged whatever the float rounding; the
  ``z`` written is the float of that ratio.
* Only flagged months are listed; an empty list means nothing stood out.
  Without a revenue section (no subscriptions) only ``cac`` can be scored, and
  without marketing only the revenue series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from journeylib.months import month_from_index, month_index

__all__ = [
    "ACQUISITION_SERIES",
    "REVENUE_SERIES",
    "THRESHOLD",
    "WINDOW",
    "anomalies",
    "monthly_series",
    "robust_z",
]

#: The keys of ``revenue.months[]`` that are scored, in the spec's order.
REVENUE_SERIES: tuple[str, ...] = (
    "mrr",
    "customers",
    "new_customers",
    "net_new_mrr",
    "expansion_mrr",
    "logo_churn_rate",
    "churn_rate_simple",
    "gross_mrr_churn_rate",
    "nrr_1m",
    "grr_1m",
    "arpa",
    "quick_ratio",
)
#: The keys of ``acquisition.months[]`` that are scored.
ACQUISITION_SERIES: tuple[str, ...] = ("cac",)
#: Months of history a month is compared with.
WINDOW = 6
#: |robust z| at or above which a month is flagged.
THRESHOLD = Fraction(7, 2)
_SCALE = Fraction("1.4826")  # MAD → standard deviation of a normal distribution


def _exact(value: float | int) -> Fraction:
    # The decimal the document holds (repr of a float is its shortest round-trip decimal).
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _median(values: Sequence[Fraction]) -> Fraction:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def robust_z(history: Sequence[float], value: float) -> tuple[float, float | None, bool]:
    """``(baseline, z, flagged)`` of ``value`` against its ``history``.

    ``baseline`` is the median of ``history``, ``z`` = (value − baseline) /
    (1.4826 × MAD) (None when the MAD is 0), ``flagged`` whether |z| ≥ 3.5
    with a MAD that is not 0, decided exactly (see the module's readings).

    Examples:
        >>> baseline, z, flagged = robust_z([10, 11, 9, 10, 12, 10], 20)  # median 10, MAD 0.5
        >>> baseline, round(z, 3), flagged
        (10.0, 13.49, True)
        >>> robust_z([5, 5, 5, 5, 5, 5], 9)  # flat history: MAD 0, never flagged
        (5.0, None, False)
        >>> robust_z([1, 2, 3, 4, 5, 6], 9)[2]  # a steady trend is not an anomaly
        False
    """
    hist = [_exact(v) for v in history]
    x = _exact(value)
    med = _median(hist)
    mad = _median([abs(v - med) for v in hist])
    if mad == 0:
        return float(med), None, False
    z = (x - med) / (_SCALE * mad)
    return float(med), float(z), abs(z) >= THRESHOLD


def monthly_series(doc: Mapping[str, Any], metric: str) -> list[tuple[str, Any]]:
    """``(month, value)`` of one scored series of a metrics document, in its order (values may be null).

    ``cac`` is read from ``acquisition.months``, the other series from
    ``revenue.months``; rows without a month are left out.

    Examples:
        >>> monthly_series({"acquisition": {"months": [{"month": "2025-01", "cac": None}]}}, "cac")
        [('2025-01', None)]
    """
    section = "acquisition" if metric in ACQUISITION_SERIES else "revenue"
    rows = (doc.get(section) or {}).get("months") or []
    return [(r["month"], r.get(metric)) for r in rows if r.get("month")]


def anomalies(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The anomaly flags of a metrics document (analytics.md §11).

    Args:
        doc: a metrics document (or its sections): ``revenue.months`` and
            ``acquisition.months`` are read when present.

    Returns:
        ``[{metric, month, value, baseline, z}]`` for every flagged month of
        every series, sorted by month then metric (empty when none stands out).

    Examples:
        >>> months = [{"month": f"2025-{m:02d}", "cac": v}
        ...           for m, v in enumerate([100, 104, 98, 101, 99, 103, 300], 1)]
        >>> [(a["metric"], a["month"], a["value"], a["baseline"], round(a["z"], 1))
        ...  for a in anomalies({"acquisition": {"months": months}})]
        [('cac', '2025-07', 300, 100.5, 67.3)]
    """
    out: list[dict[str, Any]] = []
    for key in (*REVENUE_SERIES, *ACQUISITION_SERIES):
        series = {m: v for m, v in monthly_series(doc, key) if v is not None}
        for month, value in series.items():
            idx = month_index(month)
            before = [month_from_index(idx - k) for k in range(WINDOW, 0, -1)]
            if not all(m in series for m in before):
                continue
            baseline, z, flagged = robust_z([series[m] for m in before], value)
            if flagged:
                out.append(
                    {
                        "metric": key,
                        "month": month,
                        "value": value,
                        "baseline": baseline,
                        "z": z,
                    }
                )
    return sorted(out, key=lambda r: (r["month"], r["metric"]))
