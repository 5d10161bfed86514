"""The default period ends at the earlier of events' and subscriptions' last months.

When one table runs past the other, the months after the shorter one would read
as MRR 0 / no activity; the default period leaves them out and
``period_cut`` (``metrics.json: data_quality.period_cut``) says what was left out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from journeylib.config import PeriodConfig
from journeylib.ingest.client import Client, load_client
from journeylib.metrics import metrics_document, metrics_json, summary_lines
from journeylib.metrics.period import (
    data_months,
    period_cut,
    period_view,
    resolve_period,
    with_period,
)
from journeylib.report.summary import executive_summary
from journeylib.sources.synth import synthesize


def events(first: str, last: str) -> pl.DataFrame:
    """Two events, on the 3rd of ``first`` and the 20th of ``last`` (UTC)."""
    ts = [
        dt.datetime.strptime(m, "%Y-%m").replace(day=d, tzinfo=dt.UTC)
        for m, d in ((first, 3), (last, 20))
    ]
    return pl.DataFrame({"account_id": ["a", "a"], "timestamp": ts})


def subscriptions(first: str, last: str) -> pl.DataFrame:
    months = [dt.datetime.strptime(m, "%Y-%m").date() for m in (first, last)]
    return pl.DataFrame({"account_id": ["a", "a"], "month": months, "mrr": [10.0, 10.0]})


@dataclasses.dataclass
class FakeClient:
    """What resolve_period / period_cut / period_view read: ``config.period`` and ``tables``."""

    tables: dict[str, Any]
    config: Any = dataclasses.field(default_factory=lambda: types.SimpleNamespace(period=None))


def client(period: PeriodConfig | None = None, **tables: Any) -> FakeClient:
    return FakeClient(tables=tables, config=types.SimpleNamespace(period=period))


def test_events_past_subscriptions_end_at_subscriptions():
    c = client(
        events=events("2025-01", "2025-12"), subscriptions=subscriptions("2025-01", "2025-10")
    )
    assert resolve_period(c) == ("2025-01", "2025-10")
    assert period_cut(c) == {
        "table": "events",
        "months": 2,
        "last_month": "2025-12",
        "period_end": "2025-10",
    }
    # the data's whole span (the explorer's slider) is unchanged
    assert data_months(c.tables) == ("2025-01", "2025-12")


def test_subscriptions_past_events_end_at_events():
    c = client(
        events=events("2024-11", "2025-03"), subscriptions=subscriptions("2024-10", "2025-06")
    )
    assert resolve_period(c) == ("2024-10", "2025-03")  # start: the earlier first month
    assert period_cut(c) == {
        "table": "subscriptions",
        "months": 3,
        "last_month": "2025-06",
        "period_end": "2025-03",
    }


def test_same_last_month_no_cut():
    c = client(
        events=events("2025-02", "2025-10"), subscriptions=subscriptions("2025-01", "2025-10")
    )
    assert resolve_period(c) == ("2025-01", "2025-10")
    assert period_cut(c) is None


def test_configured_end_is_kept_and_nothing_is_cut():
    tables = {
        "events": events("2025-01", "2025-12"),
        "subscriptions": subscriptions("2025-01", "2025-10"),
    }
    c = client(PeriodConfig(end="2025-12"), **tables)
    assert resolve_period(c) == ("2025-01", "2025-12")
    assert period_cut(c) is None
    # both ends configured
    c = client(PeriodConfig(start="2025-03", end="2025-11"), **tables)
    assert resolve_period(c) == ("2025-03", "2025-11")
    assert period_cut(c) is None


def test_configured_start_only_still_gets_the_cut():
    c = client(
        PeriodConfig(start="2025-04"),
        events=events("2025-01", "2025-12"),
        subscriptions=subscriptions("2025-01", "2025-10"),
    )
    assert resolve_period(c) == ("2025-04", "2025-10")
    assert period_cut(c)["months"] == 2


def test_configured_start_after_the_earlier_end_keeps_the_data_end():
    """A start past subscriptions' end: the period runs to the events' end, as before."""
    c = client(
        PeriodConfig(start="2025-11"),
        events=events("2025-01", "2025-12"),
        subscriptions=subscriptions("2025-01", "2025-10"),
    )
    assert resolve_period(c) == ("2025-11", "2025-12")
    assert period_cut(c) is None


def test_only_events_no_cut():
    c = client(events=events("2025-01", "2025-12"))
    assert resolve_period(c) == ("2025-01", "2025-12")
    assert period_cut(c) is None


def test_empty_subscriptions_count_as_absent():
    empty = subscriptions("2025-01", "2025-01").clear()
    c = client(events=events("2025-01", "2025-12"), subscriptions=empty)
    assert resolve_period(c) == ("2025-01", "2025-12")
    assert period_cut(c) is None


def test_period_view_keeps_the_rule(constructor: Callable[[pl.DataFrame], Any]):
    """On every engine, through the two-row view the document uses."""
    c = client(
        events=constructor(events("2025-01", "2025-12")),
        subscriptions=constructor(subscriptions("2025-01", "2025-10")),
    )
    view = period_view(c)
    assert resolve_period(view) == ("2025-01", "2025-10")
    assert period_cut(view) == {
        "table": "events",
        "months": 2,
        "last_month": "2025-12",
        "period_end": "2025-10",
    }


# ---------------------------------------------------------------- the document
@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Client:
    """A synthetic client, Jan–Jun 2024, its period not configured."""
    path: Path = tmp_path_factory.mktemp("cut") / "acme"
    synthesize(path, accounts=120, months=6, seed=5, start="2024-01")
    c = load_client(path)
    return dataclasses.replace(c, config=c.config.model_copy(update={"period": None}))


def _short(acme: Client) -> Client:
    """``acme`` with subscriptions ending in April: events run two months past them."""
    subs = acme.tables["subscriptions"]
    assert isinstance(subs, pl.DataFrame)
    short = subs.filter(pl.col("month") < dt.date(2024, 5, 1))
    return dataclasses.replace(acme, tables={**acme.tables, "subscriptions": short})


def test_document_reports_the_cut(acme: Client):
    doc = metrics_document(_short(acme))
    assert doc["period"] == {"start": "2024-01", "end": "2024-04"}
    assert doc["revenue"]["months"][-1]["month"] == "2024-04"
    assert doc["revenue"]["months"][-1]["mrr"] > 0
    assert list(doc["data_quality"]) == ["tables", "period_cut"]
    assert doc["data_quality"]["period_cut"] == {
        "table": "events",
        "months": 2,
        "last_month": "2024-06",
        "period_end": "2024-04",
    }
    assert "  period ends 2024-04: 2 later months of events (to 2024-06) left out" in (
        summary_lines(doc)
    )
    warning = executive_summary(doc)["warnings"][-1]
    assert warning == (
        "The period ends in 2024-04, the last month of subscriptions: 2 later months of "
        "events are left out (set period.end in client.yaml to include them)."
    )


def test_explicit_end_through_with_period_is_kept(acme: Client):
    """An end given as a notebook parameter (with_period) is kept, and nothing is cut."""
    c = _short(acme)
    assert period_cut(c) is not None
    explicit = with_period(c, None, "2024-06")
    assert resolve_period(explicit) == ("2024-01", "2024-06")
    assert period_cut(explicit) is None


def test_document_without_a_cut_has_no_key(acme: Client):
    doc = metrics_document(acme)
    assert doc["period"] == {"start": "2024-01", "end": "2024-06"}
    assert list(doc["data_quality"]) == ["tables"]
    assert not any("period ends" in line for line in summary_lines(doc))
    assert not any("left out" in w for w in executive_summary(doc)["warnings"])
    # a configured end: the same bytes as with the period the data gives
    configured = with_period(acme, "2024-01", "2024-06")
    assert metrics_json(metrics_document(configured)) == metrics_json(doc)


def test_one_month_cut_reads_singular():
    doc = {
        "data_quality": {
            "tables": {},
            "period_cut": {
                "table": "subscriptions",
                "months": 1,
                "last_month": "2025-11",
                "period_end": "2025-10",
            },
        }
    }
    assert executive_summary(doc)["warnings"] == [
        "The period ends in 2025-10, the last month of events: 1 later month of "
        "subscriptions is left out (set period.end in client.yaml to include it)."
    ]
