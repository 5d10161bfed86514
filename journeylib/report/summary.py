"""The report's numbers: the executive summary and the data-quality section.

Both are built from the metrics document (see metrics.md, ``metrics.json``);
every value is formatted with :func:`journeylib.formatting.format_value`, so
the report writes a number as the notebooks and the command line do. Client
text in the document stays text here: the template escapes it.

The workbench's own words (tile labels, notes, warnings, the appendix's metric
labels and definitions) are in the current language
(:mod:`journeylib.i18n`); metric ids, units and client text are not translated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from journeylib.analysis import findings
from journeylib.formatting import format_delta, format_month, format_value
from journeylib.i18n import N_, ngettext
from journeylib.i18n import gettext as _
from journeylib.metrics.catalog import catalog_rows

__all__ = [
    "ANALYSES",
    "analysis_definitions",
    "data_quality_rows",
    "definitions",
    "executive_summary",
]


def _get(doc: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(key, int):
            if not isinstance(doc, list) or not -len(doc) <= key < len(doc):
                return None
        elif not isinstance(doc, Mapping):
            return None
        doc = doc[key] if isinstance(key, int) else doc.get(key)
        if doc is None:
            return None
    return doc


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _kpi(
    label: str,
    value: Any,
    unit: str,
    *,
    trend: tuple[Any, Any] | None = None,
    compared_to: str | None = None,
    higher_is_better: bool = True,
    currency: str | None = None,
) -> dict[str, Any]:
    """A headline figure; ``trend`` is the (current, previous) pair its change compares."""
    cur, prev = (_num(trend[0]), _num(trend[1])) if trend else (None, None)
    change = direction = tone = None
    if cur is not None and prev is not None:
        direction = "up" if cur > prev else "down" if cur < prev else "flat"
        change = format_delta(cur, prev, unit)
    if direction in ("up", "down"):
        tone = "good" if (direction == "up") == higher_is_better else "bad"
    missing = _num(value) is None
    return {
        "label": label,
        "value": format_value(value, unit, currency=currency),
        "missing": missing,
        "note": _("not computable: no data or a zero denominator") if missing else None,
        "trend": change,
        "direction": direction,
        "tone": tone,
        "compared_to": compared_to,
    }


def _latest_two(
    rows: Sequence[Mapping[str, Any]], key: str, name: str, *, cohort: bool = False
) -> tuple[tuple[Any, Any] | None, str | None]:
    """The trend of the two latest rows with a number at ``key``, and what it compares.

    What it compares reads "2025-03 vs 2025-02", or "cohort 2025-03 vs 2025-02"
    with ``cohort``.
    """
    rows = [r for r in rows if _num(r.get(key)) is not None]
    if len(rows) < 2:
        return None, None
    last, before = rows[-1], rows[-2]
    text = _("cohort {last} vs {before}") if cohort else _("{last} vs {before}")
    return (last[key], before[key]), text.format(
        last=format_month(last.get(name)), before=format_month(before.get(name))
    )


#: The metrics the summary's KPI tiles show (their definitions are always in the appendix).
SUMMARY_METRICS = (
    "mrr",
    "logo_churn_rate",
    "activation_rate",
    "nps",
    "cac",
)


def definitions(ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The rows of the report's appendix: each catalogue metric's id, label, unit, stage, definition.

    The label and the definition are in the current language (the catalogue's
    English text is the message id); id, unit and stage stay as they are.

    Args:
        ids: only these metrics (those that appear in the report), in catalogue
            order; None: every metric.

    Examples:
        >>> row = next(r for r in definitions() if r["id"] == "nps")
        >>> row["unit"], row["label"]
        ('nps', 'Net Promoter Score')
        >>> [r["id"] for r in definitions(["nps", "cac", "no_such_metric"])]
        ['cac', 'nps']
    """
    wanted = None if ids is None else set(ids)
    return [
        {**r, "label": _(r["label"]), "definition": _(r["definition"])}
        for r in catalog_rows()
        if wanted is None or r["id"] in wanted
    ]


