"""SMART goals in words: the goals of the metrics document as a table and as paragraphs.

Everything here reads the metrics document
(:func:`journeylib.metrics.document.metrics_document`), so the numbers are the
report's numbers; this module only selects and explains them:

* :func:`goals_table` and :func:`goal_explanations`: one table row and one
  plain-words paragraph per goal (the Markdown is escaped here);
* :func:`trend_of`: the direction of a metric's monthly history;
* :func:`round_or_none`: a value as the notebooks record it;
* :data:`CHECK_NAMES` (the SMART checks) and :data:`NO_GOALS_HELP` (what to
  write in ``client.yaml`` when it has no goals).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from journeylib.formatting import format_value
from journeylib.metrics.catalog import get_metric

__all__ = [
    "CHECK_NAMES",
    "NO_GOALS_HELP",
    "goal_explanations",
    "goals_table",
    "round_or_none",
    "trend_of",
]

#: The SMART checks of a goal, in letter order: (key of ``checks``, letter, name).
CHECK_NAMES: tuple[tuple[str, str, str], ...] = (
    ("specific", "S", "Specific"),
    ("measurable", "M", "Measurable"),
    ("achievable", "A", "Achievable"),
    ("relevant", "R", "Relevant"),
    ("time_bound", "T", "Time-bound"),
)


_STATUS_WORDS = {
    "achieved": "achieved",
    "on_track": "on track",
    "at_risk": "at risk",
    "off_track": "off track",
}


#: Shown by notebook 01 when client.yaml has no goals (Markdown).
NO_GOALS_HELP = """\
This client has no goals yet. Add them to `client.yaml` under `goals:`, one entry per goal:
a catalogue metric (see the table of metrics below), a target and a deadline; a baseline
(taken from the data when left out), a segment of accounts (optional) and a start date
(optional, default: the first month of the period). For example:

```yaml
goals:
  - id: faster_value
    label: Cut time to first value with guided setup
    metric: ttfv_days_median      # a metric id from the catalogue
    baseline: 30                  # optional: computed from the data when absent
    target: 20
    deadline: 2026-06-30
    segment: {persona: smb_founder}   # optional
```

