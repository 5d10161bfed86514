"""Attribution and forecast against ``journey metrics``: the checks of their JSON.

The revenue section of ``run_bench.py`` times ``journey attribution CLIENT --json``,
``journey forecast CLIENT --json`` and ``journey metrics CLIENT --json`` as
subprocesses (interpreter start-up and imports included, the store built
before, untimed) and sets the first two against the third. This module holds
what it checks of their output:

* reproducible: every run's JSON equals the first run's (exactly; when not,
  the largest relative difference is reported too). The forecast's band comes
  from a seeded bootstrap (``--seed 0``), the attribution has no randomness;
* attribution's every model (``first_touch`` … ``markov``) sums, over the
  channels, to ``conversions`` (relative tolerance ``SUM_RTOL``);
* attribution's ``attribution`` and ``cac_by_model`` rows equal the metrics
  document's ``acquisition.attribution`` / ``acquisition.cac_by_model`` (which
  rounds floats to 10 places, hence ``ROUNDED_ATOL``).
"""

from __future__ import annotations

import math
from typing import Any

from analytics import first_difference

#: The commands, as ``journey`` arguments; ``metrics`` is the yardstick of the other two.
COMMANDS = {
    "metrics": ["metrics", "{client}", "--json"],
    "attribution": ["attribution", "{client}", "--json"],
    "forecast": ["forecast", "{client}", "--json"],
}
REFERENCE = "metrics"
#: The attribution models of ``journey attribution`` (journeylib.metrics.acquisition.MODELS).
MODELS = ("first_touch", "last_touch", "linear", "position_based", "markov")
SUM_RTOL = 1e-9
ROUNDED_ATOL = 1e-9  # the metrics document rounds floats to 10 places


def max_relative_difference(a: Any, b: Any) -> float | None:
    """The largest ``|x - y| / max(|x|, |y|)`` over the numbers of two JSON values of one shape.

    None when the shapes (keys, lengths, non-numbers) differ.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return None
        parts = [max_relative_difference(a[k], b[k]) for k in a]
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return None
        parts = [max_relative_difference(x, y) for x, y in zip(a, b, strict=True)]
    elif _number(a) and _number(b):
        scale = max(abs(a), abs(b))
        return 0.0 if a == b else abs(a - b) / scale
    else:
        return 0.0 if a == b else None
    if any(p is None for p in parts):
        return None
    return max(parts, default=0.0)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def reproducible(docs: list[Any]) -> dict[str, Any] | None:
    """Whether every JSON of ``docs`` equals the first: ``{"runs", "identical", "difference", "max_rel"}``.

    None with fewer than two documents.
    """
    docs = [d for d in docs if d is not None]
    if len(docs) < 2:
        return None
    diffs = [first_difference(docs[0], d) for d in docs[1:]]
    bad = [d for d in diffs if d]
    rel = [max_relative_difference(docs[0], d) for d in docs[1:]]
    return {
        "runs": len(docs),
        "identical": not bad,
        "difference": bad[0] if bad else None,
        # None: not even the same shape
        "max_rel": None if any(r is None for r in rel) else max(rel, default=0.0),
    }


def model_sums(doc: dict[str, Any]) -> dict[str, Any]:
    """Per model, its credits summed over the channels, and whether that is ``conversions``."""
    n = doc["conversions"]
    sums = {m: math.fsum(r[m] for r in doc["attribution"]) for m in MODELS}
    bad = {m: s for m, s in sums.items() if not math.isclose(s, n, rel_tol=SUM_RTOL, abs_tol=1e-9)}
    return {"conversions": n, "sums": sums, "ok": not bad, "off": bad}


def _close(a: Any, b: Any) -> str | None:
    """Where two JSON values differ beyond ``ROUNDED_ATOL`` (relative to the value), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"keys {sorted(a)} != {sorted(b)}"
        return next((f"{k}: {d}" for k in a if (d := _close(a[k], b[k]))), None)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{len(a)} items != {len(b)} items"
        return next(
            (
                f"[{i}] {d}"
                for i, (x, y) in enumerate(zip(a, b, strict=True))
                if (d := _close(x, y))
            ),
            None,
        )
    if _number(a) and _number(b):
        return (
            None
            if math.isclose(a, b, rel_tol=ROUNDED_ATOL, abs_tol=ROUNDED_ATOL)
            else f"{a} != {b}"
        )
    return None if a == b else f"{a!r} != {b!r}"


def matches_metrics(attribution: dict[str, Any], metrics: dict[str, Any]) -> str:
    """``ok``, or where ``journey attribution``'s rows differ from the metrics document's."""
    acq = metrics.get("acquisition") or {}
    for key in ("attribution", "cac_by_model"):
        d = _close(attribution.get(key), acq.get(key))
        if d:
            return f"{key}{d if d.startswith('[') else ': ' + d}"
    return "ok"


def metrics_excerpt(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the checks keep of a metrics document (it is large at 10 M events)."""
    if doc is None:
        return None
    acq = doc.get("acquisition") or {}
    return {"acquisition": {k: acq.get(k) for k in ("attribution", "cac_by_model")}}
