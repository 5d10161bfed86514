"""Lifecycle and stickiness give the same results on PySpark ``local[2]`` as on polars.

One small synthetic client; raw events and the account_days mart on Spark
against the raw events on polars. Skipped without the optional ``spark`` extra.
"""

from __future__ import annotations

import polars as pl
import pytest

pytest.importorskip("pyspark")

from journeylib.metrics import resolve_period  # noqa: E402
from journeylib.metrics.activity import lifecycle, stickiness  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def client(sparkco):
    return sparkco


@pytest.fixture(scope="module")
def events(client) -> pl.DataFrame:
    return client.tables["events"].lazy().select("account_id", "timestamp", "event").collect()


@pytest.fixture(scope="module")
def on_spark(to_spark, events):
    make = to_spark
    days = (
        events.filter(pl.col("account_id").is_not_null())
        .group_by("account_id", pl.col("timestamp").dt.date().alias("day"))
        .agg(pl.len().cast(pl.Int64).alias("events"))
    )
    return {"events": make(events), "account_days": make(days)}


@pytest.mark.parametrize("interval", ["week", "month"])
def test_lifecycle_on_spark(client, events, on_spark, interval):
    period = resolve_period(client)
    expected = lifecycle(events, period=period, interval=interval)
    assert expected["new"].sum() > 0 and expected["dormant"].sum() < 0
    assert lifecycle(on_spark["events"], period=period, interval=interval).equals(expected)
    assert lifecycle(on_spark["account_days"], period=period, interval=interval).equals(expected)


def test_lifecycle_events_filter_on_spark(client, events, on_spark):
    period = resolve_period(client)
    name = events["event"].drop_nulls().value_counts(sort=True)["event"][0]
    expected = lifecycle(events, period=period, events=[name])
    assert lifecycle(on_spark["events"], period=period, events=[name]).equals(expected)


def test_stickiness_on_spark(client, events, on_spark):
    period = resolve_period(client)
    expected = stickiness(events, period=period)
    assert expected["active_accounts"].sum() > 0
    for frame in on_spark.values():
        got = stickiness(frame, period=period)
        assert got.drop("dau_mau").equals(expected.drop("dau_mau"))
        assert got["dau_mau"].to_list() == pytest.approx(expected["dau_mau"].to_list(), rel=1e-12)
