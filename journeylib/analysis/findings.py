"""One-sentence findings: what a chart of the report shows in this client's data.

Each function reads the frame or metrics-document section its chart draws and
returns one sentence (or None when the data holds nothing to say, e.g. no
goal, no spend), with every number written by
:func:`journeylib.formatting.format_value` in the client's language. The
report puts the sentence above its chart; the rules of each sentence are in
its function's docstring and in the report's definitions appendix.

Ties are broken by the order of the rows as given (the first wins), so the
same data always gives the same sentence.

Every sentence is one message of the catalog, whole: where a finding has
variants (one goal or several, a second sentence or none) each variant is its
own message, so a translation writes its own punctuation (Chinese ends with
"。") and word order instead of English pieces glued with "." or "; ".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from journeylib.analysis._shares import STATUS_WORDS, inert_markdown
from journeylib.analysis.breakdowns import SMALL_N
from journeylib.analysis.stages import largest_drop
from journeylib.formatting import format_month, format_p_value, format_value
from journeylib.i18n import N_, ngettext
from journeylib.i18n import gettext as _
from journeylib.metrics.acquisition import MODELS
from journeylib.metrics.catalog import get_metric
from journeylib.metrics.value import ALL_CHANNELS

__all__ = [
    "MIN_GROUP",
    "COMPONENT_LABELS",
    "activation_finding",
    "anomaly_lines",
    "attribution_finding",
    "auc_words",
    "breakdown_finding",
    "cac_finding",
    "correlation_finding",
    "drop_off_finding",
    "flow_finding",
    "forecast_finding",
    "funnel_finding",
    "goal_label",
    "goals_finding",
    "health_finding",
    "component_label",
    "lifecycle_finding",
    "markov_finding",
    "milestone_finding",
    "mrr_finding",
    "opportunity_finding",
    "paths_finding",
    "persona_finding",
    "recommendations",
    "recommendations_markdown",
    "revenue_retention_finding",
    "status_text",
    "steepest_drops_finding",
    "stickiness_finding",
    "value_curves_finding",
]


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if value != value else float(value)  # NaN


def status_text(status: str) -> str:
    """A goal status (``on_track``, ``at_risk`` …, ``unknown`` without one) in words.

    Examples:
        >>> status_text("at_risk"), status_text("unknown")
        ('at risk', 'unknown')
    """
    if status in STATUS_WORDS:
        return _(STATUS_WORDS[status])
    return _("unknown") if status == "unknown" else status.replace("_", " ")


def goal_label(goal: Mapping[str, Any]) -> Any:
    """A goal's name: its own label (else its id), a catalogue label in the current language.

    The metrics document writes the metric's English catalogue label where
    ``client.yaml`` gave the goal none: that one is translated; a label of the
    client's own is shown as written.

    Examples:
        >>> goal_label({"id": "g1", "metric": "nps", "label": "Net Promoter Score"})
        'Net Promoter Score'
        >>> goal_label({"id": "g1", "metric": "nps", "label": "More fans"}), goal_label({"id": "g1"})
        ('More fans', 'g1')
    """
    label = goal.get("label")
    meta = get_metric(str(goal.get("metric")))
    if label and meta is not None and label == meta.label:
        return _(meta.label)
    return label or goal.get("id")


def goals_finding(goals: Sequence[Mapping[str, Any]]) -> str | None:
    """How many goals are on track (or achieved), and which is furthest behind.

    Furthest behind: the goal with the lowest ``progress`` among those neither
    on track nor achieved. None without goals.

    Examples:
        >>> goals_finding([{"label": "More trials", "status": "on_track", "progress": 0.6},
        ...                {"label": "Less churn", "status": "off_track", "progress": -0.2}])
        '1 of 2 goals is on track or achieved; the furthest behind is Less churn (progress -20.0%).'
    """
    if not goals:
        return None
    good = [g for g in goals if g.get("status") in ("on_track", "achieved")]
    lagging = [g for g in goals if g not in good and _num(g.get("progress")) is not None]
    counts = {"good": format_value(len(good), "count"), "total": format_value(len(goals), "count")}
    if not lagging:
        return ngettext(
            "{good} of {total} goals is on track or achieved.",
            "{good} of {total} goals are on track or achieved.",
            len(good),
        ).format(**counts)
    worst = min(lagging, key=lambda g: _num(g.get("progress")) or 0.0)
    return ngettext(
        "{good} of {total} goals is on track or achieved; "
        "the furthest behind is {goal} (progress {progress}).",
        "{good} of {total} goals are on track or achieved; "
        "the furthest behind is {goal} (progress {progress}).",
        len(good),
    ).format(
        **counts,
        goal=goal_label(worst),
        progress=format_value(worst.get("progress"), "fraction"),
    )


def persona_finding(profile: pl.DataFrame) -> str | None:
    """The largest persona by accounts, and the persona with the largest share of MRR.

    Reads :func:`journeylib.analysis.persona_profile` (``label``, ``accounts``,
    ``share``, ``revenue_share``). None without personas.
    """
    if profile.height == 0 or "accounts" not in profile.columns:
        return None
    rows = profile.to_dicts()
    largest = max(rows, key=lambda r: r.get("accounts") or 0)
    values = {
        "persona": largest.get("label") or largest.get("persona"),
        "n": format_value(largest.get("accounts"), "count"),
        "share": format_value(largest.get("share"), "fraction"),
    }
    paying = [r for r in rows if _num(r.get("revenue_share")) is not None]
    if not paying:
        return _("{persona} is the largest persona: {n} accounts, {share} of all.").format(**values)
    top = max(paying, key=lambda r: r["revenue_share"])
    return _(
        "{persona} is the largest persona: {n} accounts, {share} of all. "
        "{top} brings {top_share} of the MRR."
    ).format(
        **values,
        top=top.get("label") or top.get("persona"),
        top_share=format_value(top["revenue_share"], "fraction"),
    )


def flow_finding(transitions: pl.DataFrame, labels: Mapping[str, str]) -> str | None:
    """The most frequent move from one touchpoint to another (``count`` of moves)."""
    if transitions.height == 0:
        return None
    top = transitions.sort("count", descending=True, maintain_order=True).row(0, named=True)
    return _("The most frequent move between touchpoints is {a} → {b} ({n} times).").format(
        a=labels.get(top["from"], top["from"]),
        b=labels.get(top["to"], top["to"]),
        n=format_value(top["count"], "count"),
    )


def cac_finding(by_channel: Sequence[Mapping[str, Any]], currency: str) -> str | None:
    """Among channels with spend and new customers, the highest and the lowest CAC."""
    rows = [
        r
        for r in by_channel
        if (_num(r.get("spend")) or 0) > 0 and (_num(r.get("cac")) is not None)
    ]
    if not rows:
        return None
    hi = max(rows, key=lambda r: r["cac"])
    lo = min(rows, key=lambda r: r["cac"])
    if len(rows) == 1:
        return _("{channel} is the only channel with spend: {cac} per new customer.").format(
            channel=hi["channel"], cac=format_value(hi["cac"], "currency", currency=currency)
        )
    return _(
        "{hi} costs the most per new customer ({hi_cac}) and {lo} the least ({lo_cac})."
    ).format(
        hi=hi["channel"],
        hi_cac=format_value(hi["cac"], "currency", currency=currency),
        lo=lo["channel"],
        lo_cac=format_value(lo["cac"], "currency", currency=currency),
    )


def attribution_finding(attribution: Sequence[Mapping[str, Any]]) -> str | None:
    """The channel each of first-touch and last-touch credits most (they often disagree)."""
    if not attribution:
        return None

    def best(model: str) -> str | None:
        rows = [r for r in attribution if _num(r.get(model)) is not None]
        return max(rows, key=lambda r: r[model])["channel"] if rows else None

    first, last = best("first_touch"), best("last_touch")
    if first is None or last is None:
        return None
    if first == last:
        return _(
            "{channel} gets the most credit for new customers by first and last touch."
        ).format(channel=first)
    return _("First touch credits {first} with the most new customers, last touch {last}.").format(
        first=first, last=last
    )


def _model_words(model: str) -> str:
    """An attribution model's name inside a sentence (lower case, in the current language)."""
    words = {
        "first_touch": _("first touch"),
        "last_touch": _("last touch"),
        "linear": _("linear"),
        "position_based": _("position-based"),
        "markov": _("data-driven"),
    }
    return words.get(model, model)


