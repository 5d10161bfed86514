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

A notebook's kernel calls the functions of one client's frames cell after
cell (the stage funnel, the stalled accounts, the drop-off paths all start
from each account's stage entries): :func:`keep_results`, called by the
notebooks' ``setup``, keeps the last :data:`KEPT` results computed outside a
block for the rest of the process, with their frames.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_Key = tuple[Hashable, tuple[int, ...]]
_RESULTS: contextvars.ContextVar[dict[_Key, tuple[tuple[Any, ...], Any]] | None] = (
    contextvars.ContextVar("journeylib_shared_results", default=None)
)

#: How many results :func:`keep_results` keeps (the oldest go first).
KEPT = 16
_KEPT: collections.OrderedDict[_Key, tuple[tuple[Any, ...], Any]] | None = None


def keep_results() -> None:
    """From now on in this process, :func:`once` keeps its last ``KEPT`` results computed outside a block.

    Inside a :func:`shared_results` block (a metrics document) the kept
    results are read, but new ones stay the block's and go with it.
    """
    global _KEPT
    if _KEPT is None:
        _KEPT = collections.OrderedDict()


@contextlib.contextmanager
def shared_results() -> Iterator[None]:
    """Inside this block, :func:`once` computes each (kind, frame) result once."""
    token = _RESULTS.set({})
    try:
        yield
    finally:
        _RESULTS.reset(token)


def keeping() -> bool:
    """Whether results computed outside a block are kept (:func:`keep_results` was called)."""
    return _KEPT is not None


def once(kind: Hashable, frame: Any, compute: Callable[[], T]) -> T:
    """``compute()``, or the result already computed for ``kind`` of this ``frame`` in the block.

    ``frame`` may be a tuple of frames: the result is then shared by calls
    with the same objects, in the same order.

    Examples:
        >>> calls = []
        >>> frame = object()
        >>> with shared_results():
        ...     a = once("n", frame, lambda: calls.append(1) or len(calls))
        ...     b = once("n", frame, lambda: calls.append(1) or len(calls))
        >>> a, b, len(calls)
        (1, 1, 1)
    """
    frames = frame if isinstance(frame, tuple) else (frame,)
    key = (kind, tuple(id(f) for f in frames))
    memo = _RESULTS.get()
    for store in (memo, _KEPT):
        if store is None:
            continue
        hit = store.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], frames, strict=True)):
            if store is _KEPT:
                _KEPT.move_to_end(key)
            result: T = hit[1]
            return result
    if memo is None and _KEPT is None:
        return compute()
    result = compute()
    if memo is not None:  # a block's results go with the block (and their frames with them)
        memo[key] = (frames, result)
    elif _KEPT is not None:
        _KEPT[key] = (frames, result)
        while len(_KEPT) > KEPT:
            _KEPT.popitem(last=False)
    return result
