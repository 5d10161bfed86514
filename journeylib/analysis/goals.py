"""SMART goals in words: the goals of the metrics document as a table and as paragraphs.

Everything here reads the metrics document
(:func:`journeylib.metrics.document.metrics_document`), so the numbers are the
report's numbers; this module only selects and explains them:

* :func:`goals_table` and :func:`goal_explanations`: one table row and one
  plain-words paragraph per goal (the Markdown is escaped here);
* :func:`trend_of`: the direction of a metric's monthly history;
* :func:`round_or_none`: a value as the notebooks record it;
* :func:`catalog_table`: the metric catalogue, for the analyst choosing metrics;
* :data:`CHECK_NAMES` (the SMART checks) and :data:`NO_GOALS_HELP` (what to
  write in ``client.yaml`` when it has no goals).

Words for readers are in the current language (:mod:`journeylib.i18n`): each
sentence of a paragraph is one whole message of the catalog. ``CHECK_NAMES``
and ``NO_GOALS_HELP`` stay English (marked with ``N_``): translate them where
they are shown (``gettext(NO_GOALS_HELP)``). The notes of the metrics document
stay English there (data) and are translated here.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from journeylib.analysis._shares import STATUS_WORDS, inert_markdown
from journeylib.formatting import format_value
from journeylib.i18n import N_
from journeylib.i18n import gettext as _
from journeylib.metrics.catalog import catalog_rows, get_metric

__all__ = [
    "CHECK_NAMES",
    "NO_GOALS_HELP",
    "catalog_table",
    "goal_explanations",
    "goals_table",
    "round_or_none",
    "trend_of",
]

#: The SMART checks of a goal, in letter order: (key of ``checks``, letter, name).
CHECK_NAMES: tuple[tuple[str, str, str], ...] = (
    ("specific", "S", N_("Specific")),
    ("measurable", "M", N_("Measurable")),
    ("achievable", "A", N_("Achievable")),
    ("relevant", "R", N_("Relevant")),
    ("time_bound", "T", N_("Time-bound")),
)


#: Shown by notebook 01 when client.yaml has no goals (Markdown).
NO_GOALS_HELP = N_("""\
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