#: The analyses a report may show beside the metrics, and the chart files that show them
#: (``charts/<name>.svg`` of the run, written by the notebooks): the appendix defines those shown.
ANALYSES: tuple[dict[str, Any], ...] = (
    {
        "id": "markov_attribution",
        "charts": ("03_attribution", "03_cac_by_model"),
        "label": N_("Data-driven (Markov) attribution"),
        "definition": N_(
            "Each account's channels in time order form a path: for a conversion of the period, "
            "the touches in the attribution window before it (the acquisition channel when there "
            "are none), ending in a conversion; for an account touched in the period that has not "
            "paid, the touches in the window before its last touch, ending without one. A channel "
            "repeated in a row counts once. The shares of the moves from the start and from each "
            "channel to the next channel, to a conversion or to no conversion give the "
            "probability P that a path converts (an order-1 Markov chain, solved exactly). A "
            "channel's removal effect is 1 − (P without the channel) / P, where every move into "
            "the channel ends without a conversion; the period's conversions are credited to the "
            "channels in proportion to their removal effects. CAC by model divides each channel's "
            "spend in the period by the conversions a model credits to it; a channel credited "
            "with none under a model has no CAC under it."
        ),
    },
    {
        "id": "paths",
        "charts": ("03_paths_from_signup", "04_drop_off_paths"),
        "label": N_("Paths"),
        "definition": N_(
            "An account's path is its product events in the period in time order, one event "
            "repeated in a row counted once: from its sign-up, or, for the largest drop of the "
            "stage funnel, from its entry into the earlier stage, as touchpoints (accounts that "
            "reached the earlier stage and not the next). Items taken by fewer than 3 % of the "
            "paths (and at least 5 accounts) are grouped as (other) in their step; a path that "
            "ends at a step leaves the diagram there."
        ),
    },
    {
        "id": "lifecycle",
        "charts": ("04_lifecycle",),
        "label": N_("Lifecycle of active accounts"),
        "definition": N_(
            "Per calendar month (UTC; per day, or per ISO week from Monday, when the run's "
            "lifecycle_interval says so), the accounts with a product event: new (their first "
            "event ever), returning (active in the bucket before too), resurrecting (active "
            "before, quiet in the bucket before) and dormant (active in the bucket before, not "
            "in this one; counted below zero). Activity before the period counts for the "
            "bucket before the first."
        ),
    },
    {
        "id": "stickiness",
        "charts": ("05_stickiness",),
        "label": N_("Days active and DAU/MAU"),
        "definition": N_(
            "For the accounts with a product event in a month: on how many distinct UTC days "
            "each was active. DAU/MAU is the mean over the month's calendar days of the "
            "accounts active that day, divided by the month's active accounts."
        ),
    },
    {
        "id": "drivers",
        "charts": ("05_drivers",),
        "label": N_("What goes with paying"),
        "definition": N_(
            "The accounts that signed up in the period, split into those that started paying "
            "within 30 days of sign-up (s of S) and those that did not (f of F); accounts "
            "whose 30 days have not ended are left out. For each event done from sign-up to "
            "the first payment (or the end of the 30 days) and each account property: the odds "
            "ratio ((s + 1) / (f + 1)) / ((S − s + 1) / (F − f + 1)) and the two-sided Fisher "
            "exact p-value. Events of the checkout and payment touchpoint and of later stages "
            "are part of paying and are not shown; numeric properties are cut at their "
            "quartiles."
        ),
    },
    {
        "id": "retention_breakdown",
        "charts": ("05_retention_by_persona", "05_retention_by_channel"),
        "label": N_("Retention by group"),
        "definition": N_(
            "Activity retention pooled over the sign-up months of each group: month k is the "
            "share of the group's accounts with a product event k months after their sign-up "
            "month, among those whose month k lies in the period (n). Each rate has its 95 % "
            "Wilson interval; cells with n under 30 are grey. The p-value is Pearson's "
            "chi-square test, without continuity correction, of month-3 retention across the "
            "groups; below 0.05 the difference is unlikely to be chance. Accounts without a "
            "value are left out."
        ),
    },
    {
        "id": "value_curves",
        "charts": ("05_value_curves",),
        "label": N_("Cohort value and payback"),
        "definition": N_(
            "Per cohort (customers by first paid month) and channel: the MRR paid since, times "
            "the gross margin, per customer, added up month by month (month 0: the first "
            "payment's). It pays back in the first month this reaches its CAC (the channel's "
            "spend in the cohort's month per new customer); a channel's CAC over the period "
            "weights its cohorts' by customers."
        ),
    },
    {
        "id": "anomalies",
        "charts": ("05_anomalies",),
        "label": N_("Months that stood out"),
        "definition": N_(
            "Each monthly series (MRR, customers, new customers, net new MRR, expansion MRR, "
            "logo, simple and gross MRR churn, NRR and GRR, ARPA, quick ratio, CAC) is scored "
            "in every month that has its 6 preceding months: robust z = (value − their median) "
            "/ (1.4826 × their median absolute deviation). A month is flagged when |z| is 3.5 "
            "or more; six equal months (a deviation of 0) flag nothing. The usual value is "
            "that median."
        ),
    },
    {
        "id": "account_health",
        "charts": ("05_health_backtest",),
        "label": N_("Account health"),
        "definition": N_(
            "For each account paying in a month, five signals ranked among that month's paying "
            "accounts (percentile = average rank of ties ÷ accounts × 100): usage trend (events "
            "in the 30 days before the month's end + 1, over the 30 days before those + 1), "
            "breadth (distinct touchpoints in the last 30 days), support load (minus the "
            "tickets of the last 90 days), NPS (the latest survey score; without one, the "
            "median of the month's scored accounts) and MRR trend (MRR over MRR three months "
            "before; when that was 0, the month's median). Score = their mean weighted by "
            "health.weights (equal by default). Backtest: the score at the end of each of the "
            "six months before the last, against churn the month after (paying, then not); "
            "ROC AUC = the chance a churned account scored below a kept one, ties counting half."
        ),
    },
    {
        "id": "activation_finder",
        "charts": ("06_activation",),
        "label": N_("Activation finder"),
        "definition": N_(
            "Among the period's sign-ups whose outcome can be seen, retained = paying in the "
            "third month after the sign-up month (without subscriptions: any activity 60 to 90 "
            "days after signing up). For every event done by 5 % of them or more, n of 1, 2, 3, "
            "5, 10 and d of 1, 7, 14, 30 days: did it at least n times within d days of signing "
            "up. Precision = retained among those who did; recall = did among the retained; "
            "phi = the correlation of the two yes/no answers. Ranked by phi."
        ),
    },
    {
        "id": "retention_forecast",
        "charts": ("05_survival", "05_forecast"),
        "label": N_("Retention forecast"),
        "definition": N_(
            "A shifted-beta-geometric churn model, fitted to the period's cohorts seen for 3 "
            "months or more (a customer's first churn ends their count), carries today's "
            "never-churned customers forward, adding none; MRR at the last month's ARPA; band: "
            "5th to 95th percentile of 200 refits to data drawn from the fit."
        ),
    },
)