def markov_finding(
    attribution: Sequence[Mapping[str, Any]],
    cac_by_model: Sequence[Mapping[str, Any]] | None,
    currency: str,
) -> str | None:
    """The channel data-driven (Markov) attribution credits most, and the CAC most moved by the model.

    Reads ``acquisition.attribution`` (its ``markov`` column) and
    ``acquisition.cac_by_model``. Credited most: the largest ``markov``
    credit, out of the conversions (the sum of the column). Moved most: among
    channels with spend and a CAC under at least two models, the largest ratio
    of the highest CAC to the lowest (a 5× move in a cheap channel counts for
    more than a 10 % move in a dear one), with the models that give them
    (ties: the first model in the order first touch, last touch, linear,
    position-based, data-driven). Either half is left out when the data has
    nothing for it; None when both are.

    Examples:
        >>> a = [{"channel": "ads", "markov": 1.2}, {"channel": "seo", "markov": 1.8}]
        >>> cbm = [{"channel": "ads", "spend": 300.0, "first_touch": 150.0, "last_touch": 300.0,
        ...         "linear": 200.0, "position_based": 187.5, "markov": 250.0}]
        >>> markov_finding(a, cbm, "EUR")
        'Data-driven attribution credits seo with 2 of 3 conversions; the CAC of ads moves the most with the model, from 150 EUR (first touch) to 300 EUR (last touch).'
    """
    credits = [r for r in attribution if (_num(r.get("markov")) or 0) > 0]
    top = max(credits, key=lambda r: r["markov"]) if credits else None
    moved = None
    for r in cac_by_model or []:
        if (_num(r.get("spend")) or 0) <= 0:
            continue
        cacs = [(m, r[m]) for m in MODELS if (_num(r.get(m)) or 0) > 0]
        if len(cacs) < 2:
            continue
        low, high = min(cacs, key=lambda m: m[1]), max(cacs, key=lambda m: m[1])
        if moved is None or high[1] / low[1] > moved[2][1] / moved[1][1]:
            moved = (r["channel"], low, high)
    if top is not None:
        head = {
            "top": top["channel"],
            "n": format_value(top["markov"], "count"),
            "total": format_value(math.fsum(r["markov"] for r in credits), "count"),
        }
    if moved is not None:
        channel, (low_model, low), (high_model, high) = moved
        move = {
            "channel": channel,
            "low": format_value(low, "currency", currency=currency),
            "low_model": _model_words(low_model),
            "high": format_value(high, "currency", currency=currency),
            "high_model": _model_words(high_model),
        }
    if top is not None and moved is not None:
        return _(
            "Data-driven attribution credits {top} with {n} of {total} conversions; "
            "the CAC of {channel} moves the most with the model, "
            "from {low} ({low_model}) to {high} ({high_model})."
        ).format(**head, **move)
    if top is not None:
        return _("Data-driven attribution credits {top} with {n} of {total} conversions.").format(
            **head
        )
    if moved is not None:
        return _(
            "The CAC of {channel} moves the most with the attribution model, "
            "from {low} ({low_model}) to {high} ({high_model})."
        ).format(**move)
    return None


def funnel_finding(stages: Sequence[Mapping[str, Any]]) -> str | None:
    """The largest drop between neighbouring stages, in accounts lost.

    Lost = reached(previous) − reached(next), for each stage with a
    conversion from the previous one; the largest loss (the first on ties),
    as :func:`journeylib.analysis.stages.largest_drop` finds it.
    """
    drop = largest_drop(stages)
    if drop is None:
        return None
    return _(
        "From {a} to {b} the journey loses {lost} of {reached} accounts ({share}), "
        "its largest drop."
    ).format(
        a=drop["from_label"],
        b=drop["to_label"],
        lost=format_value(drop["lost"], "count"),
        reached=format_value(drop["reached"], "count"),
        share=format_value(drop["lost"] / drop["reached"], "fraction"),
    )


