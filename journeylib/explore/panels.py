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

Some panels are drawn below another one, in its tab (:attr:`Panel.under`):
the breakdown by an account column under the ordered funnel and under
activity retention, and what drives the funnel under the ordered funnel.
Each is a panel of its own, redrawn only when what it depends on changes.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Mapping
from typing import Any

import altair as alt
import polars as pl

from journeylib import charts
from journeylib.analysis.breakdowns import SMALL_N
from journeylib.analysis.correlation import correlation_json, strength
from journeylib.charts.activity import chart_lifecycle
from journeylib.charts.breakdowns import chart_funnel_breakdown, chart_retention_breakdown
from journeylib.charts.correlation import chart_correlation
from journeylib.charts.paths import chart_paths
from journeylib.explore import compute
from journeylib.explore.filters import ALL, STREAM, Scope, dropped_accounts
from journeylib.formatting import format_p_value, format_value
from journeylib.metrics import feedback, funnels, revenue
from journeylib.metrics.acquisition import MODELS
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
        title: the tab title (of a panel drawn under another: its heading, or
            None for none).
        depends: the control groups whose change redraws it (``period``,
            ``filters``, ``funnel``, ``drop_step``, ``breakdown``,
            ``lifecycle``, ``paths``).
        needs: an optional table the panel cannot do without.
        note: shown instead of the panel when that table is missing.
        under: the panel in whose tab it is drawn, below it (None: a tab of its own).
    """

    id: str
    title: str | None
    depends: frozenset[str]
    needs: str | None = None
    note: str | None = None
    under: str | None = None


_BASE = frozenset({"period", "filters"})

#: The panels, in tab order (a panel drawn under another follows it).
PANELS: tuple[Panel, ...] = (
    Panel("journey_map", "Journey map", _BASE),
    Panel("stage_funnel", "Stage funnel", _BASE),
    Panel("ordered_funnel", "Ordered funnel", _BASE | {"funnel"}),
    Panel("funnel_breakdown", None, _BASE | {"funnel", "breakdown"}, under="ordered_funnel"),
    Panel("funnel_drivers", "What drives this funnel", _BASE | {"funnel"}, under="ordered_funnel"),
    Panel("accounts", "Accounts behind the number", _BASE | {"funnel", "drop_step"}),
    Panel("activity_retention", "Activity retention", _BASE),
    Panel("retention_breakdown", None, _BASE | {"breakdown"}, under="activity_retention"),
    Panel("lifecycle", "Lifecycle", _BASE | {"lifecycle"}),
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
    Panel(
        "attribution",
        "Attribution",
        _BASE,
        "subscriptions",
        "Add subscriptions.csv to the client folder to see attribution by model "
        "(a conversion is an account's first paid month).",
    ),
    Panel("touchpoint_flow", "Touchpoint flow", _BASE),
    Panel("paths", "Paths", _BASE | {"paths"}),
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

#: Panel id → the note shown when the table it needs is missing.
_NOTES: dict[str, str | None] = {p.id: p.note for p in PANELS}

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
    "breakdown": "breakdown",
    "interval": "lifecycle",
    "path_start": "paths",
    "path_end": "paths",
    "path_steps": "paths",
    "path_level": "paths",
    "path_min_accounts": "paths",
}

_TABLE_ROWS = 200  # rows of the accounts table shown (the CSV export has them all)


@dataclasses.dataclass(frozen=True)
class FunnelChoice:
    """The panel controls as set: the funnel's, and those of the breakdowns, lifecycle and paths.

    Attributes:
        steps: the funnel's events, in order.
        window: the conversion window (``14d``, ``2h`` …).
        mode: ``ordered``, ``strict`` or ``unordered``.
        by_variant: compare the variants of each step.
        drop_step: the step whose drop-outs the accounts panel lists (2 … steps).
        breakdown: the ``accounts`` column the funnel and activity retention
            are broken down by (:data:`~journeylib.explore.filters.ALL`: none).
        interval: the lifecycle's buckets: ``day``, ``week`` or ``month``.
        path_start, path_end: the paths' anchor (an event, or a touchpoint id
            at touchpoint level), at most one of them; None for none.
        path_steps: the items of a path (2 … 8).
        path_level: ``event`` or ``touchpoint``.
        path_min_accounts: the fewest accounts of a node of its own; 0 picks
            it (:func:`~journeylib.explore.compute.auto_min_accounts`).
    """

    steps: tuple[str, ...] = ()
    window: str = "14d"
    mode: str = "ordered"
    by_variant: bool = False
    drop_step: int | None = None
    breakdown: str = ALL
    interval: str = "week"
    path_start: str | None = None
    path_end: str | None = None
    path_steps: int = 5
    path_level: str = "event"
    path_min_accounts: int = 0


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


def _p_words(p: float | None, what: str) -> str:
    """A chi-square p-value across groups in words.

    Examples:
        >>> _p_words(0.0004, "Conversion")
        'Conversion differs between the groups (chi-square p < 0.001): a difference this large is unlikely to be chance.'
        >>> _p_words(None, "Conversion")
        'Conversion: no test (fewer than two groups with accounts to compare).'
    """
    if p is None:
        return f"{what}: no test (fewer than two groups with accounts to compare)."
    shown = format_p_value(p, relation=True)
    if p < 0.05:
        return (
            f"{what} differs between the groups (chi-square p {shown}): "
            "a difference this large is unlikely to be chance."
        )
    return f"{what}: no clear difference between the groups (chi-square p {shown}); it could be chance."


def _interval_text(rate: float | None, lo: float | None, hi: float | None) -> str | None:
    """A rate with its 95 % interval.

    Examples:
        >>> _interval_text(0.4, 0.3124, 0.494)
        '40.0% [31.2–49.4]'
    """
    if rate is None or lo is None or hi is None:
        return None
    bounds = "–".join(format_value(100 * x, digits=1) for x in (lo, hi))
    return f"{format_value(rate, 'fraction')} [{bounds}]"


def _funnel_breakdown(sc: Scope, choice: FunnelChoice) -> Drawn:
    column = choice.breakdown
    if column == ALL:
        return Drawn()
    res = _funnel(sc, choice)
    if res is None or not res.steps["count"][0]:
        return Drawn()  # the funnel above says why it is empty
    out = sc.memo(
        ("funnel_breakdown", choice.steps, choice.window, choice.mode, choice.by_variant, column),
        lambda: compute.funnel_breakdown(sc, res, column),
    )
    groups = out["breakdown"]
    if not groups:
        return Drawn(message=f"No account that entered the funnel has a value of {column}.")
    frame = pl.DataFrame(
        [{column: g["value"], **s} for g in groups for s in g["steps"]],
        schema_overrides={column: pl.String},
    )
    rows = []
    for g in groups:
        row: dict[str, Any] = {column: g["value"], "entered (n)": g["steps"][0]["n"]}
        for st in g["steps"][1:]:
            row[f"{st['step']}. {st['event']}"] = _interval_text(
                st["conversion"], st["lo"], st["hi"]
            )
        rows.append(row)
    table = frame_html(
        pl.DataFrame(rows, schema_overrides={column: pl.String}),
        formats={"entered (n)": "int"},
        max_rows=-1,
        caption=f"Conversion from step 1 by {column} [95 % interval]",
    )
    words = _p_words(out["p_value"], "Conversion to the last step")
    small = f"Groups of fewer than {SMALL_N} accounts are pale in the chart: too few to compare."
    chart = chart_funnel_breakdown({**out, "column": column})
    return Drawn(frame, chart, None, (table, note_html(f"{words} {small}")))


def _funnel_drivers(sc: Scope, choice: FunnelChoice) -> Drawn:
    if len(choice.steps) < 2:
        return Drawn(message="Pick at least two funnel steps to see what drives this funnel.")
    if choice.mode not in ("ordered", "strict"):
        return Drawn(
            message="What drives this funnel is computed for the ordered and strict modes only: "
            "an unordered funnel has no single attempt to look inside. Set the mode to ordered "
            "or strict to see it."
        )
    res = compute.funnel_drivers(sc, choice.steps, choice.window, choice.mode)
    doc = correlation_json(res)
    if not res.success_total or not res.failure_total:
        return Drawn(
            message=f"{format_value(res.success_total, 'count')} accounts converted and "
            f"{format_value(res.failure_total, 'count')} dropped out in this period (accounts "
            "still inside their window are left out): both are needed to compare them."
        )
    items = [(r["event"], "event", r) for r in doc["events"]] + [
        (f"{r['column']}: {r['value']}", "account property", r) for r in doc["properties"]
    ]
    frame = pl.DataFrame(
        [
            {
                "item": item,
                "type": kind,
                "goes_with": "converting" if r["kind"] == "success" else "dropping",
                **{k: r[k] for k in ("success_count", "failure_count", "odds_ratio", "p_value")},
            }
            for item, kind, r in items
        ],
        schema=_DRIVERS_SCHEMA,
    ).sort(strength(), "item", descending=[True, False])
    chart = chart_correlation(res)  # under the heading "What drives this funnel"
    shown = frame.head(_DRIVERS_SHOWN).select(
        "item",
        "type",
        pl.col("goes_with").alias("goes with"),
        pl.col("success_count").alias("converted"),
        pl.col("failure_count").alias("dropped"),
        pl.col("odds_ratio").alias("odds ratio"),
        pl.col("p_value").map_elements(format_p_value, return_dtype=pl.String).alias("p-value"),
    )
    table = frame_html(
        shown,
        formats={"converted": "int", "dropped": "int", "odds ratio": "num2"},
        align={"p-value": "end"},
        max_rows=-1,
        caption=f"The {min(frame.height, _DRIVERS_SHOWN)} strongest of {frame.height} "
        "(events and account properties of 5 accounts or more)",
    )
    note = note_html(
        f"Among the {format_value(res.success_total, 'count')} accounts that converted and the "
        f"{format_value(res.failure_total, 'count')} that dropped out (accounts still inside "
        "their window are left out). An odds ratio above 1: more common among those who "
        "converted. p: Fisher's exact test; with many items, some fall under 0.05 by chance. "
        "It shows what goes with converting, not what causes it."
    )
    return Drawn(frame, chart, None, (table, note))


_DRIVERS_SCHEMA = {
    "item": pl.String,
    "type": pl.String,
    "goes_with": pl.String,
    "success_count": pl.Int64,
    "failure_count": pl.Int64,
    "odds_ratio": pl.Float64,
    "p_value": pl.Float64,
}
_DRIVERS_SHOWN = 10  # rows of the table under the chart (the chart shows 10 of each list)


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


def _retention_breakdown(sc: Scope, choice: FunnelChoice) -> Drawn:
    column = choice.breakdown
    if column == ALL:
        return Drawn()
    out = compute.retention_breakdown(sc, column)
    groups = out["activity_retention"]
    if not groups:
        return Drawn(
            message=f"No sign-up of this period has a value of {column}: no group to compare."
        )
    frame = pl.DataFrame(
        [{column: g["value"], "size": g["size"], **r} for g in groups for r in g["rates"]],
        schema_overrides={column: pl.String},
    )
    months = sorted({r["k"] for g in groups for r in g["rates"] if 1 <= r["k"] <= _TABLE_MONTHS})
    rows = []
    for g in groups:
        rates = {r["k"]: r for r in g["rates"]}
        row: dict[str, Any] = {column: g["value"], "sign-ups": g["size"]}
        for k in months:
            r = rates.get(k)
            text = r and _interval_text(r["rate"], r["lo"], r["hi"])
            row[f"month {k}"] = None if not text else f"{text}, n={format_value(r['n'], 'count')}"
        rows.append(row)
    table = frame_html(
        pl.DataFrame(rows, schema_overrides={column: pl.String}),
        formats={"sign-ups": "int"},
        max_rows=-1,
        caption=f"Activity retention by {column} [95 % interval] and n, months 1 to "
        f"{max(months, default=0)}",
    )
    words = _p_words(out["p_value"], "Month-3 retention")
    chart = chart_retention_breakdown(out)
    return Drawn(frame, chart, None, (table, note_html(words)))


_TABLE_MONTHS = 6  # months k of the retention breakdown's table (the heatmap has them all)


def _lifecycle(sc: Scope, choice: FunnelChoice) -> Drawn:
    frame = compute.lifecycle(sc, choice.interval)
    counts = frame.select(pl.exclude("start").abs().sum()).row(0) if frame.height else (0,)
    if not any(counts):
        return Drawn(frame, None, "No account was active in this period.")
    return Drawn(frame, chart_lifecycle(frame))


def _paths(sc: Scope, choice: FunnelChoice) -> Drawn:
    start, end = choice.path_start or None, choice.path_end or None
    shape = {
        "start": start,
        "end": end,
        "steps": int(choice.path_steps),
        "level": choice.path_level,
    }
    k = int(choice.path_min_accounts or 0)
    auto = k < 1
    if auto:
        every = compute.paths(sc, **shape, min_accounts=1)
        k = 1 if every is None else compute.auto_min_accounts(every.nodes)
    res = compute.paths(sc, **shape, min_accounts=k)
    anchor = start if start is not None else end
    if res is None:
        way = "from" if start is not None else "into"
        return Drawn(
            message=f"No account of these filters has {anchor} in {sc.period[0]} to "
            f"{sc.period[1]}: no path {way} it."
        )
    if res.accounts == 0:
        return Drawn(res.nodes, None, "No account has a path in this period.")
    merged = (
        "every item is shown"
        if k == 1
        else f"items with fewer than {format_value(k, 'count')} accounts at a step are merged "
        "into (other)"
    )
    if auto:
        merged += (
            f" (min accounts 0: set to keep the {compute.AUTO_ITEMS} largest items of each step)"
        )
    what = (
        "touchpoints (events mapped to none are skipped)"
        if choice.path_level == "touchpoint"
        else "events"
    )
    note = note_html(
        f"{format_value(res.accounts, 'count')} accounts, their {what} in the period, "
        f"repeats collapsed; {merged}."
    )
    return Drawn(res.nodes, chart_paths(res), None, (note,))


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


#: The attribution models' column headings, in the order of their columns.
_MODEL_HEADINGS = {
    "first_touch": "first touch",
    "last_touch": "last touch",
    "linear": "linear",
    "position_based": "position-based",
    "markov": "Markov",
}


def _attribution(sc: Scope, _choice: FunnelChoice) -> Drawn:
    frame = compute.attribution(sc)
    if frame is None:
        if sc.lazy("subscriptions") is None:
            return Drawn(message=_NOTES["attribution"])
        return Drawn(message="The events have no channel column: there is no touch to attribute.")
    lo, hi = sc.period
    conversions = round(frame["first_touch"].sum())  # every model credits each conversion once
    if not conversions:
        who = "No account of these filters" if sc.filters.active() else "No account"
        return Drawn(
            frame,
            None,
            f"{who} started paying in {lo} to {hi}: there is no conversion to attribute.",
        )
    window = sc.base.config.attribution_window_days
    headings = {m: _MODEL_HEADINGS.get(m, m.replace("_", " ")) for m in MODELS}
    table = frame_html(
        frame.rename(headings),
        formats=dict.fromkeys(headings.values(), "num1"),
        max_rows=-1,
        caption=f"Conversions credited to each channel, by model "
        f"({format_value(conversions, 'count')} conversions)",
    )
    extra = [
        table,
        note_html(
            f"A conversion is an account's first paid month in {lo} to {hi}, credited to the "
            f"channels of its events in the {window} days before it (without any: its "
            "acquisition channel); each model's credits add up to the conversions. Markov "
            "credits each channel by how many conversions are lost without it, from the "
            "paths that converted and those that did not."
        ),
    ]
    cac = compute.cac_by_model(sc, frame)
    if cac is None:
        extra.append(
            note_html(
                "No marketing table: add marketing.csv (spend by month and channel) to the "
                "client folder to see CAC by model."
            )
        )
    elif sc.filters.active():
        extra.append(
            note_html(
                "CAC by model is shown without filters only: marketing spend is by month and "
                "channel, not by account, so the spend behind the accounts of these filters "
                f"({sc.filters.describe()}) is unknown. Clear the filters to see it."
            )
        )
    else:
        currency = sc.base.config.currency
        extra.append(
            frame_html(
                cac.rename(headings),
                formats={"spend": "money", **dict.fromkeys(headings.values(), "money")},
                max_rows=-1,
                caption=f"CAC by model ({currency}): spend in the period / conversions credited "
                "(—: the model credits the channel none; 0: the channel has no spend)",
            )
        )
    return Drawn(frame, charts.chart_attribution(frame), None, tuple(extra))


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
    "funnel_breakdown": _funnel_breakdown,
    "funnel_drivers": _funnel_drivers,
    "accounts": _accounts,
    "activity_retention": _activity_retention,
    "retention_breakdown": _retention_breakdown,
    "lifecycle": _lifecycle,
    "revenue_retention": _revenue_retention,
    "mrr_movements": _mrr_movements,
    "attribution": _attribution,
    "touchpoint_flow": _touchpoint_flow,
    "paths": _paths,
    "nps_by_stage": _nps_by_stage,
}
