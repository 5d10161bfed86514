"""Paths give the same nodes and edges on PySpark ``local[2]`` as on polars (a small synthetic client)."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("pyspark")

from journeylib.analysis.paths import drop_off_paths, paths  # noqa: E402
from journeylib.metrics import resolve_period  # noqa: E402
from journeylib.stream import journey_events  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def world(sparkco, to_spark):
    stream = journey_events(sparkco)
    accounts = sparkco.tables["accounts"]
    return sparkco, stream, accounts, to_spark(stream), to_spark(accounts)


def same(a, b):
    assert (a.accounts, a.level, a.start, a.end, a.steps) == (
        b.accounts,
        b.level,
        b.start,
        b.end,
        b.steps,
    )
    assert a.nodes.height > 0
    # ties in the sort order (equal accounts) are broken by name: the rows match exactly
    assert_frame_equal(a.nodes, b.nodes)
    assert_frame_equal(a.edges, b.edges)


def test_paths_on_spark(world):
    client, stream, _, spark_stream, _ = world
    period = resolve_period(client)
    for options in (
        {"start": "signed_up"},
        {"end": "subscription_started", "level": "event", "min_accounts": 3},
        {"level": "touchpoint", "steps": 4, "min_accounts": 2},
    ):
        same(paths(stream, period=period, **options), paths(spark_stream, period=period, **options))


def test_drop_off_paths_on_spark(world):
    client, stream, accounts, spark_stream, spark_accounts = world
    period = resolve_period(client)
    stages = [(s.id, s.label) for s in client.template.stages]
    options = {
        "period": period,
        "stages": stages,
        "stage_from": stages[1][0],
        "stage_to": stages[2][0],
    }
    same(
        drop_off_paths(stream, accounts, **options),
        drop_off_paths(spark_stream, spark_accounts, **options),
    )
