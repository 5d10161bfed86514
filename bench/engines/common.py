"""Shared bits of the bench engines: the task spec, month helpers, result normalisation.

Every engine gets the same *spec* (a JSON-able dict computed once by the
driver from the client folder, outside the timed region):

* ``client``: the client folder: one Parquet file per table, the events as
  month partitions ``events/month=YYYY-MM/*.parquet`` (what ``journeylib.ingest.client`` reads);
* ``events_dir``: that ``events/`` folder; ``events_glob``: its files (``events/*/*.parquet``);
* ``period``: ``[first, last]`` month indices (year * 12 + month - 1);
* ``stages``: stage ids in template order; ``stage_of``: event name -> stage index;
* ``funnel_steps`` and ``window_us``: the ordered 3-step funnel.

Every engine returns the same normalised *results* dict, compared by the driver:

* ``revenue``: ``[month, mrr, customers, new, expansion, reactivation, contraction, churned, net_new]``
* ``retention``: ``[cohort, k, size, rate]``
* ``stages``: ``[stage_id, reached]``
* ``funnel``: ``[count(1), count(2), count(3)]``
* ``cac``: ``[channel, spend, new_customers, cac]``
"""

from __future__ import annotations

from typing import Any

MICRO = 1_000_000
NO_CHANNEL = "(none)"


def month_label(mi: int) -> str:
    return f"{int(mi) // 12:04d}-{int(mi) % 12 + 1:02d}"


def label_index(label: str) -> int:
    y, m = label.split("-")[:2]
    return int(y) * 12 + int(m) - 1


def _num(v: Any) -> Any:
    if v is None:
        return None
    try:
        import math

        f = float(v)
        return None if math.isnan(f) else f
    except (TypeError, ValueError):
        return v


def normalise(results: dict[str, Any]) -> dict[str, Any]:
    """Sorted rows with plain Python numbers (row order differs between engines)."""
    out: dict[str, Any] = {}
    for key, rows in results.items():
        if rows is None:
            out[key] = None
            continue
        if key == "funnel":
            out[key] = [int(x) for x in rows]
            continue
        norm = [[x if isinstance(x, str) else _num(x) for x in r] for r in rows]
        out[key] = sorted(norm, key=lambda r: [(x is None, x if x is not None else 0) for x in r])
    return out


def compare(ref: dict[str, Any], other: dict[str, Any], rel: float = 1e-9) -> dict[str, str]:
    """Per result key: 'ok', 'missing', or the first difference."""
    verdict: dict[str, str] = {}
    for key, rrows in ref.items():
        orows = other.get(key)
        if orows is None or rrows is None:
            verdict[key] = "missing"
            continue
        if key == "funnel":
            verdict[key] = "ok" if list(rrows) == list(orows) else f"{rrows} != {orows}"
            continue
        if len(rrows) != len(orows):
            verdict[key] = f"{len(rrows)} rows != {len(orows)} rows"
            continue
        msg = "ok"
        for a, b in zip(rrows, orows, strict=True):
            if len(a) != len(b) or any(not _close(x, y, rel) for x, y in zip(a, b, strict=True)):
                msg = f"{a} != {b}"
                break
        verdict[key] = msg
    return verdict


def _close(x: Any, y: Any, rel: float) -> bool:
    if x is None or y is None:
        return x is None and y is None
    if isinstance(x, str) or isinstance(y, str):
        return x == y
    return abs(x - y) <= max(rel * max(abs(x), abs(y)), 1e-6)