def steepest_drops_finding(dropoffs: Sequence[Mapping[str, Any]]) -> str | None:
    """The two stage transitions that lose the largest share of accounts, in one sentence.

    Reads the summary's drop-offs (``from``, ``to``, ``share_lost`` already
    written), steepest first; None without any.

    Examples:
        >>> steepest_drops_finding([{"from": "Trial", "to": "Paid", "share_lost": "60.0%"},
        ...                         {"from": "Visit", "to": "Trial", "share_lost": "40.0%"}])
        'Steepest drops by share of accounts: Trial → Paid loses 60.0%; Visit → Trial loses 40.0%.'
    """
    if not dropoffs:
        return None
    first = {"a": dropoffs[0]["from"], "b": dropoffs[0]["to"], "share": dropoffs[0]["share_lost"]}
    if len(dropoffs) == 1:
        return _("Steepest drops by share of accounts: {a} → {b} loses {share}.").format(**first)
    return _(
        "Steepest drops by share of accounts: {a} → {b} loses {share}; {a2} → {b2} loses {share2}."
    ).format(
        **first, a2=dropoffs[1]["from"], b2=dropoffs[1]["to"], share2=dropoffs[1]["share_lost"]
    )


def mrr_finding(months: Sequence[Mapping[str, Any]], currency: str) -> str | None:
    """MRR at the first and last month of the period, and the last month's gains and losses.

    Gains = new + expansion + reactivation MRR; losses = churned + contraction
    MRR (negative numbers in the document, written here without the sign).
    """
    rows = [m for m in months if _num(m.get("mrr")) is not None]
    if len(rows) < 2:
        return None
    first, last = rows[0], rows[-1]
    gain = sum(_num(last.get(k)) or 0.0 for k in ("new_mrr", "expansion_mrr", "reactivation_mrr"))
    loss = -sum(_num(last.get(k)) or 0.0 for k in ("churned_mrr", "contraction_mrr"))

    def money(v: float) -> str:
        return format_value(v, "currency", currency=currency)

    return _(
        "MRR went from {start} in {m0} to {end} in {m1}; in {m1} new customers, expansion "
        "and reactivation added {gain} and churn and contraction took {loss}."
    ).format(
        start=money(first["mrr"]),
        m0=format_month(first.get("month")),
        end=money(last["mrr"]),
        m1=format_month(last.get("month")),
        gain=money(gain),
        loss=money(loss),
    )


def revenue_retention_finding(months: Sequence[Mapping[str, Any]]) -> str | None:
    """Net and gross revenue retention of the last month with both (``nrr_1m``, ``grr_1m``).

    NRR above 100 % means the month's expansion more than made up for its churn
    and contraction.
    """
    rows = [
        m for m in months if _num(m.get("nrr_1m")) is not None and _num(m.get("grr_1m")) is not None
    ]
    if not rows:
        return None
    last = rows[-1]
    if (_num(last["nrr_1m"]) or 0.0) >= 1:
        text = _(
            "In {month} net revenue retention was {nrr} and gross revenue retention {grr}: "
            "expansion made up for churn and contraction."
        )
    else:
        text = _(
            "In {month} net revenue retention was {nrr} and gross revenue retention {grr}: "
            "churn and contraction outweighed expansion."
        )
    return text.format(
        month=format_month(last.get("month")),
        nrr=format_value(last["nrr_1m"], "fraction"),
        grr=format_value(last["grr_1m"], "fraction"),
    )


#: Fewest paying accounts in each group (reached, not reached) for a milestone finding.
MIN_GROUP = 10
_GROUPS = ("paying_reached", "paying_not_reached")


def milestone_finding(milestones: pl.DataFrame) -> str | None:
    """The milestone whose reachers keep paying most above the others after 6 months.

    Reads :func:`journeylib.analysis.milestone_table` (``retention_6m_reached``,
    ``retention_6m_not_reached``, and ``paying_reached`` / ``paying_not_reached``
    when present); the largest gap wins, among milestones whose two groups both
    hold at least :data:`MIN_GROUP` paying accounts (a share of 6 accounts says
    little). None when no milestone qualifies.

    Examples:
        >>> m = pl.DataFrame({"label": ["A", "B"], "retention_6m_reached": [0.9, 0.9],
        ...     "retention_6m_not_reached": [0.5, 0.0], "paying_reached": [50, 60],
        ...     "paying_not_reached": [20, 6]})
        >>> milestone_finding(m)
        'Customers who reached “A” kept paying after 6 months at 90.0%, against 50.0% for those who did not.'
    """
    need = {"label", "retention_6m_reached", "retention_6m_not_reached"}
    if milestones.height == 0 or not need <= set(milestones.columns):
        return None
    rows = [
        r
        for r in milestones.to_dicts()
        if _num(r["retention_6m_reached"]) is not None
        and _num(r["retention_6m_not_reached"]) is not None
        and all((_num(r.get(k)) or 0) >= MIN_GROUP for k in _GROUPS if k in milestones.columns)
    ]
    if not rows:
        return None
    top = max(rows, key=lambda r: r["retention_6m_reached"] - r["retention_6m_not_reached"])
    return _(
        "Customers who reached “{milestone}” kept paying after 6 months at {a}, against {b} "
        "for those who did not."
    ).format(
        milestone=top["label"],
        a=format_value(top["retention_6m_reached"], "fraction"),
        b=format_value(top["retention_6m_not_reached"], "fraction"),
    )


def opportunity_finding(opportunities: pl.DataFrame, currency: str) -> str | None:
    """The top row of :func:`journeylib.analysis.opportunity_frame` in words."""
    if opportunities.height == 0:
        return None
    top = opportunities.row(0, named=True)
    return _(
        "The largest opportunity is {touchpoint} ({stage}): it loses {lost} of {volume} "
        "accounts, with {risk} of MRR at stake."
    ).format(
        touchpoint=top["touchpoint"],
        stage=top["stage"],
        lost=format_value(top["lost"], "count"),
        volume=format_value(top["volume"], "count"),
        risk=format_value(top["revenue_at_risk"], "currency", currency=currency),
    )


