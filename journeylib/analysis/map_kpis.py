"""The KPI lane of the journey maps: each stage KPI's value, trend, target and gap as short text.

Values and histories come from the metrics document
(:func:`journeylib.metrics.goals.metric_value` and ``metric_history``); the
goals of the document add their targets, gaps and statuses (the future-state
map shows them). Texts are compact, so a value and its trend share one narrow
map cell. Labels and words are in the current language (:mod:`journeylib.i18n`):
the catalogue's labels are translated here, goal labels of the client's own are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import polars as pl

from journeylib.analysis.personas import persona_labels
from journeylib.formatting import format_delta, format_value
from journeylib.i18n import gettext as _
from journeylib.metrics.catalog import get_metric
from journeylib.metrics.goals import metric_history, metric_value

__all__ = ["NOT_PER_PERSONA", "kpi_lane"]

# Metrics of anonymous or company-wide data (visitors, search, marketing spend) that
# a persona's own accounts cannot give: left off the persona maps.
NOT_PER_PERSONA = frozenset(
    {"visitors", "website_visitors", "branded_search_share", "ctr", "cac", "cac_payback_months"}
)


def _goal_for(doc: Mapping[str, Any], metric: str, persona: str | None) -> dict[str, Any] | None:
    """The goal that names ``metric`` for this map: unsegmented, or segmented on this persona."""
    for g in doc.get("goals") or []:
        if g.get("metric") != metric:
            continue
        seg = g.get("segment") or {}
        if (not seg and persona is None) or (seg == {"persona": persona} and persona is not None):
            return g
    return None


def _kpi_row(
    stage: str,
    metric: str,
    label: str,
    current: float | None,
    history: list[float],
    goal: dict[str, Any] | None,
    currency: str,
) -> dict[str, Any]:
    meta = get_metric(metric)
    unit = meta.unit if meta else None
    higher = meta.higher_is_better if meta else True
    # Compact texts (a value and its trend share one narrow cell); amounts without
    # their currency code, which the label carries.
    compact = partial(format_value, unit=unit, style="compact")
    trend, good = None, None
    if len(history) >= 2:
        delta = history[-1] - history[-2]
        if delta == 0:
            trend = _("= flat")
        else:
            # The arrow carries the direction, so the change is written unsigned.
            change = format_delta(history[-1], history[-2], unit, style="compact")
            trend = ("▲ " if delta > 0 else "▼ ") + change.lstrip("+-")
            good = (delta > 0) == higher
    target_text = gap_text = status = None
    if goal is not None:
        target_text = compact(goal.get("target"))
        status = goal.get("status")
        if current is not None and goal.get("target") is not None:
            # The gap: how far the value must still move to reach the target, signed.
            gap_text = (
                _("none")
                if status == "achieved"
                else format_delta(goal["target"], current, unit, style="compact")
            )
    if unit == "currency" and currency:
        label = _("{label} ({currency})").format(label=label, currency=currency)
    return {
        "stage": stage,
        "metric": metric,
        "label": label,
        "value_text": compact(current),
        "trend": trend,
        "trend_good": good,
        "target_text": target_text,
        "gap_text": gap_text,
        "status": status,
    }


def kpi_lane(
    client: Any, doc: Mapping[str, Any], persona: str | None, st: pl.DataFrame
) -> pl.DataFrame:
    """The KPI lane of a map: per stage its template KPIs known to the catalogue, plus every goal.

    Value = ``metric_value(doc, id)``; trend = the last two values of
    ``metric_history`` (last vs previous month or complete cohort); target,
    gap (target − value) and status from the goal naming the metric.
    ``stage_conversion`` on a stage is that stage's conversion from the
    previous one (the map's own number), not the whole funnel's. Goals with a
    segment other than this map's persona are added as their own row (value
    = the goal's current value), labelled with the segment, on the stage the
    goal moves, so the future-state map shows every goal. Persona maps leave
    out the metrics of anonymous or company-wide data (visitors, search,
    CTR, CAC), which a persona's accounts cannot give.

    Args:
        client: the loaded client (template, config).
        doc: the metrics document of the map's accounts (the persona's own for a persona map).
        persona: the map's persona id, or None for all accounts.
        st: the map's stages (``id, conversion_from_previous``).

    Returns:
        ``pl.DataFrame[stage, metric, label, value_text, trend, trend_good,
        target_text, gap_text, status]``, as ``JourneyMapData.kpis``.
    """
    cur = client.config.currency
    conv = dict(zip(st["id"].to_list(), st["conversion_from_previous"].to_list(), strict=True))
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for s in client.template.stages:
        for kpi in s.kpis:
            meta = get_metric(kpi)
            if meta is None or (persona is not None and kpi in NOT_PER_PERSONA):
                continue
            goal = _goal_for(doc, kpi, persona)
            if kpi == "stage_conversion":
                label = _("Conversion from previous stage")
                row = _kpi_row(s.id, kpi, label, conv.get(s.id), [], None, cur)
            else:
                row = _kpi_row(
                    s.id,
                    kpi,
                    _(meta.label),
                    metric_value(dict(doc), kpi),
                    metric_history(dict(doc), kpi),
                    goal,
                    cur,
                )
            rows.append(row)
            seen.add((s.id, kpi))
    for g in doc.get("goals") or []:
        sid, metric = g.get("stage"), g.get("metric")
        if sid is None or get_metric(metric) is None:
            continue
        seg = g.get("segment") or {}
        mine = (not seg and persona is None) or (seg == {"persona": persona})
        if mine and (sid, metric) in seen:
            continue
        if not mine and persona is not None:
            continue  # a persona map shows its own goals only
        label = _(get_metric(metric).label)
        if seg:
            names = persona_labels(client)
            label += " · " + ", ".join(names.get(str(v), str(v)) for v in seg.values())
        rows.append(_kpi_row(sid, metric, label, g.get("current"), [], g, cur))
    schema = {
        "stage": pl.String,
        "metric": pl.String,
        "label": pl.String,
        "value_text": pl.String,
        "trend": pl.String,
        "trend_good": pl.Boolean,
        "target_text": pl.String,
        "gap_text": pl.String,
        "status": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)