Then run this notebook again (or `journey run CLIENT`)."""


def trend_of(history: Sequence[float], *, flat_within: float = 0.05) -> str | None:
    """Direction of a monthly series: ``up``, ``down`` or ``flat`` (None with fewer than 3 points).

    The least-squares line through the points gives the change over the
    series; it is ``flat`` when that change is within ``flat_within`` of the
    series' mean absolute value.

    Examples:
        >>> trend_of([1.0, 2.0, 3.0]), trend_of([3.0, 2.9, 3.05]), trend_of([1.0, 2.0])
        ('up', 'flat', None)
    """
    h = [float(v) for v in history if v is not None and not math.isnan(float(v))]
    if len(h) < 3:
        return None
    slope = float(np.polyfit(np.arange(len(h), dtype=float), np.array(h), 1)[0])
    change = slope * (len(h) - 1)
    scale = float(np.mean(np.abs(h))) or 1e-12
    if abs(change) <= flat_within * scale:
        return "flat"
    return "up" if change > 0 else "down"


_GOAL_SCHEMA = {
    "id": pl.String,
    "label": pl.String,
    "metric": pl.String,
    "stage": pl.String,
    "segment": pl.String,
    "S": pl.String,
    "M": pl.String,
    "A": pl.String,
    "R": pl.String,
    "T": pl.String,
    "baseline": pl.String,
    "baseline_from": pl.String,
    "current": pl.String,
    "target": pl.String,
    "deadline": pl.String,
    "progress": pl.Float64,
    "time_elapsed": pl.Float64,
    "status": pl.String,
}


def _check_mark(v: Any) -> str:
    return "yes" if v is True else "no" if v is False else "?"


def _segment_text(segment: dict[str, Any] | None) -> str:
    if not segment:
        return "all accounts"
    return ", ".join(f"{k} = {v}" for k, v in segment.items())


def goals_table(doc: dict[str, Any]) -> pl.DataFrame:
    """The goals of a metrics document as one table row each, values formatted by unit.

    ``S M A R T`` read ``yes``/``no``/``?`` (``?``: cannot be judged, e.g.
    achievability without a history); ``baseline_from`` says whether the
    baseline came from ``client.yaml`` or from the data; ``progress`` and
    ``time_elapsed`` stay fractions.

    Examples:
        >>> g = {"id": "g", "metric": "nps", "label": "More fans", "baseline": 10.0,
        ...      "baseline_source": "client.yaml", "current": 20.0, "target": 30.0,
        ...      "deadline": "2025-12-31", "progress": 0.5, "time_elapsed": 0.4,
        ...      "status": "on_track", "stage": "advocacy", "segment": None,
        ...      "checks": {"specific": True, "measurable": True, "achievable": None,
        ...                 "relevant": True, "time_bound": True}}
        >>> goals_table({"goals": [g], "currency": "USD"}).select("S", "A", "current", "status").row(0)
        ('yes', '?', '+20', 'on track')
    """
    cur = doc.get("currency") or None
    rows = []
    for g in doc.get("goals") or []:
        meta = get_metric(g["metric"])
        unit = meta.unit if meta else None
        checks = g.get("checks") or {}
        rows.append(
            {
                "id": g["id"],
                "label": g.get("label") or g["id"],
                "metric": g["metric"],
                "stage": g.get("stage"),
                "segment": _segment_text(g.get("segment")),
                **{letter: _check_mark(checks.get(key)) for key, letter, _ in CHECK_NAMES},
                "baseline": format_value(g.get("baseline"), unit, currency=cur),
                "baseline_from": g.get("baseline_source"),
                "current": format_value(g.get("current"), unit, currency=cur),
                "target": format_value(g.get("target"), unit, currency=cur),
                "deadline": g.get("deadline"),
                "progress": g.get("progress"),
                "time_elapsed": g.get("time_elapsed"),
                "status": _STATUS_WORDS.get(g.get("status") or "", "cannot be judged"),
            }
        )
    return (
        pl.DataFrame(rows, schema=_GOAL_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=_GOAL_SCHEMA)
    )


def _goal_paragraph(g: dict[str, Any], currency: str | None) -> str:
    esc = html.escape
    meta = get_metric(g["metric"])
    fmt = partial(format_value, unit=meta.unit if meta else None, currency=currency)

    label = esc(str(g.get("label") or g["id"]))
    head = f"**{label}** (goal `{esc(g['id'])}`, metric `{esc(g['metric'])}`"
    if meta is not None:
        head += ", higher is better)" if meta.higher_is_better else ", lower is better)"
    else:
        head += ")"
    seg = g.get("segment")
    who = f" for the accounts with {esc(_segment_text(seg))}" if seg else ""
    src = (
        "set in client.yaml"
        if g.get("baseline_source") == "client.yaml"
        else "taken from the data (the metric's first month or cohort in the period)"
    )
    text = [
        f"{head}{who}. It started from {fmt(g.get('baseline'))} ({src}), stands at "
        f"{fmt(g.get('current'))} now, and should reach {fmt(g.get('target'))} by "
        f"{esc(str(g.get('deadline')))}."
    ]
    status = g.get("status")
    prog, elapsed = g.get("progress"), g.get("time_elapsed")
    if status == "achieved":
        text.append("The target is already met: keep the measure in view so it stays there.")
    elif status is None:
        notes = "; ".join(esc(str(n)) for n in g.get("notes") or []) or "the value is missing"
        text.append(f"Its status cannot be judged: {notes}.")
    else:
        if prog is not None and elapsed is not None:
            if prog < 0:
                way = "the metric has moved away from the target since the baseline"
            else:
                covered = format_value(prog, "fraction", digits=0)
                way = f"{covered} of the way from the baseline to the target is covered"
            passed = format_value(elapsed, "fraction", digits=0)
            text.append(f"{passed} of the time up to the deadline has passed and {way}.")
        if status == "on_track":
            text.append("Progress keeps pace with the time elapsed: **on track**.")
        elif status == "at_risk":
            text.append(
                "Progress lags behind the time elapsed but is at least half of it: **at risk**; "
                "look at what holds it back before the gap grows."
            )
        else:
            text.append(
                "Progress is less than half of the time elapsed (or the deadline has passed): "
                "**off track**; the plan behind this goal needs a rethink or the target a review."
            )
    failed = [name for key, _, name in CHECK_NAMES if (g.get("checks") or {}).get(key) is False]
    if failed:
        text.append("SMART check not passed: " + ", ".join(failed) + ".")
    for n in g.get("notes") or []:
        if status is not None:
            text.append(f"Note: {esc(str(n))}.")
    if meta is not None:
        text.append(f"*How it is measured:* {esc(meta.definition)}")
    return " ".join(text)


def goal_explanations(doc: dict[str, Any]) -> list[str]:
    """One Markdown paragraph per goal, explaining its status in plain words.

    Client text (labels, ids, segment values) is HTML-escaped; each paragraph
    ends with the metric's definition from the catalogue.

    Examples:
        >>> g = {"id": "g", "metric": "nps", "label": "<b>fans</b>", "baseline": 10.0,
        ...      "baseline_source": "client.yaml", "current": 35.0, "target": 30.0,
        ...      "deadline": "2025-12-31", "progress": 1.25, "time_elapsed": 0.4,
        ...      "status": "achieved", "checks": {}, "notes": []}
        >>> goal_explanations({"goals": [g], "currency": "USD"})[0][:40]
        '**&lt;b&gt;fans&lt;/b&gt;** (goal `g`, m'
    """
    cur = doc.get("currency") or None
    return [_goal_paragraph(g, cur) for g in doc.get("goals") or []]


def round_or_none(value: Any, digits: int = 4) -> float | None:
    """``round(value, digits)`` as a float, or None for a missing or NaN value (recorded results).

    Examples:
        >>> round_or_none(0.123456), round_or_none(None), round_or_none(float("nan"))
        (0.1235, None, None)
    """
    if value is None:
        return None
    v = float(value)
    return None if math.isnan(v) else round(v, digits)