def recommendations(
    opportunities: pl.DataFrame, template: Any, currency: str, *, n: int = 5
) -> list[dict[str, str]]:
    """The opportunity map's top ``n`` rows as recommendations in words.

    Each is ``{title, why, evidence, ideas}``: *title* names the touchpoint and
    stage, *why* its accounts lost, drop-off and MRR at stake (the opportunity
    map's rule: volume × drop-off × revenue at risk), *evidence* the tickets
    and detractor comments behind it when ``opportunities`` is an
    :func:`~journeylib.analysis.opportunity_backlog` (empty otherwise, or when
    nothing was found), *ideas* the template's opportunities for that stage
    (joined with "; ", or the current language's list separator), empty when
    it lists none. A stage's detractor comments and ideas are given with its
    first recommendation only, not repeated with its later ones.
    """
    ideas_of = {s.label: list(s.opportunities) for s in template.stages}
    ideas_of.update({s.id: list(s.opportunities) for s in template.stages})
    out = []
    seen: set[str] = set()
    for r in opportunities.head(n).iter_rows(named=True):
        first_of_stage = r["stage"] not in seen
        seen.add(r["stage"])
        if not first_of_stage:  # the stage's comments and ideas were given with its first row
            r = {**r, "detractor_comments": None}
        out.append(
            {
                "title": _("Improve {touchpoint} in {stage}").format(
                    touchpoint=r["touchpoint"], stage=r["stage"]
                ),
                "why": _(
                    "It loses {lost} of {volume} accounts ({drop}); {risk} of MRR at stake."
                ).format(
                    lost=format_value(r["lost"], "count"),
                    volume=format_value(r["volume"], "count"),
                    drop=format_value(r["drop_off"], "fraction"),
                    risk=format_value(r["revenue_at_risk"], "currency", currency=currency),
                ),
                "evidence": _evidence(r),
                # The template's own texts, listed with the language's separator.
                "ideas": _("; ").join(ideas_of.get(r["stage"], [])) if first_of_stage else "",
            }
        )
    return out


def _evidence(row: Mapping[str, Any]) -> str:
    """The tickets and detractor comments of a backlog row in words ("" when there are none)."""
    parts = []
    if row.get("tickets"):
        parts.append(
            _("Its lost accounts opened {n} tickets: {categories}.").format(
                n=format_value(row["tickets"], "count"), categories=row["ticket_categories"]
            )
        )
    if row.get("detractors") and row.get("detractor_comments"):
        parts.append(
            _("Detractors at this stage ({n}) said: {comments}.").format(
                n=format_value(row["detractors"], "count"), comments=row["detractor_comments"]
            )
        )
    if len(parts) == 2:
        return _("{first} {second}").format(first=parts[0], second=parts[1])
    return parts[0] if parts else ""


def recommendations_markdown(recommendations: Sequence[Mapping[str, str]]) -> str:
    r""":func:`recommendations` as a numbered Markdown list, every text made inert.

    Touchpoint, stage and template texts are client text: each is put on one
    line with its HTML and its Markdown marks escaped, so a label can neither
    open a tag nor a link, a heading or a list of its own.

    Examples:
        >>> print(recommendations_markdown([{"title": "Improve <b>X</b>", "why": "It [loses](x).",
        ...                                  "ideas": "# Call"}]))
        1. **Improve &lt;b&gt;X&lt;/b&gt;.** It \[loses\]\(x\)\. Ideas: \# Call.
    """
    lines = []
    for i, r in enumerate(recommendations, start=1):
        line = _("{n}. **{title}.** {why}").format(
            n=i, title=inert_markdown(r["title"]), why=inert_markdown(r["why"])
        )
        if r.get("evidence"):
            line += " " + inert_markdown(r["evidence"])
        if r.get("ideas"):
            line += " " + _("Ideas: {ideas}.").format(ideas=inert_markdown(r["ideas"]))
        lines.append(line)
    return "\n".join(lines)


# ---------------------------------------------------------------- analytics.md §1–5
#: Below this p-value a difference is called unlikely to be chance (the report's wording).
SIGNIFICANT = 0.05


def _p(p: float) -> str:
    """A p-value for a sentence: ``p = 0.012``, or ``p < 0.001`` below that."""
    return "p " + format_p_value(p, relation=True)


def lifecycle_finding(
    buckets: Sequence[Mapping[str, Any]], labels: Mapping[str, str] | None = None
) -> str | None:
    """Active accounts in the first and last bucket, and what joined and left in between.

    Reads the rows of :func:`journeylib.metrics.activity.lifecycle` (``start``,
    ``new``, ``returning``, ``resurrecting``, ``dormant``); active accounts of a
    bucket = new + returning + resurrecting. The sums run over every bucket
    after the first (what moved the base from the first bucket to the last);
    ``labels`` maps a bucket start to its label (a month name). None with
    fewer than two buckets.

    Examples:
        >>> rows = [{"start": "2025-01", "new": 5, "returning": 0, "resurrecting": 0, "dormant": 0},
        ...         {"start": "2025-02", "new": 3, "returning": 4, "resurrecting": 1, "dormant": -1}]
        >>> lifecycle_finding(rows)
        'Active accounts went from 5 in 2025-01 to 8 in 2025-02: 3 new and 1 resurrected accounts joined, 1 went dormant.'
    """
    if len(buckets) < 2:
        return None
    labels = labels or {}

    def active(b: Mapping[str, Any]) -> int:
        return int(b["new"]) + int(b["returning"]) + int(b["resurrecting"])

    later = buckets[1:]
    first, last = buckets[0], buckets[-1]
    return _(
        "Active accounts went from {a} in {first} to {b} in {last}: {new} new and {res} "
        "resurrected accounts joined, {dormant} went dormant."
    ).format(
        a=format_value(active(first), "count"),
        first=labels.get(first["start"], first["start"]),
        b=format_value(active(last), "count"),
        last=labels.get(last["start"], last["start"]),
        new=format_value(sum(int(b["new"]) for b in later), "count"),
        res=format_value(sum(int(b["resurrecting"]) for b in later), "count"),
        dormant=format_value(-sum(int(b["dormant"]) for b in later), "count"),
    )


