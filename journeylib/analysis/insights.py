"""Insights for the analysis notebooks: goals in words, stage KPIs, pain points, moments.

Everything here reads the metrics document (``jl.metrics_document``) or calls
the metric functions, so the numbers are the report's numbers; this module
only selects, ranks and explains them:

* :func:`goals_table` and :func:`goal_explanations` (notebook 01): the SMART
  goals of the document, one row and one plain-words paragraph per goal;
* :func:`stage_kpis` (notebook 05): the KPIs each template stage lists, with
  their values and monthly trend;
* :func:`pain_points` (notebook 05): low-NPS stages, negative comment themes,
  slow ticket categories, stage drop-offs and stalls, ranked by severity;
* :func:`moments` (notebook 05): the most positive and negative comments;
* :func:`touchpoint_conversion` (notebook 03): which touchpoints go with
  becoming a paying customer.

Client text (comments, labels) is returned as data; whoever shows it escapes
it (``journeylib.present.tables.frame_html`` does). The Markdown returned by
:func:`goal_explanations` is escaped here.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl

from journeylib.metrics import feedback, stages, support
from journeylib.metrics.catalog import get_metric
from journeylib.metrics.goals import metric_history, metric_value

__all__ = [
    "CHECK_NAMES",
    "NO_GOALS_HELP",
    "SEVERITY_ORDER",
    "event_mapping_snippet",
    "format_metric",
    "goal_explanations",
    "goals_table",
    "moments",
    "pain_points",
    "round_or_none",
    "stage_kpis",
    "stage_notes",
    "stream_in_period",
    "touchpoint_channel_mix",
    "touchpoint_conversion",
    "touchpoint_details",
    "trend_of",
]

#: The SMART checks of a goal, in letter order: (key of ``checks``, letter, name).
CHECK_NAMES: tuple[tuple[str, str, str], ...] = (
    ("specific", "S", "Specific"),
    ("measurable", "M", "Measurable"),
    ("achievable", "A", "Achievable"),
    ("relevant", "R", "Relevant"),
    ("time_bound", "T", "Time-bound"),
)

#: Pain-point severities, most severe first.
SEVERITY_ORDER: tuple[str, ...] = ("high", "medium", "low")

_STATUS_WORDS = {
    "achieved": "achieved",
    "on_track": "on track",
    "at_risk": "at risk",
    "off_track": "off track",
}


# ---------------------------------------------------------------- formatting
def format_metric(value: Any, unit: str | None, *, currency: str = "") -> str:
    """A metric value as readable text for its catalogue unit.

    Examples:
        >>> format_metric(0.1234, "fraction"), format_metric(10.55, "days")
        ('12.3%', '10.6 days')
        >>> format_metric(1234.5, "currency", currency="USD"), format_metric(None, "nps")
        ('1,234.50 USD', '—')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    v = float(value)
    if unit == "fraction":
        return f"{100 * v:.1f}%"
    if unit == "days":
        return f"{v:.1f} days"
    if unit == "hours":
        return f"{v:.1f} h"
    if unit == "months":
        return f"{v:.1f} months"
    if unit == "currency":
        return f"{v:,.2f} {currency}".rstrip()
    if unit == "count":
        return f"{v:,.0f}"
    if unit == "nps":
        return f"{v:.1f}"
    return f"{v:,.2f}"


def trend_of(history: Sequence[float], *, flat_within: float = 0.05) -> str | None:
    """Direction of a monthly series: ``up``, ``down`` or ``flat`` (None with fewer than 3 points).

    The least-squares line through the points gives the change over the
    series; it is ``flat`` when that change is within ``flat_within`` of the
    series' mean absolute value.

    Examples:
        >>> trend_of([1.0, 2.0, 3.0]), trend_of([3.0, 2.9, 3.05]), trend_of([1.0, 2.0])
        ('up', 'flat', None)
    """
    h = [float(v) for v in history if v is not None and not math.isnan(float(v))]
    if len(h) < 3:
        return None
    slope = float(np.polyfit(np.arange(len(h), dtype=float), np.array(h), 1)[0])
    change = slope * (len(h) - 1)
    scale = float(np.mean(np.abs(h))) or 1e-12
    if abs(change) <= flat_within * scale:
        return "flat"
    return "up" if change > 0 else "down"


# ---------------------------------------------------------------- goals (notebook 01)
_GOAL_SCHEMA = {
    "id": pl.String,
    "label": pl.String,
    "metric": pl.String,
    "stage": pl.String,
    "segment": pl.String,
    "S": pl.String,
    "M": pl.String,
    "A": pl.String,
    "R": pl.String,
    "T": pl.String,
    "baseline": pl.String,
    "baseline_from": pl.String,
    "current": pl.String,
    "target": pl.String,
    "deadline": pl.String,
    "progress": pl.Float64,
    "time_elapsed": pl.Float64,
    "status": pl.String,
}


def _check_mark(v: Any) -> str:
    return "yes" if v is True else "no" if v is False else "?"


def _segment_text(segment: dict[str, Any] | None) -> str:
    if not segment:
        return "all accounts"
    return ", ".join(f"{k} = {v}" for k, v in segment.items())