Then run this notebook again (or `journey run CLIENT`).""")


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
    return _("yes") if v is True else _("no") if v is False else "?"


def _segment_text(segment: dict[str, Any] | None) -> str:
    if not segment:
        return _("all accounts")
    return _(", ").join(f"{k} = {v}" for k, v in segment.items())


# The notes of metrics.goals.evaluate_goal (English data there): pattern -> message.
_NOTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"the baseline already met the target: the goal is to hold it"),
        N_("the baseline already met the target: the goal is to hold it"),
    ),
    (
        re.compile(r"metric (?P<metric>.+) is not in the catalogue"),
        N_("metric {metric} is not in the catalogue"),
    ),
    (
        re.compile(r"the current value cannot be computed from the data"),
        N_("the current value cannot be computed from the data"),
    ),
    (
        re.compile(r"segment column (?P<column>.+) is not an accounts column"),
        N_("segment column {column} is not an accounts column"),
    ),
    (
        re.compile(
            r"target (?P<target>\S+) lies far outside the metric's history "
            r"\((?P<low>\S+) to (?P<high>\S+)\)"
        ),
        N_("target {target} lies far outside the metric's history ({low} to {high})"),
    ),
    (
        re.compile(r"the deadline is not after the goal's start"),
        N_("the deadline is not after the goal's start"),
    ),
)


def _note_text(note: str) -> str:
    """A note of the metrics document in the current language (as written when unknown)."""
    for pattern, message in _NOTES:
        m = pattern.fullmatch(note)
        if m:
            return _(message).format(**m.groupdict())
    return note


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
                **{letter: _check_mark(checks.get(key)) for key, letter, _name in CHECK_NAMES},
                "baseline": format_value(g.get("baseline"), unit, currency=cur),
                "baseline_from": g.get("baseline_source"),
                "current": format_value(g.get("current"), unit, currency=cur),
                "target": format_value(g.get("target"), unit, currency=cur),
                "deadline": g.get("deadline"),
                "progress": g.get("progress"),
                "time_elapsed": g.get("time_elapsed"),
                "status": _(STATUS_WORDS.get(g.get("status") or "", N_("cannot be judged"))),
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

    names = {
        "label": inert_markdown(g.get("label") or g["id"]),
        "goal": esc(g["id"]),
        "metric": esc(g["metric"]),
    }
    if meta is None:
        head = _("**{label}** (goal `{goal}`, metric `{metric}`)").format(**names)
    elif meta.higher_is_better:
        head = _("**{label}** (goal `{goal}`, metric `{metric}`, higher is better)").format(**names)
    else:
        head = _("**{label}** (goal `{goal}`, metric `{metric}`, lower is better)").format(**names)
    seg = g.get("segment")
    src = (
        _("set in client.yaml")
        if g.get("baseline_source") == "client.yaml"
        else _("taken from the data (the metric's first month or cohort in the period)")
    )
    values = {
        "head": head,
        "baseline": fmt(g.get("baseline")),
        "source": src,
        "current": fmt(g.get("current")),
        "target": fmt(g.get("target")),
        "deadline": esc(str(g.get("deadline"))),
    }
    if seg:
        first = _(
            "{head} for the accounts with {segment}. It started from {baseline} ({source}), "
            "stands at {current} now, and should reach {target} by {deadline}."
        ).format(**values, segment=inert_markdown(_segment_text(seg)))
    else:
        first = _(
            "{head}. It started from {baseline} ({source}), stands at {current} now, "
            "and should reach {target} by {deadline}."
        ).format(**values)
    text = [first]
    status = g.get("status")
    prog, elapsed = g.get("progress"), g.get("time_elapsed")
    if status == "achieved":
        text.append(_("The target is already met: keep the measure in view so it stays there."))
    elif status is None:
        notes = _("; ").join(inert_markdown(_note_text(str(n))) for n in g.get("notes") or []) or _(
            "the value is missing"
        )
        text.append(_("Its status cannot be judged: {notes}.").format(notes=notes))
    else:
        if prog is not None and elapsed is not None:
            passed = format_value(elapsed, "fraction", digits=0)
            if prog < 0:
                text.append(
                    _(
                        "{passed} of the time up to the deadline has passed and the metric has "
                        "moved away from the target since the baseline."
                    ).format(passed=passed)
                )
            else:
                covered = format_value(prog, "fraction", digits=0)
                text.append(
                    _(
                        "{passed} of the time up to the deadline has passed and {covered} of "
                        "the way from the baseline to the target is covered."
                    ).format(passed=passed, covered=covered)
                )
        if status == "on_track":
            text.append(_("Progress keeps pace with the time elapsed: **on track**."))
        elif status == "at_risk":
            text.append(
                _(
                    "Progress lags behind the time elapsed but is at least half of it: "
                    "**at risk**; look at what holds it back before the gap grows."
                )
            )
        else:
            text.append(
                _(
                    "Progress is less than half of the time elapsed (or the deadline has "
                    "passed): **off track**; the plan behind this goal needs a rethink or the "
                    "target a review."
                )
            )
    failed = [_(name) for key, _l, name in CHECK_NAMES if (g.get("checks") or {}).get(key) is False]
    if failed:
        text.append(_("SMART check not passed: {checks}.").format(checks=_(", ").join(failed)))
    for n in g.get("notes") or []:
        if status is not None:
            text.append(_("Note: {note}.").format(note=inert_markdown(_note_text(str(n)))))
    if meta is not None:
        text.append(
            _("*How it is measured:* {definition}").format(definition=esc(_(meta.definition)))
        )
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


def catalog_table() -> pl.DataFrame:
    """The metric catalogue as a table, its labels and definitions in the current language.

    Returns:
        ``pl.DataFrame[id, label, unit, stage, definition]`` in catalogue order.

    Examples:
        >>> catalog_table().filter(pl.col("id") == "nps").select("id", "label").row(0)
        ('nps', 'Net Promoter Score')
    """
    rows = [{**r, "label": _(r["label"]), "definition": _(r["definition"])} for r in catalog_rows()]
    return pl.DataFrame(rows).select("id", "label", "unit", "stage", "definition")