def stickiness_finding(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The last month with active accounts: the median account's days active, and DAU/MAU.

    Reads ``stickiness`` of ``metrics.json``; the median is the lower median of
    the accounts' distinct active days (``days[k-1]`` accounts on k days).

    Examples:
        >>> days = [1, 2, 1] + [0] * 28
        >>> stickiness_finding([{"month": "2025-03", "active_accounts": 4, "dau_mau": 0.05, "days": days}])
        'In 2025-03 the median active account used the product on 2 days, and DAU/MAU was 5.0%.'
    """
    rows = [r for r in rows if (r.get("active_accounts") or 0) > 0]
    if not rows:
        return None
    last = rows[-1]
    half, seen, median = (last["active_accounts"] + 1) // 2, 0, 0
    for k, n in enumerate(last["days"], start=1):
        seen += n
        if seen >= half:
            median = k
            break
    return ngettext(
        "In {month} the median active account used the product on {days} day, and DAU/MAU "
        "was {dau_mau}.",
        "In {month} the median active account used the product on {days} days, and DAU/MAU "
        "was {dau_mau}.",
        median,
    ).format(
        month=format_month(last["month"]),
        days=format_value(median, "count"),
        dau_mau=format_value(last["dau_mau"], "fraction"),
    )


def _next_step(paths: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """The most taken step-1 → step-2 move of a paths document, and its step-1 node."""
    edges = [e for e in paths.get("edges") or [] if e["step"] == 1 and e["target"] != "(other)"]
    if not edges:
        return None
    top = edges[0]  # sorted by accounts descending
    node = next(n for n in paths["nodes"] if n["step"] == 1 and n["item"] == top["source"])
    return top, node


def paths_finding(paths: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> str | None:
    """The most common second item of the paths, and the share that stop after the first.

    Reads :func:`journeylib.analysis.paths.paths_json`; the share is of the
    accounts at the most common first item. ``labels`` names items
    (touchpoint ids → labels). None without a second step.

    Examples:
        >>> doc = {"nodes": [{"step": 1, "item": "signed_up", "accounts": 10, "dropped": 4}],
        ...        "edges": [{"step": 1, "source": "signed_up", "target": "login", "accounts": 5},
        ...                  {"step": 1, "source": "signed_up", "target": "invite", "accounts": 1}]}
        >>> paths_finding(doc)
        'After signed_up, the most common next step is login (5 of 10 accounts, 50.0%); 4 do nothing more in the period.'
    """
    found = _next_step(paths)
    if found is None:
        return None
    top, node = found
    labels = labels or {}
    return _(
        "After {first}, the most common next step is {next} ({n} of {total} accounts, {share}); "
        "{dropped} do nothing more in the period."
    ).format(
        first=labels.get(node["item"], node["item"]),
        next=labels.get(top["target"], top["target"]),
        n=format_value(top["accounts"], "count"),
        total=format_value(node["accounts"], "count"),
        share=format_value(top["accounts"] / node["accounts"], "fraction"),
        dropped=format_value(node["dropped"], "count"),
    )


def drop_off_finding(
    paths: Mapping[str, Any],
    stage_from: str,
    stage_to: str,
    labels: Mapping[str, str] | None = None,
) -> str | None:
    """Where the accounts that reached ``stage_from`` but not ``stage_to`` went next.

    Reads :func:`journeylib.analysis.paths.drop_off_paths` as JSON: the accounts
    are those of the paths (``accounts``), the next item the most taken step-2
    move. ``stage_from`` and ``stage_to`` are the stages' names as shown.

    Examples:
        >>> doc = {"accounts": 8, "nodes": [{"step": 1, "item": "pricing", "accounts": 8, "dropped": 3}],
        ...        "edges": [{"step": 1, "source": "pricing", "target": "blog", "accounts": 4}]}
        >>> drop_off_finding(doc, "Consideration", "Decision")
        'Of the 8 accounts that reached Consideration but not Decision, the most common path went from pricing to blog (4 accounts); 3 did nothing more.'
    """
    found = _next_step(paths)
    if found is None or not paths.get("accounts"):
        return None
    top, node = found
    labels = labels or {}
    return _(
        "Of the {n} accounts that reached {a} but not {b}, the most common path went from "
        "{first} to {next} ({k} accounts); {dropped} did nothing more."
    ).format(
        n=format_value(paths["accounts"], "count"),
        a=stage_from,
        b=stage_to,
        first=labels.get(node["item"], node["item"]),
        next=labels.get(top["target"], top["target"]),
        k=format_value(top["accounts"], "count"),
        dropped=format_value(node["dropped"], "count"),
    )


def _times(odds: float) -> str:
    """An odds ratio as a plain number: one decimal, two below 1 (0.62), none from 100 on."""
    digits = 0 if odds >= 100 else 1 if odds >= 1 else 2
    return format_value(odds, None, digits=digits)


def _driver(item: Mapping[str, Any]) -> str:
    """An event or a property of a correlation list, as a sentence names it."""
    if "event" in item:
        return _("doing {event}").format(event=item["event"])
    return _("{column} {value}").format(column=item["column"], value=item["value"])


def correlation_finding(doc: Mapping[str, Any]) -> str | None:
    """What goes most with converting, and what goes most with dropping, beyond chance.

    Reads :func:`journeylib.analysis.correlation.correlation_json` (or its
    :func:`~journeylib.analysis.correlation.leading_events` view): among the
    events and properties with p < 0.05 (:data:`SIGNIFICANT`), the one of kind
    ``success`` and the one of kind ``failure`` with the largest effect
    (|ln odds ratio|; events first on ties). None when the funnel has no
    success or no failure.

    Examples:
        >>> doc = {"success_total": 10, "failure_total": 30,
        ...        "events": [{"event": "demo", "odds_ratio": 4.0, "p_value": 0.001, "kind": "success"}],
        ...        "properties": [{"column": "plan", "value": "free", "odds_ratio": 0.5,
        ...                        "p_value": 0.01, "kind": "failure"}]}
        >>> correlation_finding(doc)
        'Doing demo goes with converting (4.0 times the odds, p = 0.0010); plan free goes with dropping (0.50 times the odds, p = 0.010).'
    """
    if not doc.get("success_total") or not doc.get("failure_total"):
        return None
    items = [*doc.get("events", []), *doc.get("properties", [])]
    significant = [i for i in items if i["p_value"] < SIGNIFICANT]

    def strongest(kind: str) -> Mapping[str, Any] | None:
        found = [i for i in significant if i["kind"] == kind]
        return max(found, key=lambda i: abs(math.log(i["odds_ratio"])), default=None)

    up, down = strongest("success"), strongest("failure")
    if up is None and down is None:
        return _("No event or account property goes with converting beyond chance (p < 0.05).")
    args: dict[str, Any] = {}
    for key, item in (("up", up), ("down", down)):
        if item is not None:
            args[key] = _driver(item)
            args[f"{key}_odds"] = _times(item["odds_ratio"])
            args[f"{key}_p"] = _p(item["p_value"])
    if up is not None and down is not None:
        text = _(
            "{up} goes with converting ({up_odds} times the odds, {up_p}); {down} goes "
            "with dropping ({down_odds} times the odds, {down_p})."
        )
    elif up is not None:
        text = _("{up} goes with converting ({up_odds} times the odds, {up_p}).")
    else:
        text = _(
            "Nothing goes with converting beyond chance; {down} goes with dropping "
            "({down_odds} times the odds, {down_p})."
        )
    sentence = text.format(**args)
    return sentence[:1].upper() + sentence[1:]


def breakdown_finding(
    groups: Sequence[Mapping[str, Any]],
    p_value: float | None,
    labels: Mapping[str, str] | None = None,
    *,
    k: int = 3,
    min_n: int = SMALL_N,
) -> str | None:
    """The highest and lowest month-``k`` retention among groups of at least ``min_n`` accounts.

    Reads a breakdown's ``activity_retention`` (or ``logo_retention``) groups
    (``value``, ``rates: [{k, rate, n}]``) and its chi-square ``p_value``;
    below :data:`SIGNIFICANT` the difference is called unlikely to be chance.
    None with fewer than two groups holding a rate at month ``k`` over
    ``min_n`` accounts or more.

    Examples:
        >>> g = [{"value": "a", "rates": [{"k": 3, "rate": 0.3, "n": 50}]},
        ...      {"value": "b", "rates": [{"k": 3, "rate": 0.1, "n": 80}]}]
        >>> breakdown_finding(g, 0.002)
        'Month-3 retention runs from 10.0% (b) to 30.0% (a); a difference this large is unlikely to be chance (p = 0.0020).'
    """
    labels = labels or {}
    cells = []
    for g in groups:
        cell = next((r for r in g["rates"] if r["k"] == k and r["n"] >= min_n), None)
        if cell is not None and cell.get("rate") is not None:
            cells.append((cell["rate"], labels.get(g["value"], g["value"])))
    if len(cells) < 2:
        return None
    lo = min(cells, key=lambda c: c[0])
    hi = max(cells, key=lambda c: c[0])
    args = {
        "k": k,
        "lo": format_value(lo[0], "fraction"),
        "lo_group": lo[1],
        "hi": format_value(hi[0], "fraction"),
        "hi_group": hi[1],
    }
    if p_value is not None and p_value < SIGNIFICANT:
        text = _(
            "Month-{k} retention runs from {lo} ({lo_group}) to {hi} ({hi_group}); a difference "
            "this large is unlikely to be chance ({p})."
        )
    elif p_value is not None:
        text = _(
            "Month-{k} retention runs from {lo} ({lo_group}) to {hi} ({hi_group}); the "
            "difference could be chance ({p})."
        )
    else:
        text = _("Month-{k} retention runs from {lo} ({lo_group}) to {hi} ({hi_group}).")
    return text.format(**args, p=_p(p_value) if p_value is not None else "")


def _about(value: float) -> float:
    """``value`` rounded to three significant digits, whole units kept (304,971 -> 305,000)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, min(2 - math.floor(math.log10(abs(value))), 0))