def analysis_definitions(shown: Sequence[str]) -> list[dict[str, Any]]:
    """The appendix rows of the analyses whose charts are among ``shown``, in the current language.

    Examples:
        >>> [r["id"] for r in analysis_definitions(["05_stickiness", "04_lifecycle", "x"])]
        ['lifecycle', 'stickiness']
    """
    names = set(shown)
    return [
        {"id": a["id"], "label": _(a["label"]), "definition": _(a["definition"])}
        for a in ANALYSES
        if names & set(a["charts"])
    ]


def report_metrics(
    metrics: Mapping[str, Any] | None, template_kpis: Sequence[str] = ()
) -> list[str]:
    """The metric ids a report shows: the KPI tiles, the goals' metrics and the map's KPIs.

    The NRR tile is the 12-month NRR when the document has it, else the monthly one
    (as :func:`executive_summary` chooses).
    """
    doc = metrics or {}
    nrr = "nrr_12m" if _get(doc, "revenue", "nrr_12m") is not None else "nrr_1m"
    goals = [str(g.get("metric")) for g in doc.get("goals") or [] if g.get("metric")]
    return list(dict.fromkeys([*SUMMARY_METRICS, nrr, *goals, *template_kpis]))


#: How many anomaly flags the executive summary lists (those with the largest |robust z|).
SUMMARY_ANOMALIES = 2