def goals_table(doc: dict[str, Any]) -> pl.DataFrame:
    """The goals of a metrics document as one table row each, values formatted by unit.

    ``S M A R T`` read ``yes``/``no``/``?`` (``?``: cannot be judged, e.g.
    achievability without a history); ``baseline_from`` says whether the
    baseline came from ``client.yaml`` or from the data; ``progress`` and
    ``time_elapsed`` stay fractions.

    Examples:
        >>> g = {"id": "g", "metric": "nps", "label": "More fans", "baseline": 10.0,
        ...      "baseline_source": "client.yaml", "current": 20.0, "target": 30.0,
        ...      "deadline": "2025-12-31", "progress": 0.5, "time_elapsed": 0.4,
        ...      "status": "on_track", "stage": "advocacy", "segment": None,
        ...      "checks": {"specific": True, "measurable": True, "achievable": None,
        ...                 "relevant": True, "time_bound": True}}
        >>> goals_table({"goals": [g], "currency": "USD"}).select("S", "A", "current", "status").row(0)
        ('yes', '?', '20.0', 'on track')
    """
    cur = doc.get("currency") or ""
    rows = []
    for g in doc.get("goals") or []:
        meta = get_metric(g["metric"])
        unit = meta.unit if meta else None
        checks = g.get("checks") or {}
        rows.append(
            {
                "id": g["id"],
                "label": g.get("label") or g["id"],
                "metric": g["metric"],
                "stage": g.get("stage"),
                "segment": _segment_text(g.get("segment")),
                **{letter: _check_mark(checks.get(key)) for key, letter, _ in CHECK_NAMES},
                "baseline": format_metric(g.get("baseline"), unit, currency=cur),
                "baseline_from": g.get("baseline_source"),
                "current": format_metric(g.get("current"), unit, currency=cur),
                "target": format_metric(g.get("target"), unit, currency=cur),
                "deadline": g.get("deadline"),
                "progress": g.get("progress"),
                "time_elapsed": g.get("time_elapsed"),
                "status": _STATUS_WORDS.get(g.get("status") or "", "cannot be judged"),
            }
        )
    return (
        pl.DataFrame(rows, schema=_GOAL_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=_GOAL_SCHEMA)
    )


def _goal_paragraph(g: dict[str, Any], currency: str) -> str:
    esc = html.escape
    meta = get_metric(g["metric"])
    unit = meta.unit if meta else None

    def fmt(v: Any) -> str:
        return format_metric(v, unit, currency=currency)

    label = esc(str(g.get("label") or g["id"]))
    head = f"**{label}** (goal `{esc(g['id'])}`, metric `{esc(g['metric'])}`"
    if meta is not None:
        head += ", higher is better)" if meta.higher_is_better else ", lower is better)"
    else:
        head += ")"
    seg = g.get("segment")
    who = f" for the accounts with {esc(_segment_text(seg))}" if seg else ""
    src = (
        "set in client.yaml"
        if g.get("baseline_source") == "client.yaml"
        else "taken from the data (the metric's first month or cohort in the period)"
    )
    text = [
        f"{head}{who}. It started from {fmt(g.get('baseline'))} ({src}), stands at "
        f"{fmt(g.get('current'))} now, and should reach {fmt(g.get('target'))} by "
        f"{esc(str(g.get('deadline')))}."
    ]
    status = g.get("status")
    prog, elapsed = g.get("progress"), g.get("time_elapsed")
    if status == "achieved":
        text.append("The target is already met: keep the measure in view so it stays there.")
    elif status is None:
        notes = "; ".join(esc(str(n)) for n in g.get("notes") or []) or "the value is missing"
        text.append(f"Its status cannot be judged: {notes}.")
    else:
        if prog is not None and elapsed is not None:
            if prog < 0:
                way = "the metric has moved away from the target since the baseline"
            else:
                way = f"{100 * prog:.0f}% of the way from the baseline to the target is covered"
            text.append(
                f"{100 * elapsed:.0f}% of the time up to the deadline has passed and {way}."
            )
        if status == "on_track":
            text.append("Progress keeps pace with the time elapsed: **on track**.")
        elif status == "at_risk":
            text.append(
                "Progress lags behind the time elapsed but is at least half of it: **at risk**; "
                "look at what holds it back before the gap grows."
            )
        else:
            text.append(
                "Progress is less than half of the time elapsed (or the deadline has passed): "
                "**off track**; the plan behind this goal needs a rethink or the target a review."
            )
    failed = [name for key, _, name in CHECK_NAMES if (g.get("checks") or {}).get(key) is False]
    if failed:
        text.append("SMART check not passed: " + ", ".join(failed) + ".")
    for n in g.get("notes") or []:
        if status is not None:
            text.append(f"Note: {esc(str(n))}.")
    if meta is not None:
        text.append(f"*How it is measured:* {esc(meta.definition)}")
    return " ".join(text)


