"""The glue between a loaded client and the journey-map charts.

The chart layer (:mod:`journeylib.charts`) draws small frames; the metric layer
(:mod:`journeylib.metrics`) computes numbers. This module builds the frames the
journey map and its variants draw, from a client, its metrics document (the
numbers of ``metrics.json``) and its journey event stream, so the notebooks
stay one call per result:

* :func:`journey_map_data` - the current-state, future-state and persona maps;
* :func:`opportunity_frame` - the opportunity map;
* :func:`blueprint_frames` - the service blueprint;
* :func:`day_in_life_frame` - the day-in-the-life heatmap;
* :func:`milestone_times`, :func:`milestone_table`, :func:`stuck_table` - notebook 06;
* :func:`stage_entry_summary`, :func:`stage_briefs` - notebook 04;
* :func:`onboarding_steps`, :func:`variant_steps` - the onboarding map and micro-journey.

Inputs are polars frames (a LazyFrame is collected); the stream is the one of
:func:`journeylib.stream.journey_events`. Readings chosen where the product
spec leaves room are written in each docstring.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from journeylib.charts.journey_map import JourneyMapData
from journeylib.metrics import feedback, onboarding, stages
from journeylib.metrics import milestones as ms
from journeylib.metrics.catalog import get_metric
from journeylib.metrics.goals import metric_history, metric_value
from journeylib.metrics.period import resolve_period

__all__ = [
    "blueprint_frames",
    "day_in_life_frame",
    "format_metric",
    "journey_map_data",
    "milestone_revenue",
    "milestone_table",
    "milestone_times",
    "onboarding_steps",
    "opportunity_frame",
    "persona_labels",
    "persona_map_data",
    "save_charts",
    "stage_briefs",
    "stage_entry_summary",
    "stage_pairs",
    "stuck_table",
    "variant_steps",
]

_TS = pl.Datetime("us", "UTC")
_DERIVED_SOURCES = ("tickets", "surveys")  # derived moments that are not a stage step
_MIN_ANSWERS = 10  # fewest survey answers for a data-driven NPS pain point
# Metrics of anonymous or company-wide data (visitors, search, marketing spend) that
# a persona's own accounts cannot give: left off the persona maps.
_NOT_PER_PERSONA = frozenset(
    {"visitors", "website_visitors", "branded_search_share", "ctr", "cac", "cac_payback_months"}
)


# ---------------------------------------------------------------- small helpers
def _df(frame: Any) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def _month_idx(col: str) -> pl.Expr:
    return pl.col(col).dt.year().cast(pl.Int64) * 12 + pl.col(col).dt.month().cast(pl.Int64) - 1


def _period_idx(period: tuple[str, str]) -> tuple[int, int]:
    a, b = period
    return int(a[:4]) * 12 + int(a[5:7]) - 1, int(b[:4]) * 12 + int(b[5:7]) - 1


def _in_period(col: str, period: tuple[str, str]) -> pl.Expr:
    first, last = _period_idx(period)
    return _month_idx(col).is_between(first, last)


def _up_to_end(col: str, period: tuple[str, str]) -> pl.Expr:
    return _month_idx(col) <= _period_idx(period)[1]


def stage_pairs(template: Any) -> list[tuple[str, str]]:
    """The template's stages as ``(id, label)`` pairs, in order (what ``metrics.stages`` takes).

    Examples:
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [{"id": "aw", "label": "Awareness"}]})
        >>> stage_pairs(tpl)
        [('aw', 'Awareness')]
    """
    return [(s.id, s.label) for s in template.stages]


def persona_labels(client: Any) -> dict[str, str]:
    """Persona id -> display label, from client.yaml (the id when it has no label)."""
    return {p.id: p.label or p.id for p in client.config.personas}


def format_metric(value: float | None, unit: str | None, currency: str = "") -> str:
    """A metric value as short text for a map cell, by its catalogue unit.

    Examples:
        >>> format_metric(0.1234, "fraction"), format_metric(10.55, "days"), format_metric(None, "nps")
        ('12.3 %', '10.6 d', '–')
        >>> format_metric(1234.5, "currency"), format_metric(362739.0, "currency")
        ('1,234', '363k')
        >>> format_metric(-12.0, "nps"), format_metric(1.5e6, "currency", "EUR")
        ('-12', '1.50M EUR')
    """
    if value is None:
        return "–"
    v = float(value)
    if unit == "fraction":
        return f"{100 * v:.1f} %"
    if unit == "currency":
        # Compact, so the value and its trend share one narrow map cell.
        if abs(v) >= 1e6:
            text = f"{v / 1e6:.2f}M"
        elif abs(v) >= 1e4:
            text = f"{v / 1e3:.0f}k"
        else:
            text = f"{v:,.0f}"
        return f"{text} {currency}".strip()
    if unit == "days":
        return f"{v:.1f} d"
    if unit == "hours":
        return f"{v:.1f} h"
    if unit == "months":
        return f"{v:.1f} mo"
    if unit == "count":
        return f"{v:,.0f}"
    if unit == "nps":
        return f"{v:+.0f}" if v else "0"
    if unit == "ratio":
        return f"{v:.2f}×"
    return f"{v:,.1f}"


def _delta_text(delta: float, unit: str | None, prev: float, currency: str) -> str:
    """A signed change as text: points for fractions and NPS, units for durations, % otherwise."""
    if unit == "fraction":
        return f"{100 * delta:+.1f} pts"
    if unit == "nps":
        return f"{delta:+.0f} pts"
    if unit in ("days", "hours", "months"):
        return f"{delta:+.1f} {dict(days='d', hours='h', months='mo')[unit]}"
    if prev:
        return f"{100 * delta / abs(prev):+.0f} %"
    return format_metric(delta, unit)


# ---------------------------------------------------------------- the journey map
@dataclasses.dataclass(frozen=True)
class _Scope:
    """The accounts, stream and surveys a map is drawn for (all accounts or one persona)."""

    accounts: pl.DataFrame
    stream: pl.DataFrame
    surveys: pl.DataFrame | None
    period: tuple[str, str]


def _scope(client: Any, stream: Any, persona: str | None) -> _Scope:
    period = resolve_period(client)
    accounts = client.tables["accounts"]
    stream = _df(stream)
    surveys = client.table("surveys")
    if persona is not None:
        accounts = accounts.filter(pl.col("persona") == persona)
        ids = accounts["account_id"].implode()
        stream = stream.filter(pl.col("account_id").is_in(ids))
        if surveys is not None:
            surveys = surveys.filter(pl.col("account_id").is_in(ids))
    return _Scope(accounts, stream, surveys, period)


def _stage_frame(
    client: Any, doc: Mapping[str, Any], sc: _Scope, persona: str | None
) -> pl.DataFrame:
    schema = {
        "order": pl.Int64,
        "id": pl.String,
        "label": pl.String,
        "reached": pl.Int64,
        "conversion_from_previous": pl.Float64,
        "median_days_from_previous": pl.Float64,
    }
    if persona is None and doc.get("stages"):
        rows = [
            {"order": i, **{k: r.get(k) for k in list(schema)[1:]}}
            for i, r in enumerate(doc["stages"], start=1)
        ]
        return pl.DataFrame(rows, schema=schema)
    funnel = stages.stage_funnel(
        sc.stream, sc.accounts, period=sc.period, stages=stage_pairs(client.template)
    )
    return (
        funnel.with_columns(pl.int_range(1, pl.len() + 1).cast(pl.Int64).alias("order"))
        .select(list(schema))
        .cast(schema)
    )


def _touchpoint_frame(client: Any, sc: _Scope) -> pl.DataFrame:
    from journeylib.stream import touchpoint_inventory

    inv = touchpoint_inventory(
        sc.stream.filter(_in_period("timestamp", sc.period)), client.template
    )
    return inv.select("stage", "touchpoint", "label", "kind", "events", "accounts")


def _emotion_frame(client: Any, sc: _Scope) -> pl.DataFrame | None:
    if sc.surveys is None:
        return None
    order = client.template.stage_ids
    by_stage = feedback.nps_by_stage(sc.surveys, period=sc.period, stage_order=order)
    if by_stage.height == 0:
        return None
    ci = [
        feedback.nps_interval(r["promoters"], r["passives"], r["detractors"])
        for r in by_stage.iter_rows(named=True)
    ]
    sent = feedback.sentiment_by_stage(sc.surveys, period=sc.period, stage_order=order)
    return (
        by_stage.with_columns(
            pl.Series("ci_low", [c[0] for c in ci], dtype=pl.Float64),
            pl.Series("ci_high", [c[1] for c in ci], dtype=pl.Float64),
        )
        .join(
            sent.select("stage", pl.col("mean_sentiment").alias("sentiment")),
            on="stage",
            how="left",
        )
        .select(
            "stage", pl.col("score").alias("nps"), "responses", "ci_low", "ci_high", "sentiment"
        )
    )


def _touchpoint_nps(sc: _Scope) -> pl.DataFrame:
    """NPS per ``surveys.touchpoint`` (responses with a score, dated in the period)."""
    if sc.surveys is None or "touchpoint" not in sc.surveys.columns:
        return pl.DataFrame(
            schema={"touchpoint": pl.String, "nps": pl.Float64, "responses": pl.Int64}
        )
    s = sc.surveys.filter(
        pl.col("score").is_not_null(),
        pl.col("touchpoint").is_not_null(),
        _in_period("responded_at", sc.period),
    )
    return (
        s.group_by("touchpoint")
        .agg(
            (100 * ((pl.col("score") >= 9).sum() - (pl.col("score") <= 6).sum()) / pl.len())
            .cast(pl.Float64)
            .alias("nps"),
            pl.len().cast(pl.Int64).alias("responses"),
        )
        .sort("touchpoint")
    )


def _data_pain_points(
    client: Any, st: pl.DataFrame, emotion: pl.DataFrame | None, sc: _Scope
) -> list[dict[str, str]]:
    """Short, data-driven pain points: the two largest drop-offs and the worst NPS scores.

    A drop-off is written on the stage accounts fail to leave ("Data: 69 % stop
    before Decision"), for the two stages with the lowest conversion to the
    next stage when it is below 60 %. The stage with the lowest NPS (at least
    10 answers, below +30) and the lowest-scoring touchpoint (at least 10
    answers, NPS below 0) are named on their stage.
    """
    out: list[dict[str, str]] = []
    rows = st.sort("order").to_dicts()
    drops = [
        (rows[i]["conversion_from_previous"], rows[i - 1]["id"], rows[i]["label"])
        for i in range(1, len(rows))
        if rows[i]["conversion_from_previous"] is not None
    ]
    for conv, sid, next_label in sorted(drops)[:2]:
        if conv < 0.6:
            out.append(
                {
                    "stage": sid,
                    "lane": "pain_points",
                    "text": f"Data: {100 * (1 - conv):.0f} % stop before {next_label}",
                }
            )
    if emotion is not None:
        ok = emotion.filter(pl.col("responses") >= _MIN_ANSWERS, pl.col("nps").is_not_null())
        if ok.height >= 2:
            worst = ok.sort("nps").row(0, named=True)
            if worst["nps"] < 30:
                out.append(
                    {
                        "stage": worst["stage"],
                        "lane": "pain_points",
                        "text": f"Data: lowest NPS of the journey ({worst['nps']:+.0f}, "
                        f"n = {worst['responses']})",
                    }
                )
    tp_nps = _touchpoint_nps(sc).filter(pl.col("responses") >= _MIN_ANSWERS, pl.col("nps") < 0)
    if tp_nps.height:
        worst = tp_nps.sort("nps").row(0, named=True)
        where = {
            tp.id: (st_.id, tp.display) for st_ in client.template.stages for tp in st_.touchpoints
        }
        if worst["touchpoint"] in where:
            sid, label = where[worst["touchpoint"]]
            out.append(
                {
                    "stage": sid,
                    "lane": "pain_points",
                    "text": f"Data: {label} scores NPS {worst['nps']:+.0f} "
                    f"(n = {worst['responses']})",
                }
            )
    return out


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
    trend, good = None, None
    if len(history) >= 2:
        delta = history[-1] - history[-2]
        if delta == 0:
            trend = "= flat"
        else:
            change = _delta_text(abs(delta), unit, history[-2], currency).lstrip("+")
            trend = ("▲ " if delta > 0 else "▼ ") + change
            good = (delta > 0) == higher
    target_text = gap_text = status = None
    if goal is not None:
        target_text = format_metric(goal.get("target"), unit)
        status = goal.get("status")
        if current is not None and goal.get("target") is not None:
            gap = goal["target"] - current
            gap_text = "none" if status == "achieved" else _delta_text(gap, unit, current, currency)
    if unit == "currency" and currency:
        label = f"{label} ({currency})"
    return {
        "stage": stage,
        "metric": metric,
        "label": label,
        "value_text": format_metric(current, unit),
        "trend": trend,
        "trend_good": good,
        "target_text": target_text,
        "gap_text": gap_text,
        "status": status,
    }


def _kpi_frame(
    client: Any, doc: Mapping[str, Any], persona: str | None, st: pl.DataFrame
) -> pl.DataFrame:
    """Per stage its template KPIs known to the catalogue, plus every goal of this map.

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
    """
    cur = client.config.currency
    conv = dict(zip(st["id"].to_list(), st["conversion_from_previous"].to_list(), strict=True))
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for s in client.template.stages:
        for kpi in s.kpis:
            meta = get_metric(kpi)
            if meta is None or (persona is not None and kpi in _NOT_PER_PERSONA):
                continue
            goal = _goal_for(doc, kpi, persona)
            if kpi == "stage_conversion":
                row = _kpi_row(
                    s.id, kpi, "Conversion from previous stage", conv.get(s.id), [], None, cur
                )
            else:
                row = _kpi_row(
                    s.id,
                    kpi,
                    meta.label,
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
        label = get_metric(metric).label
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


def journey_map_data(
    client: Any,
    doc: Mapping[str, Any],
    stream: Any,
    *,
    persona: str | None = None,
    future: bool = False,
) -> JourneyMapData:
    """Everything the journey map draws, from a client, its metrics document and stream.

    * **stages**: ``doc['stages']`` (all accounts) or
      ``metrics.stages.stage_funnel(..., by='persona')`` restricted to ``persona``.
    * **touchpoints**: ``journey.touchpoint_inventory`` over the period's stream rows.
    * **emotion**: NPS per stage (``surveys.stage``) with its 95 % interval and
      the mean comment sentiment; None without surveys.
    * **texts**: the template's situation, actions, pain points and
      opportunities per stage, plus data-driven pain points (largest
      drop-offs, worst NPS by stage and by touchpoint) and the top three
      opportunities of :func:`opportunity_frame`, each prefixed "Data:".
    * **kpis**: see :func:`_kpi_frame`; on the future-state map the chart
      shows each goal's target, the gap and its status.

    Args:
        client: a loaded :class:`journeylib.ingest.client.Client` (period already set).
        doc: its metrics document (:func:`journeylib.metrics_document`).
        stream: its journey event stream (:func:`journeylib.journey_events`).
        persona: a persona id (``accounts.persona``) for a persona-based map;
            its KPIs come from the persona's own metrics document.
        future: build the future-state map (its title says so).

    Returns:
        A :class:`~journeylib.charts.journey_map.JourneyMapData`.
    """
    from journeylib.metrics.document import metrics_document, restrict_to_segment
    from journeylib.metrics.period import with_period

    sc = _scope(client, stream, persona)
    labels = persona_labels(client)
    kpi_doc = doc
    if persona is not None:
        seg = with_period(restrict_to_segment(client, {"persona": persona}), *sc.period)
        kpi_doc = metrics_document(seg)
    st = _stage_frame(client, doc, sc, persona)
    emotion = _emotion_frame(client, sc)
    texts: list[dict[str, str]] = []
    for s in client.template.stages:
        if s.situation:
            texts.append({"stage": s.id, "lane": "situation", "text": s.situation})
        for lane in ("actions", "pain_points", "opportunities"):
            texts.extend({"stage": s.id, "lane": lane, "text": t} for t in getattr(s, lane))
    texts.extend(_data_pain_points(client, st, emotion, sc))
    opp = _opportunities(client, sc, _arpa(kpi_doc)).head(3)
    texts.extend(
        {
            "stage": r["stage"],
            "lane": "opportunities",
            "text": f"Data: {r['touchpoint']} loses {r['lost']:,} of {r['volume']:,} accounts",
        }
        for r in opp.iter_rows(named=True)
    )
    name = labels.get(persona, persona) if persona else None
    state = "future state" if future else "current state"
    title = f"Customer journey map: {state}" + (f" · {name}" if name else "")
    return JourneyMapData(
        stages=st.drop("median_days_from_previous"),
        touchpoints=_touchpoint_frame(client, sc),
        emotion=emotion,
        texts=pl.DataFrame(
            texts, schema={"stage": pl.String, "lane": pl.String, "text": pl.String}
        ),
        kpis=_kpi_frame(client, kpi_doc, persona, st),
        persona=name,
        title=title,
    )


def persona_map_data(
    client: Any, doc: Mapping[str, Any], stream: Any, *, future: bool = False
) -> dict[str, JourneyMapData]:
    """One :func:`journey_map_data` per persona that has accounts, keyed by persona label.

    Personas come from client.yaml, in its order; personas found only in the
    data (accounts.persona filled by hand, or 'unassigned' for accounts no
    rule matched) follow alphabetically. Empty when no account has a persona
    other than 'unassigned'.
    """
    from journeylib.ingest.personas import UNASSIGNED

    present = set(client.tables["accounts"]["persona"].drop_nulls().unique().to_list())
    if present <= {UNASSIGNED}:
        return {}  # no persona rules matched anyone: one map per persona would repeat the whole
    labels = persona_labels(client)
    order = [p for p in labels if p in present] + sorted(present - set(labels))
    return {
        labels.get(p, p): journey_map_data(client, doc, stream, persona=p, future=future)
        for p in order
    }


# ---------------------------------------------------------------- opportunity map
def _arpa(doc: Mapping[str, Any]) -> float | None:
    months = (doc.get("revenue") or {}).get("months") or []
    return months[-1].get("arpa") if months else None


def _opportunities(client: Any, sc: _Scope, arpa: float | None) -> pl.DataFrame:
    """Per touchpoint of every stage but the last: volume, lost accounts, drop-off and score."""
    schema = {
        "stage": pl.String,
        "touchpoint": pl.String,
        "drop_off": pl.Float64,
        "volume": pl.Int64,
        "revenue_at_risk": pl.Float64,
        "score": pl.Float64,
        "lost": pl.Int64,
    }
    pairs = stage_pairs(client.template)
    if len(pairs) < 2:
        return pl.DataFrame(schema=schema)
    furthest = stages.stalled_accounts(
        sc.stream, sc.accounts, period=sc.period, stages=pairs
    ).select("account_id", "furthest_index")
    if furthest.height == 0:
        return pl.DataFrame(schema=schema)
    index = pl.DataFrame(
        {"stage": [s for s, _ in pairs], "stage_index": list(range(1, len(pairs) + 1))},
        schema={"stage": pl.String, "stage_index": pl.Int64},
    )
    lost_stage = furthest.group_by("furthest_index").agg(pl.len().cast(pl.Int64).alias("n"))
    lost_stage = dict(
        zip(lost_stage["furthest_index"].to_list(), lost_stage["n"].to_list(), strict=True)
    )
    tp_label = {tp.id: tp.display for s in client.template.stages for tp in s.touchpoints}
    use = (
        sc.stream.filter(
            pl.col("account_id").is_not_null(),
            pl.col("touchpoint").is_not_null(),
            _up_to_end("timestamp", sc.period),
        )
        .select("account_id", "touchpoint", "stage")
        .unique()
        .join(index, on="stage", how="inner")
        .join(furthest, on="account_id", how="inner")
        .filter(pl.col("stage_index") < len(pairs))
        .group_by("stage", "stage_index", "touchpoint")
        .agg(
            pl.len().cast(pl.Int64).alias("volume"),
            (pl.col("furthest_index") == pl.col("stage_index")).sum().cast(pl.Int64).alias("lost"),
        )
    )
    if use.height == 0:
        return pl.DataFrame(schema=schema)
    risk = pl.col("stage_index").replace_strict(lost_stage, default=0, return_dtype=pl.Float64)
    out = use.with_columns(
        (pl.col("lost") / pl.col("volume")).alias("drop_off"),
        (risk * arpa).alias("revenue_at_risk")
        if arpa is not None
        else pl.lit(None, dtype=pl.Float64).alias("revenue_at_risk"),
    ).with_columns(
        (pl.col("drop_off") * pl.col("volume") * pl.col("revenue_at_risk").fill_null(1.0)).alias(
            "_raw"
        )
    )
    top = out["_raw"].max()
    out = out.with_columns(
        (pl.col("_raw") / top if top else pl.lit(None, dtype=pl.Float64)).alias("score"),
        pl.col("touchpoint").replace_strict(
            tp_label, default=pl.col("touchpoint"), return_dtype=pl.String
        ),
    )
    return (
        out.sort(
            ["score", "stage_index", "touchpoint"], descending=[True, False, False], nulls_last=True
        )
        .select(list(schema))
        .cast(schema)
    )


def opportunity_frame(client: Any, doc: Mapping[str, Any], stream: Any) -> pl.DataFrame:
    """Stages × touchpoints ranked by drop-off × volume × revenue at stake (the opportunity map).

    Over the stage funnel's accounts (first seen in the period, events up to
    its end), for each touchpoint of every stage but the last:

    * ``volume`` = accounts that met the touchpoint;
    * ``drop_off`` = the share of them whose furthest stage is the
      touchpoint's stage (they never reached a later stage);
    * ``revenue_at_risk`` = accounts lost at that stage (furthest stage =
      it) × ARPA of the period's last month: the monthly revenue the stage's
      leak would be worth if those accounts paid like today's customers
      (null without subscriptions);
    * ``score`` = drop_off × volume × revenue_at_risk (drop_off × volume
      without subscriptions), scaled so that the top opportunity scores 1.

    Touchpoints are shown by their label. The last stage is left out: its
    accounts went all the way.

    Returns:
        ``pl.DataFrame[stage, touchpoint, drop_off, volume, revenue_at_risk,
        score, lost]``, best opportunity first; ``stage`` is the stage's label
        and ``touchpoint`` the touchpoint's label (what the chart shows).
    """
    out = _opportunities(client, _scope(client, stream, None), _arpa(doc))
    return out.with_columns(
        pl.col("stage").replace_strict(
            dict(stage_pairs(client.template)), default=pl.col("stage"), return_dtype=pl.String
        )
    )


# ---------------------------------------------------------------- service blueprint
def _ticket_stages(client: Any, stream: pl.DataFrame, tickets: pl.DataFrame) -> pl.DataFrame:
    """Each ticket with the stage its account was in when it opened it (or null)."""
    order = client.template.stage_ids
    entries = (
        stream.filter(
            pl.col("account_id").is_not_null(),
            pl.col("stage").is_in(order),
            ~pl.col("source").is_in(_DERIVED_SOURCES),
        )
        .group_by("account_id", "stage")
        .agg(pl.col("timestamp").min().alias("entered_at"))
        .with_columns(
            pl.col("stage")
            .replace_strict(order, list(range(len(order))), return_dtype=pl.Int64)
            .alias("idx")
        )
    )
    at = (
        tickets.select("ticket_id", "account_id", "opened_at")
        .join(entries, on="account_id", how="inner")
        .filter(pl.col("entered_at") <= pl.col("opened_at"))
        .group_by("ticket_id")
        .agg(pl.col("idx").max())
        .with_columns(
            pl.col("idx")
            .replace_strict(list(range(len(order))), order, return_dtype=pl.String)
            .alias("stage")
        )
    )
    return tickets.join(at.select("ticket_id", "stage"), on="ticket_id", how="left")


def blueprint_frames(
    client: Any, doc: Mapping[str, Any], stream: Any
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The front and back stage of the service blueprint.

    * **front**: every touchpoint met by at least one account in the period
      (``touchpoint_inventory`` over the period's rows): ``stage,
      touchpoint`` (its label), ``accounts``.
    * **back**: the tickets opened in the period, each placed on the stage its
      account was in when it opened it: the latest stage (in template order)
      the account had entered at or before ``opened_at``, counting stage
      entries from raw events and the accounts and subscriptions moments only
      (a ticket's own ``ticket_opened`` event would otherwise place it on the
      support touchpoint's stage). Tickets without an account or opened
      before any stage entry are left out. Per stage: ``tickets``,
      ``top_category`` (most tickets; ties by name) and
      ``resolution_hours_median`` (resolved tickets).

    ``doc`` is accepted for symmetry with the other builders; nothing is read from it.
    Stages are given by their label (pass ``stages=[label, …]`` in template
    order to the chart), categories with spaces for underscores.

    Returns:
        ``(front, back)`` as :func:`journeylib.charts.chart_service_blueprint` takes them.
    """
    del doc
    sc = _scope(client, stream, None)
    inv = _touchpoint_frame(client, sc)
    front = inv.filter(pl.col("accounts") > 0).select(
        "stage", pl.col("label").alias("touchpoint"), "accounts"
    )
    back_schema = {
        "stage": pl.String,
        "tickets": pl.Int64,
        "top_category": pl.String,
        "resolution_hours_median": pl.Float64,
    }
    tickets = client.table("tickets")
    if tickets is None:
        return front, pl.DataFrame(schema=back_schema)
    t = _ticket_stages(client, sc.stream, tickets.filter(_in_period("opened_at", sc.period)))
    t = t.filter(pl.col("stage").is_not_null()).with_columns(
        ((pl.col("resolved_at") - pl.col("opened_at")).dt.total_microseconds() / 3.6e9).alias(
            "hours"
        )
    )
    top = (
        t.group_by("stage", "category")
        .agg(pl.len().alias("n"))
        .sort(["stage", "n", "category"], descending=[False, True, False], nulls_last=True)
        .group_by("stage", maintain_order=True)
        .first()
        .select("stage", pl.col("category").alias("top_category"))
    )
    back = (
        t.group_by("stage")
        .agg(
            pl.len().cast(pl.Int64).alias("tickets"),
            pl.col("hours").median().alias("resolution_hours_median"),
        )
        .join(top, on="stage", how="left")
        .with_columns(
            pl.col("stage")
            .replace_strict(
                client.template.stage_ids,
                list(range(len(client.template.stage_ids))),
                return_dtype=pl.Int64,
            )
            .alias("_o")
        )
        .sort("_o")
        .select(list(back_schema))
        .cast(back_schema)
        .with_columns(pl.col("top_category").str.replace_all("_", " "))
    )
    labels = dict(stage_pairs(client.template))
    relabel = pl.col("stage").replace_strict(
        labels, default=pl.col("stage"), return_dtype=pl.String
    )
    return front.with_columns(relabel), back.with_columns(relabel)