def executive_summary(
    metrics: Mapping[str, Any] | None,
    catalog: Sequence[Mapping[str, Any]] | None = None,
    forecast: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The summary's content from a metrics document (see metrics.md, ``metrics.json``).

    ``forecast`` is the run's retention forecast with today's base
    (``forecast.json``, written by notebook 05 through
    :meth:`journeylib.present.notebook.Step.retention_forecast`); its sentence
    (:func:`~journeylib.analysis.findings.forecast_finding`) ends the findings.

    Returns:
        ``{kpis, goals, dropoffs, findings, anomalies, anomalies_more, warnings,
        period, currency}``:
        ``kpis`` are headline figures with the change against the previous
        month (or cohort); ``dropoffs`` the three stage transitions that lose
        the largest share of accounts (ties: more accounts lost first);
        ``findings`` sentences (:mod:`journeylib.analysis.findings`: the
        largest drop in accounts, the steepest drops in share, the goals, MRR,
        the retention forecast); ``anomalies`` one line per anomaly flag of the
        document (:func:`~journeylib.analysis.findings.anomaly_lines`: metric,
        month, value against its baseline), the :data:`SUMMARY_ANOMALIES` with
        the largest robust z, and ``anomalies_more`` how many more flags the
        report's step 5 shows;
        ``warnings`` data-quality lines
        (rejected rows per table, then the months the default period left out:
        ``data_quality.period_cut``).

    Examples:
        >>> doc = {"revenue": {"months": [{"month": "2025-01", "mrr": 100.0},
        ...                               {"month": "2025-02", "mrr": 120.0}]}}
        >>> k = executive_summary(doc)["kpis"][0]
        >>> k["value"], k["trend"], k["tone"]
        ('120', '+20.0%', 'good')
    """
    doc: Mapping[str, Any] = metrics or {}
    currency = doc.get("currency")
    units = {str(r.get("id")): r.get("unit") for r in (catalog or [])}
    months = _get(doc, "revenue", "months") or []
    last, prev = (months[-1] if months else {}), (months[-2] if len(months) > 1 else {})
    last_m, prev_m = last.get("month"), prev.get("month")
    vs_month = _("vs {month}").format(month=format_month(prev_m)) if prev_m else None

    def monthly(key: str) -> dict[str, Any]:
        return {"trend": (last.get(key), prev.get(key)), "compared_to": vs_month}

    mrr_label = _("MRR ({month})").format(month=format_month(last_m)) if last_m else _("MRR")
    kpis = [_kpi(mrr_label, last.get("mrr"), "currency", currency=currency, **monthly("mrr"))]
    nrr_12m = _get(doc, "revenue", "nrr_12m")
    if nrr_12m is not None:
        kpis.append(_kpi(_("NRR (12 months)"), nrr_12m, "fraction"))
    else:
        kpis.append(_kpi(_("NRR (month)"), last.get("nrr_1m"), "fraction", **monthly("nrr_1m")))
    kpis.append(
        _kpi(
            _("Logo churn (month)"),
            last.get("logo_churn_rate"),
            "fraction",
            higher_is_better=False,
            **monthly("logo_churn_rate"),
        )
    )
    # Activation compares the two latest complete cohorts; NPS and CAC their two latest months.
    cohorts = [c for c in (_get(doc, "onboarding", "cohorts") or []) if c.get("complete")]
    trend, compared = _latest_two(cohorts, "activation_rate", "cohort", cohort=True)
    activation = _get(doc, "onboarding", "activation_rate")
    kpis.append(
        _kpi(_("Activation rate"), activation, "fraction", trend=trend, compared_to=compared)
    )
    trend, compared = _latest_two(_get(doc, "nps", "months") or [], "score", "month")
    nps = _get(doc, "nps", "overall", "score")
    kpis.append(_kpi(_("NPS"), nps, "nps", trend=trend, compared_to=compared))
    trend, compared = _latest_two(_get(doc, "acquisition", "months") or [], "cac", "month")
    cac = _get(doc, "acquisition", "cac")
    kpis.append(
        _kpi(
            _("CAC"),
            cac,
            "currency",
            trend=trend,
            compared_to=compared,
            higher_is_better=False,
            currency=currency,
        )
    )

    goals = []
    for g in doc.get("goals") or []:
        unit = units.get(str(g.get("metric")))
        goals.append(
            {
                "id": g.get("id"),
                "label": findings.goal_label(g),
                "status_text": findings.status_text(g.get("status") or "unknown"),
                "metric": g.get("metric"),
                "baseline": format_value(g.get("baseline"), unit, currency=currency),
                "current": format_value(g.get("current"), unit, currency=currency),
                "target": format_value(g.get("target"), unit, currency=currency),
                "deadline": g.get("deadline") or "",
                "progress": format_value(g.get("progress"), "fraction"),
                "status": g.get("status") or "unknown",
            }
        )

    stages = doc.get("stages") or []
    drops = []
    for before, after in zip(stages, stages[1:], strict=False):
        conv = _num(after.get("conversion_from_previous"))
        if conv is None:
            continue
        lost = None
        if _num(before.get("reached")) is not None and _num(after.get("reached")) is not None:
            lost = int(before["reached"]) - int(after["reached"])
        drops.append(
            {
                "from": before.get("label") or before.get("id"),
                "to": after.get("label") or after.get("id"),
                "share_lost": format_value(1 - conv, "fraction"),
                "lost": format_value(lost, "count"),
                "_key": (1 - conv, lost or 0),
            }
        )
    drops.sort(key=lambda d: d["_key"], reverse=True)
    dropoffs = [{k: v for k, v in d.items() if k != "_key"} for d in drops[:3]]
    found = [findings.funnel_finding(stages), findings.steepest_drops_finding(dropoffs[:2])]
    found.append(findings.goals_finding(doc.get("goals") or []))
    found.append(findings.mrr_finding(months, str(currency or "")))
    found.append(findings.forecast_finding(forecast, str(currency or "")))

    # The summary lists the SUMMARY_ANOMALIES flags that stand out most (largest |z|), in the
    # document's order (month, then metric); step 5 of the report shows them all.
    flags = [a for a in doc.get("anomalies") or [] if _num(a.get("z")) is not None]
    top = sorted(range(len(flags)), key=lambda i: -abs(flags[i]["z"]))[:SUMMARY_ANOMALIES]
    shown_flags = [flags[i] for i in sorted(top)]

    period = doc.get("period")
    if not (isinstance(period, Mapping) and period.get("start") and period.get("end")):
        period = None

    warnings = []
    tables = _get(doc, "data_quality", "tables") or {}
    for name, q in tables.items():
        rejected = _num(q.get("rows_rejected")) or 0
        if rejected > 0:
            reasons = sorted((q.get("reasons") or {}).items(), key=lambda kv: -kv[1])
            counts = {
                "table": name,
                "rejected": format_value(int(rejected), "count"),
                "total": format_value(int(_num(q.get("rows_in")) or 0), "count"),
            }
            # Table names and reasons are the data's own words (file names, checks).
            if reasons:
                text = _("{table}: {rejected} of {total} rows rejected (most often: {reason})")
                warnings.append(text.format(**counts, reason=reasons[0][0]))
            else:
                warnings.append(_("{table}: {rejected} of {total} rows rejected").format(**counts))
    cut = _get(doc, "data_quality", "period_cut")
    if isinstance(cut, Mapping) and _num(cut.get("months")):
        table = cut.get("table")
        other = "subscriptions" if table == "events" else "events"
        n = int(cut["months"])
        warnings.append(
            ngettext(
                "The period ends in {period_end}, the last month of {other}: {n} later month "
                "of {table} is left out (set period.end in client.yaml to include it).",
                "The period ends in {period_end}, the last month of {other}: {n} later months "
                "of {table} are left out (set period.end in client.yaml to include them).",
                n,
            ).format(
                period_end=format_month(cut.get("period_end")),
                other=other,
                n=format_value(n, "count"),
                table=table,
            )
        )

    return {
        "kpis": kpis,
        "goals": goals,
        "dropoffs": dropoffs,
        "findings": [f for f in found if f],
        "anomalies": findings.anomaly_lines(shown_flags, str(currency or "")),
        "anomalies_more": len(flags) - len(shown_flags),
        "warnings": warnings,
        "period": period,
        "currency": currency,
    }


def data_quality_rows(metrics: Mapping[str, Any] | None) -> list[dict[str, Any]] | None:
    """The data-quality section: one row per table, counts formatted, the top five reasons.

    Returns:
        None when the document has no data-quality counts.

    Examples:
        >>> doc = {"data_quality": {"tables": {"events": {"rows_in": 1200, "rows_valid": 1190,
        ...        "rows_rejected": 10, "reasons": {"bad date": 3, "unknown account_id": 7}}}}}
        >>> row = data_quality_rows(doc)[0]
        >>> row["rows_in"], row["rows_rejected"], [r["reason"] for r in row["reasons"]]
        ('1,200', '10', ['unknown account_id', 'bad date'])
    """
    tables = _get(metrics or {}, "data_quality", "tables")
    if not isinstance(tables, Mapping):
        return None
    rows = []
    for name, q in tables.items():
        reasons = sorted((q.get("reasons") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
        rows.append(
            {
                "table": name,
                "rows_in": format_value(q.get("rows_in"), "count"),
                "rows_valid": format_value(q.get("rows_valid"), "count"),
                "rows_rejected": format_value(q.get("rows_rejected"), "count"),
                "rejected": bool(_num(q.get("rows_rejected"))),
                "reasons": [
                    {"reason": r, "count": format_value(c, "count")} for r, c in reasons[:5]
                ],
            }
        )
    return rows