def goal_explanations(doc: dict[str, Any]) -> list[str]:
    """One Markdown paragraph per goal, explaining its status in plain words.

    Client text (labels, ids, segment values) is HTML-escaped; each paragraph
    ends with the metric's definition from the catalogue.

    Examples:
        >>> g = {"id": "g", "metric": "nps", "label": "<b>fans</b>", "baseline": 10.0,
        ...      "baseline_source": "client.yaml", "current": 35.0, "target": 30.0,
        ...      "deadline": "2025-12-31", "progress": 1.25, "time_elapsed": 0.4,
        ...      "status": "achieved", "checks": {}, "notes": []}
        >>> goal_explanations({"goals": [g], "currency": "USD"})[0][:40]
        '**&lt;b&gt;fans&lt;/b&gt;** (goal `g`, m'
    """
    cur = doc.get("currency") or ""
    return [_goal_paragraph(g, cur) for g in doc.get("goals") or []]


# ---------------------------------------------------------------- stage KPIs (notebook 05)
_KPI_SCHEMA = {
    "stage": pl.String,
    "metric": pl.String,
    "label": pl.String,
    "value": pl.Float64,
    "unit": pl.String,
    "trend": pl.String,
    "value_text": pl.String,
    "trend_good": pl.Boolean,
}


def stage_kpis(doc: dict[str, Any], template: Any) -> pl.DataFrame:
    """The KPIs each stage of the template lists, with current values and trend.

    Values come from :func:`journeylib.metrics.goals.metric_value` (the same
    reading as the goals: whole period, or the last month for monthly
    metrics); the trend from :func:`trend_of` over
    :func:`~journeylib.metrics.goals.metric_history` (monthly or per-cohort
    values; null when the metric has no history). Two KPIs are read *per
    stage*, as a stage's KPI naturally means: ``stage_conversion`` is the
    stage's conversion to the next stage of the funnel (``doc['stages']``; null
    for the last stage), and ``nps`` is the stage's own NPS
    (``doc['nps']['by_stage']``) where the stage has scored answers, else the
    overall NPS; neither has a trend. ``trend_good`` says whether
    the direction is the good one for the metric (null when flat or unknown).
    A KPI the catalogue does not know is listed with null value and unit.

    Returns:
        ``pl.DataFrame[stage, metric, label, value, unit, trend, value_text,
        trend_good]`` in template order.

    Examples:
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [{"id": "advocacy", "label": "A",
        ...     "kpis": ["nps"], "touchpoints": []}]})
        >>> doc = {"nps": {"overall": {"score": 20.0}, "by_month": [
        ...     {"score": 10.0}, {"score": 15.0}, {"score": 20.0}]}}
        >>> stage_kpis(doc, tpl).select("stage", "metric", "value", "trend", "trend_good").rows()
        [('advocacy', 'nps', 20.0, 'up', True)]
    """
    cur = doc.get("currency") or ""
    funnel = {r["id"]: r for r in doc.get("stages") or []}
    ids = [r["id"] for r in doc.get("stages") or []]
    stage_nps = {r["stage"]: r for r in ((doc.get("nps") or {}).get("by_stage") or [])}
    rows = []
    for stage in template.stages:
        for kpi in stage.kpis:
            meta = get_metric(kpi)
            value = metric_value(doc, kpi) if meta else None
            trend = trend_of(metric_history(doc, kpi)) if meta else None
            label = meta.label if meta else kpi
            if kpi == "stage_conversion" and stage.id in funnel:
                # a stage's own conversion: to the next stage of the funnel
                i = ids.index(stage.id)
                nxt = funnel[ids[i + 1]] if i + 1 < len(ids) else None
                value = nxt.get("conversion_from_previous") if nxt else None
                label = f"{label} (to {nxt['label']})" if nxt else f"{label} (last stage)"
                trend = None
            elif kpi == "nps" and stage_nps.get(stage.id, {}).get("score") is not None:
                value = stage_nps[stage.id]["score"]
                label = f"{label} (this stage, {stage_nps[stage.id].get('responses', 0):,} answers)"
                trend = None
            good = None
            if meta is not None and trend in ("up", "down"):
                good = (trend == "up") == meta.higher_is_better
            rows.append(
                {
                    "stage": stage.id,
                    "metric": kpi,
                    "label": label,
                    "value": None if value is None else float(value),
                    "unit": meta.unit if meta else None,
                    "trend": trend,
                    "value_text": format_metric(value, meta.unit if meta else None, currency=cur),
                    "trend_good": good,
                }
            )
    return (
        pl.DataFrame(rows, schema=_KPI_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=_KPI_SCHEMA)
    )


# ---------------------------------------------------------------- pain points (notebook 05)
_PAIN_SCHEMA = {"stage": pl.String, "kind": pl.String, "evidence": pl.String, "severity": pl.String}