def _payback_when(k: int) -> str:
    """A payback month k (0 = the month of the first payment) inside a sentence."""
    if k == 0:
        return _("in the month of their first payment")
    return ngettext(
        "{k} month after their first payment", "{k} months after their first payment", k
    ).format(k=format_value(k, "count"))


def _median_payback(median: float) -> str:
    """A channel's median payback month (infinite: half its cohorts or more not paid back)."""
    if math.isinf(median):
        return _("at least half of its cohorts not paid back yet")
    whole = float(median).is_integer()
    return ngettext("median {k} month", "median {k} months", 1 if median == 1 else 2).format(
        k=format_value(median, None, digits=0 if whole else 1)
    )


def value_curves_finding(value_curves: Sequence[Mapping[str, Any]], currency: str) -> str | None:
    """When the latest cohort earned back its acquisition cost; which channels pay back fastest, slowest.

    Reads the metrics document's ``value_curves`` (analytics.md § 7). The
    cohort: the latest one of all channels (``(all)``) with a CAC, with its
    payback month (months after the first payment; 0 = in the month of the
    first payment) or, when the CAC was not earned back by the period's end,
    its gross margin per customer so far. The channels: those with spend,
    compared by the median payback month of their cohorts with a CAC above
    zero, a cohort that has not paid back counting as later than any that did
    (a median among those reads "at least half of its cohorts not paid back
    yet"); the fastest and the slowest are named when two channels or more
    have such cohorts and their medians differ (ties: the first channel in the
    rows' order). None without a cohort with a CAC.

    Examples:
        >>> rows = [{"cohort": "2025-03", "channel": "(all)", "customers": 4, "cac": 1200.0,
        ...          "cumulative": [400.0, 800.0, 1300.0], "payback_month": 2},
        ...         {"cohort": "2025-03", "channel": "ads", "customers": 2, "cac": 2000.0,
        ...          "cumulative": [300.0, 600.0, 900.0], "payback_month": None},
        ...         {"cohort": "2025-03", "channel": "seo", "customers": 2, "cac": 400.0,
        ...          "cumulative": [500.0, 1000.0, 1500.0], "payback_month": 0}]
        >>> value_curves_finding(rows, "USD")
        "Customers acquired in 2025-03 earned back their 1,200 USD acquisition cost 2 months after their first payment; seo's cohorts pay back fastest (median 0 months), ads's slowest (at least half of its cohorts not paid back yet)."
    """
    leads = [
        r
        for r in value_curves
        if r.get("channel") == ALL_CHANNELS and _num(r.get("cac")) is not None
    ]
    if not leads:
        return None
    lead = max(leads, key=lambda r: r["cohort"])
    head = {
        "cohort": format_month(lead["cohort"]),
        "cac": format_value(lead["cac"], "currency", currency=currency),
    }
    paid = lead.get("payback_month") is not None
    if paid:
        head["when"] = _payback_when(int(lead["payback_month"]))
    else:
        so_far = (lead.get("cumulative") or [None])[-1]
        head["value"] = format_value(so_far, "currency", currency=currency)

    paybacks: dict[str, list[float]] = {}
    for r in value_curves:
        channel = r.get("channel")
        if channel == ALL_CHANNELS or not (_num(r.get("cac")) or 0) > 0:
            continue
        k = r.get("payback_month")
        paybacks.setdefault(str(channel), []).append(math.inf if k is None else float(k))
    medians = {c: statistics.median(ks) for c, ks in paybacks.items()}
    clause = None
    if len(medians) >= 2:
        fast = min(medians, key=lambda c: medians[c])
        slow = max(medians, key=lambda c: medians[c])
        if medians[fast] < medians[slow]:
            clause = {
                "fast": fast,
                "fast_when": _median_payback(medians[fast]),
                "slow": slow,
                "slow_when": _median_payback(medians[slow]),
            }
    if paid and clause:
        text = _(
            "Customers acquired in {cohort} earned back their {cac} acquisition cost {when}; "
            "{fast}'s cohorts pay back fastest ({fast_when}), {slow}'s slowest ({slow_when})."
        )
    elif paid:
        text = _("Customers acquired in {cohort} earned back their {cac} acquisition cost {when}.")
    elif clause:
        text = _(
            "Customers acquired in {cohort} have not yet earned back their {cac} acquisition "
            "cost ({value} of gross margin per customer so far); {fast}'s cohorts pay back "
            "fastest ({fast_when}), {slow}'s slowest ({slow_when})."
        )
    else:
        text = _(
            "Customers acquired in {cohort} have not yet earned back their {cac} acquisition "
            "cost ({value} of gross margin per customer so far)."
        )
    return text.format(**head, **(clause or {}))


