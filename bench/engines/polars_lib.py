"""The library on its default polars engine, on the raw files or on the client store.

* ``doc``: the whole metrics document on the **raw** files, read and validated
  for the run: ``metrics_document(load_client(path, lazy=True))`` (every
  section of metrics.json, goals and data quality included; the events read
  lazily, streaming, from the month partitions, every row validated). This was
  ``journey metrics`` before the client store; kept for comparison.
* ``doc`` with ``store=True``: ``journey metrics`` now: ``metrics_document(ensure_store(path).client())``,
  the client read from its store (built before, untimed; ``JOURNEY_STORE_DIR``
  says where). ``load s`` is ``ensure_store`` (the store's key: a ``stat`` per
  raw file and a hash of the code) plus ``Store.client()``.
* ``subset``: ``load_client(path, lazy=True)`` plus only the library functions
  of the five metric families the hand-written engines implement (revenue
  months, activity retention, stage funnel, ordered funnel, CAC by channel):
  the like-for-like comparison with the DuckDB and pandas engines. The journey
  stream is built as the document builds it (unsorted, only the columns the
  metrics read; collected once, or above ``STREAMING_ABOVE_ROWS`` events kept
  lazy with every query on the streaming engine).
* ``subset`` with ``store=True``: the same functions on the store's client.

With ``store=True`` the engine fails (exit status 1) when ``ensure_store``
had to build the store inside the timed region (the raw files, client.yaml or
the store's code changed since the bench built it); the bench then checks the
store, untimed, and runs it again.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import polars as pl
from common import month_label


def _doc_results(doc: dict[str, Any]) -> dict[str, Any]:
    rev = [
        [
            m["month"],
            m["mrr"],
            m["customers"],
            m["new_mrr"],
            m["expansion_mrr"],
            m["reactivation_mrr"],
            m["contraction_mrr"],
            m["churned_mrr"],
            m["net_new_mrr"],
        ]
        for m in doc["revenue"]["months"]
    ]
    ret = [
        [c["cohort"], k, c["size"], r]
        for c in doc["retention"]["activity"]
        for k, r in enumerate(c["rates"])
    ]
    st = [[s["id"], s["reached"]] for s in doc["stages"]]
    cac = [
        [c["channel"], c["spend"], c["new_customers"], c["cac"]]
        for c in doc["acquisition"]["by_channel"]
    ]
    return {"revenue": rev, "retention": ret, "stages": st, "funnel": None, "cac": cac}


def _store_client(spec: dict[str, Any]) -> Any:
    """``ensure_store(path).client()``, refusing a store built inside the timed region."""
    from journeylib.store import ensure_store

    store = ensure_store(spec["client"])
    if store.built:
        raise SystemExit("the store was stale and got built inside the timed region")
    return store.client()


def run_doc(spec: dict[str, Any], *, store: bool = False) -> dict[str, Any]:
    """The metrics document on the raw files, or with ``store`` on the store's client."""
    import journeylib
    from journeylib.ingest.lazy import bound_scan_memory

    bound_scan_memory()  # as the journey command does at start
    t0 = time.perf_counter()
    client = _store_client(spec) if store else journeylib.load_client(spec["client"], lazy=True)
    t1 = time.perf_counter()
    doc = journeylib.metrics_document(client)
    t2 = time.perf_counter()
    return {"load_seconds": t1 - t0, "compute_seconds": t2 - t1, "results": _doc_results(doc)}


def run_subset(spec: dict[str, Any], *, store: bool = False) -> dict[str, Any]:
    """The five families' library functions on the raw files, or with ``store`` on the store's client."""
    import journeylib
    from journeylib.ingest.lazy import bound_scan_memory

    bound_scan_memory()  # as the journey command does at start
    from journeylib.metrics import acquisition, retention, revenue, stages
    from journeylib.metrics.document import _STREAM_USED, _streaming
    from journeylib.metrics.funnels import ordered_funnel
    from journeylib.metrics.period import resolve_period
    from journeylib.stream import journey_events

    t0 = time.perf_counter()
    c = _store_client(spec) if store else journeylib.load_client(spec["client"], lazy=True)
    t1 = time.perf_counter()
    period = resolve_period(c)
    t = c.tables
    steps: dict[str, float] = {}
    tick = time.perf_counter()

    def done(name: str) -> None:
        nonlocal tick
        now = time.perf_counter()
        steps[name] = now - tick
        tick = now

    # as metrics_document runs: in memory, or streaming above STREAMING_ABOVE_ROWS events
    streaming = _streaming(c)
    config = pl.Config(engine_affinity="streaming") if streaming else contextlib.nullcontext()
    with config:
        months = revenue.revenue_months(t["subscriptions"], period=period)
        done("revenue")
        ret = retention.activity_retention(t["accounts"], t["events"], period=period)
        done("retention")
        # as metrics_document builds it: once, unsorted, only the columns the metrics read
        stream = journey_events(c, sort=False, lazy=True).select(_STREAM_USED)
        if not streaming:
            stream = stream.collect()
        done("journey_stream")  # streaming: only the plan; reading it counts in the next steps
        pairs = [(s.id, s.label) for s in c.template.stages]
        st = stages.stage_funnel(stream, t["accounts"], period=period, stages=pairs)
        done("stages")
        fun = ordered_funnel(
            t["events"],  # the raw events: a LazyFrame over the partitions
            steps=spec["funnel_steps"],
            window=spec["window_us"] // 1_000_000,
            period=period,
        )
        done("funnel")
        cac = acquisition.cac_by_channel(
            t["marketing"], t["subscriptions"], t["accounts"], period=period
        )
        done("cac")
    t2 = time.perf_counter()
    assert [month_label(x) for x in spec["period"]] == list(period), (spec["period"], period)
    res = {
        "revenue": months.select(
            "month",
            "mrr",
            "customers",
            "new_mrr",
            "expansion_mrr",
            "reactivation_mrr",
            "contraction_mrr",
            "churned_mrr",
            "net_new_mrr",
        ).rows(),
        "retention": ret.select("cohort", "k", "size", "rate").rows(),
        "stages": st.select("id", "reached").rows(),
        "funnel": fun.steps["count"].to_list(),
        "cac": cac.select("channel", "spend", "new_customers", "cac").rows(),
    }
    return {"load_seconds": t1 - t0, "compute_seconds": t2 - t1, "steps": steps, "results": res}