def _low_nps(doc: dict[str, Any], min_responses: int) -> list[dict[str, Any]]:
    nps = doc.get("nps") or {}
    overall = (nps.get("overall") or {}).get("score")
    out = []
    for r in nps.get("by_stage") or []:
        score, n = r.get("score"), r.get("responses") or 0
        if score is None or n < min_responses:
            continue
        gap = (overall - score) if overall is not None else 0.0
        if score >= 0 and gap < 10:
            continue
        sev = "high" if score < -20 or gap >= 30 else "medium" if score < 0 or gap >= 15 else "low"
        vs = f" against {overall:.0f} overall" if overall is not None else ""
        out.append(
            {
                "stage": r["stage"],
                "kind": "low_nps",
                "severity": sev,
                "evidence": f"NPS {score:.0f} from {n:,} responses{vs}",
            }
        )
    return out


def _negative_themes(
    surveys: pl.DataFrame, period: tuple[str, str], stage_order: list[str], min_mentions: int
) -> list[dict[str, Any]]:
    scored = feedback.comment_sentiment(surveys)
    neg = scored.filter(pl.col("sentiment") < 0)
    if neg.height == 0:
        return []
    themes = feedback.comment_themes(neg, period=period, stage_order=stage_order)
    totals = feedback.comment_themes(
        surveys, period=period, stage_order=stage_order, themes={"_": []}
    ).select("stage", pl.col("comments").alias("all_comments"))
    hits = themes.join(totals, on="stage", how="left", nulls_equal=True).filter(
        pl.col("mentions") >= min_mentions
    )
    out = []
    for r in hits.iter_rows(named=True):
        share = r["mentions"] / r["all_comments"] if r["all_comments"] else 0.0
        sev = "high" if share >= 0.2 else "medium" if share >= 0.1 else "low"
        theme = r["theme"].replace("_", " / ")  # bugs_reliability -> "bugs / reliability"
        score = (
            f"; their mean score is {r['mean_score']:.1f}" if r["mean_score"] is not None else ""
        )
        out.append(
            {
                "stage": r["stage"],
                "kind": "negative_comments",
                "severity": sev,
                "evidence": f"{r['mentions']} of {r['all_comments']} comments ({100 * share:.0f}%) "
                f"are negative about {theme}{score}",
            }
        )
    return out


def _slow_tickets(
    tickets: pl.DataFrame,
    doc: dict[str, Any],
    period: tuple[str, str],
    stage: str | None,
    min_tickets: int,
) -> list[dict[str, Any]]:
    overall = (doc.get("support") or {}).get("resolution_hours_median")
    if not overall:
        return []
    cats = support.resolution_by_category(tickets, period=period)
    out = []
    for r in cats.iter_rows(named=True):
        med = r["resolution_hours_median"]
        if med is None or r["opened"] < min_tickets:
            continue
        ratio = med / overall
        if ratio < 1.5:
            continue
        sev = "high" if ratio >= 3 else "medium" if ratio >= 2 else "low"
        sat = r.get("satisfaction_mean")
        sat_txt = f"; satisfaction {sat:.1f} of 5" if sat is not None else ""
        out.append(
            {
                "stage": stage,
                "kind": "slow_tickets",
                "severity": sev,
                "evidence": f"{r['category'] or '(no category)'} tickets take a median "
                f"{med:.1f} h to resolve, {ratio:.1f}× the {overall:.1f} h of all "
                f"tickets ({r['opened']:,} opened{sat_txt})",
            }
        )
    return out


def _drop_offs(doc: dict[str, Any], min_accounts: int) -> list[dict[str, Any]]:
    rows = doc.get("stages") or []
    cand = []
    for prev, cur in zip(rows, rows[1:], strict=False):
        conv = cur.get("conversion_from_previous")
        if conv is None or (prev.get("reached") or 0) < min_accounts:
            continue
        cand.append((conv, prev, cur))
    if not cand:
        return []
    lowest = min(c[0] for c in cand)
    out = []
    for conv, prev, cur in cand:
        if conv >= 0.5 and conv != lowest:
            continue
        sev = "high" if conv < 0.2 else "medium" if conv < 0.4 else "low"
        out.append(
            {
                "stage": prev["id"],
                "kind": "drop_off",
                "severity": sev,
                "evidence": f"of {prev['reached']:,} accounts that reached {prev['label']}, "
                f"{cur['reached']:,} ({100 * conv:.0f}%) went on to {cur['label']}",
            }
        )
    return out


