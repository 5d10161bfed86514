"""Stages of the journey: their KPIs, pain points, template notes and briefs.

The numbers come from the metrics document (the report's numbers) or from the
stage metrics of :mod:`journeylib.metrics.stages`; this module selects, ranks
and explains them per template stage:

* :func:`stage_pairs`: the template's stages as ``(id, label)`` pairs;
* :func:`stage_kpis`: the KPIs each stage lists, with values and monthly trend;
* :func:`pain_points`: low-NPS stages, negative comment themes, slow ticket
  categories, stage drop-offs and stalls, ranked by :data:`SEVERITY_ORDER`;
* :func:`stage_notes`, :func:`stage_entry_summary`, :func:`stage_briefs`: the
  template's qualitative content per stage, beside the stage's numbers.

Client and template text is returned as data (escape it when shown), except in
the Markdown of :func:`stage_briefs`, which is escaped here. The workbench's own
words (KPI label suffixes, pain-point evidence, the briefs) are in the current
language (:mod:`journeylib.i18n`); ids (stages, kinds, severities, trends) stay.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import polars as pl

from journeylib.analysis.goals import trend_of
from journeylib.formatting import format_value
from journeylib.frames import to_polars
from journeylib.i18n import gettext as _
from journeylib.metrics.catalog import get_metric
from journeylib.metrics.feedback import comment_sentiment, comment_themes
from journeylib.metrics.goals import metric_history, metric_value
from journeylib.metrics.stages import stall_summary
from journeylib.metrics.support import resolution_by_category

__all__ = [
    "SEVERITY_ORDER",
    "largest_drop",
    "pain_points",
    "stage_briefs",
    "stage_entry_summary",
    "stage_kpis",
    "stage_notes",
    "stage_pairs",
]

#: Pain-point severities, most severe first.
SEVERITY_ORDER: tuple[str, ...] = ("high", "medium", "low")


def largest_drop(stages: Sequence[Any] | pl.DataFrame) -> dict[str, Any] | None:
    """The largest drop between neighbouring stages of a stage funnel, in accounts lost.

    Lost = reached(previous) − reached(next) for each pair of neighbouring
    stages whose previous stage was reached; the largest loss wins, the first
    on ties. Reads the rows of :func:`journeylib.metrics.stages.stage_funnel`
    (``id``, ``reached`` and ``label`` when given). None when no pair loses
    an account.

    Returns:
        ``{"from", "to", "from_label", "to_label", "lost", "reached"}`` (ids,
        labels, accounts lost, accounts that reached the earlier stage).

    Examples:
        >>> largest_drop([{"id": "a", "reached": 10}, {"id": "b", "reached": 4},
        ...               {"id": "c", "reached": 1}])
        {'from': 'a', 'to': 'b', 'from_label': 'a', 'to_label': 'b', 'lost': 6, 'reached': 10}
    """
    rows = stages.to_dicts() if isinstance(stages, pl.DataFrame) else list(stages)
    best: dict[str, Any] | None = None
    for prev, cur in zip(rows, rows[1:], strict=False):
        a, b = prev.get("reached"), cur.get("reached")
        if not isinstance(a, int | float) or not isinstance(b, int | float) or a <= 0:
            continue
        lost = int(a - b)
        if lost > 0 and (best is None or lost > best["lost"]):
            best = {
                "from": prev["id"],
                "to": cur["id"],
                "from_label": prev.get("label") or prev["id"],
                "to_label": cur.get("label") or cur["id"],
                "lost": lost,
                "reached": int(a),
            }
    return best


def stage_pairs(template: Any) -> list[tuple[str, str]]:
    """The template's stages as ``(id, label)`` pairs, in order (what ``metrics.stages`` takes).

    Examples:
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [{"id": "aw", "label": "Awareness"}]})
        >>> stage_pairs(tpl)
        [('aw', 'Awareness')]
    """
    return [(s.id, s.label) for s in template.stages]


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
    cur = doc.get("currency") or None
    funnel = {r["id"]: r for r in doc.get("stages") or []}
    ids = [r["id"] for r in doc.get("stages") or []]
    stage_nps = {r["stage"]: r for r in ((doc.get("nps") or {}).get("by_stage") or [])}
    rows = []
    for stage in template.stages:
        for kpi in stage.kpis:
            meta = get_metric(kpi)
            value = metric_value(doc, kpi) if meta else None
            trend = trend_of(metric_history(doc, kpi)) if meta else None
            label = _(meta.label) if meta else kpi
            if kpi == "stage_conversion" and stage.id in funnel:
                # a stage's own conversion: to the next stage of the funnel
                i = ids.index(stage.id)
                nxt = funnel[ids[i + 1]] if i + 1 < len(ids) else None
                value = nxt.get("conversion_from_previous") if nxt else None
                label = (
                    _("{label} (to {next})").format(label=label, next=nxt["label"])
                    if nxt
                    else _("{label} (last stage)").format(label=label)
                )
                trend = None
            elif kpi == "nps" and stage_nps.get(stage.id, {}).get("score") is not None:
                value = stage_nps[stage.id]["score"]
                answers = format_value(stage_nps[stage.id].get("responses", 0), "count")
                label = _("{label} (this stage, {answers} answers)").format(
                    label=label, answers=answers
                )
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
                    "value_text": format_value(value, meta.unit if meta else None, currency=cur),
                    "trend_good": good,
                }
            )
    return (
        pl.DataFrame(rows, schema=_KPI_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=_KPI_SCHEMA)
    )


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
        values = {
            "score": format_value(score, "nps"),
            "responses": format_value(n, "count"),
            "overall": format_value(overall, "nps"),
        }
        evidence = (
            _("NPS {score} from {responses} responses against {overall} overall")
            if overall is not None
            else _("NPS {score} from {responses} responses")
        )
        out.append(
            {
                "stage": r["stage"],
                "kind": "low_nps",
                "severity": sev,
                "evidence": evidence.format(**values),
            }
        )
    return out


def _negative_themes(
    surveys: pl.DataFrame, period: tuple[str, str], stage_order: list[str], min_mentions: int
) -> list[dict[str, Any]]:
    scored = comment_sentiment(surveys)
    neg = scored.filter(pl.col("sentiment") < 0)
    if neg.height == 0:
        return []
    themes = comment_themes(neg, period=period, stage_order=stage_order)
    totals = comment_themes(
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
        values = {
            "mentions": r["mentions"],
            "comments": r["all_comments"],
            "share": format_value(share, "fraction", digits=0),
            "theme": theme,
            "score": format_value(r["mean_score"], "score", digits=1),
        }
        evidence = (
            _(
                "{mentions} of {comments} comments ({share}) are negative about {theme}; "
                "their mean score is {score}"
            )
            if r["mean_score"] is not None
            else _("{mentions} of {comments} comments ({share}) are negative about {theme}")
        )
        out.append(
            {
                "stage": r["stage"],
                "kind": "negative_comments",
                "severity": sev,
                "evidence": evidence.format(**values),
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
    cats = resolution_by_category(tickets, period=period)
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
        values = {
            "category": r["category"] or _("(no category)"),
            "median": format_value(med, "hours"),
            "ratio": format_value(ratio, "ratio", digits=1),
            "overall": format_value(overall, "hours"),
            "opened": format_value(r["opened"], "count"),
            "satisfaction": format_value(sat, "score", digits=1),
        }
        evidence = (
            _(
                "{category} tickets take a median {median} to resolve, {ratio} the {overall} "
                "of all tickets ({opened} opened; satisfaction {satisfaction} of 5)"
            )
            if sat is not None
            else _(
                "{category} tickets take a median {median} to resolve, {ratio} the {overall} "
                "of all tickets ({opened} opened)"
            )
        )
        out.append(
            {
                "stage": stage,
                "kind": "slow_tickets",
                "severity": sev,
                "evidence": evidence.format(**values),
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
                "evidence": _(
                    "of {reached} accounts that reached {stage}, {went} ({share}) went on to {next}"
                ).format(
                    reached=format_value(prev["reached"], "count"),
                    stage=prev["label"],
                    went=format_value(cur["reached"], "count"),
                    share=format_value(conv, "fraction", digits=0),
                    next=cur["label"],
                ),
            }
        )
    return out


def _stalls(
    stream: Any, accounts: Any, period: tuple[str, str], pairs: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    summary = stall_summary(stream, accounts, period=period, stages=pairs)
    out = []
    for r in summary.head(max(summary.height - 1, 0)).iter_rows(named=True):  # last stage = done
        share, days = r["share"], r["median_days_since_last_event"]
        if share is None or share < 0.2 or days is None or days < 30:
            continue
        sev = "high" if share >= 0.4 else "medium" if share >= 0.25 else "low"
        pct = format_value(share, "fraction", digits=0)
        out.append(
            {
                "stage": r["id"],
                "kind": "stall",
                "severity": sev,
                "evidence": _(
                    "{accounts} accounts ({share}) got no further than {stage}; "
                    "their last activity was a median {days} ago"
                ).format(
                    accounts=format_value(r["accounts"], "count"),
                    share=pct,
                    stage=r["label"],
                    days=format_value(days, "days", digits=0),
                ),
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
    * ``negative_comments``: a comment theme (``metrics.feedback.comment_themes``)
      mentioned by at least ``min_mentions`` negative comments
      (``metrics.feedback.comment_sentiment`` < 0) of a stage (high: 20 %+ of the
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
      (``metrics.stages.stall_summary``; high: 40 %+; medium: 25 %+).

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
    pairs = stage_pairs(template)
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


def stage_entry_summary(entries: pl.DataFrame, template: Any) -> pl.DataFrame:
    """Per stage: how many accounts entered it and the first, median and last entry instant.

    Args:
        entries: ``account_id, stage, entered_at`` (``journey.account_stage_entries``
            or ``metrics.stages.stage_entries``).
        template: the journey template (stage order and labels).

    Returns:
        ``pl.DataFrame[stage, label, accounts, first_entry, median_entry, last_entry]``
        in template order, every stage listed (0 accounts when none entered it).
    """
    pairs = stage_pairs(template)
    base = pl.DataFrame(
        {"stage": [s for s, _ in pairs], "label": [lab for _, lab in pairs]},
        schema={"stage": pl.String, "label": pl.String},
    )
    agg = (
        to_polars(entries)
        .group_by("stage")
        .agg(
            pl.col("account_id").n_unique().cast(pl.Int64).alias("accounts"),
            pl.col("entered_at").min().alias("first_entry"),
            pl.col("entered_at").median().alias("median_entry"),
            pl.col("entered_at").max().alias("last_entry"),
        )
    )
    return base.join(agg, on="stage", how="left", maintain_order="left").with_columns(
        pl.col("accounts").fill_null(0)
    )


def _bullets(title: str, items: Sequence[str]) -> str:
    if not items:
        return ""
    lines = "\n".join(f"  - {html.escape(t)}" for t in items)
    return f"- **{title}**\n{lines}\n"


def stage_briefs(template: Any, funnel: pl.DataFrame, stall: pl.DataFrame | None = None) -> str:
    """One Markdown block per stage: the numbers beside the template's qualitative content.

    Each block gives the stage's accounts reached, conversion from the
    previous stage, median days from it and (when ``stall`` is given) how
    many accounts stopped there, then the template's situation, actions,
    decisions, information needs and pain points, in the current language.
    Template text is html-escaped, so the block is safe in the report.

    Args:
        template: the journey template.
        funnel: ``metrics.stages.stage_funnel`` (``id, reached,
            conversion_from_previous, median_days_from_previous``).
        stall: optional ``metrics.stages.stall_summary`` (``id, accounts, share``).

    Returns:
        Markdown text.
    """
    nums = {r["id"]: r for r in funnel.iter_rows(named=True)}
    stalls = {r["id"]: r for r in stall.iter_rows(named=True)} if stall is not None else {}
    blocks = []
    for i, s in enumerate(template.stages, start=1):
        n = nums.get(s.id, {})
        reached = format_value(n.get("reached", 0) or 0, "count")
        facts = [_("**{accounts}** accounts reached it").format(accounts=reached)]
        if n.get("conversion_from_previous") is not None:
            conv = format_value(n["conversion_from_previous"], "fraction", digits=0)
            facts.append(_("**{share}** of the previous stage").format(share=conv))
        if n.get("median_days_from_previous") is not None:
            days = format_value(n["median_days_from_previous"], "days")
            facts.append(_("median **{days}** after it").format(days=days))
        if s.id in stalls and stalls[s.id]["share"] is not None:
            facts.append(
                _("**{accounts}** stopped here ({share})").format(
                    accounts=format_value(stalls[s.id]["accounts"], "count"),
                    share=format_value(stalls[s.id]["share"], "fraction", digits=0),
                )
            )
        facts_text = _("{facts}.").format(facts=_("; ").join(facts))
        parts = [f"### {i}. {html.escape(s.label)}\n", facts_text + "\n"]
        if s.situation:
            parts.append(f"*{html.escape(s.situation.strip())}*\n")
        parts.append(
            _bullets(_("Customer actions"), s.actions)
            + _bullets(_("Decisions"), s.decisions)
            + _bullets(_("Information needs"), s.information_needs)
            + _bullets(_("Pain points to look for"), s.pain_points)
        )
        blocks.append("\n".join(parts))
    return "\n\n".join(blocks)
