"""Activation and health against ``journey metrics``: the checks of their JSON.

The product section of ``run_bench.py`` times ``journey activation CLIENT --json``,
``journey health CLIENT --json`` and ``journey metrics CLIENT --json`` as
subprocesses (interpreter start-up and imports included, the store built
before, untimed) and sets the first two against the third, as the revenue
section does (``revenue.py``). This module holds what it checks of their output:

* reproducible: every run's JSON equals the first run's (exactly; when not,
  the largest relative difference is reported too; ``revenue.reproducible``).
  Neither command has randomness. For ``metrics``, whose document is large at
  10 M events, a digest of the whole document is compared (``metrics_excerpt``);
* activation (analytics.md § 9): ``candidates`` sorted by ``phi`` descending
  and at most ``TOP`` of them (the documented tie order, fewer times, fewer
  days, event name, is checked too and reported apart);
* health (analytics.md § 10): ``accounts`` sorted by ``score`` ascending (the
  riskiest first; ties by ``account_id``, reported apart) and ``auc_backtest``
  in [0, 1] or null.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

#: The commands, as ``journey`` arguments; ``metrics`` is the yardstick of the other two.
COMMANDS = {
    "metrics": ["metrics", "{client}", "--json"],
    "activation": ["activation", "{client}", "--json"],
    "health": ["health", "{client}", "--json"],
}
REFERENCE = "metrics"
#: How many candidates ``journey activation`` lists at most (journeylib.metrics.activation.TOP).
TOP = 20


def metrics_excerpt(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the checks keep of a metrics document (it is large at 10 M events): a digest of it all.

    Two runs' excerpts are equal exactly when their documents are (keys sorted).
    """
    if doc is None:
        return None
    text = json.dumps(doc, sort_keys=True, allow_nan=True)
    return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "chars": len(text)}


def _first_out_of_order(values: list[Any], descending: bool) -> str | None:
    """Where a list is not sorted (``[i] a then b``), or None."""
    for i in range(1, len(values)):
        a, b = values[i - 1], values[i]
        if (a < b) if descending else (a > b):
            return f"[{i}] {a!r} then {b!r}"
    return None


def activation_checks(doc: dict[str, Any]) -> dict[str, Any]:
    """``candidates`` at most ``TOP`` and sorted by phi descending (the tie order apart)."""
    cands = doc.get("candidates") or []
    phis = [c["phi"] for c in cands]
    nan = [i for i, p in enumerate(phis) if not isinstance(p, (int, float)) or math.isnan(p)]
    by_phi = f"phi not a number at {nan}" if nan else _first_out_of_order(phis, descending=True)
    keys = [(-c["phi"], c["times"], c["days"], c["event"]) for c in cands]
    ties = None if nan else _first_out_of_order(keys, descending=False)
    return {
        "candidates": len(cands),
        "at_most_top": len(cands) <= TOP,
        "sorted_by_phi": by_phi or "ok",
        # phi equal: fewer times, fewer days, event name first (the module's documented order)
        "ties_ordered": ties or "ok",
        "ok": len(cands) <= TOP and by_phi is None,
    }


def health_checks(doc: dict[str, Any]) -> dict[str, Any]:
    """``accounts`` sorted by score ascending (ties by account_id apart), ``auc_backtest`` in [0, 1] or null."""
    accounts = doc.get("accounts") or []
    scores = [a["score"] for a in accounts]
    bad = [i for i, s in enumerate(scores) if not isinstance(s, (int, float)) or math.isnan(s)]
    by_score = (
        f"score not a number at {bad[:5]}" if bad else _first_out_of_order(scores, descending=False)
    )
    keys = [(a["score"], a["account_id"]) for a in accounts]
    ties = None if bad else _first_out_of_order(keys, descending=False)
    auc = doc.get("auc_backtest")
    auc_ok = auc is None or (
        isinstance(auc, (int, float)) and not isinstance(auc, bool) and 0.0 <= auc <= 1.0
    )
    return {
        "accounts": len(accounts),
        "sorted_by_score": by_score or "ok",
        "ties_ordered": ties or "ok",
        "auc_backtest": auc,
        "auc_in_range": auc_ok,
        "ok": by_score is None and auc_ok,
    }


def first_failure(checks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first run's checks that failed, else the last run's; None without runs."""
    return next((c for c in checks if not c["ok"]), checks[-1] if checks else None)
