"""The metric functions give the same results on PySpark ``local[2]`` as on polars.

One small synthetic client, every metric family computed on both engines and
compared. Skipped when the optional ``spark`` extra is not installed.
"""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("pyspark")

from journeylib.metrics import (  # noqa: E402
    acquisition,
    feedback,
    forecast,
    milestones,
    onboarding,
    resolve_period,
    retention,
    revenue,
    stages,
    support,
    value,
)
from journeylib.stream import journey_events  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def client(sparkco):
    return sparkco


@pytest.fixture(scope="module")
def spark_of(to_spark, client):
    cache: dict[str, object] = {}

    def make(name: str, df: pl.DataFrame | None = None):
        if name not in cache:
            cache[name] = to_spark(df if df is not None else client.tables[name])
        return cache[name]

    return make


def same(a, b):
    if isinstance(a, pl.DataFrame):
        key = [c for c in a.columns if a[c].dtype in (pl.String, pl.Date) or c in ("k", "month")]
        assert_frame_equal(a.sort(key), b.sort(key), check_dtypes=False, abs_tol=1e-9, rel_tol=1e-9)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-9)
    else:
        assert a == b


def test_revenue_family(client, spark_of):
    period = resolve_period(client)
    subs = client.tables["subscriptions"]
    same(
        revenue.revenue_months(subs, period=period),
        revenue.revenue_months(spark_of("subscriptions"), period=period),
    )
    same(
        revenue.nrr_12m(subs, period=period),
        revenue.nrr_12m(spark_of("subscriptions"), period=period),
    )
    same(
        revenue.revenue_retention(subs, period=period),
        revenue.revenue_retention(spark_of("subscriptions"), period=period),
    )


def test_acquisition_family(client, spark_of):
    period = resolve_period(client)
    t = client.tables
    same(
        acquisition.cac_by_channel(
            t["marketing"], t["subscriptions"], t["accounts"], period=period
        ),
        acquisition.cac_by_channel(
            spark_of("marketing"), spark_of("subscriptions"), spark_of("accounts"), period=period
        ),
    )
    terms = client.config.branded_terms
    same(
        acquisition.branded_search_by_month(
            t["search_queries"], period=period, branded_terms=terms
        ),
        acquisition.branded_search_by_month(
            spark_of("search_queries"), period=period, branded_terms=terms
        ),
    )
    same(
        acquisition.attribution(t["events"], t["subscriptions"], t["accounts"], period=period),
        acquisition.attribution(
            spark_of(
                "events",
                t["events"].with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64)),
            ),
            spark_of("subscriptions"),
            spark_of("accounts"),
            period=period,
            order_by="seq",
        ),
    )


def test_onboarding_retention_feedback_support(client, spark_of):
    period = resolve_period(client)
    t = client.tables
    stream = journey_events(client)
    s_stream = spark_of("stream", stream)
    cfg = client.config
    same(
        onboarding.activation(
            t["accounts"],
            stream,
            period=period,
            event=cfg.activation.event,
            within_days=cfg.activation.within_days,
        ),
        onboarding.activation(
            spark_of("accounts"),
            s_stream,
            period=period,
            event=cfg.activation.event,
            within_days=cfg.activation.within_days,
        ),
    )
    same(
        onboarding.time_to_first_value(
            t["accounts"], stream, period=period, event=cfg.first_value.event
        ),
        onboarding.time_to_first_value(
            spark_of("accounts"), s_stream, period=period, event=cfg.first_value.event
        ),
    )
    same(
        retention.activity_retention(t["accounts"], t["events"], period=period),
        retention.activity_retention(spark_of("accounts"), spark_of("events"), period=period),
    )
    same(
        feedback.nps(t["surveys"], period=period), feedback.nps(spark_of("surveys"), period=period)
    )
    same(
        feedback.nps_by_stage(t["surveys"], period=period, stage_order=client.template.stage_ids),
        feedback.nps_by_stage(
            spark_of("surveys"), period=period, stage_order=client.template.stage_ids
        ),
    )
    same(
        support.resolution_time(t["tickets"], period=period),
        support.resolution_time(spark_of("tickets"), period=period),
    )
    ms = [(m.id, m.event) for m in cfg.milestones]
    same(
        milestones.milestones(
            t["accounts"], stream, t["subscriptions"], period=period, milestones=ms
        ),
        milestones.milestones(
            spark_of("accounts"), s_stream, spark_of("subscriptions"), period=period, milestones=ms
        ),
    )


def test_stage_funnel_and_transitions(client, spark_of):
    period = resolve_period(client)
    stream = journey_events(client)
    pairs = [(s.id, s.label) for s in client.template.stages]
    same(
        stages.stage_funnel(stream, client.tables["accounts"], period=period, stages=pairs),
        stages.stage_funnel(
            spark_of("stream", stream), spark_of("accounts"), period=period, stages=pairs
        ),
    )
    same(
        stages.visitors(stream, period=period),
        stages.visitors(spark_of("stream", stream), period=period),
    )


def test_revenue_views_markov_value_curves_forecast(client, spark_of):
    period = resolve_period(client)
    t = client.tables
    on_spark = {n: spark_of(n) for n in ("subscriptions", "accounts", "marketing")}
    seq_events = t["events"].with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64))
    markov = acquisition.markov_attribution(
        t["events"], t["subscriptions"], t["accounts"], period=period
    )
    assert markov["paths"]["non_converting"] > 0
    same(
        markov,
        acquisition.markov_attribution(
            spark_of("events", seq_events),
            on_spark["subscriptions"],
            on_spark["accounts"],
            period=period,
            order_by="seq",
        ),
    )
    curves = value.value_curves(
        t["subscriptions"], t["accounts"], t["marketing"], period=period, gross_margin=0.8
    )
    assert curves.height > 0
    same(
        curves.explode("cumulative"),
        value.value_curves(
            on_spark["subscriptions"],
            on_spark["accounts"],
            on_spark["marketing"],
            period=period,
            gross_margin=0.8,
        ).explode("cumulative"),
    )
    same(
        forecast.survival_table(t["subscriptions"], period=period),
        forecast.survival_table(on_spark["subscriptions"], period=period),
    )
    expected = forecast.retention_forecast(t["subscriptions"], period=period)
    got = forecast.retention_forecast(on_spark["subscriptions"], period=period)
    assert expected["alpha"] is not None
    assert len(got["months"]) == len(expected["months"]) == 12
    for a, b in zip(expected["months"], got["months"], strict=True):
        same(a, b)
    same(
        {k: expected[k] for k in ("alpha", "beta", "cohorts_used")},
        {k: got[k] for k in ("alpha", "beta", "cohorts_used")},
    )
