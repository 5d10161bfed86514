"""Lifecycle and paths (shared/spec/analytics.md § 1, § 3): the library against hand-written DuckDB SQL.

Both sides read the same files of the client store (built before, untimed;
``JOURNEY_STORE_DIR`` says where) and answer the questions of
``journey lifecycle CLIENT --interval week`` and
``journey paths CLIENT --start signed_up`` as those commands' ``--json``:

* ``run_lifecycle_lib`` / ``run_paths_lib``: the library as the commands run
  it. ``load s`` = ``ensure_store`` (the store's key) + ``Store.client()`` +
  the period (``resolve_period(period_view(client))``), as ``journey``'s
  ``_analysis_input``; ``compute s`` = ``lifecycle`` on ``store.mart("account_days")``
  / ``paths`` on ``store.stream()``, then ``lifecycle_json`` / ``paths_json``.
  Exit status 1 when the store had to be built inside the timed region.
* ``run_lifecycle_duckdb`` / ``run_paths_duckdb``: DuckDB SQL (``threads = 2``,
  ``TimeZone = 'UTC'``) over the same Parquet files: ``marts/account_days.parquet``
  and ``marts/stream/bucket=NNNN/part-0.parquet``; ``load s`` = 0, ``compute
  s`` = connect, query, the JSON shape.

Definitions the SQL implements (analytics.md):

* lifecycle: buckets are integers (week: days since Monday 1970-01-05 // 7,
  labelled by their Monday; day; month: year * 12 + month - 1); an account's
  active buckets over all its data (before the period too), in order:
  ``new`` = no earlier active bucket (its first activity ever), ``returning`` =
  the previous active bucket is b - 1, ``resurrecting`` = an earlier one
  before b - 1; ``dormant`` (negative) at b + 1 for an active bucket b whose
  next active bucket is not b + 1. Every bucket intersecting the period is
  listed, zeros included.
* paths with ``--start E``: an account's items are its rows in the period:
  its raw events (``source = 'events'``) and, when no raw row of the stream
  is an E (``signed_up``), its derived E rows (``source = 'accounts'``),
  ordered by timestamp, then derived rows first, then seq; consecutive
  repeats collapsed; the ``steps`` items beginning at the first E. Nodes ``{step, item, accounts, dropped}`` (dropped: paths ending
  there), edges ``{step, source, target, accounts}``; ``min_accounts`` 1 (no
  ``(other)``). Sorted as the spec says.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from common import month_label

THREADS = 2
_MONDAY = dt.date(1970, 1, 5)  # a Monday: week k starts _MONDAY + 7 k days
_EPOCH = dt.date(1970, 1, 1)


# ---------------------------------------------------------------- library
def _open(spec: dict[str, Any]) -> tuple[Any, tuple[str, str], dict[str, float]]:
    """``ensure_store`` + ``Store.client()`` + the period, as ``journey``'s ``_analysis_input``."""
    from journeylib.metrics import resolve_period
    from journeylib.metrics.period import period_view, with_period
    from journeylib.store import ensure_store

    t0 = time.perf_counter()
    store = ensure_store(spec["client"])
    if store.built:
        raise SystemExit("the store was stale and got built inside the timed region")
    t1 = time.perf_counter()
    c = with_period(store.client(), None, None)
    t2 = time.perf_counter()
    per = resolve_period(period_view(c))
    t3 = time.perf_counter()
    first, last = spec["period"]
    assert per == (month_label(first), month_label(last)), (per, spec["period"])
    return store, per, {"ensure_store": t1 - t0, "client": t2 - t1, "period": t3 - t2}


def run_lifecycle_lib(spec: dict[str, Any]) -> dict[str, Any]:
    """``journey lifecycle CLIENT --interval week --json`` in this process (without printing)."""
    from journeylib.ingest.lazy import bound_scan_memory
    from journeylib.metrics.activity import lifecycle, lifecycle_json

    bound_scan_memory()  # as the journey command does at start
    interval = spec.get("interval", "week")
    t0 = time.perf_counter()
    store, per, steps = _open(spec)
    t1 = time.perf_counter()
    frame = lifecycle(store.mart("account_days"), period=per, interval=interval, events=None)
    t2 = time.perf_counter()
    doc = lifecycle_json(frame, interval)
    t3 = time.perf_counter()
    steps.update(lifecycle=t2 - t1, json=t3 - t2)
    return {
        "load_seconds": t1 - t0,
        "compute_seconds": t3 - t1,
        "steps": steps,
        "results": {"lifecycle": doc},
    }


