"""The funnel correlation gives the same result on PySpark ``local[2]`` as on polars.

One small synthetic client, ordered and strict funnels with a numeric (banded)
property. Skipped when the optional ``spark`` extra is not installed.
"""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("pyspark")

from journeylib.analysis.correlation import correlation_json, funnel_correlation  # noqa: E402
from journeylib.ingest.client import load_client  # noqa: E402
from journeylib.metrics import resolve_period  # noqa: E402
from journeylib.sources.synth import synthesize  # noqa: E402
from journeylib.stream import journey_events  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    path = tmp_path_factory.mktemp("spark") / "sparkco"
    synthesize(path, accounts=150, months=13, seed=5, start="2024-01")
    return load_client(path)


@pytest.mark.parametrize(
    ("steps", "mode"),
    [
        (["signed_up", "first_report_created", "subscription_started"], "ordered"),
        (["trial_started", "checkout_started", "payment_submitted"], "strict"),
    ],
)
def test_correlation_same_on_spark(client, _spark, steps, mode):
    from journeylib.engines import spark_schema  # noqa: PLC0415

    def on_spark(df):
        return _spark.createDataFrame(df.rows(), schema=spark_schema(df.schema))

    stream = journey_events(client)
    accounts = client.tables["accounts"]
    args = {
        "steps": steps,
        "window": "30d",
        "mode": mode,
        "period": resolve_period(client),
        "properties": ["persona", "industry", "company_size"],
    }
    local = funnel_correlation(stream, accounts, **args)
    spark = funnel_correlation(on_spark(stream), on_spark(accounts), **args)
    assert local.failure_total > 0  # the case says something
    assert (spark.success_total, spark.failure_total) == (local.success_total, local.failure_total)
    assert_frame_equal(spark.events, local.events)
    assert_frame_equal(spark.properties, local.properties)
    assert correlation_json(spark) == correlation_json(local)
