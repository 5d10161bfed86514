"""The breakdowns give the same results on PySpark ``local[2]`` as on polars.

One small synthetic client, the breakdowns of analytics.md § 5 computed on both
engines and compared exactly. Skipped when the optional ``spark`` extra is not
installed.
"""

from __future__ import annotations

import pytest

pytest.importorskip("pyspark")

from journeylib.analysis.breakdowns import (  # noqa: E402
    funnel_breakdown,
    logo_retention_breakdown,
    metrics_breakdowns,
    retention_breakdown,
)
from journeylib.engines import to_engine  # noqa: E402
from journeylib.metrics import resolve_period  # noqa: E402
from journeylib.metrics.funnels import ordered_funnel  # noqa: E402
from journeylib.stream import journey_events  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def client(sparkco):
    return sparkco


@pytest.fixture(scope="module")
def spark_client(_spark, client):
    return to_engine(client, "spark", spark_session=_spark)


def test_metrics_breakdowns(client, spark_client):
    for column in ("persona", "company_size"):
        expected = metrics_breakdowns(client, column)
        assert expected["activity_retention"], column
        assert metrics_breakdowns(spark_client, column) == expected, column


def test_retention_breakdowns_by_channel(client, spark_client):
    period = resolve_period(client)
    t, s = client.tables, spark_client.tables
    column = "acquisition_channel"
    assert retention_breakdown(
        s["accounts"], s["events"], period=period, column=column
    ) == retention_breakdown(t["accounts"], t["events"], period=period, column=column)
    assert logo_retention_breakdown(
        s["accounts"], s["subscriptions"], period=period, column=column
    ) == logo_retention_breakdown(t["accounts"], t["subscriptions"], period=period, column=column)


def test_funnel_breakdown(client, spark_client, _spark):
    from journeylib.engines import spark_schema  # noqa: PLC0415

    period = resolve_period(client)
    stream = journey_events(client)
    s_stream = _spark.createDataFrame(stream.rows(), schema=spark_schema(stream.schema))
    steps = ["signed_up", "trial_started", "subscription_started"]
    expected = funnel_breakdown(
        ordered_funnel(stream, steps=steps, window="30d", period=period),
        client.tables["accounts"],
        column="persona",
    )
    assert expected["breakdown"]
    got = funnel_breakdown(
        ordered_funnel(s_stream, steps=steps, window="30d", period=period),
        spark_client.tables["accounts"],
        column="persona",
    )
    assert got == expected
