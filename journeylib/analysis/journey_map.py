"""The journey map's data: from a loaded client to the frames the journey-map charts draw.

The chart layer (:mod:`journeylib.charts`) draws small frames; the metric layer
(:mod:`journeylib.metrics`) computes numbers. This module builds what the
journey map and its variants draw, from a client, its metrics document (the
numbers of ``metrics.json``) and its journey event stream, so the notebooks
stay one call per result:

* :class:`JourneyMapData`: everything one map draws, as plain polars frames;
* :func:`journey_map_data` - the current-state, future-state and persona maps
  (their KPI lane is :mod:`journeylib.analysis.map_kpis`);
* :func:`persona_map_data` - one map per persona;
* :func:`opportunity_frame` - the opportunity map, and :func:`opportunity_backlog`, the
  same with the tickets and detractor comments behind each row.

Inputs are polars frames (a LazyFrame is collected); the stream is the one of
:func:`journeylib.stream.journey_events`. Readings chosen where the product
spec leaves room are written in each docstring. The map's own words (its
title, the texts read from the data, the KPI labels) are in the current
language (:mod:`journeylib.i18n`); the template's texts come as the template
wrote them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.analysis._scope import Scope, remembered, scope, touchpoint_frame
from journeylib.analysis.map_kpis import NOT_PER_PERSONA, kpi_lane
from journeylib.analysis.personas import persona_labels
from journeylib.analysis.stages import stage_pairs
from journeylib.formatting import format_value
from journeylib.frames import collect, to_lazy
from journeylib.i18n import gettext as _
from journeylib.ingest.personas import UNASSIGNED
from journeylib.ingest.restrict import restrict_to_segment
from journeylib.metrics.document import document_sections
from journeylib.metrics.feedback import nps_by_stage, sentiment_by_stage, with_nps_interval
from journeylib.metrics.goals import metric_sections
from journeylib.metrics.period import with_period
from journeylib.metrics.stages import stage_funnel, stalled_accounts
from journeylib.months import filter_period, months_filter, period_index

__all__ = [
    "JourneyMapData",
    "journey_map_data",
    "map_sections",
    "opportunity_backlog",
    "opportunity_frame",
    "persona_map_data",
    "report_view",
]

_MIN_ANSWERS = 10  # fewest survey answers for a data-driven NPS pain point


@dataclasses.dataclass(frozen=True)
class JourneyMapData:
    """Everything the journey map draws, as plain polars frames.

    Attributes:
        stages: ``order, id, label, reached, conversion_from_previous`` (one row
            per stage; drawn sorted by ``order``).
        touchpoints: ``stage, touchpoint, label, kind, events, accounts``
            (``kind`` 'direct' or 'indirect'; the dots are sized by ``events``).
        emotion: ``stage, nps, responses, ci_low, ci_high, sentiment`` (NPS in
            [-100, 100], sentiment nullable in [-1, 1]).
        texts: ``stage, lane, text``; lanes 'situation', 'actions',
            'decisions', 'information_needs', 'pain_points', 'opportunities'
            (or others); several rows per stage and lane become bullets.
            Optional ``from_data`` (bool): the row was read from the client's
            data (its text starts with "Data:" in the current language), not
            from the template.
        kpis: ``stage, metric, label, value_text, trend, target_text``;
            optional ``trend_good`` (bool: colours the trend), ``gap_text`` and
            ``status`` ('on_track', 'at_risk', 'off_track', 'achieved') for the
            future-state map.
        persona: the persona the map is for (None = all accounts); named once,
            in the subtitle and the situation lane's title, unless ``title``
            already names it.
        title: the map's title (default says current or future state).
    """

    stages: pl.DataFrame
    touchpoints: pl.DataFrame | None = None
    emotion: pl.DataFrame | None = None
    texts: pl.DataFrame | None = None
    kpis: pl.DataFrame | None = None
    persona: str | None = None
    title: str | None = None


def _stage_frame(
    client: Any, doc: Mapping[str, Any], sc: Scope, persona: str | None
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
    funnel = stage_funnel(
        sc.stream, sc.accounts, period=sc.period, stages=stage_pairs(client.template)
    )
    return (
        funnel.with_columns(pl.int_range(1, pl.len() + 1).cast(pl.Int64).alias("order"))
        .select(list(schema))
        .cast(schema)
    )


def _emotion_frame(client: Any, sc: Scope) -> pl.DataFrame | None:
    if sc.surveys is None:
        return None
    order = client.template.stage_ids
    by_stage = nps_by_stage(sc.surveys, period=sc.period, stage_order=order)
    if by_stage.height == 0:
        return None
    sent = remembered(
        "sentiment",
        client,
        sc,
        lambda: sentiment_by_stage(sc.surveys, period=sc.period, stage_order=order),
    )
    return (
        with_nps_interval(by_stage)
        .join(
            sent.select("stage", pl.col("mean_sentiment").alias("sentiment")),
            on="stage",
            how="left",
        )
        .select(
            "stage", pl.col("score").alias("nps"), "responses", "ci_low", "ci_high", "sentiment"
        )
    )


def _touchpoint_nps(sc: Scope) -> pl.DataFrame:
    """NPS per ``surveys.touchpoint`` (responses with a score, dated in the period)."""
    if sc.surveys is None or "touchpoint" not in sc.surveys.columns:
        return pl.DataFrame(
            schema={"touchpoint": pl.String, "nps": pl.Float64, "responses": pl.Int64}
        )
    s = collect(filter_period(to_lazy(sc.surveys), "responded_at", sc.period)).filter(
        pl.col("score").is_not_null(), pl.col("touchpoint").is_not_null()
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
    client: Any, st: pl.DataFrame, emotion: pl.DataFrame | None, sc: Scope
) -> list[dict[str, str]]:
    """Short, data-driven pain points: the two largest drop-offs and the worst NPS scores.

    A drop-off is written on the stage accounts fail to leave ("Data: 69% stop
    before Decision" in English), for the two stages with the lowest conversion to the
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
            stop = format_value(1 - conv, "fraction", digits=0)
            text = _("{share} stop before {stage}").format(share=stop, stage=next_label)
            out.append(_pain_text(sid, text))
    if emotion is not None:
        ok = emotion.filter(pl.col("responses") >= _MIN_ANSWERS, pl.col("nps").is_not_null())
        if ok.height >= 2:
            worst = ok.sort("nps").row(0, named=True)
            if worst["nps"] < 30:
                nps = format_value(worst["nps"], "nps")
                text = _("lowest NPS of the journey ({nps}, n = {n})").format(
                    nps=nps, n=worst["responses"]
                )
                out.append(_pain_text(worst["stage"], text))
    tp_nps = _touchpoint_nps(sc).filter(pl.col("responses") >= _MIN_ANSWERS, pl.col("nps") < 0)
    if tp_nps.height:
        worst = tp_nps.sort("nps").row(0, named=True)
        where = {
            tp.id: (st_.id, tp.display) for st_ in client.template.stages for tp in st_.touchpoints
        }
        if worst["touchpoint"] in where:
            sid, label = where[worst["touchpoint"]]
            nps = format_value(worst["nps"], "nps")
            text = _("{touchpoint} scores NPS {nps} (n = {n})").format(
                touchpoint=label, nps=nps, n=worst["responses"]
            )
            out.append(_pain_text(sid, text))
    return out


def _data_text(stage: str, lane: str, text: str) -> dict[str, Any]:
    """A row of a text lane read from the data: "Data: …" (in the current language), flagged."""
    return {
        "stage": stage,
        "lane": lane,
        "text": _("Data: {text}").format(text=text),
        "from_data": True,
    }


def _pain_text(stage: str, text: str) -> dict[str, Any]:
    """A row of the map's pain-points lane, marked as read from the data."""
    return _data_text(stage, "pain_points", text)


def _data_prefixes() -> list[str]:
    """The starts of a "Data: …" text: English's and the current language's."""
    translated = _("Data: {text}").split("{text}")[0].strip()
    return list(dict.fromkeys(["Data:", *([translated] if translated else [])]))


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
      opportunities of :func:`opportunity_frame`, each prefixed "Data:" (in
      the current language) and flagged ``from_data``.
    * **kpis**: see :func:`~journeylib.analysis.map_kpis.kpi_lane`; on the future-state map the chart
      shows each goal's target, the gap and its status.

    Args:
        client: a loaded :class:`journeylib.ingest.client.Client` (period already set).
        doc: its metrics document (:func:`journeylib.metrics_document`).
        stream: its journey event stream (:func:`journeylib.journey_events`).
        persona: a persona id (``accounts.persona``) for a persona-based map;
            its KPIs come from the persona's own metrics document.
        future: build the future-state map (its title says so).

    Returns:
        A :class:`JourneyMapData`.
    """
    sc = scope(client, stream, persona)
    labels = persona_labels(client)
    kpi_doc = doc
    if persona is not None:
        seg = with_period(restrict_to_segment(client, {"persona": persona}), *sc.period)
        # only the sections the map reads: a persona's whole document would cost 4x more
        kpi_doc = document_sections(seg, sc.period, map_sections(client, persona=persona))
    # a persona's own document holds its stage funnel (restricted to its accounts)
    st = _stage_frame(client, kpi_doc, sc, None)
    emotion = _emotion_frame(client, sc)
    texts: list[dict[str, Any]] = []
    for s in client.template.stages:
        if s.situation:
            texts.append(
                {"stage": s.id, "lane": "situation", "text": s.situation, "from_data": False}
            )
        for lane in ("actions", "pain_points", "opportunities"):
            texts.extend(
                {"stage": s.id, "lane": lane, "text": t, "from_data": False}
                for t in getattr(s, lane)
            )
    texts.extend(_data_pain_points(client, st, emotion, sc))
    opp = _opportunities(client, sc, _arpa(kpi_doc)).head(3)
    texts.extend(
        _data_text(
            r["stage"],
            "opportunities",
            _("{touchpoint} loses {lost} of {volume} accounts").format(
                touchpoint=r["touchpoint"],
                lost=format_value(r["lost"], "count"),
                volume=format_value(r["volume"], "count"),
            ),
        )
        for r in opp.iter_rows(named=True)
    )
    name = labels.get(persona, persona) if persona else None
    if future:
        title = (
            _("Customer journey map: future state · {persona}").format(persona=name)
            if name
            else _("Customer journey map: future state")
        )
    else:
        title = (
            _("Customer journey map: current state · {persona}").format(persona=name)
            if name
            else _("Customer journey map: current state")
        )
    return JourneyMapData(
        stages=st.drop("median_days_from_previous"),
        touchpoints=touchpoint_frame(client, sc),
        emotion=emotion,
        texts=pl.DataFrame(
            texts,
            schema={
                "stage": pl.String,
                "lane": pl.String,
                "text": pl.String,
                "from_data": pl.Boolean,
            },
        ),
        kpis=kpi_lane(client, kpi_doc, persona, st),
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
    present = set(client.tables["accounts"]["persona"].drop_nulls().unique().to_list())
    if present <= {UNASSIGNED}:
        return {}  # no persona rules matched anyone: one map per persona would repeat the whole
    labels = persona_labels(client)
    order = [p for p in labels if p in present] + sorted(present - set(labels))
    return {
        labels.get(p, p): journey_map_data(client, doc, stream, persona=p, future=future)
        for p in order
    }


def report_view(data: JourneyMapData, *, max_kpis: int = 3) -> JourneyMapData:
    """The client report's shorter map: what the data says, at a glance.

    Keeps the stages, touchpoints and emotion as they are; of the text lanes
    only the pain points and opportunities read from the data (the rows
    flagged ``from_data``, which do not depend on the language; in a frame
    without that column, the rows whose text starts with "Data:" in English
    or in the current language); the template's descriptions of the persona,
    its actions and its generic pain points stay in the analysis' full map;
    and at most ``max_kpis`` KPIs per stage, those with a goal (a target)
    first, then in template order.

    Examples:
        >>> d = JourneyMapData(stages=pl.DataFrame({"id": ["a"]}), texts=pl.DataFrame({
        ...     "stage": ["a", "a"], "lane": ["pain_points", "actions"],
        ...     "text": ["Data: 69% stop here", "Reads the blog"]}))
        >>> report_view(d).texts["text"].to_list()
        ['Data: 69% stop here']
        >>> zh = JourneyMapData(stages=d.stages, texts=pl.DataFrame({
        ...     "stage": ["a", "a"], "lane": ["pain_points", "pain_points"],
        ...     "text": ["数据：69% 在试用前流失", "安装太慢"], "from_data": [True, False]}))
        >>> report_view(zh).texts["text"].to_list()
        ['数据：69% 在试用前流失']
    """
    texts = data.texts
    if texts is not None:
        if "from_data" in texts.columns:
            from_data = pl.col("from_data").fill_null(value=False)
        else:
            starts = [pl.col("text").str.starts_with(p) for p in _data_prefixes()]
            from_data = pl.any_horizontal(starts).fill_null(value=False)
        texts = texts.filter(pl.col("lane").is_in(["pain_points", "opportunities"]) & from_data)
    kpis = data.kpis
    if kpis is not None and kpis.height:
        goal_first = (
            pl.col("target_text").is_null() | (pl.col("target_text") == "")
            if "target_text" in kpis.columns
            else pl.lit(value=False)
        )
        kpis = (
            kpis.with_row_index("_i")
            .with_columns(goal_first.alias("_no_goal"))
            .sort("_no_goal", "_i")
            .group_by("stage", maintain_order=True)
            .head(max_kpis)
            .sort("_i")
            .drop("_i", "_no_goal")
        )
    return dataclasses.replace(data, texts=texts, kpis=kpis)


# ---------------------------------------------------------------- opportunity map
def map_sections(client: Any, *, persona: str | None = None) -> frozenset[str]:
    """The metrics-document sections a journey map reads.

    Those of the template's stage KPIs and of the client's goals
    (:func:`journeylib.metrics.goals.metric_sections`), ``revenue`` (the
    opportunities' ARPA) and ``stages`` (the stage lane). A persona's map
    (``persona``) shows neither the KPIs a persona's accounts cannot give
    (:data:`~journeylib.analysis.map_kpis.NOT_PER_PERSONA`: visitors, search,
    CAC) nor the goals of other segments, and its own goals are evaluated on
    their own sections: only its template KPIs' sections are read.

    Examples:
        >>> from types import SimpleNamespace as N
        >>> c = N(template=N(stages=[N(kpis=["cac", "ttfv_days_median"])]), config=N(goals=[]))
        >>> sorted(map_sections(c)), sorted(map_sections(c, persona="smb"))
        (['acquisition', 'onboarding', 'revenue', 'stages'], ['onboarding', 'revenue', 'stages'])
    """
    wanted = {k for s in client.template.stages for k in s.kpis}
    if persona is None:
        wanted |= {g.metric for g in client.config.goals}
    else:
        wanted -= NOT_PER_PERSONA
    sections = {"revenue", "stages"}
    for metric in wanted:
        sections |= metric_sections(metric) or set()
    return frozenset(sections)


def _arpa(doc: Mapping[str, Any]) -> float | None:
    months = (doc.get("revenue") or {}).get("months") or []
    return months[-1].get("arpa") if months else None


def _touchpoint_use(client: Any, sc: Scope) -> tuple[pl.DataFrame, dict[int, int]] | None:
    """Who met which touchpoint of every stage but the last, and whether it was lost there.

    Returns ``([stage, stage_index, touchpoint, account_id, lost], {stage_index:
    accounts lost at it})`` over the stage funnel's accounts, touchpoints as
    ids; None when the template has fewer than two stages or nobody is in the
    funnel.
    """
    return remembered("touchpoint_use", client, sc, lambda: _compute_touchpoint_use(client, sc))


def _compute_touchpoint_use(client: Any, sc: Scope) -> tuple[pl.DataFrame, dict[int, int]] | None:
    pairs = stage_pairs(client.template)
    if len(pairs) < 2:
        return None
    furthest, met = _account_use(client, sc)
    if furthest.height == 0:
        return None
    index = pl.DataFrame(
        {"stage": [s for s, _ in pairs], "stage_index": list(range(1, len(pairs) + 1))},
        schema={"stage": pl.String, "stage_index": pl.Int64},
    )
    lost_stage = furthest.group_by("furthest_index").agg(pl.len().cast(pl.Int64).alias("n"))
    lost_stage = dict(
        zip(lost_stage["furthest_index"].to_list(), lost_stage["n"].to_list(), strict=True)
    )
    use = (
        met.join(index, on="stage", how="inner")
        .join(furthest, on="account_id", how="inner")
        .filter(pl.col("stage_index") < len(pairs))
        .select(
            "stage",
            "stage_index",
            "touchpoint",
            "account_id",
            (pl.col("furthest_index") == pl.col("stage_index")).alias("lost"),
        )
    )
    return use, lost_stage


def _account_use(client: Any, sc: Scope) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per account of the stage funnel its furthest stage, and who met which touchpoint.

    ``([account_id, furthest_index], [account_id, touchpoint, stage])``. Both
    are facts of each account alone: a persona's are the whole client's (kept
    from the all-accounts map drawn first) restricted to the persona's
    accounts, instead of reading the stream again for every persona.
    """
    stream, persona = sc.origin
    if persona is not None and stream is not None:
        furthest, met = _account_use(client, scope(client, stream, None))
        mine = sc.accounts.select("account_id")
        return (
            furthest.join(mine, on="account_id", how="semi"),
            met.join(mine, on="account_id", how="semi"),
        )
    return remembered("account_use", client, sc, lambda: _compute_account_use(client, sc))


def _compute_account_use(client: Any, sc: Scope) -> tuple[pl.DataFrame, pl.DataFrame]:
    pairs = stage_pairs(client.template)
    furthest = stalled_accounts(sc.stream, sc.accounts, period=sc.period, stages=pairs).select(
        "account_id", "furthest_index"
    )
    lf = to_lazy(sc.stream)
    met = collect(  # who met which touchpoint, up to the period's end
        lf.filter(
            ~nw.col("account_id").is_null(),
            ~nw.col("touchpoint").is_null(),
            months_filter(lf, "timestamp", last=period_index(sc.period)[1]),
        )
        .select("account_id", "touchpoint", "stage")
        .unique()
    )
    return furthest, met


def _opportunities(
    client: Any, sc: Scope, arpa: float | None, *, ids: bool = False
) -> pl.DataFrame:
    """Per touchpoint of every stage but the last: volume, lost accounts, drop-off and score.

    With ``ids`` the touchpoint's id is kept beside its label, as ``touchpoint_id``.
    """
    schema = {
        "stage": pl.String,
        "touchpoint": pl.String,
        "drop_off": pl.Float64,
        "volume": pl.Int64,
        "revenue_at_risk": pl.Float64,
        "score": pl.Float64,
        "lost": pl.Int64,
    }
    if ids:
        schema = {**schema, "touchpoint_id": pl.String}
    found = _touchpoint_use(client, sc)
    if found is None:
        return pl.DataFrame(schema=schema)
    rows, lost_stage = found
    tp_label = {tp.id: tp.display for s in client.template.stages for tp in s.touchpoints}
    use = rows.group_by("stage", "stage_index", "touchpoint").agg(
        pl.len().cast(pl.Int64).alias("volume"),
        pl.col("lost").sum().cast(pl.Int64).alias("lost"),
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
        pl.col("touchpoint").alias("touchpoint_id"),
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
    out = _opportunities(client, scope(client, stream, None), _arpa(doc))
    return out.with_columns(
        pl.col("stage").replace_strict(
            dict(stage_pairs(client.template)), default=pl.col("stage"), return_dtype=pl.String
        )
    )


#: Detractors are the survey answers scored 0-6 (the NPS rule).
_DETRACTOR_MAX = 6


def _ticket_evidence(client: Any, sc: Scope, lost: pl.DataFrame, top: int) -> pl.DataFrame:
    """Per (stage, touchpoint id): the tickets its lost accounts opened in the period, top categories."""
    schema = {
        "stage": pl.String,
        "touchpoint_id": pl.String,
        "tickets": pl.Int64,
        "ticket_categories": pl.String,
    }
    tickets = client.table("tickets")
    if tickets is None or lost.height == 0:
        return pl.DataFrame(schema=schema)
    tickets = collect(
        filter_period(to_lazy(tickets), "opened_at", sc.period).select("account_id", "category")
    )
    per = (
        lost.join(tickets, on="account_id", how="inner")
        .with_columns(pl.col("category").fill_null(_("(no category)")))
        .group_by("stage", "touchpoint_id", "category")
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .sort(["n", "category"], descending=[True, False])
    )
    return (
        per.group_by("stage", "touchpoint_id", maintain_order=True)
        .agg(
            pl.col("n").sum().alias("tickets"),
            pl.format("{} ({})", "category", "n")
            .head(top)
            .str.join(_("; "))
            .alias("ticket_categories"),
        )
        .cast(schema)
    )


def _detractor_evidence(client: Any, sc: Scope, top: int) -> pl.DataFrame:
    """Per stage: the period's detractor answers and their most frequent comments."""
    schema = {"stage": pl.String, "detractors": pl.Int64, "detractor_comments": pl.String}
    surveys = sc.surveys
    if surveys is None or "stage" not in surveys.columns:
        return pl.DataFrame(schema=schema)
    answers = collect(filter_period(to_lazy(surveys), "responded_at", sc.period))
    det = answers.filter(pl.col("score") <= _DETRACTOR_MAX, pl.col("stage").is_not_null())
    comments = (
        det.with_columns(pl.col("comment").str.strip_chars())
        .filter(pl.col("comment").str.len_chars() > 0)
        .group_by("stage", "comment")
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .sort(["n", "comment"], descending=[True, False])
        .group_by("stage", maintain_order=True)
        .agg(
            pl.format("\u201c{}\u201d ({})", "comment", "n")
            .head(top)
            .str.join(_("; "))
            .alias("detractor_comments")
        )
    )
    counts = det.group_by("stage").agg(pl.len().cast(pl.Int64).alias("detractors"))
    return counts.join(comments, on="stage", how="left").cast(schema)


def opportunity_backlog(
    client: Any,
    doc: Mapping[str, Any],
    stream: Any,
    *,
    top_categories: int = 3,
    top_comments: int = 2,
) -> pl.DataFrame:
    """The opportunity map as a backlog: every opportunity with the data behind it.

    The rows and ranking of :func:`opportunity_frame` (drop-off × volume × MRR
    at stake), each with its evidence:

    * ``tickets`` and ``ticket_categories``: the tickets opened in the period
      by the opportunity's lost accounts (those that met the touchpoint and got
      no further than its stage), and their ``top_categories`` most frequent
      categories with counts, e.g. ``how_to (12); bug (5)``;
    * ``detractors`` and ``detractor_comments``: the period's survey answers
      scored 0–6 at the opportunity's stage, and their ``top_comments`` most
      frequent comments with counts (ties: alphabetical). Surveys name a
      stage far more often than a touchpoint, so the stage is what links them;
    * ``ideas``: the template's opportunities for the stage, joined with the
      language's list separator.

    Evidence that cannot be read (no tickets or surveys table, nothing found)
    is null; ``tickets`` and ``detractors`` are 0 when the table exists.

    Returns:
        ``pl.DataFrame[rank, stage, touchpoint, volume, lost, drop_off,
        revenue_at_risk, score, tickets, ticket_categories, detractors,
        detractor_comments, ideas]``, best first (``rank`` from 1); ``stage`` and
        ``touchpoint`` are labels, as in :func:`opportunity_frame`.
    """
    sc = scope(client, stream, None)
    opp = _opportunities(client, sc, _arpa(doc), ids=True).with_row_index("rank", offset=1)
    found = _touchpoint_use(client, sc)
    lost = (
        found[0]
        .filter("lost")
        .select("stage", pl.col("touchpoint").alias("touchpoint_id"), "account_id")
        if found is not None
        else pl.DataFrame(
            schema={"stage": pl.String, "touchpoint_id": pl.String, "account_id": pl.String}
        )
    )
    tickets = _ticket_evidence(client, sc, lost, top_categories)
    detractors = _detractor_evidence(client, sc, top_comments)
    has_tickets = client.table("tickets") is not None
    has_surveys = sc.surveys is not None
    labels = dict(stage_pairs(client.template))
    ideas = {s.id: _("; ").join(s.opportunities) or None for s in client.template.stages}
    out = (
        opp.join(tickets, on=["stage", "touchpoint_id"], how="left")
        .join(detractors, on="stage", how="left")
        .with_columns(
            pl.col("tickets").fill_null(0 if has_tickets else None),
            pl.col("detractors").fill_null(0 if has_surveys else None),
            pl.col("stage")
            .replace_strict(ideas, default=None, return_dtype=pl.String)
            .alias("ideas"),
            pl.col("stage").replace_strict(labels, default=pl.col("stage"), return_dtype=pl.String),
        )
        .sort("rank")
    )
    return out.select(
        pl.col("rank").cast(pl.Int64),
        "stage",
        "touchpoint",
        "volume",
        "lost",
        "drop_off",
        "revenue_at_risk",
        "score",
        pl.col("tickets").cast(pl.Int64),
        "ticket_categories",
        pl.col("detractors").cast(pl.Int64),
        "detractor_comments",
        "ideas",
    )
