"""SMART goals: checks, baseline, current value, progress and status.

A goal names a catalogue metric, a target and a deadline (client.yaml). The
evaluation reads the metric from a metrics document (the same numbers the
report shows), so goals can never disagree with the rest of the report.

Readings chosen where the spec leaves room (also in the report's appendix):

* **Current value**: the metric over the whole period for period metrics
  (activation rate, time to first value, NPS, CAC, …); the period's last
  month for monthly metrics (MRR, churn rates, NRR/GRR 1m, ARPA, quick ratio).
* **Baseline from data** (when client.yaml gives none): the first value of the
  metric's monthly history inside the period (first month, first complete
  signup cohort); for a metric without history the current value.
* **Progress** = (current − baseline) / (target − baseline); 1 means the target
  is met, a negative value a move the wrong way. When the baseline already
  meets the target (a goal to hold a level), progress is 1 while the current
  value still meets it and 0 once it does not. **Time elapsed** = (period end − start) / (deadline − start), where
  start is the goal's ``start`` or the period's first day, clipped to [0, 1].
* **Status**: ``achieved`` when the current value meets the target (in the
  metric's good direction); otherwise ``off_track`` once the deadline has
  passed; otherwise ``on_track`` when progress ≥ time elapsed, ``at_risk`` when
  progress ≥ half the time elapsed, else ``off_track``.
* **SMART checks**: Specific = a catalogue metric and a segment over known
  accounts columns; Measurable = a numeric baseline and target; Achievable =
  the target lies within the metric's own history range widened by that
  range's width on each side (null when there is no history); Relevant = the
  metric belongs to a stage of the client's journey template; Time-bound = a
  deadline after the start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from journeylib.config import Goal
from journeylib.metrics.catalog import get_metric, stage_for_template
from journeylib.months import month_from_index, month_index

__all__ = [
    "metric_sections",
    "metric_value",
    "metric_history",
    "evaluate_goal",
    "evaluate_goals",
    "SEGMENT_COLUMNS",
]

SEGMENT_COLUMNS = ("persona", "acquisition_channel", "industry", "country", "role", "plan")

_MONTHLY = {
    "mrr",
    "customers",
    "net_new_mrr",
    "logo_churn_rate",
    "churn_rate_simple",
    "gross_mrr_churn_rate",
    "nrr_1m",
    "grr_1m",
    "arpa",
    "quick_ratio",
}


def _get(doc: dict[str, Any], *path: str) -> Any:
    cur: Any = doc
    for p in path:
        if not isinstance(cur, dict) or cur.get(p) is None:
            return None
        cur = cur[p]
    return cur


_SECTION_OF = {
    **dict.fromkeys(
        [*_MONTHLY, "expansion_mrr", "new_customers", "nrr_12m", "grr_12m", "ltv"], "revenue"
    ),
    **dict.fromkeys(["cac", "cac_payback_months", "branded_search_share", "ctr"], "acquisition"),
    **dict.fromkeys(
        [
            "activation_rate",
            "ttfv_days_median",
            "ttfv_days_p75",
            "ttfv_days_p90",
            "ttfv_reached_share",
            "engagement_score",
        ],
        "onboarding",
    ),
    "nps": "nps",
    **dict.fromkeys(
        ["resolution_hours_median", "resolution_hours_p90", "referral_rate"], "support"
    ),
    **dict.fromkeys(["visitors", "website_visitors", "stage_conversion"], "stages"),
}


def metric_sections(metric_id: str) -> frozenset[str] | None:
    """The metrics-document sections a metric's value and history are read from (None: unknown).

    Examples:
        >>> sorted(metric_sections("ttfv_days_median"))
        ['onboarding']
    """
    section = _SECTION_OF.get(metric_id)
    return None if section is None else frozenset({section})


def metric_value(doc: dict[str, Any], metric_id: str) -> float | None:
    """The current value of a catalogue metric, read from a metrics document.

    Examples:
        >>> metric_value({"nps": {"overall": {"score": 12.5}}}, "nps")
        12.5
    """
    months = _get(doc, "revenue", "months") or []
    if metric_id in _MONTHLY:
        return months[-1].get(metric_id) if months else None
    if metric_id == "expansion_mrr":
        return sum(m["expansion_mrr"] for m in months) if months else None
    if metric_id == "new_customers":
        return sum(m["new_customers"] for m in months) if months else None
    simple = {
        "nrr_12m": ("revenue", "nrr_12m"),
        "grr_12m": ("revenue", "grr_12m"),
        "ltv": ("revenue", "ltv"),
        "cac": ("acquisition", "cac"),
        "cac_payback_months": ("acquisition", "cac_payback_months"),
        "branded_search_share": ("acquisition", "branded_search_share"),
        "ctr": ("acquisition", "ctr"),
        "activation_rate": ("onboarding", "activation_rate"),
        "ttfv_days_median": ("onboarding", "ttfv_days", "median"),
        "ttfv_days_p75": ("onboarding", "ttfv_days", "p75"),
        "ttfv_days_p90": ("onboarding", "ttfv_days", "p90"),
        "ttfv_reached_share": ("onboarding", "ttfv_days", "reached_share"),
        "engagement_score": ("onboarding", "engagement_mean_weighted_events"),
        "nps": ("nps", "overall", "score"),
        "resolution_hours_median": ("support", "resolution_hours_median"),
        "resolution_hours_p90": ("support", "resolution_hours_p90"),
        "referral_rate": ("referral", "rate"),
        "visitors": ("visitors",),
        "website_visitors": ("visitors",),
    }
    if metric_id in simple:
        v = _get(doc, *simple[metric_id])
        return None if v is None else float(v)
    if metric_id == "stage_conversion":
        stages = doc.get("stages") or []
        if not stages or not stages[0].get("reached"):
            return None
        return stages[-1]["reached"] / stages[0]["reached"]
    return None


def metric_history(doc: dict[str, Any], metric_id: str) -> list[float]:
    """The metric's monthly (or per-cohort) values inside the period, oldest first, nulls dropped."""
    rows: list[Any] = []
    if metric_id in _MONTHLY or metric_id == "expansion_mrr":
        rows = [m.get(metric_id) for m in _get(doc, "revenue", "months") or []]
    elif metric_id == "cac":
        rows = [m.get("cac") for m in _get(doc, "acquisition", "months") or []]
    elif metric_id == "activation_rate":
        rows = [
            c.get("activation_rate")
            for c in _get(doc, "onboarding", "cohorts") or []
            if c.get("complete")
        ]
    elif metric_id in ("ttfv_days_median",):
        rows = [c.get("median") for c in _get(doc, "onboarding", "ttfv_by_cohort") or []]
    elif metric_id == "nps":
        rows = [m.get("score") for m in _get(doc, "nps", "by_month") or []]
    elif metric_id == "branded_search_share":
        rows = [m.get("share") for m in _get(doc, "acquisition", "branded_search_months") or []]
    elif metric_id == "referral_rate":
        rows = [m.get("referral_rate") for m in _get(doc, "referral", "months") or []]
    return [float(v) for v in rows if v is not None]


