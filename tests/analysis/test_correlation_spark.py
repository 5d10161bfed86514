"""The funnel correlation gives the same result on PySpark ``local[2]`` as on polars.

One small synthetic client, ordered and strict funnels with a numeric (banded)
property. Skipped when the optional ``spark`` extra is not installed.
"""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("pyspark")

from journeylib.analysis.correlation import correlation_json, funnel_correlation  # noqa: E402
from journeylib.metrics import resolve_period  # noqa: E402
from journeylib.stream import journey_events  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.mark.parametrize(
    ("steps", "mode"),
    [
        (["signed_up", "first_report_created", "subscription_started"], "ordered"),
        (["trial_started", "checkout_started", "payment_submitted"], "strict"),
    ],
)
def test_correlation_same_on_spark(sparkco, to_spark, steps, mode):
    client, on_spark = sparkco, to_spark
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