def _stalls(
    stream: Any, accounts: Any, period: tuple[str, str], pairs: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    summary = stages.stall_summary(stream, accounts, period=period, stages=pairs)
    out = []
    for r in summary.head(max(summary.height - 1, 0)).iter_rows(named=True):  # last stage = done
        share, days = r["share"], r["median_days_since_last_event"]
        if share is None or share < 0.2 or days is None or days < 30:
            continue
        sev = "high" if share >= 0.4 else "medium" if share >= 0.25 else "low"
        out.append(
            {
                "stage": r["id"],
                "kind": "stall",
                "severity": sev,
                "evidence": f"{r['accounts']:,} accounts ({100 * share:.0f}%) got no further than "
                f"{r['label']}; their last activity was a median {days:.0f} days ago",
            }
        )
    return out


def pain_points(
    client: Any,
    doc: dict[str, Any],
    stream: Any,
    *,
    period: tuple[str, str],
    min_responses: int = 5,
    min_mentions: int = 3,
    min_tickets: int = 5,
    min_accounts: int = 20,
) -> pl.DataFrame:
    """Pain points along the journey from scores, comments, tickets and the stage funnel.

    Five kinds, each with a one-line evidence and a severity (high / medium / low):

    * ``low_nps``: a stage with at least ``min_responses`` scored responses and
      an NPS below 0 or at least 10 points under the overall NPS (high: below
      −20 or 30+ under; medium: below 0 or 15+ under);
    * ``negative_comments``: a comment theme (``feedback.comment_themes``)
      mentioned by at least ``min_mentions`` negative comments
      (``feedback.comment_sentiment`` < 0) of a stage (high: 20 %+ of the
      stage's comments; medium: 10 %+);
    * ``slow_tickets``: a ticket category (≥ ``min_tickets`` opened) whose median
      resolution time is 1.5× the overall median or more (high: 3×; medium:
      2×); its stage is the one the template maps ``ticket_opened`` to;
    * ``drop_off``: a stage whose next stage is reached by fewer than half of
      its accounts (always the lowest conversion; from stages with at least
      ``min_accounts``; high: under 20 %; medium: under 40 %), listed under
      the stage accounts stop in;
    * ``stall``: a stage (not the last) that is the furthest stage of 20 %+
      of the accounts, whose last activity was a median 30+ days ago
      (``stages.stall_summary``; high: 40 %+; medium: 25 %+).

    Sections whose table (surveys, tickets) is absent contribute nothing.

    Args:
        client: the loaded client (tables, template).
        doc: its metrics document.
        stream: its journey event stream.
        period: closed range of calendar months.
        min_responses: fewest scored responses for a stage's NPS to count.
        min_mentions: fewest negative comments for a theme to count.
        min_tickets: fewest tickets for a category to count.
        min_accounts: fewest accounts in a stage for its drop-off to count.

    Returns:
        ``pl.DataFrame[stage, kind, evidence, severity]``, most severe first,
        then in stage order.
    """
    template = client.template
    order = template.stage_ids
    pairs = [(s.id, s.label) for s in template.stages]
    surveys = client.table("surveys")
    tickets = client.table("tickets")
    rows: list[dict[str, Any]] = []
    rows += _low_nps(doc, min_responses)
    if surveys is not None and "comment" in surveys.columns:
        rows += _negative_themes(surveys, period, order, min_mentions)
    if tickets is not None:
        ticket_stage = template.event_map().get("ticket_opened", (None, None))[1]
        rows += _slow_tickets(tickets, doc, period, ticket_stage, min_tickets)
    rows += _drop_offs(doc, min_accounts)
    rows += _stalls(stream, client.tables["accounts"], period, pairs)
    if not rows:
        return pl.DataFrame(schema=_PAIN_SCHEMA)
    kinds = ["low_nps", "negative_comments", "slow_tickets", "drop_off", "stall"]
    return (
        pl.DataFrame(rows, schema=_PAIN_SCHEMA)
        .with_columns(
            pl.col("severity")
            .replace_strict({s: i for i, s in enumerate(SEVERITY_ORDER)}, return_dtype=pl.Int64)
            .alias("_sev"),
            pl.col("stage")
            .replace_strict(
                {s: i for i, s in enumerate(order)}, default=None, return_dtype=pl.Int64
            )
            .alias("_pos"),
            pl.col("kind")
            .replace_strict({k: i for i, k in enumerate(kinds)}, return_dtype=pl.Int64)
            .alias("_kind"),
        )
        .sort(["_sev", "_pos", "_kind", "evidence"], nulls_last=True)
        .select(list(_PAIN_SCHEMA))
    )


# ---------------------------------------------------------------- moments (notebook 05)
_MOMENT_SCHEMA = {
    "stage": pl.String,
    "comment": pl.String,
    "responses": pl.Int64,
    "score": pl.Float64,
    "sentiment": pl.Float64,
}


def moments(
    surveys: Any, *, period: tuple[str, str], n: int = 5
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Moments of delight and of frustration: the most positive and most negative comments.

    Over the non-blank comments dated in the period, grouped by (stage,
    comment) so a comment given many times is listed once with its count.
    Each gets ``sentiment`` (``feedback.comment_sentiment``) and ``score`` (the
    mean NPS score of its responses, null when unscored). Delight: comments
    with sentiment > 0, ranked by sentiment + (score − 5) / 5 (the score term
    left out when unscored), then by responses; frustration: sentiment < 0,
    ranked the other way. The texts are client text: escape them when shown.

    Returns:
        ``(delight, frustration)``, each ``pl.DataFrame[stage, comment,
        responses, score, sentiment]`` with at most ``n`` rows.

    Examples:
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 5, tzinfo=dt.UTC)
        >>> s = pl.DataFrame({"responded_at": [t] * 4, "stage": ["a", "a", "b", "b"],
        ...     "score": [10, 9, 2, None], "comment": ["love it", "love it", "slow and buggy", ""]})
        >>> good, bad = moments(s, period=("2024-01", "2024-01"))
        >>> good.rows(), bad["comment"].to_list()
        ([('a', 'love it', 2, 9.5, 1.0)], ['slow and buggy'])
    """
    frame = feedback.comment_sentiment(surveys)
    first = int(period[0][:4]) * 12 + int(period[0][5:7]) - 1
    last = int(period[1][:4]) * 12 + int(period[1][5:7]) - 1
    mi = (
        pl.col("responded_at").dt.year().cast(pl.Int64) * 12
        + pl.col("responded_at").dt.month().cast(pl.Int64)
        - 1
    )
    stage = pl.col("stage").cast(pl.String) if "stage" in frame.columns else pl.lit(None, pl.String)
    score = (
        pl.col("score").cast(pl.Float64) if "score" in frame.columns else pl.lit(None, pl.Float64)
    )
    grouped = (
        frame.filter(mi >= first, mi <= last, pl.col("sentiment").is_not_null())
        .select(
            stage.alias("stage"),
            pl.col("comment").str.strip_chars(),
            score.alias("score"),
            "sentiment",
        )
        .group_by("stage", "comment")
        .agg(
            pl.len().cast(pl.Int64).alias("responses"),
            pl.col("score").mean(),
            pl.col("sentiment").first(),
        )
        .with_columns(
            (pl.col("sentiment") + ((pl.col("score") - 5) / 5).fill_null(0.0)).alias("_rank")
        )
    )
    delight = (
        grouped.filter(pl.col("sentiment") > 0)
        .sort(
            ["_rank", "responses", "stage", "comment"],
            descending=[True, True, False, False],
            nulls_last=True,
        )
        .head(n)
        .select(list(_MOMENT_SCHEMA))
        .cast(_MOMENT_SCHEMA)
    )
    frustration = (
        grouped.filter(pl.col("sentiment") < 0)
        .sort(
            ["_rank", "responses", "stage", "comment"],
            descending=[False, True, False, False],
            nulls_last=True,
        )
        .head(n)
        .select(list(_MOMENT_SCHEMA))
        .cast(_MOMENT_SCHEMA)
    )
    return delight, frustration


# ---------------------------------------------------------------- touchpoints (notebook 03)
_TPC_SCHEMA = {
    "touchpoint": pl.String,
    "stage": pl.String,
    "accounts": pl.Int64,
    "paying": pl.Int64,
    "not_paying": pl.Int64,
    "conversion": pl.Float64,
    "lift": pl.Float64,
}


def touchpoint_conversion(
    stream: Any, subscriptions: Any | None, *, period: tuple[str, str] | None = None
) -> pl.DataFrame:
    """Which touchpoints go with conversion: per touchpoint, the share of its accounts that paid.

    Accounts are those of the stream (rows with an account), with their
    events up to the period's end (the whole stream without a period). An
    account *paid* when it has a month with MRR > 0 up to the period's end;
    only touches **before** its first paid month count for a paying account
    (touches after buying cannot explain the purchase), all touches for the
    others. ``conversion`` = paying / accounts touching the touchpoint;
    ``lift`` = conversion / the share of all stream accounts that paid (above
    1: the touchpoint goes with buying more than average; an association, not
    a cause). Without subscriptions nobody paid and conversion is null.

    Returns:
        ``pl.DataFrame[touchpoint, stage, accounts, paying, not_paying,
        conversion, lift]`` for the touchpoints touched, highest conversion first.

    Examples:
        >>> import datetime as dt
        >>> t = lambda m: dt.datetime(2024, m, 3, tzinfo=dt.UTC)
        >>> s = pl.DataFrame({"account_id": ["a", "a", "b"], "timestamp": [t(1), t(3), t(1)],
        ...     "touchpoint": ["demo", "renewal", "blog"], "stage": ["c", "r", "a"]})
        >>> subs = pl.DataFrame({"account_id": ["a"], "month": [dt.date(2024, 2, 1)], "mrr": [9.0]})
        >>> touchpoint_conversion(s, subs).select("touchpoint", "accounts", "conversion", "lift").rows()
        [('demo', 1, 1.0, 2.0), ('blog', 1, 0.0, 0.0)]
    """
    lf = nw.from_native(stream)
    lf = lf.lazy() if isinstance(lf, nw.DataFrame) else lf
    lf = lf.filter(~nw.col("account_id").is_null())
    if period is not None:
        last = int(period[1][:4]) * 12 + int(period[1][5:7]) - 1
        lf = lf.filter(
            nw.col("timestamp").dt.year().cast(nw.Int64()) * 12
            + nw.col("timestamp").dt.month().cast(nw.Int64())
            - 1
            <= last
        )
    else:
        last = None
    touched = (
        lf.filter(~nw.col("touchpoint").is_null())
        .group_by("account_id", "touchpoint")
        .agg(nw.col("timestamp").min().alias("first_at"), nw.col("stage").min().alias("stage"))
        .collect(backend="polars")
        .to_native()
    )
    all_accounts = lf.select("account_id").unique().collect(backend="polars").to_native()
    if subscriptions is not None:
        subs = nw.from_native(subscriptions)
        subs = subs.lazy() if isinstance(subs, nw.DataFrame) else subs
        paid = subs.filter(nw.col("mrr") > 0).collect(backend="polars").to_native()
        paid = paid.with_columns(
            (pl.col("month").dt.year().cast(pl.Int64) * 12 + pl.col("month").dt.month() - 1).alias(
                "_mi"
            )
        )
        if last is not None:
            paid = paid.filter(pl.col("_mi") <= last)
        first_paid = paid.group_by("account_id").agg(
            pl.col("month").min().cast(pl.Datetime("us", "UTC")).alias("paid_from")
        )
    else:
        first_paid = pl.DataFrame(
            schema={"account_id": pl.String, "paid_from": pl.Datetime("us", "UTC")}
        )
    n_all = all_accounts.height
    n_paid = all_accounts.join(first_paid, on="account_id", how="inner").height
    base = n_paid / n_all if n_all and subscriptions is not None else None
    per = (
        touched.with_columns(pl.col("first_at").cast(pl.Datetime("us", "UTC")))
        .join(first_paid, on="account_id", how="left")
        .filter(pl.col("paid_from").is_null() | (pl.col("first_at") < pl.col("paid_from")))
        .group_by("touchpoint")
        .agg(
            pl.col("stage").drop_nulls().first(),
            pl.len().cast(pl.Int64).alias("accounts"),
            pl.col("paid_from").is_not_null().sum().cast(pl.Int64).alias("paying"),
        )
        .with_columns((pl.col("accounts") - pl.col("paying")).alias("not_paying"))
    )
    if subscriptions is None:
        per = per.with_columns(
            pl.lit(None, pl.Int64).alias("paying"),
            pl.lit(None, pl.Int64).alias("not_paying"),
            pl.lit(None, pl.Float64).alias("conversion"),
        )
    else:
        per = per.with_columns((pl.col("paying") / pl.col("accounts")).alias("conversion"))
    per = per.with_columns(
        (pl.col("conversion") / base if base else pl.lit(None, pl.Float64)).alias("lift")
    )
    return (
        per.sort(
            ["conversion", "accounts", "touchpoint"],
            descending=[True, True, False],
            nulls_last=True,
        )
        .select(list(_TPC_SCHEMA))
        .cast(_TPC_SCHEMA)
    )


# ---------------------------------------------------------------- notebook helpers
#: Shown by notebook 01 when client.yaml has no goals (Markdown).
NO_GOALS_HELP = """\
This client has no goals yet. Add them to `client.yaml` under `goals:`, one entry per goal:
a catalogue metric (see the table of metrics below), a target and a deadline; a baseline
(taken from the data when left out), a segment of accounts (optional) and a start date
(optional, default: the first month of the period). For example:

```yaml
goals:
  - id: faster_value
    label: Cut time to first value with guided setup
    metric: ttfv_days_median      # a metric id from the catalogue
    baseline: 30                  # optional: computed from the data when absent
    target: 20
    deadline: 2026-06-30
    segment: {persona: smb_founder}   # optional
```

Then run this notebook again (or `journey run CLIENT`)."""


def stream_in_period(stream: pl.DataFrame, period: tuple[str, str]) -> pl.DataFrame:
    """The rows of a (polars) journey stream dated in the period's months.

    Examples:
        >>> import datetime as dt
        >>> s = pl.DataFrame({"timestamp": [dt.datetime(2024, m, 1, tzinfo=dt.UTC) for m in (1, 2, 3)]})
        >>> stream_in_period(s, ("2024-02", "2024-03")).height
        2
    """
    month = pl.col("timestamp").dt.strftime("%Y-%m")
    return stream.filter(month >= period[0], month <= period[1])


def touchpoint_channel_mix(stream: Any, *, top: int = 3) -> pl.DataFrame:
    """Per touchpoint, its events' most common marketing channels (``channel``) as text.

    Over the mapped rows of the stream that carry a channel; shares are of
    those rows. Touchpoints whose events carry no channel are absent.

    Returns:
        ``pl.DataFrame[touchpoint, channel_mix]``, e.g. ``"organic_search 60%, social 40%"``.

    Examples:
        >>> s = pl.DataFrame({"touchpoint": ["web", "web", "web", "app"],
        ...     "channel": ["seo", "seo", "ads", None]})
        >>> touchpoint_channel_mix(s).rows()
        [('web', 'seo 67%, ads 33%')]
    """
    lf = nw.from_native(stream)
    lf = lf.lazy() if isinstance(lf, nw.DataFrame) else lf
    counts = (
        lf.filter(~nw.col("touchpoint").is_null(), ~nw.col("channel").is_null())
        .group_by("touchpoint", "channel")
        .agg(nw.len().alias("n"))
        .collect(backend="polars")
        .to_native()
    )
    return (
        counts.with_columns((pl.col("n") / pl.col("n").sum().over("touchpoint")).alias("share"))
        .sort(["touchpoint", "n", "channel"], descending=[False, True, False])
        .with_columns(pl.int_range(pl.len()).over("touchpoint").alias("_rank"))
        .filter(pl.col("_rank") < top)
        .group_by("touchpoint", maintain_order=True)
        .agg(
            pl.format("{} {}%", pl.col("channel"), (pl.col("share") * 100).round(0).cast(pl.Int64))
            .str.join(", ")
            .alias("channel_mix")
        )
        .select(pl.col("touchpoint").cast(pl.String), pl.col("channel_mix").cast(pl.String))
    )


_TP_FIELDS = (
    "description",
    "customer_goal",
    "company_goal",
    "customer_does",
    "company_does",
    "customer_feels",
    "desired_outcome",
    "feeds_into",
)


def touchpoint_details(
    template: Any, fields: Sequence[str] | None = None, *, drop_empty: bool = True
) -> pl.DataFrame:
    """The template's qualitative description of every touchpoint, in template order.

    Args:
        template: the journey template.
        fields: touchpoint fields to show (default all: description,
            customer_goal, company_goal, customer_does, company_does,
            customer_feels, desired_outcome, feeds_into).
        drop_empty: leave out the fields no touchpoint fills.

    Returns:
        ``pl.DataFrame[stage, touchpoint, label, kind, *fields]`` (``feeds_into``
        joined as text; missing values null).

    Examples:
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [{"id": "a", "label": "A",
        ...     "touchpoints": [{"id": "web", "events": ["pv"], "customer_goal": "learn",
        ...                      "feeds_into": ["demo"]}]}]})
        >>> touchpoint_details(tpl).columns
        ['stage', 'touchpoint', 'label', 'kind', 'customer_goal', 'feeds_into']
        >>> touchpoint_details(tpl, ["customer_goal"]).row(0)
        ('a', 'web', 'web', None, 'learn')
    """
    wanted = list(_TP_FIELDS if fields is None else fields)
    rows = []
    for stage in template.stages:
        for tp in stage.touchpoints:
            row = {"stage": stage.id, "touchpoint": tp.id, "label": tp.display, "kind": tp.kind}
            for f in wanted:
                v = getattr(tp, f, None)
                row[f] = (", ".join(v) if isinstance(v, list) else v) or None
            rows.append(row)
    schema = {c: pl.String for c in ("stage", "touchpoint", "label", "kind", *wanted)}
    out = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    if drop_empty and out.height:
        out = out.select(
            [c for c in out.columns if c not in wanted or out[c].null_count() < out.height]
        )
    return out


def stage_notes(template: Any, fields: Sequence[str]) -> pl.DataFrame:
    """The template's qualitative content per stage (actions, emotions, pain points, …) as text.

    Args:
        template: the journey template.
        fields: stage fields to show, e.g. ``["emotions", "pain_points", "opportunities"]``.

    Returns:
        ``pl.DataFrame[stage, label, *fields]``; list fields joined with "; ".

    Examples:
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [{"id": "a", "label": "A",
        ...     "emotions": ["curious", "sceptical"], "touchpoints": []}]})
        >>> stage_notes(tpl, ["emotions"]).row(0)
        ('a', 'A', 'curious; sceptical')
    """
    rows = []
    for stage in template.stages:
        row = {"stage": stage.id, "label": stage.label}
        for f in fields:
            v = getattr(stage, f, None)
            row[f] = ("; ".join(v) or None) if isinstance(v, list) else v
        rows.append(row)
    schema = {"stage": pl.String, "label": pl.String, **{f: pl.String for f in fields}}
    return pl.DataFrame(rows, schema=schema, orient="row")


def event_mapping_snippet(template: Any, events: Sequence[str]) -> str:
    """An example ``event_mapping`` block for client.yaml that maps unmapped ``events``.

    ``event_mapping`` *replaces* a touchpoint's event list, so the example
    repeats the touchpoint's current events and adds the new ones; the analyst
    picks the right touchpoint (the example uses the template's last
    touchpoint of a direct kind, else its last touchpoint). Plain text: escape it when shown.

    Examples:
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [{"id": "a", "label": "A",
        ...     "touchpoints": [{"id": "app", "events": ["login"], "kind": "direct"}]}]})
        >>> print(event_mapping_snippet(tpl, ["help_search"]))
        event_mapping:
          # touchpoint id: [its current events ..., the events to add]
          app: [login, help_search]
    """
    tps = template.touchpoints
    if not tps:
        return "event_mapping: {}"
    direct = [tp for tp in tps if tp.kind == "direct"]
    tp = (direct or tps)[-1]
    evs = list(tp.events) + [e for e in events if e not in tp.events]
    return (
        "event_mapping:\n"
        "  # touchpoint id: [its current events ..., the events to add]\n"
        f"  {tp.id}: [{', '.join(evs)}]"
    )


def round_or_none(value: Any, digits: int = 4) -> float | None:
    """``round(value, digits)`` as a float, or None for a missing or NaN value (recorded results).

    Examples:
        >>> round_or_none(0.123456), round_or_none(None), round_or_none(float("nan"))
        (0.1235, None, None)
    """
    if value is None:
        return None
    v = float(value)
    return None if math.isnan(v) else round(v, digits)
