"""Breakdown charts: retention and funnels per group of accounts, with their intervals.

They draw the results of :mod:`journeylib.analysis.breakdowns`
(``shared/spec/analytics.md`` § 5): every rate comes with its denominator
``n`` and Wilson 95 % interval, and a rate over fewer than
:data:`SMALL_N` accounts is greyed out. Titles, labels and tooltips are in the
current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from journeylib.analysis.breakdowns import SMALL_N
from journeylib.charts._util import data
from journeylib.charts.theme import INK, MUTED, SEQUENTIAL
from journeylib.errors import DataError
from journeylib.formatting import format_p_value, format_value
from journeylib.i18n import N_
from journeylib.i18n import gettext as _

__all__ = ["chart_funnel_breakdown", "chart_retention_breakdown"]

_GREY = "#d9dde2"

# The measure each breakdown list holds (English message ids, translated where drawn).
_MEASURES = {
    "activity_retention": N_("Activity retention"),
    "logo_retention": N_("Logo retention"),
}


def _groups(rows: Any, key: str, name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The list of groups and the enclosing object (``{}`` when given the list itself)."""
    if isinstance(rows, Mapping):
        if key not in rows:
            raise DataError(
                "missing key for the chart",
                where=name,
                expected=f"a breakdown object with {key!r}, or its list of groups",
                found="keys " + ", ".join(map(str, rows)),
                fix="pass the result of the journeylib breakdown function",
            )
        return list(rows[key] or []), dict(rows)
    if isinstance(rows, Sequence) and not isinstance(rows, str):
        return list(rows), {}
    raise DataError(
        "not a breakdown",
        where=name,
        expected="a list of groups or a breakdown object",
        found=type(rows).__name__,
        fix="pass the result of the journeylib breakdown function",
    )


def _p_text(p: Any) -> str:
    """The p-value as a reader sees it: two significant digits, tiny ones as < 0.001."""
    if p is None:
        return _("p-value: none (fewer than two groups to compare)")
    return _("chi-square test across groups: p {p}").format(p=format_p_value(p, relation=True))


def _colour_domain(cells: list[dict[str, Any]]) -> tuple[float, float]:
    """The rates the colours spread over: those of months k >= 1 read from 30 accounts or more.

    Month 0 is 100 % by construction for most groups and small-n cells are
    grey: leaving them out gives the readable cells the whole colour range
    (the scale clamps, so month 0 takes the darkest colour).
    """
    read = [c["rate"] for c in cells if c["rate"] is not None and not c["small"] and c["k"] >= 1]
    read = read or [c["rate"] for c in cells if c["rate"] is not None]
    lo, hi = (min(read), max(read)) if read else (0.0, 1.0)
    if hi - lo < 0.05:  # nearly flat: a range from 0 keeps equal rates equal-looking
        lo, hi = 0.0, max(hi, 0.05)
    return lo, hi


