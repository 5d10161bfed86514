"""The explorer's panels: what each one depends on, computes and draws.

Every panel lists the control groups it depends on (:data:`DEPENDENCIES`), so
a change redraws only the panels that depend on the control. :func:`draw`
computes one panel on a :class:`~journeylib.explore.filters.Scope` (the data
of one filter state) and the funnel controls (:class:`FunnelChoice`), from
what the panel shows only (:mod:`journeylib.explore.compute`: lazy scans of
the client store and its marts, never the whole metrics document), and
returns what it shows (:class:`Drawn`): its frame, its altair chart, an
empty-state note and extra HTML (tables go through ``frame_html``, so client
text reaches the page escaped).
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Mapping
from typing import Any

import altair as alt
import polars as pl

from journeylib import charts
from journeylib.explore import compute
from journeylib.explore.filters import STREAM, Scope, dropped_accounts
from journeylib.formatting import format_value
from journeylib.metrics import feedback, funnels, revenue
from journeylib.present.tables import frame_html

__all__ = [
    "CONTROL_GROUPS",
    "DEPENDENCIES",
    "PANELS",
    "Drawn",
    "FunnelChoice",
    "Panel",
    "draw",
    "note_html",
]


@dataclasses.dataclass(frozen=True)
class Panel:
    """One panel of the explorer.

    Attributes:
        id: the key of ``Explorer.results``, ``charts``, ``messages``, ``redraws``.
        title: the tab title.
        depends: the control groups whose change redraws it (``period``,
            ``filters``, ``funnel``, ``drop_step``).
        needs: an optional table the panel cannot do without.
        note: shown instead of the panel when that table is missing.
    """

    id: str
    title: str
    depends: frozenset[str]
    needs: str | None = None
    note: str | None = None


_BASE = frozenset({"period", "filters"})

#: The panels, in tab order.
PANELS: tuple[Panel, ...] = (
    Panel("journey_map", "Journey map", _BASE),
    Panel("stage_funnel", "Stage funnel", _BASE),
    Panel("ordered_funnel", "Ordered funnel", _BASE | {"funnel"}),
    Panel("accounts", "Accounts behind the number", _BASE | {"funnel", "drop_step"}),
    Panel("activity_retention", "Activity retention", _BASE),
    Panel(
        "revenue_retention",
        "Revenue retention",
        _BASE,
        "subscriptions",
        "Add subscriptions.csv to the client folder to see revenue retention.",
    ),
    Panel(
        "mrr_movements",
        "MRR movements",
        _BASE,
        "subscriptions",
        "Add subscriptions.csv to the client folder to see MRR movements.",
    ),
    Panel("touchpoint_flow", "Touchpoint flow", _BASE),
    Panel(
        "nps_by_stage",
        "NPS by stage",
        _BASE,
        "surveys",
        "Add surveys.csv to the client folder to see NPS by stage.",
    ),
)

#: Panel id → the control groups it depends on.
DEPENDENCIES: dict[str, frozenset[str]] = {p.id: p.depends for p in PANELS}

#: The explorer's control attributes → their group in :data:`DEPENDENCIES`.
CONTROL_GROUPS: dict[str, str] = {
    "period": "period",
    "persona": "filters",
    "channel": "filters",
    "plan": "filters",
    "variant": "filters",
    "stage": "filters",
    "steps": "funnel",
    "window": "funnel",
    "mode": "funnel",
    "by_variant": "funnel",
    "drop_step": "drop_step",
}

_TABLE_ROWS = 200  # rows of the accounts table shown (the CSV export has them all)


@dataclasses.dataclass(frozen=True)
class FunnelChoice:
    """The funnel controls as set: what the ordered-funnel and accounts panels read.

    Attributes:
        steps: the funnel's events, in order.
        window: the conversion window (``14d``, ``2h`` …).
        mode: ``ordered``, ``strict`` or ``unordered``.
        by_variant: compare the variants of each step.
        drop_step: the step whose drop-outs the accounts panel lists (2 … steps).
    """

    steps: tuple[str, ...] = ()
    window: str = "14d"
    mode: str = "ordered"
    by_variant: bool = False
    drop_step: int | None = None


@dataclasses.dataclass(frozen=True)
class Drawn:
    """What a panel shows.

    Attributes:
        result: its frame (None when there is nothing to compute).
        chart: its altair chart, or None.
        message: an empty-state note, or None.
        extra: HTML fragments shown below the chart (tables, notes).
    """

    result: Any = None
    chart: Any = None
    message: str | None = None
    extra: tuple[str, ...] = ()


def note_html(text: str) -> str:
    """A note of the explorer as escaped HTML.

    Examples:
        >>> note_html("a < b")
        '<p class="jw-note" style="color:#52606d;font-style:italic">a &lt; b</p>'
    """
    return f'<p class="jw-note" style="color:#52606d;font-style:italic">{html.escape(text)}</p>'


def draw(panel: str, sc: Scope, choice: FunnelChoice) -> Drawn:
    """Compute panel ``panel`` on the data of ``sc``.

    Args:
        panel: a panel id of :data:`PANELS`.
        sc: the data of the current filter state (not empty).
        choice: the funnel controls.

    Returns:
        What the panel shows.
    """
    return _DRAW[panel](sc, choice)


def _chart_or_empty(frame: pl.DataFrame, chart: Callable[[pl.DataFrame], Any], empty: str) -> Drawn:
    """The frame with its chart, or the ``empty`` note when the frame has no row."""
    if frame.height == 0:
        return Drawn(frame, None, empty)
    return Drawn(frame, chart(frame))


def _journey_map(sc: Scope, _choice: FunnelChoice) -> Drawn:
    data = compute.journey_map(sc)
    if sc.filters.active():
        data = dataclasses.replace(data, title=f"{data.title} · {sc.filters.describe()}")
    return Drawn(data.stages, charts.chart_journey_map(data))


def _stage_funnel(sc: Scope, _choice: FunnelChoice) -> Drawn:
    frame = compute.stage_funnel(sc)
    if frame.height == 0 or not frame["reached"].sum():
        return Drawn(
            frame,
            None,
            "No account of these filters was first seen in the period: the stage funnel is empty.",
        )
    table = frame_html(
        frame, formats={"conversion_from_previous": "pct", "median_days_from_previous": "num1"}
    )
    return Drawn(frame, charts.chart_stage_funnel(frame), None, (table,))


def _funnel(sc: Scope, choice: FunnelChoice) -> funnels.FunnelResult | None:
    if not choice.steps:
        return None
    return sc.funnel(choice.steps, choice.window, choice.mode, choice.by_variant)


def _ordered_funnel(sc: Scope, choice: FunnelChoice) -> Drawn:
    res = _funnel(sc, choice)
    if res is None:
        return Drawn(message="Pick at least one step (events of this client) for the funnel.")
    if not res.steps["count"][0]:
        return Drawn(res.steps, None, "No account did the first step in this period.")
    chart = charts.chart_ordered_funnel(res.steps, variants=res.variants, title="Ordered funnel")
    extra = [
        frame_html(
            res.steps.drop("mean_seconds_to_convert", strict=False),
            formats={
                "conversion": "pct",
                "conversion_from_previous": "pct",
                "median_seconds_to_convert": "num0",
            },
        ),
        note_html(
            f"Still inside their window: {format_value(res.in_progress, 'count')} accounts; "
            f"excluded: {format_value(res.excluded, 'count')}."
        ),
    ]
    if res.variant_tests is not None and res.variant_tests.height:
        extra.append(
            frame_html(
                res.variant_tests,
                formats={
                    "conversion": "pct",
                    "conversion_reference": "pct",
                    "z": "num2",
                    "p_value": "num4",
                },
            )
        )
    return Drawn(res.steps, chart, None, tuple(extra))


def _accounts(sc: Scope, choice: FunnelChoice) -> Drawn:
    res = _funnel(sc, choice)
    k = choice.drop_step
    if res is None or k is None:
        return Drawn(message="Pick at least two funnel steps to see who dropped between them.")
    frame = dropped_accounts(res, int(k), sc.table("accounts"))
    event = res.steps["event"][int(k) - 1]
    caption = (
        f"{format_value(frame.height, 'count')} accounts did step {int(k) - 1} and not step {k} "
        f"({event}) within the window (accounts still inside it are left out)."
    )
    return Drawn(frame, None, None, (frame_html(frame, max_rows=_TABLE_ROWS, caption=caption),))


def _activity_retention(sc: Scope, _choice: FunnelChoice) -> Drawn:
    frame = compute.activity_retention(sc)
    return _chart_or_empty(
        frame,
        charts.chart_retention_heatmap,
        "No sign-ups in this period: no cohort to follow.",
    )


def _revenue_retention(sc: Scope, _choice: FunnelChoice) -> Drawn:
    frame = revenue.revenue_retention(sc.lazy("subscriptions"), period=sc.period)
    return _chart_or_empty(
        frame,
        lambda f: alt.vconcat(
            charts.chart_retention_heatmap(f, value="logo_retention"),
            charts.chart_retention_heatmap(f, value="nrr"),
        ),
        "No account started paying in this period.",
    )


def _mrr_movements(sc: Scope, _choice: FunnelChoice) -> Drawn:
    frame = revenue.revenue_months(sc.lazy("subscriptions"), period=sc.period)
    return _chart_or_empty(
        frame, charts.chart_mrr_movements, "No subscription months in this period."
    )


def _touchpoint_flow(sc: Scope, _choice: FunnelChoice) -> Drawn:
    frame = compute.touchpoint_transitions(sc.lazy(STREAM), period=sc.period)
    order = [tp.id for tp in sc.base.template.touchpoints]
    return _chart_or_empty(
        frame,
        lambda f: charts.chart_touchpoint_flow(f, order=order),
        "No account moved between touchpoints in this period.",
    )


def _nps_by_stage(sc: Scope, _choice: FunnelChoice) -> Drawn:
    tpl = sc.base.template
    frame = feedback.nps_by_stage(sc.lazy("surveys"), period=sc.period, stage_order=tpl.stage_ids)
    if frame.height == 0:
        return Drawn(frame, None, "No scored survey answer with a stage in this period.")
    frame = feedback.with_nps_interval(frame)
    labels = {s.id: s.label for s in tpl.stages}
    return Drawn(frame, _chart_nps_by_stage(frame, labels))


def _chart_nps_by_stage(frame: pl.DataFrame, labels: Mapping[str, str]) -> alt.LayerChart:
    """NPS per stage with its 95 % interval (bars, error rules, zero line)."""
    rows = [
        {**r, "label": labels.get(r["stage"], r["stage"])}
        for r in frame.select("stage", "score", "responses", "ci_low", "ci_high").to_dicts()
    ]
    order = [r["label"] for r in rows]
    # plain dicts: alt.Data would validate every row
    base = alt.Chart({"values": rows}).encode(
        x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
        tooltip=[
            alt.Tooltip("label:N", title="Stage"),
            alt.Tooltip("score:Q", title="NPS", format=".0f"),
            alt.Tooltip("responses:Q", title="Answers"),
            alt.Tooltip("ci_low:Q", title="95 % low", format=".0f"),
            alt.Tooltip("ci_high:Q", title="95 % high", format=".0f"),
        ],
    )
    bars = base.mark_bar().encode(
        y=alt.Y("score:Q", title="NPS", scale=alt.Scale(domain=[-100, 100])),
        color=alt.condition("datum.score >= 0", alt.value("#0072B2"), alt.value("#D55E00")),
    )
    err = base.mark_rule(color="#1f2933").encode(y="ci_low:Q", y2="ci_high:Q")
    zero = alt.Chart({"values": [{"y": 0}]}).mark_rule(color="#7b8794").encode(y="y:Q")
    return alt.layer(bars, err, zero).properties(title="NPS by stage", width=640, height=280)


_DRAW: dict[str, Callable[[Scope, FunnelChoice], Drawn]] = {
    "journey_map": _journey_map,
    "stage_funnel": _stage_funnel,
    "ordered_funnel": _ordered_funnel,
    "accounts": _accounts,
    "activity_retention": _activity_retention,
    "revenue_retention": _revenue_retention,
    "mrr_movements": _mrr_movements,
    "touchpoint_flow": _touchpoint_flow,
    "nps_by_stage": _nps_by_stage,
}