def run_paths_lib(spec: dict[str, Any]) -> dict[str, Any]:
    """``journey paths CLIENT --start signed_up --json`` in this process (without printing)."""
    from journeylib.analysis.paths import paths, paths_json
    from journeylib.ingest.lazy import bound_scan_memory

    bound_scan_memory()
    t0 = time.perf_counter()
    store, per, steps = _open(spec)
    t1 = time.perf_counter()
    result = paths(
        store.stream(),
        period=per,
        start=spec.get("paths_start", "signed_up"),
        end=None,
        steps=spec.get("paths_steps", 5),
        level="event",
        min_accounts=1,
        presorted=True,  # as journey paths reads the store's stream
    )
    t2 = time.perf_counter()
    doc = paths_json(result)
    t3 = time.perf_counter()
    steps.update(paths=t2 - t1, json=t3 - t2)
    return {
        "load_seconds": t1 - t0,
        "compute_seconds": t3 - t1,
        "steps": steps,
        "results": {"paths": doc},
    }


# ---------------------------------------------------------------- DuckDB
def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _connect() -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {THREADS}")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


def _period_days(spec: dict[str, Any]) -> tuple[dt.date, dt.date]:
    """The period's first day and the first day after it."""
    first, last = spec["period"]
    return (
        dt.date(first // 12, first % 12 + 1, 1),
        dt.date((last + 1) // 12, (last + 1) % 12 + 1, 1),
    )


def _bucket_sql(interval: str, col: str) -> str:
    """The integer bucket of a DATE column."""
    if interval == "week":
        return f"((({col}) - DATE '{_MONDAY}') // 7)"
    if interval == "day":
        return f"(({col}) - DATE '{_EPOCH}')"
    return f"(year({col}) * 12 + month({col}) - 1)"


def _bucket_label(interval: str, b: int) -> str:
    if interval == "week":
        return (_MONDAY + dt.timedelta(days=7 * b)).isoformat()
    if interval == "day":
        return (_EPOCH + dt.timedelta(days=b)).isoformat()
    return month_label(b)


def _bucket_of(interval: str, d: dt.date) -> int:
    if interval == "week":
        return (d - _MONDAY).days // 7
    if interval == "day":
        return (d - _EPOCH).days
    return d.year * 12 + d.month - 1


def lifecycle_sql(days_file: str, interval: str, lo: int, hi: int) -> str:
    """Per bucket lo … hi: new, returning, resurrecting, dormant (negative)."""
    b = _bucket_sql(interval, "day")
    return f"""
    WITH act AS (
      SELECT DISTINCT account_id, {b} AS b
      FROM read_parquet({_q(days_file)}) WHERE account_id IS NOT NULL
    ), w AS (
      SELECT b, lag(b) OVER w AS prev, lead(b) OVER w AS nxt
      FROM act WINDOW w AS (PARTITION BY account_id ORDER BY b)
    ), moves AS (
      SELECT b,
        count(*) FILTER (WHERE prev IS NULL) AS new,
        count(*) FILTER (WHERE prev = b - 1) AS returning,
        count(*) FILTER (WHERE prev < b - 1) AS resurrecting
      FROM w WHERE b BETWEEN {lo} AND {hi} GROUP BY b
    ), gone AS (
      SELECT b + 1 AS b, count(*) AS dormant FROM w
      WHERE (nxt IS NULL OR nxt > b + 1) AND b + 1 BETWEEN {lo} AND {hi} GROUP BY 1
    )
    SELECT r.range AS b, coalesce(m.new, 0), coalesce(m.returning, 0),
      coalesce(m.resurrecting, 0), -coalesce(g.dormant, 0)
    FROM range({lo}, {hi + 1}) r
    LEFT JOIN moves m ON m.b = r.range LEFT JOIN gone g ON g.b = r.range
    ORDER BY 1
    """


def run_lifecycle_duckdb(spec: dict[str, Any]) -> dict[str, Any]:
    """The lifecycle of the account_days mart in DuckDB SQL, as ``lifecycle_json``."""
    t0 = time.perf_counter()
    interval = spec.get("interval", "week")
    start, stop = _period_days(spec)
    lo = _bucket_of(interval, start)
    hi = _bucket_of(interval, stop - dt.timedelta(days=1))
    con = _connect()
    rows = con.execute(lifecycle_sql(spec["days_file"], interval, lo, hi)).fetchall()
    doc = {
        "interval": interval,
        "buckets": [
            {
                "start": _bucket_label(interval, b),
                "new": n,
                "returning": r,
                "resurrecting": s,
                "dormant": d,
            }
            for b, n, r, s, d in rows
        ],
    }
    con.close()
    t1 = time.perf_counter()
    return {"load_seconds": 0.0, "compute_seconds": t1 - t0, "results": {"lifecycle": doc}}


def anchor_sql(stream_glob: str, start_event: str) -> str:
    """Rows of ``start_event`` in the whole stream, and whether any of them is a raw event."""
    return f"""
    SELECT count(*), coalesce(bool_or(source = 'events'), false)
    FROM read_parquet({_q(stream_glob)}, hive_partitioning = false)
    WHERE event = {_q(start_event)}
    """


def paths_sql(
    stream_glob: str, start_event: str, steps: int, lo: dt.date, hi: dt.date, derived: bool
) -> str:
    """Per account with ``start_event`` in the period: its first ``steps`` items from the first one.

    ``derived``: the derived rows of ``start_event`` (``signed_up``) join the
    sequence, before the raw rows of their instant. Rows before the anchor
    never reach a path: the anchor is the first row of its item, so the row
    before it holds another item and is not collapsed into it. Only rows from
    the anchor on are windowed.
    """
    joins = f"OR (source <> 'events' AND event = {_q(start_event)})" if derived else ""
    return f"""
    CREATE TEMP TABLE path AS
    WITH s AS (
      SELECT account_id, event AS item, timestamp AS ts, (source = 'events')::INT AS o, seq
      FROM read_parquet({_q(stream_glob)}, hive_partitioning = false)
      WHERE account_id IS NOT NULL
        AND timestamp >= TIMESTAMPTZ '{lo} 00:00:00+00'
        AND timestamp <  TIMESTAMPTZ '{hi} 00:00:00+00'
        AND (source = 'events' {joins})
    ), anchor AS (
      SELECT account_id, ts AS ats, o AS ao, seq AS aseq FROM s WHERE item = {_q(start_event)}
      QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY ts, o, seq) = 1
    ), after AS (
      SELECT s.account_id, s.item, s.ts, s.o, s.seq FROM s JOIN anchor a USING (account_id)
      WHERE s.ts > a.ats OR (s.ts = a.ats AND (s.o > a.ao OR (s.o = a.ao AND s.seq >= a.aseq)))
    ), kept AS (
      SELECT account_id, item, ts, o, seq FROM (
        SELECT *, lag(item) OVER (PARTITION BY account_id ORDER BY ts, o, seq) AS prev FROM after
      ) WHERE prev IS NULL OR prev <> item
    ), numbered AS (
      SELECT account_id, item,
        row_number() OVER (PARTITION BY account_id ORDER BY ts, o, seq) AS step
      FROM kept
    )
    SELECT account_id, step, item,
      lead(item) OVER (PARTITION BY account_id ORDER BY step) AS nxt
    FROM numbered WHERE step <= {steps}
    """


def run_paths_duckdb(spec: dict[str, Any]) -> dict[str, Any]:
    """``paths --start signed_up`` over the stream mart in DuckDB SQL, as ``paths_json``."""
    t0 = time.perf_counter()
    start_event = spec.get("paths_start", "signed_up")
    steps = spec.get("paths_steps", 5)
    lo, hi = _period_days(spec)
    con = _connect()
    n, raw = con.execute(anchor_sql(spec["stream_glob"], start_event)).fetchone()
    if not n:
        raise SystemExit(f"no row of the stream has the event {start_event!r}")
    # a start event no raw row has (signed_up): its derived rows join the sequence
    con.execute(paths_sql(spec["stream_glob"], start_event, steps, lo, hi, derived=not raw))
    nodes = con.execute(
        "SELECT step, item, count(*) AS n, count(*) FILTER (WHERE nxt IS NULL) AS dropped "
        "FROM path GROUP BY step, item ORDER BY step, n DESC, item"
    ).fetchall()
    edges = con.execute(
        "SELECT step, item, nxt, count(*) AS n FROM path WHERE nxt IS NOT NULL "
        "GROUP BY step, item, nxt ORDER BY step, n DESC, item, nxt"
    ).fetchall()
    (accounts,) = con.execute("SELECT count(*) FROM path WHERE step = 1").fetchone()
    con.close()
    doc = {
        "level": "event",
        "start": start_event,
        "end": None,
        "steps": steps,
        "accounts": accounts,
        "nodes": [{"step": s, "item": i, "accounts": n, "dropped": d} for s, i, n, d in nodes],
        "edges": [{"step": s, "source": a, "target": b, "accounts": n} for s, a, b, n in edges],
    }
    t1 = time.perf_counter()
    return {"load_seconds": 0.0, "compute_seconds": t1 - t0, "results": {"paths": doc}}


# ---------------------------------------------------------------- agreement
def first_difference(a: Any, b: Any, where: str = "") -> str | None:
    """None when the two JSON values are equal (numbers compared as numbers), else where they differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{where or 'top'}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            d = first_difference(a[k], b[k], f"{where}.{k}" if where else k)
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = first_difference(x, y, f"{where}[{i}]")
            if d:
                return d
        return None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return None if a == b else f"{where}: {a} != {b}"
    return None if a == b else f"{where}: {a!r} != {b!r}"


def store_paths(folder: Path) -> dict[str, str]:
    """The Parquet files both sides read, in a store version folder."""
    return {
        "days_file": str(folder / "marts" / "account_days.parquet"),
        "stream_glob": str(folder / "marts" / "stream" / "*" / "*.parquet"),
    }