def forecast_finding(forecast: Mapping[str, Any] | None, currency: str) -> str | None:
    """Where today's never-churned customers are expected at the forecast's end, with the band and MRR.

    Reads a result of :func:`journeylib.metrics.forecast.retention_forecast`
    with ``base`` added: today's customers who have never churned (the
    forecast's starting point; reactivated customers are not in it). The last
    forecast month's customers and its 90 % band (``lo`` – ``hi``) are rounded
    to whole customers, its MRR to three significant digits. The sentence says
    first that the forecast adds no new customers. None without forecast
    months, a base above zero or the last month's MRR.

    Examples:
        >>> fc = {"base": 216, "months": [{"month": "2026-12", "customers": 185.8,
        ...       "mrr": 304971.0, "lo": 170.01, "hi": 195.47}]}
        >>> forecast_finding(fc, "USD")
        "With no new customers and at today's retention, the 216 never-churned customers fall to about 186 by 2026-12 (90 % band 170–195), about 305,000 USD of MRR."
    """
    months = (forecast or {}).get("months") or []
    base = _num((forecast or {}).get("base"))
    if not months or base is None or round(base) <= 0:
        return None
    last = months[-1]
    customers, mrr = _num(last.get("customers")), _num(last.get("mrr"))
    if customers is None or mrr is None:
        return None
    args = {
        "base": format_value(round(base), "count"),
        "n": format_value(round(customers), "count"),
        "month": format_month(last.get("month")),
        "mrr": format_value(_about(mrr), "currency", currency=currency),
    }
    lo, hi = _num(last.get("lo")), _num(last.get("hi"))
    if lo is not None and hi is not None:
        text = ngettext(
            "With no new customers and at today's retention, the {base} never-churned customer "
            "falls to about {n} by {month} (90 % band {lo}–{hi}), about {mrr} of MRR.",
            "With no new customers and at today's retention, the {base} never-churned customers "
            "fall to about {n} by {month} (90 % band {lo}–{hi}), about {mrr} of MRR.",
            round(base),
        )
        args["lo"] = format_value(round(lo), "count")
        args["hi"] = format_value(round(hi), "count")
    else:
        text = ngettext(
            "With no new customers and at today's retention, the {base} never-churned customer "
            "falls to about {n} by {month}, about {mrr} of MRR.",
            "With no new customers and at today's retention, the {base} never-churned customers "
            "fall to about {n} by {month}, about {mrr} of MRR.",
            round(base),
        )
    return text.format(**args)


# ---------------------------------------------------------------- analytics.md §9–11
def activation_finding(
    result: Mapping[str, Any] | None,
    configured: str | None = None,
    *,
    paid: bool = True,
) -> str | None:
    """The activation finder's best predictor in words, compared with client.yaml's activation event.

    Reads a result of :func:`journeylib.metrics.activation.activation_candidates`.
    The first sentence gives the top candidate (event, times, days), the share
    of those who did it that were retained against the share of all sign-ups
    (``paid``: paying three months after signing up; otherwise active 60–90
    days after) and its phi; the second compares ``configured``: the best phi
    of that event among the candidates, or that it is not among them. None
    without candidates.

    Examples:
        >>> r = {"accounts": 200, "retained": 50, "candidates": [
        ...     {"event": "integration_connected", "times": 1, "days": 7, "share": 0.25,
        ...      "precision": 0.8, "recall": 0.8, "phi": 0.733},
        ...     {"event": "first_report_created", "times": 1, "days": 30, "share": 0.3,
        ...      "precision": 0.6, "recall": 0.72, "phi": 0.52}]}
        >>> print(activation_finding(r, "first_report_created"))
        Sign-ups that did integration_connected at least once within 7 days of signing up were paying three months later in 80.0% of cases, against 25.0% of all sign-ups (phi 0.73). The configured activation event, first_report_created, predicts less well (best phi 0.52).
    """
    cands = (result or {}).get("candidates") or []
    if not cands:
        return None
    best = cands[0]
    base = _num((result or {}).get("retained"))
    total = _num((result or {}).get("accounts"))
    args = {
        "event": best["event"],
        "days": format_value(best["days"], "count"),
        "precision": format_value(best["precision"], "fraction"),
        "base": format_value(base / total if base is not None and total else None, "fraction"),
        "phi": format_value(best["phi"], digits=2),
    }
    times = int(best["times"])
    if paid:
        first = ngettext(
            "Sign-ups that did {event} at least once within {days} days of signing up were "
            "paying three months later in {precision} of cases, against {base} of all sign-ups "
            "(phi {phi}).",
            "Sign-ups that did {event} at least {times} times within {days} days of signing up "
            "were paying three months later in {precision} of cases, against {base} of all "
            "sign-ups (phi {phi}).",
            times,
        )
    else:
        first = ngettext(
            "Sign-ups that did {event} at least once within {days} days of signing up were "
            "still active 60–90 days later in {precision} of cases, against {base} of all "
            "sign-ups (phi {phi}).",
            "Sign-ups that did {event} at least {times} times within {days} days of signing up "
            "were still active 60–90 days later in {precision} of cases, against {base} of all "
            "sign-ups (phi {phi}).",
            times,
        )
    text = first.format(times=format_value(times, "count"), **args)
    if not configured:
        return text
    if configured == best["event"]:
        second = _("That is the configured activation event.")
    else:
        mine = [c for c in cands if c["event"] == configured]
        if mine:
            second = _(
                "The configured activation event, {configured}, predicts less well (best phi {phi})."
            ).format(configured=configured, phi=format_value(mine[0]["phi"], digits=2))
        else:
            second = ngettext(
                "The configured activation event, {configured}, is not the best predictor.",
                "The configured activation event, {configured}, is not among the {n} best "
                "predictors.",
                len(cands),
            ).format(configured=configured, n=format_value(len(cands), "count"))
    return _("{first} {second}").format(first=text, second=second)


