"""The metrics document: every number of the report, as ``metrics.json``.

One function, :func:`metrics_document`, computes it from a loaded client; the
CLI, the runner and the notebooks all call it, so their numbers cannot drift
apart. Keys follow the contract of the metrics definitions; more keys are
added beside the required ones (``by_month`` series, per-persona NPS, …).
"""

from __future__ import annotations

import json
import math
import os
from functools import partial
from typing import Any

import polars as pl

from journeylib.formatting import format_value
from journeylib.frames import engine_of, to_lazy
from journeylib.ingest.client import data_quality, stored_mart
from journeylib.ingest.restrict import restrict_to_segment
from journeylib.metrics import (
    acquisition,
    activity,
    anomalies,
    feedback,
    milestones,
    onboarding,
    retention,
    revenue,
    stages,
    support,
    value,
)
from journeylib.metrics._memo import shared_results
from journeylib.metrics.catalog import get_metric
from journeylib.metrics.goals import evaluate_goals, metric_sections
from journeylib.metrics.period import period_cut, period_view, resolve_period
from journeylib.stream import journey_events

__all__ = ["document_sections", "metrics_document", "metrics_json", "summary_lines"]

SCHEMA_VERSION = 1

#: The journey stream columns the document's metrics read. Not touchpoint (no
#: metric of the document groups by it: one lookup per event less), not seq (none
#: orders ties: the derived rows are then not numbered, a sort less per read of
#: the stream), not anonymous_id (visitors are counted on the raw events).
_STREAM_USED = ["account_id", "timestamp", "event", "stage", "source"]


def _rows(df: pl.DataFrame | None, columns: list[str] | None = None) -> list[dict[str, Any]] | None:
    if df is None:
        return None
    if columns is not None:
        df = df.select(columns)
    return df.to_dicts()


def _or(mart: Any, events: Any) -> Any:
    """The store's mart when the client has it (the same answer, fewer rows), else the raw events."""
    return events if mart is None else mart