def chart_retention_breakdown(
    rows: Any,
    *,
    measure: str = "activity_retention",
    max_k: int | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> alt.LayerChart:
    """Group × month-k heatmap of retention, each cell with its rate, n and 95 % interval.

    Cells over fewer than 30 accounts (n < 30) are drawn grey with muted text
    (the note under the title says so); the tooltip gives the rate, its
    Wilson interval and n.

    Args:
        rows: a list of groups ``[{value, size, rates: [{k, rate, lo, hi,
            n}]}]``, or a breakdown object holding it under ``measure`` (the
            result of ``retention_breakdown`` or ``metrics_breakdowns``: its
            column names the chart and its ``p_value`` is shown).
        measure: ``activity_retention`` or ``logo_retention`` (the title's words
            and the key read from a breakdown object).
        max_k: show months 0 … max_k only (default: every month with data).
        title: chart title (default: "<measure> by <column>").
        labels: group value → the name shown (persona ids → their labels).

    Returns:
        A layered rect + text chart; rows are groups labelled with their size.

    Examples:
        >>> rows = [{"value": "pro", "size": 40, "rates": [
        ...     {"k": 0, "rate": 1.0, "lo": 0.91, "hi": 1.0, "n": 40},
        ...     {"k": 1, "rate": 0.5, "lo": 0.3, "hi": 0.7, "n": 20}]}]
        >>> spec = chart_retention_breakdown(rows).to_dict()
        >>> [r["small"] for r in spec["datasets"][next(iter(spec["datasets"]))]]
        [False, True]
    """
    groups, whole = _groups(rows, measure, "rows")
    cells = []
    shown = []
    for g in groups:
        label = _("{value}  (n={n})").format(
            value=(labels or {}).get(g["value"], g["value"]),
            n=format_value(g["size"], style="compact"),
        )
        shown.append(label)
        for r in g["rates"]:
            if max_k is not None and r["k"] > max_k:
                continue
            rate = r["rate"]
            cells.append(
                {
                    "group": label,
                    "value": g["value"],
                    "k": r["k"],
                    "rate": rate,
                    "lo": r["lo"],
                    "hi": r["hi"],
                    "n": r["n"],
                    "small": r["n"] < SMALL_N,
                    "interval": _("{lo} – {hi}").format(
                        lo=format_value(r["lo"], "fraction"), hi=format_value(r["hi"], "fraction")
                    ),
                    "text": "" if rate is None else format_value(rate, "fraction", style="compact"),
                }
            )
    name = _(_MEASURES[measure]) if measure in _MEASURES else measure
    lo, hi = _colour_domain(cells)
    # Dark cells get white text; greyed cells muted italics, so a small-n rate never stands out.
    for c in cells:
        dark = c["rate"] is not None and c["rate"] > lo + 0.55 * (hi - lo)
        c["ink"] = None if c["small"] else ("white" if dark else INK)
    base = alt.Chart(data(cells)).encode(
        x=alt.X("k:O", title=_("Months since start of cohort"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("group:N", sort=shown, title=None, axis=alt.Axis(labelFontWeight=600)),
        tooltip=[
            alt.Tooltip("value:N", title=_("Group")),
            alt.Tooltip("k:O", title=_("Month k")),
            alt.Tooltip("rate:Q", title=name, format=".1%"),
            alt.Tooltip("interval:N", title=_("95 % interval")),
            alt.Tooltip("n:Q", title=_("Accounts (n)"), format=","),
        ],
    )
    colour = alt.condition(
        "datum.small",
        alt.value(_GREY),
        alt.Color(
            "rate:Q",
            title=name,
            legend=alt.Legend(format=".0%", gradientLength=220, tickCount=4),
            scale=alt.Scale(scheme=SEQUENTIAL, domain=[lo, hi], clamp=True),
        ),
    )
    rect = base.mark_rect(stroke="white", strokeWidth=1.5).encode(color=colour)
    text = (
        base.transform_filter("!datum.small")
        .mark_text(fontSize=11)
        .encode(text=alt.Text("text:N"), color=alt.Color("ink:N", scale=None, legend=None))
    )
    small = (
        base.transform_filter("datum.small")
        .mark_text(fontSize=11, fontStyle="italic")
        .encode(text=alt.Text("text:N"), color=alt.value(MUTED))
    )
    column = whole.get("column")
    if title is None:
        title = (
            _("{name} by {column}").format(name=name, column=column)
            if column
            else _("{name} by group").format(name=name)
        )
    notes = [
        _(
            "Grey cells: rates over fewer than {n} accounts (n < {n}), too few to compare; "
            "hover a cell for its n and 95 % interval."
        ).format(n=SMALL_N)
    ]
    if measure == "activity_retention" and "p_value" in whole and len(groups) > 1:
        notes.append(_("Month-3 retention, {test}").format(test=_p_text(whole["p_value"])))
    n_k = max(len({c["k"] for c in cells}), 1)
    return (
        alt.layer(rect, text, small)
        # the text colours are literal (no scale): kept apart from the rate's colour scale
        .resolve_scale(color="independent")
        .properties(
            title=alt.Title(title, subtitle=notes),
            width=alt.Step(48) if n_k > 10 else min(640, 64 * n_k),
            height=alt.Step(30),
        )
    )


def _bar_step(labels: list[str], n_groups: int) -> int:
    """Width of one group's bar: 14 to 60 px, so that each step's bars span its label."""
    label_px = 8 * max((len(lab) for lab in labels), default=10) + 16
    return max(14, min(60, -(-label_px // max(n_groups, 1))))


def chart_funnel_breakdown(
    rows: Any, *, title: str | None = None, labels: Mapping[str, str] | None = None
) -> alt.LayerChart:
    """Conversion from step 1 per group at each funnel step, with Wilson 95 % error bars.

    Bars of groups whose n (accounts that entered step 1) is under 30 are
    pale (the note under the title says so).

    Args:
        rows: the result of ``funnel_breakdown`` (``{"breakdown": [...],
            "p_value"}``; its p-value is shown) or its list of groups
            ``[{value, steps: [{step, event, count, conversion, lo, hi, n}]}]``.
        labels: group value → the name shown (persona ids → their labels).
        title: chart title (default: "Funnel by group").

    Returns:
        A layered chart: grouped bars, error bars and conversion labels.

    Examples:
        >>> out = {"p_value": 0.04, "breakdown": [{"value": v, "steps": [
        ...     {"step": 1, "event": "view", "count": n, "conversion": 1.0, "lo": 0.9, "hi": 1.0,
        ...      "n": n},
        ...     {"step": 2, "event": "buy", "count": x, "conversion": x / n, "lo": 0.1, "hi": 0.6,
        ...      "n": n}]} for v, n, x in [("free", 20, 5), ("pro", 40, 18)]]}
        >>> spec = chart_funnel_breakdown(out).to_dict()
        >>> [layer["mark"]["type"] for layer in spec["layer"]]
        ['bar', 'errorbar', 'errorbar', 'text']
    """
    groups, whole = _groups(rows, "breakdown", "rows")
    bars = []
    for g in groups:
        label = _("{value}  (n={n})").format(
            value=(labels or {}).get(g["value"], g["value"]),
            n=format_value(g["steps"][0]["n"] if g["steps"] else 0, style="compact"),
        )
        for s in g["steps"]:
            bars.append(
                {
                    "group": label,
                    "value": g["value"],
                    "label": f"{s['step']}. {s['event']}",
                    "step": s["step"],
                    "count": s["count"],
                    "conversion": s["conversion"],
                    "lo": s["lo"],
                    "hi": s["hi"],
                    "n": s["n"],
                    "small": s["n"] < SMALL_N,
                    "interval": _("{lo} – {hi}").format(
                        lo=format_value(s["lo"], "fraction"), hi=format_value(s["hi"], "fraction")
                    ),
                    "text": format_value(s["conversion"], "fraction", style="compact"),
                }
            )
    steps = sorted({(b["step"], b["label"]) for b in bars})
    order = [lab for _s, lab in steps]
    group_order = list(dict.fromkeys(b["group"] for b in bars))
    many = len(group_order) > 4
    for b in bars:  # step 1 is 100 % by definition: no label on it
        b["text"] = "" if b["step"] == 1 else b["text"]
    y_scale = alt.Scale(domain=[0, 1.15 if many else 1.08], nice=False)
    y_title = _("Conversion from step 1")
    base = alt.Chart(data(bars)).encode(
        x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=200)),
        xOffset=alt.XOffset("group:N", sort=group_order),
        tooltip=[
            alt.Tooltip("value:N", title=_("Group")),
            alt.Tooltip("label:N", title=_("Step")),
            alt.Tooltip("count:Q", title=_("Accounts"), format=","),
            alt.Tooltip("conversion:Q", title=y_title, format=".1%"),
            alt.Tooltip("interval:N", title=_("95 % interval")),
            alt.Tooltip("n:Q", title=_("Accounts (n)"), format=","),
        ],
    )
    colour = alt.Color(
        "group:N", title=_("Group"), sort=group_order, legend=alt.Legend(columns=4, symbolLimit=0)
    )
    axis = alt.Axis(format="%", values=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    bar = base.mark_bar().encode(
        y=alt.Y("conversion:Q", title=y_title, scale=y_scale, axis=axis),
        color=colour,
        opacity=alt.condition("datum.small", alt.value(0.3), alt.value(0.9)),
    )

    def whiskers(colour: str, width: float) -> alt.Chart:
        return base.mark_errorbar(
            ticks={"size": 7, "strokeWidth": width, "color": colour},
            rule={"strokeWidth": width, "color": colour},
        ).encode(y=alt.Y("lo:Q", scale=y_scale, title=y_title), y2=alt.Y2("hi:Q"))

    # A white halo under each interval keeps it visible on dark bars (the palette has black).
    halo, err = whiskers("white", 3.5), whiskers(INK, 1.5)
    label = (
        base.mark_text(angle=270, align="left", baseline="middle", dx=4, fontSize=10)
        if many
        else base.mark_text(baseline="bottom", dy=-5, fontSize=11)
    ).encode(y=alt.Y("hi:Q", scale=y_scale), text=alt.Text("text:N"), color=alt.value(MUTED))
    notes = [
        _("Lines: 95 % intervals; pale bars: fewer than {n} accounts (n < {n}).").format(n=SMALL_N)
    ]
    if "p_value" in whole and len(groups) > 1:
        notes.append(_("Last step, {test}").format(test=_p_text(whole["p_value"])))
    column = whole.get("column")
    if title is None:
        title = _("Funnel by {column}").format(column=column) if column else _("Funnel by group")
    return alt.layer(bar, halo, err, label).properties(
        title=alt.Title(title, subtitle=notes),
        width=alt.Step(_bar_step(order, len(group_order))),
        height=300,
    )