#: Plain words for a backtest ROC AUC, from the top: (lowest AUC, words).
_AUC_WORDS = (
    (0.8, N_("good")),
    (0.7, N_("fair")),
    (0.6, N_("weak")),
    (0.0, N_("not useful")),
)


def auc_words(auc: float | None) -> str | None:
    """A backtest ROC AUC in plain words: good (≥ 0.8), fair (≥ 0.7), weak (≥ 0.6), else not useful.

    Examples:
        >>> auc_words(0.83), auc_words(0.55), auc_words(None)
        ('good', 'not useful', None)
    """
    if auc is None:
        return None
    return next(_(words) for lo, words in _AUC_WORDS if auc >= lo)


def health_finding(health: Mapping[str, Any] | None, currency: str, *, n: int = 20) -> str | None:
    """How far to trust the health score (its backtest AUC in words), and what the riskiest pay.

    Reads a result of :func:`journeylib.metrics.health.account_health`. The
    AUC is the chance that a churned account scored below a kept one (0.5: no
    better than chance); the ``n`` riskiest accounts' MRR is summed and the
    component that drags most of them down is named. None without accounts.

    Examples:
        >>> h = {"auc_backtest": 0.82, "backtest": {"account_months": 900, "churned": 40},
        ...      "accounts": [{"mrr": 100.0, "weakest": "usage_trend"},
        ...                   {"mrr": 50.0, "weakest": "usage_trend"},
        ...                   {"mrr": 10.0, "weakest": "nps"}]}
        >>> print(health_finding(h, "USD", n=2))
        Checked on the last six months, a churned account scored below a kept one 82.0% of the time (ROC AUC 0.82, good; 0.5 is no better than chance). The 2 riskiest accounts pay 150 USD of MRR; usage trend drags down most of them.
    """
    accounts = (health or {}).get("accounts") or []
    if not accounts:
        return None
    risky = accounts[:n]
    mrr = sum(_num(a.get("mrr")) or 0.0 for a in risky)
    counts: dict[str, int] = {}
    for a in risky:
        counts[a["weakest"]] = counts.get(a["weakest"], 0) + 1
    weakest = max(counts, key=lambda k: counts[k])  # ties: the first met
    second = _(
        "The {n} riskiest accounts pay {mrr} of MRR; {component} drags down most of them."
    ).format(
        n=format_value(len(risky), "count"),
        mrr=format_value(mrr, "currency", currency=currency),
        component=component_label(weakest),
    )
    auc = _num((health or {}).get("auc_backtest"))
    if auc is None:
        first = _(
            "The score cannot be checked on the last six months: they hold no churn, or no "
            "account that stayed."
        )
    else:
        first = _(
            "Checked on the last six months, a churned account scored below a kept one {share} "
            "of the time (ROC AUC {auc}, {words}; 0.5 is no better than chance)."
        ).format(
            share=format_value(auc, "fraction"),
            auc=format_value(auc, digits=2),
            words=auc_words(auc),
        )
    return _("{first} {second}").format(first=first, second=second)


#: The health score's components in words (the keys of ``health.weights``).
COMPONENT_LABELS: dict[str, str] = {
    "usage_trend": N_("usage trend"),
    "breadth": N_("breadth of use"),
    "support_load": N_("support load"),
    "nps": N_("NPS"),
    "mrr_trend": N_("MRR trend"),
}


def component_label(component: str) -> str:
    """A health component's name in words, in the current language.

    Examples:
        >>> component_label("support_load")
        'support load'
    """
    return _(COMPONENT_LABELS[component]) if component in COMPONENT_LABELS else component


def anomaly_lines(anomalies: Sequence[Mapping[str, Any]] | None, currency: str) -> list[str]:
    """Each anomaly flag of the metrics document as one line: metric, month, value against its baseline.

    The metric is named by its catalogue label; value and baseline (the median
    of the 6 months before, "usual") are written in the metric's unit; the
    robust z has one decimal. The report's appendix defines both.

    Examples:
        >>> print(anomaly_lines([{"metric": "cac", "month": "2025-10", "value": 3100.0,
        ...                        "baseline": 1020.5, "z": 10.44}], "USD")[0])
        Customer acquisition cost in 2025-10: 3,100 USD against a usual 1,020 USD (robust z 10.4).
    """
    out = []
    for a in anomalies or []:
        meta = get_metric(str(a.get("metric")))
        unit = meta.unit if meta else None
        out.append(
            _("{metric} in {month}: {value} against a usual {baseline} (robust z {z}).").format(
                metric=_(meta.label) if meta else a.get("metric"),
                month=format_month(a.get("month")),
                value=format_value(a.get("value"), unit, currency=currency),
                baseline=format_value(a.get("baseline"), unit, currency=currency),
                z=format_value(a.get("z"), digits=1),
            )
        )
    return out
