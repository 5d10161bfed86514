"""Results shared between metrics inside one computation (the metrics document).

Several metrics start from the same intermediate result of the same frame: the
per-month revenue ledger of a subscriptions table (revenue movements, NRR/GRR,
LTV, CAC), the data's end of a journey stream (activation, milestones), the
check that the accounts' ids have distinct keys (``_keys``: stage funnel,
activity retention, engagement). Inside
:func:`shared_results`, :func:`once` computes such a result once per frame
object and hands it to every later caller; outside the block it always
computes.

The block keeps a reference to every frame it saw (so no other frame can take
its ``id`` while the block lasts): the frames live until the block ends, so
keep it to one computation (the metrics document opens one per set of
sections, the client's or a goal segment's). The metric functions never change
a frame in place, so a result cannot go stale inside the block.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_RESULTS: contextvars.ContextVar[dict[tuple[str, int], tuple[Any, Any]] | None] = (
    contextvars.ContextVar("journeylib_shared_results", default=None)
)


@contextlib.contextmanager
def shared_results() -> Iterator[None]:
    """Inside this block, :func:`once` computes each (kind, frame) result once."""
    token = _RESULTS.set({})
    try:
        yield
    finally:
        _RESULTS.reset(token)


def once(kind: str, frame: Any, compute: Callable[[], T]) -> T:
    """``compute()``, or the result already computed for ``kind`` of this ``frame`` in the block.

    Examples:
        >>> calls = []
        >>> frame = object()
        >>> with shared_results():
        ...     a = once("n", frame, lambda: calls.append(1) or len(calls))
        ...     b = once("n", frame, lambda: calls.append(1) or len(calls))
        >>> a, b, len(calls)
        (1, 1, 1)
    """
    memo = _RESULTS.get()
    if memo is None:
        return compute()
    key = (kind, id(frame))
    hit = memo.get(key)
    if hit is not None and hit[0] is frame:
        result: T = hit[1]
        return result
    result = compute()
    memo[key] = (frame, result)
    return result
