"""Step.retention_forecast: the forecast with today's base, written once to the run folder."""

from __future__ import annotations

import datetime as dt
import json
import types
from pathlib import Path

import polars as pl

from journeylib.present.notebook import FORECAST_FILE, Step


def _subscriptions() -> pl.DataFrame:
    """a: paid since 2024-01, before the period; b and e: paying since; c: churned in 2024-04
    and came back (not in the base); d: churned in 2024-04; f: churned in 2024-06."""
    paid = {
        "a": [1, 2, 3, 4, 5, 6],
        "b": [2, 3, 4, 5, 6],
        "c": [2, 3, 5, 6],
        "d": [2, 3],
        "e": [3, 4, 5, 6],
        "f": [3, 4, 5],
    }
    rows = [(acc, dt.date(2024, m, 1), 10.0) for acc, months in paid.items() for m in months]
    return pl.DataFrame(rows, schema=["account_id", "month", "mrr"], orient="row")


def _step(out_dir: Path | None, subs: pl.DataFrame | None) -> Step:
    client = types.SimpleNamespace(table=lambda name: subs if name == "subscriptions" else None)
    return Step(
        client_dir=Path("."),
        out_dir=out_dir,
        client=client,  # type: ignore[arg-type]
        doc={},
        stream=pl.LazyFrame(),
        period=("2024-02", "2024-06"),
    )


def test_the_forecast_with_todays_base_is_written_to_the_run(tmp_path: Path):
    out = _step(tmp_path, _subscriptions()).retention_forecast(seed=0)
    assert out is not None
    # a (a cohort before the period), b and e: c came back after churning, d and f churned
    assert (out["base"], out["base_month"], out["seed"]) == (3, "2024-06", 0)
    assert out["cohorts_used"] == 2  # 2024-02 (T = 4) and 2024-03 (T = 3)
    assert [m["month"] for m in out["months"]][:2] == ["2024-07", "2024-08"]
    assert len(out["months"]) == 12
    assert 0 < out["months"][-1]["customers"] < out["months"][0]["customers"] < 3
    assert json.loads((tmp_path / FORECAST_FILE).read_text(encoding="utf-8")) == out


def test_the_same_seed_gives_the_same_band(tmp_path: Path):
    first = _step(None, _subscriptions()).retention_forecast(seed=7)
    again = _step(tmp_path, _subscriptions()).retention_forecast(seed=7)
    assert first == again


def test_nothing_without_subscriptions_or_a_run_folder(tmp_path: Path):
    assert _step(tmp_path, None).retention_forecast() is None
    assert not (tmp_path / FORECAST_FILE).exists()
    _step(None, _subscriptions()).retention_forecast()
    assert not (tmp_path / FORECAST_FILE).exists()