# ---------------------------------------------------------------- day in the life
def day_in_life_frame(
    stream: Any,
    accounts: Any,
    *,
    period: tuple[str, str] | None = None,
    timezone: str = "UTC",
    labels: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """When in the week and day accounts are active, per persona.

    Counts the raw events (``source == 'events'``) of accounts, in the period
    when one is given, by weekday (1 = Monday … 7 = Sunday) and hour of day in
    ``timezone`` (the client's time zone reads better than UTC). Accounts
    without a persona form the group '(none)'; ``labels`` renames persona ids.

    Returns:
        ``pl.DataFrame[persona, weekday, hour, events]`` sorted by persona, weekday, hour.

    Examples:
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 1, 9, tzinfo=dt.timezone.utc)  # a Monday
        >>> s = pl.DataFrame({"account_id": ["a", "a"], "timestamp": [t, t],
        ...     "source": ["events", "subscriptions"]})
        >>> day_in_life_frame(s, pl.DataFrame({"account_id": ["a"], "persona": ["ops"]})).rows()
        [('ops', 1, 9, 1)]
    """
    s = _df(stream).filter(pl.col("account_id").is_not_null(), pl.col("source") == "events")
    if period is not None:
        s = s.filter(_in_period("timestamp", period))
    acc = _df(accounts).select("account_id", pl.col("persona").cast(pl.String))
    local = pl.col("timestamp").dt.convert_time_zone(timezone)
    out = (
        s.select("account_id", local.alias("t"))
        .join(acc, on="account_id", how="left")
        .with_columns(pl.col("persona").fill_null("(none)"))
        .group_by(
            "persona",
            pl.col("t").dt.weekday().cast(pl.Int64).alias("weekday"),
            pl.col("t").dt.hour().cast(pl.Int64).alias("hour"),
        )
        .agg(pl.len().cast(pl.Int64).alias("events"))
    )
    if labels:
        out = out.with_columns(pl.col("persona").replace(dict(labels)))
    return out.sort("persona", "weekday", "hour")


# ---------------------------------------------------------------- milestones
def milestone_times(client: Any, stream: Any) -> pl.DataFrame:
    """Per milestone and signup of the period: days from signup to the milestone's first event.

    Uses :func:`journeylib.metrics.onboarding.first_value_times` per
    milestone event (the same reading as ``metrics.milestones``: the first
    event at or after ``signup_at``, at any time in the data).

    Returns:
        ``pl.DataFrame[milestone (its label), id, account_id, days, reached]``;
        empty when client.yaml lists no milestones.
    """
    period = resolve_period(client)
    accounts = client.tables["accounts"]
    parts = [
        onboarding.first_value_times(accounts, _df(stream), period=period, event=m.event).select(
            pl.lit(m.label or m.id).alias("milestone"),
            pl.lit(m.id).alias("id"),
            "account_id",
            "days",
            pl.col("reached_at").is_not_null().alias("reached"),
        )
        for m in client.config.milestones
    ]
    schema = {
        "milestone": pl.String,
        "id": pl.String,
        "account_id": pl.String,
        "days": pl.Float64,
        "reached": pl.Boolean,
    }
    return pl.concat(parts).cast(schema) if parts else pl.DataFrame(schema=schema)


def milestone_table(client: Any, stream: Any) -> pl.DataFrame:
    """``metrics.milestones.milestones`` for the client's milestones, with their labels.

    Returns:
        ``pl.DataFrame[id, label, event, reached, signups, reached_share,
        median_days, retention_6m_reached, retention_6m_not_reached,
        paying_reached, paying_not_reached]``.
    """
    cfg = client.config.milestones
    out = ms.milestones(
        client.tables["accounts"],
        _df(stream),
        client.table("subscriptions"),
        period=resolve_period(client),
        milestones=cfg,
    )
    labels = {m.id: m.label or m.id for m in cfg}
    return out.select(
        "id",
        pl.col("id")
        .replace_strict(labels, default=pl.col("id"), return_dtype=pl.String)
        .alias("label"),
        pl.exclude("id"),
    )


def milestone_revenue(client: Any, stream: Any) -> pl.DataFrame:
    """Revenue of the period's signups that reached each milestone against those that did not.

    Per milestone, over the period's signups (as :func:`milestone_times`):
    ``mrr_per_signup_*`` = the group's MRR in the period's last month
    divided by the group's signups (accounts not paying then count 0), and
    ``paying_share_*`` = the share of the group paying in that month. Null
    for an empty group; empty without subscriptions or milestones.

    Returns:
        ``pl.DataFrame[id, label, signups_reached, signups_not_reached,
        mrr_per_signup_reached, mrr_per_signup_not_reached,
        paying_share_reached, paying_share_not_reached]``.
    """
    schema = {
        "id": pl.String,
        "label": pl.String,
        "signups_reached": pl.Int64,
        "signups_not_reached": pl.Int64,
        "mrr_per_signup_reached": pl.Float64,
        "mrr_per_signup_not_reached": pl.Float64,
        "paying_share_reached": pl.Float64,
        "paying_share_not_reached": pl.Float64,
    }
    subs = client.table("subscriptions")
    times = milestone_times(client, stream)
    if subs is None or times.height == 0:
        return pl.DataFrame(schema=schema)
    last = _period_idx(resolve_period(client))[1]
    mrr = (
        subs.filter(_month_idx("month") == last)
        .group_by("account_id")
        .agg(pl.col("mrr").sum().alias("mrr"))
    )
    g = (
        times.join(mrr, on="account_id", how="left")
        .with_columns(pl.col("mrr").fill_null(0.0))
        .group_by("id", "milestone", "reached", maintain_order=True)
        .agg(
            pl.len().cast(pl.Int64).alias("n"),
            pl.col("mrr").mean().alias("mrr"),
            (pl.col("mrr") > 0).mean().alias("paying"),
        )
    )

    def pick(flag: bool, col: str) -> pl.Expr:
        return pl.col(col).filter(pl.col("reached") == flag).first()

    out = (
        g.group_by("id", "milestone", maintain_order=True)
        .agg(
            pick(True, "n").alias("signups_reached"),
            pick(False, "n").alias("signups_not_reached"),
            pick(True, "mrr").alias("mrr_per_signup_reached"),
            pick(False, "mrr").alias("mrr_per_signup_not_reached"),
            pick(True, "paying").alias("paying_share_reached"),
            pick(False, "paying").alias("paying_share_not_reached"),
        )
        .rename({"milestone": "label"})
    )
    return (
        out.with_columns(pl.col("signups_reached", "signups_not_reached").fill_null(0))
        .select(list(schema))
        .cast(schema)
    )


def stuck_table(client: Any, stream: Any, *, out_dir: str | Path | None = None) -> pl.DataFrame:
    """The period's signups that have not reached each milestone yet, for follow-up.

    ``metrics.milestones.stuck_before`` per milestone, stacked, with the
    account's name. When ``out_dir`` is given the whole table is also written
    to ``out_dir/tables/stuck_before_milestones.csv``.

    Returns:
        ``pl.DataFrame[milestone, account_id, name, persona, signup_at, days_since_signup]``.
    """
    period = resolve_period(client)
    accounts = client.tables["accounts"]
    names = accounts.select("account_id", *(["name"] if "name" in accounts.columns else []))
    parts = [
        ms.stuck_before(accounts, _df(stream), milestone_event=m.event, period=period).select(
            pl.lit(m.label or m.id).alias("milestone"), pl.all()
        )
        for m in client.config.milestones
    ]
    schema = {
        "milestone": pl.String,
        "account_id": pl.String,
        "name": pl.String,
        "persona": pl.String,
        "signup_at": _TS,
        "days_since_signup": pl.Float64,
    }
    if not parts:
        out = pl.DataFrame(schema=schema)
    else:
        out = pl.concat(parts).join(names, on="account_id", how="left")
        if "name" not in out.columns:
            out = out.with_columns(pl.lit(None, dtype=pl.String).alias("name"))
        out = out.select(list(schema)).cast(schema)
    if out_dir is not None:
        path = Path(out_dir) / "tables" / "stuck_before_milestones.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        out.write_csv(path)
    return out


# ---------------------------------------------------------------- notebook 04 helpers
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
        _df(entries)
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
    decisions, information needs and pain points. Template text is
    html-escaped, so the block is safe in the report.

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
        facts = [f"**{n.get('reached', 0) or 0:,}** accounts reached it"]
        if n.get("conversion_from_previous") is not None:
            facts.append(f"**{100 * n['conversion_from_previous']:.0f} %** of the previous stage")
        if n.get("median_days_from_previous") is not None:
            facts.append(f"median **{n['median_days_from_previous']:.1f} days** after it")
        if s.id in stalls and stalls[s.id]["share"] is not None:
            facts.append(
                f"**{stalls[s.id]['accounts']:,}** stopped here "
                f"({100 * stalls[s.id]['share']:.0f} %)"
            )
        parts = [f"### {i}. {html.escape(s.label)}\n", "; ".join(facts) + ".\n"]
        if s.situation:
            parts.append(f"*{html.escape(s.situation.strip())}*\n")
        parts.append(
            _bullets("Customer actions", s.actions)
            + _bullets("Decisions", s.decisions)
            + _bullets("Information needs", s.information_needs)
            + _bullets("Pain points to look for", s.pain_points)
        )
        blocks.append("\n".join(parts))
    return "\n\n".join(blocks)


# ---------------------------------------------------------------- onboarding and micro-journey
def _onboarding_stage(template: Any) -> Any | None:
    for s in template.stages:
        if s.id == "onboarding":
            return s
    for s in template.stages:
        if "onboarding" in [p.lower() for p in s.phases]:
            return s
    return None


def _typical_order(stream: pl.DataFrame, events: list[str]) -> pl.DataFrame:
    """Per event: accounts doing it and the median days from the account's first of ``events``."""
    s = stream.filter(pl.col("account_id").is_not_null(), pl.col("event").is_in(events))
    firsts = s.group_by("account_id", "event").agg(pl.col("timestamp").min().alias("t"))
    return (
        firsts.with_columns(pl.col("t").min().over("account_id").alias("t0"))
        .group_by("event")
        .agg(
            pl.len().alias("accounts"),
            ((pl.col("t") - pl.col("t0")).dt.total_seconds() / 86400).median().alias("offset"),
        )
        .sort(["offset", "accounts", "event"], descending=[False, True, False])
    )


def onboarding_steps(
    client: Any, stream: Any, *, max_steps: int = 5, window: str = "30d", keep: float = 0.5
) -> list[str]:
    """The onboarding stage's steps for the onboarding map: its entry, then its key moments.

    Candidates are the raw events the template lists under the onboarding
    stage (id ``onboarding``, else the stage whose phases include
    "onboarding", e.g. the five-stage model's conversion). The path starts at
    the candidate that comes first in a typical account's onboarding (least
    median time from the account's first candidate event, among those done by
    at least ``keep`` of the accounts doing the most common one). Then come
    the candidates client.yaml names as key moments (the activation event,
    the first-value event, milestone events), in their typical order. Without
    such events the path is built greedily: the candidate that keeps the most
    accounts in an ordered funnel (``window``) is appended until the next
    step would keep fewer than ``keep`` of the previous step's accounts.
    Optional side steps taken in any order (an email opened, a tutorial
    watched) would otherwise break an ordered funnel.

    Returns:
        Event names (at most ``max_steps``); empty when the template has no
        onboarding stage or nobody onboarded.
    """
    from journeylib.metrics.funnels import ordered_funnel
    from journeylib.stream import DERIVED_EVENTS

    stage = _onboarding_stage(client.template)
    if stage is None:
        return []
    events = list(
        dict.fromkeys(e for tp in stage.touchpoints for e in tp.events if e not in DERIVED_EVENTS)
    )
    s = _df(stream).filter(
        pl.col("source") == "events",
        pl.col("event").is_in(events),
        pl.col("account_id").is_not_null(),
    )
    order = _typical_order(s, events)
    if order.height == 0:
        return []
    top = order["accounts"].max()
    first = order.filter(pl.col("accounts") >= keep * top).row(0, named=True)
    cfg = client.config
    key = {m.event for m in cfg.milestones}
    key |= {x.event for x in (cfg.activation, cfg.first_value) if x is not None}
    named = [e for e in order["event"].to_list() if e in key and e != first["event"]]
    if named:
        return [first["event"], *named][:max_steps]
    path, n_prev = [first["event"]], first["accounts"]
    rest = [e for e in order["event"].to_list() if e != first["event"]]
    s = s.select("account_id", "timestamp", "event", "seq")
    while rest and len(path) < max_steps:
        counts = {
            e: int(ordered_funnel(s, steps=[*path, e], window=window).steps["count"][-1])
            for e in rest
        }
        best = max(rest, key=lambda e: (counts[e], -rest.index(e)))
        if counts[best] < keep * n_prev:
            break
        path.append(best)
        rest.remove(best)
        n_prev = counts[best]
    return path


def variant_steps(stream: Any, *, max_steps: int = 5) -> list[str]:
    """The events that carry an A/B ``variant``, in their typical order (the micro-journey).

    Ordered by the median time from the account's first variant-carrying
    event, then by accounts; empty when no event has a variant.

    Examples:
        >>> import datetime as dt
        >>> t = lambda h: dt.datetime(2024, 1, 1, h, tzinfo=dt.timezone.utc)
        >>> s = pl.DataFrame({"account_id": ["a", "a", "a"], "timestamp": [t(2), t(1), t(3)],
        ...     "event": ["pay", "checkout", "login"], "variant": ["B", "B", None]})
        >>> variant_steps(s)
        ['checkout', 'pay']
    """
    s = _df(stream).filter(pl.col("variant").is_not_null(), pl.col("account_id").is_not_null())
    events = s["event"].unique().to_list()
    return _typical_order(s, events)["event"].head(max_steps).to_list()


# ---------------------------------------------------------------- files
def save_charts(
    charts: Mapping[str, Any],
    charts_dir: str | Path | None,
    *,
    formats: Sequence[str] = ("svg", "png"),
) -> list[Path]:
    """Write each named chart to ``charts_dir/<name>.<format>``; nothing when ``charts_dir`` is None.

    Returns:
        The paths written.
    """
    from journeylib.present.render import save_chart

    if charts_dir is None:
        return []
    return [
        save_chart(chart, Path(charts_dir) / f"{name}.{fmt}")
        for name, chart in charts.items()
        for fmt in formats
    ]