def _meets(value: float, target: float, higher_is_better: bool) -> bool:
    return value >= target if higher_is_better else value <= target


def evaluate_goal(
    goal: Goal,
    doc: dict[str, Any],
    *,
    period: tuple[str, str],
    stage_ids: list[str],
    account_columns: list[str] | None = None,
) -> dict[str, Any]:
    """Evaluate one SMART goal against a metrics document (of the goal's segment, when it has one).

    Returns the ``metrics.json: goals`` entry: id, metric, baseline, current,
    target, deadline, progress, status, plus ``time_elapsed``, ``checks`` and
    ``notes``.

    Examples:
        >>> import datetime as dt
        >>> g = Goal(id="g", metric="nps", target=30, baseline=10, deadline=dt.date(2025, 12, 31))
        >>> doc = {"nps": {"overall": {"score": 20.0}}}
        >>> r = evaluate_goal(g, doc, period=("2025-01", "2025-06"), stage_ids=["advocacy"])
        >>> r["progress"], r["status"]
        (0.5, 'on_track')
    """
    meta = get_metric(goal.metric)
    notes: list[str] = []
    current = metric_value(doc, goal.metric) if meta else None
    history = metric_history(doc, goal.metric) if meta else []
    baseline = goal.baseline
    baseline_source = "client.yaml"
    if baseline is None:
        baseline = history[0] if history else current
        baseline_source = "data"
    start = goal.start or dt.date.fromisoformat(period[0] + "-01")
    # the period's last day: the day before the first day of the month after it
    after = month_from_index(month_index(period[1]) + 1)
    as_of = dt.date.fromisoformat(after + "-01") - dt.timedelta(days=1)
    span = (goal.deadline - start).days
    elapsed = None if span <= 0 else min(1.0, max(0.0, (as_of - start).days / span))

    higher = meta.higher_is_better if meta else True
    progress = None
    if current is not None and baseline is not None:
        if _meets(baseline, goal.target, higher):
            # A goal to hold a level the baseline already met: all or nothing.
            progress = 1.0 if _meets(current, goal.target, higher) else 0.0
            notes.append("the baseline already met the target: the goal is to hold it")
        else:
            progress = (current - baseline) / (goal.target - baseline)

    if meta is None:
        status = None
        notes.append(f"metric {goal.metric!r} is not in the catalogue")
    elif current is None:
        status = None
        notes.append("the current value cannot be computed from the data")
    elif _meets(current, goal.target, higher):
        status = "achieved"
    elif as_of >= goal.deadline:
        status = "off_track"
    elif progress is not None and elapsed is not None and progress >= elapsed:
        status = "on_track"
    elif progress is not None and elapsed is not None and progress >= 0.5 * elapsed:
        status = "at_risk"
    else:
        status = "off_track"

    seg_ok = True
    if goal.segment:
        cols = set(account_columns or SEGMENT_COLUMNS)
        bad = [k for k in goal.segment if k not in cols]
        if bad:
            seg_ok = False
            notes.append(f"segment column {bad[0]!r} is not an accounts column")
    achievable: bool | None = None
    if history and len(history) >= 2:
        lo, hi = min(history), max(history)
        width = (hi - lo) or abs(hi) * 0.1 or 1.0
        achievable = lo - width <= goal.target <= hi + width
        if not achievable:
            notes.append(
                f"target {goal.target:g} lies far outside the metric's history ({lo:.3g} to {hi:.3g})"
            )
    relevant_stage = stage_for_template(goal.metric, stage_ids)
    checks = {
        "specific": meta is not None and seg_ok,
        "measurable": baseline is not None and current is not None,
        "achievable": achievable,
        "relevant": relevant_stage is not None,
        "time_bound": span > 0,
    }
    if span <= 0:
        notes.append("the deadline is not after the goal's start")
    return {
        "id": goal.id,
        "metric": goal.metric,
        "label": goal.label or (meta.label if meta else goal.metric),
        "segment": dict(goal.segment) if goal.segment else None,
        "baseline": baseline,
        "baseline_source": baseline_source,
        "current": current,
        "target": goal.target,
        "deadline": goal.deadline.isoformat(),
        "progress": progress,
        "time_elapsed": elapsed,
        "status": status,
        "stage": relevant_stage,
        "checks": checks,
        "notes": notes,
    }


def evaluate_goals(
    goals: list[Goal],
    doc: dict[str, Any],
    *,
    period: tuple[str, str],
    stage_ids: list[str],
    segment_doc: Callable[[dict[str, str], str], dict[str, Any]] | None = None,
    account_columns: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Evaluate every goal; a goal with a segment reads ``segment_doc(segment, metric)``."""
    out = []
    for g in goals:
        d = doc
        if g.segment and segment_doc is not None:
            cols = set(account_columns or SEGMENT_COLUMNS)
            if all(k in cols for k in g.segment):
                d = segment_doc(dict(g.segment), g.metric)
        out.append(
            evaluate_goal(g, d, period=period, stage_ids=stage_ids, account_columns=account_columns)
        )
    return out