def _clean(value: Any) -> Any:
    """Make a value JSON-safe: NaN/inf → None, numpy scalars → Python, floats rounded to 10 places."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        value = round(value, 10)
        return 0.0 if value == 0 else value
    return value


#: Above this many valid events (read lazily from Parquet), the document keeps the
#: journey stream lazy and runs every query on polars' streaming engine: each
#: metric then re-reads the stream instead of holding it in memory. From a store
#: at 10 M events: 0.54-0.6 GB peak in 3.6-4.2 s, against 1.3 GB in 3.5-3.7 s
#: in memory (1.5 GB is what one process of a report may take).
STREAMING_ABOVE_ROWS = 5_000_000


def _streaming(client: Any) -> bool:
    """Whether the document of ``client`` is computed streaming (see STREAMING_ABOVE_ROWS).

    The events are counted by the client's quality report. A client restricted
    to a segment (``restrict_to_segment``: a persona's map, a segment goal)
    keeps the whole client's report: its events are estimated as the whole's
    times its share of the accounts (a persona of a third of a 10 M client is
    held in memory, at about 0.15 GB).

    Examples:
        >>> import types
        >>> lazy = pl.LazyFrame({"account_id": ["a"]})
        >>> q = {"events": {"rows_valid": 9_000_000}, "accounts": {"rows_valid": 300}}
        >>> whole = types.SimpleNamespace(tables={"events": lazy,
        ...     "accounts": pl.DataFrame({"account_id": range(300)})}, quality=q)
        >>> third = types.SimpleNamespace(tables={"events": lazy,
        ...     "accounts": pl.DataFrame({"account_id": range(100)})}, quality=q)
        >>> _streaming(whole), _streaming(third)
        (True, False)
    """
    events = client.tables.get("events")
    if not isinstance(events, pl.LazyFrame):
        return False
    rows = client.quality.get("events", {}).get("rows_valid", 0)
    accounts = client.tables.get("accounts")
    loaded = client.quality.get("accounts", {}).get("rows_valid", 0)
    if isinstance(accounts, pl.DataFrame) and 0 < accounts.height < loaded:
        rows = rows * accounts.height / loaded
    return rows > STREAMING_ABOVE_ROWS


def _core(
    client: Any, period: tuple[str, str], sections: frozenset[str] | None = None
) -> dict[str, Any]:
    """The document's sections; ``sections`` limits the work to those named (None: all).

    Intermediate results shared by several metrics (``_memo``) live for this
    call only: the frames they keep (the journey stream of the client or of a
    goal's segment) go when it returns.
    """
    with shared_results():
        return _sections(client, period, sections)


def _sections(
    client: Any, period: tuple[str, str], sections: frozenset[str] | None
) -> dict[str, Any]:
    def want(name: str) -> bool:
        return sections is None or name in sections

    cfg = client.config
    t = client.tables
    accounts = t["accounts"]
    events = t["events"]
    subs = t.get("subscriptions")
    marketing = t.get("marketing")
    queries = t.get("search_queries")
    tickets = t.get("tickets")
    surveys = t.get("surveys")
    template = client.template
    stage_pairs = [(s.id, s.label) for s in template.stages]
    needs_stream = {"onboarding", "stages", "support", "milestones"}
    stream = None
    if sections is None or sections & needs_stream:
        # Built once, unsorted (no metric relies on row order, and a global sort
        # is the costliest step), with only the columns the metrics read: on a
        # lazily loaded client only those are read from the events files.
        stream = journey_events(client, sort=False, lazy=True)
        if engine_of(accounts) == "polars":
            stream = stream.select(_STREAM_USED)
            if not _streaming(client):
                stream = stream.collect()
        else:
            # DuckDB/Spark tables (journeylib.engines): the metrics join the stream with
            # them, so it stays on their engine, lazy.
            stream = to_lazy(stream).select(_STREAM_USED).to_native()

    # ---- revenue
    rev: dict[str, Any] | None = None
    if subs is not None and want("revenue"):
        months = revenue.revenue_months(subs, period=period)
        rev = {
            "months": _rows(months),
            "nrr_12m": revenue.nrr_12m(subs, period=period),
            "grr_12m": revenue.grr_12m(subs, period=period),
            "ltv": revenue.ltv(subs, period=period, gross_margin=cfg.gross_margin),
        }

    # ---- acquisition
    acq: dict[str, Any] = {
        "cac": None,
        "cac_payback_months": None,
        "branded_search_share": None,
        "months": None,
        "by_channel": None,
        "attribution": None,
        "cac_by_model": None,
        "ctr": None,
        "branded_search_months": None,
    }
    if not want("acquisition"):
        marketing = queries = None
    if marketing is not None and subs is not None:
        acq["cac"] = acquisition.cac(marketing, subs, period=period)
        acq["cac_payback_months"] = acquisition.cac_payback_months(
            marketing, subs, period=period, gross_margin=cfg.gross_margin
        )
        acq["months"] = _rows(acquisition.cac_by_month(marketing, subs, period=period))
        acq["by_channel"] = _rows(
            acquisition.cac_by_channel(marketing, subs, accounts, period=period)
        )
    if marketing is not None:
        by_ch = acquisition.ctr(marketing, by="channel", period=period)
        tot_clicks = by_ch["clicks"].sum() if "clicks" in by_ch.columns else None
        tot_impr = by_ch["impressions"].sum() if "impressions" in by_ch.columns else None
        acq["ctr"] = (tot_clicks / tot_impr) if tot_impr else None
    if queries is not None:
        acq["branded_search_share"] = acquisition.branded_search_share(
            queries, period=period, branded_terms=cfg.branded_terms
        )
        acq["branded_search_months"] = _rows(
            acquisition.branded_search_by_month(
                queries, period=period, branded_terms=cfg.branded_terms
            )
        )
    if subs is not None and want("acquisition") and (sections is None or "attribution" in sections):
        attributed = acquisition.attribution(
            events, subs, accounts, period=period, window_days=cfg.attribution_window_days
        )
        acq["attribution"] = _rows(attributed)
        if marketing is not None:
            acq["cac_by_model"] = _rows(
                acquisition.cac_by_model(marketing, attributed, period=period)
            )

    # ---- value curves (analytics.md § 7): cumulative gross margin per customer by cohort
    curves = None
    if subs is not None and want("value_curves"):
        curves = value.value_curves_rows(
            value.value_curves(
                subs,
                accounts,
                t.get("marketing"),
                period=period,
                gross_margin=cfg.gross_margin,
            )
        )

    # ---- onboarding
    onb: dict[str, Any] = {"activation_rate": None, "cohorts": None, "ttfv_days": None}
    if cfg.activation is not None and want("onboarding"):
        act = onboarding.activation(
            accounts,
            stream,
            period=period,
            event=cfg.activation.event,
            within_days=cfg.activation.within_days,
        )
        onb["activation_rate"] = act["activation_rate"]
        onb["cohorts"] = _rows(act["cohorts"])
    if cfg.first_value is not None and want("onboarding"):
        fv = onboarding.first_value_times(
            accounts, stream, period=period, event=cfg.first_value.event
        )
        onb["ttfv_days"] = onboarding.first_value_summary(fv)  # time_to_first_value, one read
        onb["ttfv_by_cohort"] = _rows(
            fv.group_by(pl.col("signup_at").dt.strftime("%Y-%m").alias("cohort"))
            .agg(
                pl.len().alias("signups"),
                pl.col("days").is_not_null().sum().alias("reached"),
                pl.col("days").median().alias("median"),
            )
            .sort("cohort")
        )
    if cfg.engagement is not None and subs is not None and want("onboarding"):
        onb["engagement_mean_weighted_events"] = onboarding.latest_engagement(
            stream, subs, weights=cfg.engagement.weights, period=period, accounts=accounts
        )

    # ---- retention
    ret = None
    if want("retention"):
        ret = {
            "activity": retention.activity_retention_matrix(
                accounts, _or(stored_mart(client, "activity_months"), events), period=period
            ),
            "revenue": _rows(revenue.revenue_retention(subs, period=period))
            if subs is not None
            else None,
        }

    # ---- stickiness (analytics.md § 2), from the raw events
    sticky = None
    if want("stickiness"):
        sticky = activity.stickiness_rows(
            _or(stored_mart(client, "account_days"), events), period=period
        )

    # ---- stages
    stage_rows = n_visitors = None
    if want("stages"):
        stage_rows = _rows(stages.stage_funnel(stream, accounts, period=period, stages=stage_pairs))
        # Derived rows carry no anonymous_id, so the visitors of the stream are those
        # of the raw events: counted there, without building the derived rows again.
        has_anon = "anonymous_id" in to_lazy(events).collect_schema().names()
        n_visitors = stages.visitors(events, period=period) if has_anon else 0

    # ---- feedback
    nps_doc: dict[str, Any] | None = None
    if surveys is not None and want("nps"):
        nps_doc = {
            "overall": feedback.nps(surveys, period=period),
            "by_stage": _rows(
                feedback.nps_by_stage(surveys, period=period, stage_order=template.stage_ids)
            ),
            "by_month": _rows(feedback.nps_by_month(surveys, period=period)),
            "by_persona": _rows(feedback.nps_by_persona(surveys, accounts, period=period)),
        }

    # ---- support
    sup: dict[str, Any] | None = None
    if not want("support"):
        tickets = None
    if tickets is not None:
        rt = support.resolution_time(tickets, period=period)
        sup = {
            "resolution_hours_median": rt["resolution_hours_median"],
            "resolution_hours_p90": rt["resolution_hours_p90"],
            "tickets_opened": rt.get("opened"),
            "tickets_resolved": rt.get("resolved"),
        }
    referral_doc: dict[str, Any] | None = None
    referral = next((m for m in cfg.milestones if m.id == "referral"), None)
    if referral is not None and subs is not None and want("support"):
        rr = support.referral_rate(stream, subs, period=period, event=referral.event)
        referral_doc = {
            "event": referral.event,
            "rate": rr["referral_rate"][-1] if rr.height else None,
            "months": _rows(rr),
        }

    # ---- milestones
    ms_rows = None
    if cfg.milestones and want("milestones"):
        ms = milestones.milestones(
            accounts,
            stream,
            subs
            if subs is not None
            else pl.DataFrame(
                schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64}
            ),
            period=period,
            milestones=[(m.id, m.event) for m in cfg.milestones],
        )
        ms_rows = _rows(ms)

    return {
        "revenue": rev,
        "acquisition": acq,
        "onboarding": onb,
        "retention": ret,
        "stages": stage_rows,
        "visitors": n_visitors,
        "nps": nps_doc,
        "support": sup,
        "referral": referral_doc,
        "milestones": ms_rows,
        "stickiness": sticky,
        "value_curves": curves,
    }


#: When set, every computation of a document appends one line to this file (pid, client and
#: its number of accounts): how a test counts the documents a whole run computes, kernels
#: included (a persona map computes its persona's own document: fewer accounts).
TRACE_ENV = "JOURNEY_TRACE_DOCUMENTS"


def _trace(client: Any) -> None:
    target = os.environ.get(TRACE_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            accounts = client.tables["accounts"]
            n = accounts.height if isinstance(accounts, pl.DataFrame) else "?"
            fh.write(f"{os.getpid()} {client.config.client} accounts={n}\n")


def metrics_document(client: Any) -> dict[str, Any]:
    """Compute the whole metrics document of a loaded client (the ``metrics.json`` contract).

    Args:
        client: a :class:`journeylib.ingest.client.Client`.

    Returns:
        A JSON-ready dict: ``schema_version, client, currency, period, revenue,
        acquisition, onboarding, retention, stages, visitors, nps, support,
        milestones, stickiness, value_curves, anomalies, goals, data_quality``. Values that cannot be computed are
        None; sections of absent optional tables are None. ``data_quality``
        has a ``period_cut`` key only when the default period's end left later
        months of events or subscriptions out
        (:func:`journeylib.metrics.period.period_cut`).
    """
    _trace(client)
    view = period_view(client)
    period = resolve_period(view)
    cut = period_cut(view)
    if _streaming(client):
        with pl.Config(engine_affinity="streaming"):
            return _document(client, period, cut)
    return _document(client, period, cut)


def _document(
    client: Any, period: tuple[str, str], cut: dict[str, Any] | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, **document_sections(client, period)}
    dq = data_quality(client)
    if cut is not None:  # only then: documents without a cut keep their bytes
        dq["period_cut"] = cut
    doc["data_quality"] = _clean(dq)
    return doc


def document_sections(
    client: Any,
    period: tuple[str, str],
    sections: frozenset[str] | None = None,
    *,
    given: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Part of the metrics document: the named sections, with the goals evaluated on them.

    What :func:`metrics_document` computes, for a caller that shows only some
    sections (the explorer's journey map): ``client``, ``currency``,
    ``period``, the sections named in ``sections`` (None: all), rounded as in
    ``metrics.json``, then ``anomalies`` (when all sections or ``"anomalies"``
    are asked for; read from the ``revenue`` and ``acquisition`` sections)
    and ``goals``. Named alone, ``acquisition`` leaves its ``attribution`` and
    ``cac_by_model`` None (the five models and the Markov paths: the
    section's costliest part, which no goal and no map KPI reads); name
    ``"attribution"`` too for them. A goal whose metric lies in a section
    left out reads as not computable. ``given`` holds sections the caller
    computed itself (the same rows), merged in before the goals are evaluated.
    No ``schema_version`` or ``data_quality``.
    """
    doc: dict[str, Any] = {
        "client": client.config.client,
        "currency": client.config.currency,
        "period": {"start": period[0], "end": period[1]},
        **_core(client, period, sections),
        **(given or {}),
    }
    doc = _clean(doc)
    if sections is None or "anomalies" in sections:
        # read from the rounded rows, as metrics.json holds them (anomalies.py's readings)
        doc["anomalies"] = _clean(anomalies.anomalies(doc))

    def segment_doc(segment: dict[str, str], metric: str) -> dict[str, Any]:
        # Only the sections the goal's metric reads: a segment goal costs one metric, not a document.
        return _clean(_core(restrict_to_segment(client, segment), period, metric_sections(metric)))

    doc["goals"] = _clean(
        evaluate_goals(
            client.config.goals,
            doc,
            period=period,
            stage_ids=client.template.stage_ids,
            segment_doc=segment_doc,
            account_columns=client.tables["accounts"].columns,
        )
    )
    return doc


def metrics_json(doc: dict[str, Any]) -> str:
    """The document as JSON text: stable key order, no NaN, UTF-8, trailing newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """A short readable summary of a metrics document, one line per headline number.

    Numbers are written by :func:`journeylib.formatting.format_value`, as in
    the report.
    """
    cur = doc["currency"]

    money = partial(format_value, unit="currency", currency=cur)
    pct = partial(format_value, unit="fraction")
    count = partial(format_value, unit="count")
    lines = [f"{doc['client']} — {doc['period']['start']} to {doc['period']['end']} ({cur})"]
    rev = doc.get("revenue")
    if rev and rev["months"]:
        last = rev["months"][-1]
        lines.append(
            f"  MRR {last['month']}: {money(last['mrr'])}, {count(last['customers'])} customers, "
            f"net new {money(last['net_new_mrr'])}"
        )
        lines.append(
            f"  logo churn {pct(last['logo_churn_rate'])} "
            f"(guides' formula {pct(last['churn_rate_simple'])}), "
            f"NRR 1m {pct(last['nrr_1m'])}, NRR 12m {pct(rev['nrr_12m'])}, LTV {money(rev['ltv'])}"
        )
    acq = doc.get("acquisition") or {}
    lines.append(
        f"  CAC {money(acq.get('cac'))}, "
        f"payback {format_value(acq.get('cac_payback_months'), 'months')}, "
        f"branded search share {pct(acq.get('branded_search_share'))}"
    )
    onb = doc.get("onboarding") or {}
    ttfv = onb.get("ttfv_days") or {}
    lines.append(
        f"  activation {pct(onb.get('activation_rate'))}, time to first value median "
        f"{format_value(ttfv.get('median'), 'days')} (reached {pct(ttfv.get('reached_share'))})"
    )
    if doc.get("stages"):
        lines.append(
            "  stages: " + " → ".join(f"{s['id']} {count(s['reached'])}" for s in doc["stages"])
        )
    lines.append(f"  anonymous visitors: {count(doc.get('visitors'))}")
    nps = doc.get("nps")
    if nps:
        lines.append(
            f"  NPS {format_value(nps['overall']['score'], 'nps')} "
            f"over {count(nps['overall']['responses'])} responses"
        )
    sup = doc.get("support")
    if sup:
        hours = partial(format_value, unit="hours")
        lines.append(
            f"  ticket resolution median {hours(sup.get('resolution_hours_median'))}, "
            f"p90 {hours(sup.get('resolution_hours_p90'))}"
        )
    for g in doc.get("goals") or []:
        meta = get_metric(g["metric"])
        goal = partial(format_value, unit=meta.unit if meta else None, currency=cur)
        lines.append(
            f"  goal {g['id']}: {g['metric']} {goal(g['current'])} → target {goal(g['target'])} "
            f"by {g['deadline']}: {g['status']}"
        )
    dq = doc.get("data_quality", {}).get("tables", {})
    rejected = sum(t["rows_rejected"] for t in dq.values())
    lines.append(f"  data quality: {count(rejected)} rows quarantined across {len(dq)} tables")
    cut = doc.get("data_quality", {}).get("period_cut")
    if cut:
        lines.append(
            f"  period ends {cut['period_end']}: {count(cut['months'])} later "
            f"month{'' if cut['months'] == 1 else 's'} of {cut['table']} "
            f"(to {cut['last_month']}) left out"
        )
    return lines
