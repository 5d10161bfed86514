"""Journey Workbench benchmark: `make bench` (not part of `make test`).

Synthesises clients of 1 M and 10 M events (``--big`` adds 50 M and 100 M;
``--sizes 100k`` is a smoke test), each written as Parquet with the events
partitioned by month (``bench_<size>_s<seed>/events/month=YYYY-MM/*.parquet``,
every other table one file), then measures per size, in one run, every bar
as a ratio between two things timed side by side (interleaved, order rotated
run by run; medians over ``--runs``):

* **ingest**: ``journey ingest <client> --rebuild`` (wall time and peak RSS of
  the child process) against DuckDB doing the same read → sort → partitioned
  Parquet write of the same raw files (``engines/duckdb_ingest.py``), both on
  the same number of threads (2); and polars doing that same job
  (``engines/polars_ingest.py``), which shows how much of the ratio is the
  yardstick's own work. The stores go to a temporary ``JOURNEY_STORE_DIR``
  per size, removed at the end;
* **metrics**: each engine in its own child process (peak RSS from the child's
  VmHWM):

  * ``scan_polars`` / ``scan_duckdb``: a bare scan of the columns the metrics read;
  * ``polars_doc``: the raw files loaded and validated, then the whole document
    (``metrics_document(load_client(path, lazy=True))``: ``journey metrics``
    before the client store, kept for comparison);
  * ``polars_store``: ``journey metrics`` now:
    ``metrics_document(ensure_store(path).client())``, the store built before, untimed;
  * ``polars_subset`` / ``polars_store_subset``: the library functions of the
    five families below, on ``load_client(path, lazy=True)`` / on the store's client;
  * ``duckdb`` / ``duckdb_store``: those five families as hand-written DuckDB SQL
    over the raw files / over the store's files (``tables/events/*/*.parquet``,
    ``tables/<table>.parquet``);
  * ``pandas``: the same in straightforward pandas, on the raw files;

* **analytics**: ``journey lifecycle CLIENT --interval week`` and ``journey
  paths CLIENT --start signed_up`` (shared/spec/analytics.md § 1, § 3), the
  library in child processes against hand-written DuckDB SQL on the same
  store files (``engines/analytics.py``), interleaved and rotated; agreement
  of their JSON; the real commands' wall time for information;
* **revenue**: ``journey attribution CLIENT --json`` and ``journey forecast
  CLIENT --json`` against ``journey metrics CLIENT --json``, the three as
  subprocesses (imports included, store built before), interleaved and rotated;
  the ratios of their median wall times against the bar 1.5×, the 1-minute
  load average of every measurement, and checks of their JSON (the same in
  every run; attribution's every model sums to ``conversions`` and equals the
  metrics document's attribution) (``engines/revenue.py``);
* **product**: ``journey activation CLIENT --json`` and ``journey health
  CLIENT --json`` against ``journey metrics CLIENT --json``, timed exactly as
  revenue; the bar 2×, and checks of their JSON (the same in every run;
  activation's candidates sorted by phi descending, at most 20; health's
  accounts sorted by score ascending, ``auc_backtest`` in [0, 1] or null)
  (``engines/product.py``);
* **run**: ``journey run <client> --jobs 2`` on the store built before
  (untimed), against ``journey run demo --jobs 2`` timed alongside: wall time
  and the peak RSS of every process of the run (the driver and each notebook
  kernel, sampled every 0.1 s through ``/proc``, ``bench/procs.py``); reports
  go to a temporary ``JOURNEY_REPORTS_DIR``;
* **explore**: ``bench/explore_bench.py`` (its ``measure``, in a child
  process): explorer open, median panel redraw after a filter change, peak RSS.

The five families: revenue movements per month, activity retention, stage
funnel reached counts, an ordered 3-step funnel, CAC by channel. Every engine's
numbers are compared with the library's on the raw files (``polars_subset``).
Also timed: ``journey run demo`` (wall time and the per-notebook seconds of
run.json) and ``journey batch --jobs 2`` over 1 and 8 copies of the demo client.
``--skip ingest,metrics,analytics,revenue,product,run,explore,demo,batch`` leaves sections out;
``--store-dir DIR`` keeps the stores in DIR (a current one is reused) instead of a temporary folder.

Prints a table of medians, ratios and the bars met, and writes it as JSON
under reports/bench/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "engines"))
sys.path.insert(0, str(HERE))

import procs  # noqa: E402  (bench/procs.py)

SIZES = {
    "100k": 100_000,
    "1m": 1_000_000,
    "10m": 10_000_000,
    "50m": 50_000_000,
    "100m": 100_000_000,
}
MONTHS = 24
EVENTS_PER_ACCOUNT = 50  # synth: ~50 events per account (anonymous visitors included) at 24 months
ENGINES = [
    "scan_polars",
    "scan_duckdb",
    "polars_doc",
    "polars_store",
    "polars_subset",
    "polars_store_subset",
    "duckdb",
    "duckdb_store",
    "pandas",
]
#: The engines that read the client store (built before them, untimed).
STORE_ENGINES = {"polars_store", "polars_store_subset", "duckdb_store"}
#: The engines of the analytics section: the library's lifecycle and paths and their DuckDB SQL.
ANALYTICS_ENGINES = ["lifecycle_lib", "lifecycle_duckdb", "paths_lib", "paths_duckdb"]
#: The real commands the analytics section also times (for information), as ``journey`` arguments.
ANALYTICS_COMMANDS = {
    "lifecycle": ["lifecycle", "{client}", "--interval", "week", "--json"],
    "paths": ["paths", "{client}", "--start", "signed_up", "--json"],
}
#: What a run measures; ``--skip`` leaves some out.
SECTIONS = (
    "ingest",
    "metrics",
    "analytics",
    "revenue",
    "product",
    "run",
    "explore",
    "demo",
    "batch",
)
#: The revenue section's bar: ``journey attribution`` / ``journey forecast`` ≤ this × ``journey metrics``.
REVENUE_BAR = 1.5
#: The product section's bar: ``journey activation`` / ``journey health`` ≤ this × ``journey metrics``.
PRODUCT_BAR = 2.0
#: Threads of both sides of the ingest comparison (polars: POLARS_MAX_THREADS, DuckDB: threads).
THREADS = 2
FUNNEL_STEPS = ["website_visit", "pricing_page_viewed", "trial_started"]
WINDOW_US = 14 * 86_400 * 1_000_000
REFERENCE = "polars_subset"
GB = 1e9  # the spec's GB: 10^9 bytes


# ---------------------------------------------------------------- child side
def child(engine: str, spec_path: str, out_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    if engine == "scan_polars":
        import scan

        res = scan.run_polars(spec)
    elif engine == "scan_duckdb":
        import scan

        res = scan.run_duckdb(spec)
    elif engine in ("polars_doc", "polars_store"):
        import polars_lib

        res = polars_lib.run_doc(spec, store=engine == "polars_store")
    elif engine in ("polars_subset", "polars_store_subset"):
        import polars_lib

        res = polars_lib.run_subset(spec, store=engine == "polars_store_subset")
    elif engine == "duckdb":
        import duckdb_sql

        res = duckdb_sql.run(spec)
    elif engine == "duckdb_store":
        import duckdb_sql

        # the same SQL over the store's files: tables/<table>.parquet, tables/events/*/*.parquet
        res = duckdb_sql.run(
            {**spec, "client": spec["store_tables"], "events_glob": spec["store_events_glob"]}
        )
    elif engine == "duckdb_ingest":
        import duckdb_ingest

        res = duckdb_ingest.run(spec)
    elif engine == "polars_ingest":
        import polars_ingest

        res = polars_ingest.run(spec)
    elif engine == "pandas":
        import pandas_impl

        res = pandas_impl.run(spec)
    elif engine in ANALYTICS_ENGINES:
        import analytics

        res = getattr(analytics, f"run_{engine}")(spec)
    else:
        raise SystemExit(f"unknown engine {engine}")
    res["vm_hwm_mb"] = _vm_hwm_mb()
    Path(out_path).write_text(json.dumps(res, default=str))


def _vm_hwm_mb() -> float | None:
    """Peak RSS of this process (VmHWM: per address space, so not inherited across exec).

    ``ru_maxrss`` of a child is not usable here: Linux carries the parent's
    high-water mark over fork + exec, so every child would report at least the
    driver's own RSS.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# ---------------------------------------------------------------- data
TABLES = [
    "accounts",
    "events",
    "subscriptions",
    "marketing",
    "search_queries",
    "tickets",
    "surveys",
]
LAYOUT = "events/month=YYYY-MM/*.parquet"


def _double_50m(folder: Path, data_dir: Path, seed: int) -> dict[str, Any]:
    """The 100 M client: the 50 M client's events twice, the copy 24 months later.

    Synthesising 100 M events at once needs more memory than a 24 GB machine
    has (about 22 GB at peak), so the 100 M client reuses the 50 M client's
    tables and writes its events a second time shifted by 24 months (period
    2024-01..2027-12; the other tables are the 50 M client's).
    """
    import duckdb
    import yaml

    src = data_dir / f"bench_50m_s{seed}"
    prepare("50m", data_dir, seed)
    t0 = time.perf_counter()
    print("[100m] writing the 50m events twice (the copy 24 months later) …", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for p in src.glob("*.parquet"):
        shutil.copy(p, folder / p.name)
    cfg = yaml.safe_load((src / "client.yaml").read_text())
    cfg["period"] = {"start": "2024-01", "end": "2027-12"}
    (folder / "client.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    shutil.copytree(src / "events", folder / "events")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(
        "COPY (SELECT * REPLACE (timestamp + INTERVAL 24 MONTH AS timestamp), "
        "strftime(timestamp + INTERVAL 24 MONTH, '%Y-%m') AS month "
        f"FROM read_parquet('{src}/events/*/*.parquet', hive_partitioning = false)) "
        f"TO '{folder}/events' (FORMAT parquet, PARTITION_BY (month), "
        "OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'shifted_{i}')"
    )
    info = json.loads((src / ".bench-complete").read_text())
    info["rows"]["events"] *= 2
    info["seconds"] = time.perf_counter() - t0
    info["note"] = "the 50m client's events twice, the copy 24 months later (48 months)"
    (folder / ".bench-complete").write_text(json.dumps(info))
    return info


def prepare(size: str, data_dir: Path, seed: int) -> dict[str, Any]:
    """The client of ``size`` events (synthesised once, cached) in the partitioned layout, and the spec.

    The cache folder ``bench_<size>_s<seed>/`` ends up with one Parquet file
    per table except the events, which are ``events/month=YYYY-MM/*.parquet``
    (no flat ``events.parquet``: the loader would see two files for the table).
    ``.bench-complete`` marks a finished folder. Also handled, in place:

    * a folder of the old layout (``events.parquet`` plus the partitioned copy
      ``events_hive/``): ``events_hive`` becomes ``events``, ``events.parquet`` goes;
    * a folder written by ``journeylib.sources.synth.synthesize(..., fmt="parquet")``
      directly (no marker): adopted when its seven tables are readable; the rows
      and seconds come from ``<data dir>/synth<N>.json`` when it exists (``50m`` →
      ``synth50.json``), else the rows are counted from the files.
    """
    n = SIZES[size]
    folder = data_dir / f"bench_{size}_s{seed}"
    done = folder / ".bench-complete"
    flat, part, hive = folder / "events.parquet", folder / "events", folder / "events_hive"
    info: dict[str, Any] | None = json.loads(done.read_text()) if done.exists() else None
    if info is None:
        info = _adopt(folder, data_dir, size)
    if info is None and size == "100m":
        info = _double_50m(folder, data_dir, seed)
    if info is None:
        import journeylib.sources.synth as synth

        print(
            f"[{size}] synthesising {n // EVENTS_PER_ACCOUNT:,} accounts × {MONTHS} months …",
            flush=True,
        )
        for d in (part, hive):  # left over by an interrupted run
            shutil.rmtree(d, ignore_errors=True)
        t0 = time.perf_counter()
        rows = synth.synthesize(
            folder,
            accounts=n // EVENTS_PER_ACCOUNT,
            months=MONTHS,
            seed=seed,
            start="2024-01",
            fmt="parquet",
        )
        info = {"rows": rows, "seconds": time.perf_counter() - t0}
        print(f"[{size}] {rows['events']:,} events in {info['seconds']:.1f} s", flush=True)
    if info.get("layout") != LAYOUT:
        # ``events/`` only ever appears complete (a rename), so once it exists the flat file goes
        if not part.exists():
            if hive.is_dir() and done.exists():  # old layout: the marker says events_hive is whole
                print(f"[{size}] converting: events_hive/ → events/, removing events.parquet")
                hive.rename(part)
            else:
                print(f"[{size}] partitioning events.parquet by month …", flush=True)
                _partition(flat, part)
        shutil.rmtree(hive, ignore_errors=True)
        flat.unlink(missing_ok=True)
        info["layout"] = LAYOUT
        done.write_text(json.dumps(info))
    from journeylib.config import load_client_config

    # the template as load_client sees it (event_mapping applied)
    from journeylib.ingest.client import _load_template
    from journeylib.months import month_index

    cfg = load_client_config(folder / "client.yaml")
    tpl = _load_template(cfg, folder)
    stage_ids = [s.id for s in tpl.stages]
    stage_of = {e: stage_ids.index(st) for e, (_, st) in tpl.event_map().items()}
    assert cfg.period is not None and cfg.period.start and cfg.period.end
    spec = {
        "client": str(folder),
        "events_dir": str(part),
        "events_glob": str(part / "*" / "*.parquet"),
        "period": [month_index(cfg.period.start), month_index(cfg.period.end)],
        "stages": stage_ids,
        "stage_of": stage_of,
        "funnel_steps": FUNNEL_STEPS,
        "window_us": WINDOW_US,
    }
    parquet_bytes = sum(p.stat().st_size for p in folder.rglob("*.parquet"))
    return {"spec": spec, "rows": info["rows"], "parquet_bytes": parquet_bytes}


def _adopt(folder: Path, data_dir: Path, size: str) -> dict[str, Any] | None:
    """The marker info of a folder synthesised without this script, or None when it is not whole.

    Whole means: client.yaml and the seven tables (``events.parquet`` or a
    finished ``events/``) readable as Parquet. A file still being written has
    no footer yet, so it is not readable.
    """
    import polars as pl

    if not (folder / "client.yaml").exists():
        return None
    rows: dict[str, int] = {}
    for t in TABLES:
        path = folder / f"{t}.parquet"
        if t == "events" and (folder / "events").is_dir():
            path = folder / "events" / "*" / "*.parquet"
        try:
            lf = pl.scan_parquet(path, hive_partitioning=False)
            rows[t] = int(lf.select(pl.len()).collect().item())  # from the footers
        except Exception:
            return None
    info: dict[str, Any] = {"rows": rows, "seconds": None}
    side = data_dir / f"synth{size.removesuffix('m')}.json" if size.endswith("m") else None
    if side is not None and side.exists():
        info.update(json.loads(side.read_text()))
    print(f"[{size}] adopting {folder} ({rows['events']:,} events)", flush=True)
    return info


def _partition(src: Path, dst: Path) -> None:
    """events.parquet → dst/month=YYYY-MM/*.parquet, written to a temporary folder then renamed.

    DuckDB's COPY … PARTITION_BY writes the partition key into the folder
    names only, not as a column of the files.
    """
    import duckdb

    tmp = dst.with_name(dst.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(
        f"COPY (SELECT *, strftime(timestamp, '%Y-%m') AS month FROM read_parquet('{src}')) "
        f"TO '{tmp}' (FORMAT parquet, PARTITION_BY (month))"
    )
    con.close()
    tmp.rename(dst)


# ---------------------------------------------------------------- driver
def run_child(
    engine: str, spec: dict[str, Any], tmp: Path, env: dict[str, str] | None = None
) -> dict[str, Any]:
    spec_path = tmp / "spec.json"
    spec_path.write_text(json.dumps(spec))
    out_path = tmp / f"{engine}.out.json"
    out_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            engine,
            str(spec_path),
            str(out_path),
        ],
        cwd=ROOT,
        env=env,
    )
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {
            "engine": engine,
            "error": f"exit {proc.returncode}",
            "wall": wall,
            "rss_mb": ru.ru_maxrss / 1024,
        }
    res = json.loads(out_path.read_text())
    # VmHWM from the child itself; ru_maxrss (wait4) as the fallback, see _vm_hwm_mb
    res.update(engine=engine, wall=wall, rss_mb=res.get("vm_hwm_mb") or ru.ru_maxrss / 1024)
    res["ru_maxrss_mb"] = ru.ru_maxrss / 1024
    res["seconds"] = res["load_seconds"] + res["compute_seconds"]
    return res


def _env(tmp: Path, store_dir: Path | None = None) -> dict[str, str]:
    """The environment of the journey processes of one size: store and reports under ``tmp``.

    ``store_dir`` (``--store-dir``): the stores there instead, kept after the run.
    """
    return dict(
        os.environ,
        JOURNEY_STORE_DIR=str(store_dir or tmp / "store"),
        JOURNEY_REPORTS_DIR=str(tmp / "reports"),
    )


def _store_folder(client: str, env: dict[str, str]) -> Path | None:
    """The current version folder of the client's store under ``env``'s ``JOURNEY_STORE_DIR``."""
    from journeylib.store import read_store

    old = os.environ.get("JOURNEY_STORE_DIR")
    os.environ["JOURNEY_STORE_DIR"] = env["JOURNEY_STORE_DIR"]
    try:
        store = read_store(client)
    finally:
        if old is None:
            os.environ.pop("JOURNEY_STORE_DIR", None)
        else:
            os.environ["JOURNEY_STORE_DIR"] = old
    return None if store is None else store.files.folder


def ensure_store_untimed(client: str, env: dict[str, str], tmp: Path, label: str) -> Path:
    """``journey ingest <client>`` untimed (nothing to do when the store is current); its folder.

    Called before every timed round that reads the store, so that a store made
    stale meanwhile (another engineer editing the store's code, say) is rebuilt
    here and not inside a timed region.
    """
    res = procs.measured(["ingest", client], env=env, log=tmp / "ensure-store.log")
    folder = _store_folder(client, env)
    if res["exit"] != 0 or folder is None:
        raise RuntimeError(f"[{label}] journey ingest {client} failed: {res.get('error')}")
    if any("store ready in" in line for _, line in res["lines"]):
        print(f"[{label}] store built (untimed) in {res['wall_s']:.1f} s: {folder}", flush=True)
    return folder


def _med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _median_dicts(dicts: list[dict[str, float] | None]) -> dict[str, float]:
    """Per key, the median of the values the dicts have for it (in the first dict's key order)."""
    keys: list[str] = []
    for d in dicts:
        keys += [k for k in d or {} if k not in keys]
    return {
        k: round(statistics.median(d[k] for d in dicts if d and k in d), 3)
        for k in keys
        if any(d and k in d for d in dicts)
    }


def _folder_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


# The progress lines of `journey ingest` that end each phase of a build (journeylib.store.build).
INGEST_PHASES = [
    ("validated ", "start_read_validate"),  # interpreter, imports, store key, load_client
    ("splitting the valid events", "tables_quarantine"),  # small tables, quarantine, quality
    ("writing the valid events, the journey", "events_split"),  # events into account buckets
    ("store ready in", "buckets"),  # each bucket: its stream, events by month, marts
]


def _ingest_phases(res: dict[str, Any]) -> dict[str, float]:
    """Seconds of each phase of a `journey ingest`, from the times its progress lines arrived."""
    phases: dict[str, float] = {}
    last = 0.0
    for text, name in INGEST_PHASES:
        t = next((t for t, line in res["lines"] if text in line), None)
        if t is None:
            return phases
        phases[name] = round(t - last, 3)
        last = t
    phases["open_print_exit"] = round(res["wall_s"] - last, 3)  # Store.client(), the table
    return phases


def bench_ingest(
    size: str, spec: dict[str, Any], tmp: Path, env: dict[str, str], runs: int
) -> dict[str, Any]:
    """``journey ingest <client> --rebuild`` against DuckDB's read → sort → partitioned write.

    And polars doing DuckDB's job (``engines/polars_ingest.py``): how much of
    the ratio is the yardstick's own work. Each in a child process on
    ``THREADS`` threads, interleaved, the order rotated run by run. The
    library's store goes to the size's temporary ``JOURNEY_STORE_DIR`` (the
    last one built stays for the other sections); the yardsticks' copies are
    removed after each run.
    """
    client = spec["client"]
    ienv = dict(env, POLARS_MAX_THREADS=str(THREADS))
    dspec = {
        **spec,
        "ingest_out": str(tmp / "duckdb-ingest"),
        "ingest_tmp": str(tmp / "duckdb-spill"),
        "threads": THREADS,
    }
    names = ["ingest", "duckdb_ingest", "polars_ingest"]
    samples: dict[str, list[dict[str, Any]]] = {e: [] for e in names}
    for r in range(runs):
        for e in names[r % len(names) :] + names[: r % len(names)]:
            if e == "ingest":
                res = procs.measured(
                    ["ingest", client, "--rebuild"], env=ienv, log=tmp / "ingest.log"
                )
                entry = {
                    "wall_s": res["wall_s"],
                    "rss_mb": res["peak_rss_mb"],
                    "phases_s": _ingest_phases(res),
                }
                if res["exit"] != 0:
                    entry["error"] = res.get("error") or f"exit {res['exit']}"
            else:
                res = run_child(e, dspec, tmp, env=ienv if e == "polars_ingest" else None)
                entry = {
                    "wall_s": res["wall"],
                    "rss_mb": res["rss_mb"],
                    "phases_s": res.get("steps"),
                }
                if "error" in res:
                    entry["error"] = res["error"]
                if r == runs - 1 and "error" not in res and e == "duckdb_ingest":
                    entry["out_mb"] = _folder_mb(Path(dspec["ingest_out"]))
                for d in (dspec["ingest_out"], dspec["ingest_tmp"]):
                    shutil.rmtree(d, ignore_errors=True)
            samples[e].append(entry)
            shown = entry.get("error") or f"{entry['wall_s']:.2f} s"
            print(
                f"[{size}] ingest run {r + 1}/{runs} {e:<14} {shown}  rss {entry['rss_mb']:.0f} MB",
                flush=True,
            )
    summary: dict[str, Any] = {}
    for e, v in samples.items():
        ok = [x for x in v if "error" not in x]
        summary[e] = {
            "median_wall_s": _med([x["wall_s"] for x in ok]),
            "all_wall_s": [round(x["wall_s"], 3) for x in ok],
            "peak_rss_mb": max((x["rss_mb"] for x in ok), default=None),
            "median_phases_s": _median_dicts([x["phases_s"] for x in ok]),
            "errors": [x["error"] for x in v if "error" in x],
        }
    a, b = summary["ingest"]["median_wall_s"], summary["duckdb_ingest"]["median_wall_s"]
    p = summary["polars_ingest"]["median_wall_s"]
    folder = _store_folder(client, env)
    return {
        "threads": THREADS,
        "engines": summary,
        "ratio": a / b if a and b else None,
        # DuckDB's job done by polars, against DuckDB: the floor of the ratio on polars
        "polars_yardstick_ratio": p / b if p and b else None,
        "store_mb": _folder_mb(folder) if folder else None,
        "duckdb_out_mb": next(
            (x["out_mb"] for x in samples["duckdb_ingest"] if "out_mb" in x), None
        ),
        "runs": samples,
    }


def _engine_summary(samples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per engine: medians of its runs' seconds (load, compute, wall), peak RSS, failures."""
    summary: dict[str, Any] = {}
    for e, runs_e in samples.items():
        ok = [s for s in runs_e if "seconds" in s]
        if not ok:
            summary[e] = {"error": runs_e[0].get("error")}
            continue
        summary[e] = {
            "median_s": statistics.median(s["seconds"] for s in ok),
            "median_load_s": statistics.median(s["load_seconds"] for s in ok),
            "median_compute_s": statistics.median(s["compute_seconds"] for s in ok),
            "median_wall_s": statistics.median(s["wall"] for s in ok),
            "all_s": [round(s["seconds"], 3) for s in ok],
            "median_steps_s": _median_dicts([s.get("steps") for s in ok]),
            "peak_rss_mb": max(s["rss_mb"] for s in ok),
            "failed_runs": len(runs_e) - len(ok),
        }
    return summary


def bench_metrics(
    size: str, data: dict[str, Any], engines: list[str], runs: int, tmp: Path, env: dict[str, str]
) -> dict[str, Any]:
    """Every engine in its own child process, ``runs`` times, interleaved and rotated."""
    from common import compare, normalise

    spec = data["spec"]
    samples: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    uses_store = bool(STORE_ENGINES & set(engines))

    def with_store(spec: dict[str, Any]) -> dict[str, Any]:
        """The spec with the store's paths, the store current (or rebuilt here, untimed)."""
        folder = ensure_store_untimed(spec["client"], env, tmp, size)
        return {
            **spec,
            "store_folder": str(folder),
            "store_tables": str(folder / "tables"),
            "store_events_glob": str(folder / "tables" / "events" / "*" / "*.parquet"),
        }

    for r in range(runs):
        if uses_store:
            spec = with_store(spec)
        order = engines[r % len(engines) :] + engines[: r % len(engines)]
        for e in order:
            res = run_child(e, spec, tmp, env)
            for _ in range(2):  # a store made stale meanwhile (its code edited): again, once built
                if e not in STORE_ENGINES or "error" not in res:
                    break
                print(f"[{size}] {e} failed ({res['error']}); store checked, again", flush=True)
                spec = with_store(spec)
                res = run_child(e, spec, tmp, env)
            samples[e].append(res)
            shown = f"{res['seconds']:.2f} s" if "seconds" in res else res["error"]
            print(
                f"[{size}] run {r + 1}/{runs} {e:<20} {shown}  rss {res['rss_mb']:.0f} MB",
                flush=True,
            )
    summary = _engine_summary(samples)
    # agreement with the library (the last run's results; all runs give the same numbers)
    ref_raw = next((s["results"] for s in samples.get(REFERENCE, []) if s.get("results")), None)
    agreement: dict[str, Any] = {}
    if ref_raw is not None:
        ref = normalise(ref_raw)
        for e in engines:
            res = next((s["results"] for s in samples[e] if s.get("results")), None)
            if res is not None and e != REFERENCE:
                agreement[e] = compare(ref, normalise(res))
    med = {e: v.get("median_s") for e, v in summary.items()}

    def ratio(a: str, b: str) -> float | None:
        return med[a] / med[b] if med.get(a) and med.get(b) else None

    pairs = [
        ("polars_store_subset", "duckdb_store"),
        ("polars_store", "duckdb_store"),
        ("duckdb_store", "duckdb"),
        ("polars_store", "polars_doc"),
        ("polars_store_subset", "polars_subset"),
        ("polars_doc", "duckdb"),
        ("polars_subset", "duckdb"),
        ("pandas", "polars_store"),
        ("pandas", "polars_store_subset"),
        ("pandas", "polars_doc"),
        ("pandas", "polars_subset"),
        ("polars_store", "scan_polars"),
        ("polars_doc", "scan_polars"),
        ("polars_subset", "scan_polars"),
        ("duckdb", "scan_duckdb"),
    ]
    return {
        "engines": summary,
        "ratios": {f"{a}/{b}": ratio(a, b) for a, b in pairs},
        "agreement": agreement,
    }


def _json_output(res: dict[str, Any]) -> Any:
    """The JSON a ``journey … --json`` printed (its output lines from the first ``{``), or None."""
    text = [line for _, line in res["lines"]]
    first = next((i for i, line in enumerate(text) if line.startswith("{")), None)
    if first is None:
        return None
    try:
        return json.loads("\n".join(text[first:]))
    except ValueError:
        return None


def time_command(
    name: str,
    client: str,
    env: dict[str, str],
    tmp: Path,
    commands: dict[str, list[str]] = ANALYTICS_COMMANDS,
) -> tuple[dict[str, Any], Any]:
    """``journey <commands[name]>`` in a child process: wall time, peak RSS; and its JSON.

    Also the 1-minute load average as it started (``load_1min``).
    """
    args = [a.format(client=client) for a in commands[name]]
    load = os.getloadavg()[0]
    res = procs.measured(args, env=env, log=tmp / f"cli-{name}.log")
    entry: dict[str, Any] = {
        "load_1min": round(load, 2),
        "wall_s": res["wall_s"],
        "rss_mb": res["peak_rss_mb"],
        # the store was stale and the command built it inside the timing
        "store_built": any("store ready in" in line for _, line in res["lines"]),
    }
    if res["exit"] != 0:
        entry["error"] = res.get("error") or f"exit {res['exit']}"
    return entry, _json_output(res) if res["exit"] == 0 else None


def bench_analytics(
    size: str, spec: dict[str, Any], runs: int, tmp: Path, env: dict[str, str]
) -> dict[str, Any]:
    """Lifecycle and paths (analytics.md § 1, § 3): the library against DuckDB SQL on the store's files.

    ``ANALYTICS_ENGINES`` each in its own child process (``engines/analytics.py``),
    ``runs`` times, interleaved and rotated, the store made current before every
    round (untimed); then the real commands (``ANALYTICS_COMMANDS``), wall time
    as a user sees it, for information. Agreement: the library's JSON equals
    DuckDB's (and each command's JSON the library's).
    """
    import analytics

    names = ANALYTICS_ENGINES
    samples: dict[str, list[dict[str, Any]]] = {e: [] for e in names}
    cli: dict[str, list[dict[str, Any]]] = {c: [] for c in ANALYTICS_COMMANDS}
    cli_json: dict[str, Any] = {}

    def with_store() -> dict[str, Any]:
        folder = ensure_store_untimed(spec["client"], env, tmp, size)
        return {
            **spec,
            **analytics.store_paths(folder),
            "interval": "week",
            "paths_start": "signed_up",
            "paths_steps": 5,
        }

    for r in range(runs):
        aspec = with_store()
        for e in names[r % len(names) :] + names[: r % len(names)]:
            res = run_child(e, aspec, tmp, env)
            for _ in range(2):  # a store made stale meanwhile (its code edited): again, once built
                if "error" not in res:
                    break
                print(f"[{size}] {e} failed ({res['error']}); store checked, again", flush=True)
                aspec = with_store()
                res = run_child(e, aspec, tmp, env)
            samples[e].append(res)
            shown = f"{res['seconds']:.2f} s" if "seconds" in res else res["error"]
            print(
                f"[{size}] analytics run {r + 1}/{runs} {e:<17} {shown}  "
                f"(wall {res['wall']:.2f} s)  rss {res['rss_mb']:.0f} MB",
                flush=True,
            )
        cmds = list(ANALYTICS_COMMANDS)
        for c in cmds[r % 2 :] + cmds[: r % 2]:
            entry, doc = time_command(c, spec["client"], env, tmp)
            if doc is not None:
                cli_json[c] = doc
            cli[c].append(entry)
            shown = entry.get("error") or f"{entry['wall_s']:.2f} s wall"
            print(
                f"[{size}] analytics run {r + 1}/{runs} journey {c:<10} {shown}  "
                f"rss {_fmt(entry['rss_mb'], ' MB', 0)}"
                + ("  (store built inside the timing)" if entry["store_built"] else ""),
                flush=True,
            )
    summary = _engine_summary(samples)
    commands: dict[str, Any] = {}
    for c, entries in cli.items():
        ok = [x for x in entries if "error" not in x and not x["store_built"]]
        commands[c] = {
            "args": ANALYTICS_COMMANDS[c],
            "median_wall_s": _med([x["wall_s"] for x in ok]),
            "all_wall_s": [round(x["wall_s"], 3) for x in ok],
            "peak_rss_mb": max((x["rss_mb"] or 0 for x in ok), default=None),
            "store_built_in_timing": sum(x["store_built"] for x in entries),
            "errors": [x["error"] for x in entries if "error" in x],
        }

    def result(engine: str, key: str) -> Any:
        return next((s["results"][key] for s in samples[engine] if s.get("results")), None)

    agreement: dict[str, str | None] = {}
    for key in ("lifecycle", "paths"):
        lib, sql = result(f"{key}_lib", key), result(f"{key}_duckdb", key)
        if lib is None or sql is None:
            agreement[key] = None  # not computed
        else:
            agreement[key] = analytics.first_difference(lib, sql) or "ok"
        if lib is not None and key in cli_json:
            commands[key]["agrees_with_library"] = (
                analytics.first_difference(lib, cli_json[key]) or "ok"
            )
    med = {e: v.get("median_s") for e, v in summary.items()}
    ratios = {
        f"{a}/{b}": med[a] / med[b] if med.get(a) and med.get(b) else None
        for a, b in (("lifecycle_lib", "lifecycle_duckdb"), ("paths_lib", "paths_duckdb"))
    }
    sizes = {
        "lifecycle": _count(result("lifecycle_duckdb", "lifecycle"), "buckets"),
        "paths": _count(result("paths_duckdb", "paths"), "nodes"),
    }
    return {
        "engines": summary,
        "ratios": ratios,
        "agreement": agreement,
        "commands": commands,
        "answer_sizes": sizes,
        "accounts_with_path": (result("paths_duckdb", "paths") or {}).get("accounts"),
        "runs": {
            e: [{k: v for k, v in s.items() if k != "results"} for s in runs_e]
            for e, runs_e in samples.items()
        },
        "command_runs": cli,
    }


def _count(doc: dict[str, Any] | None, key: str) -> int | None:
    return None if doc is None else len(doc[key])


def _time_against_reference(
    size: str,
    client: str,
    runs: int,
    tmp: Path,
    env: dict[str, str],
    label: str,
    cmds: dict[str, list[str]],
    reference: str,
    keep: Any,
) -> tuple[dict[str, Any], dict[str, float | None], dict[str, list[dict[str, Any]]]]:
    """``journey <cmds[c]>`` for every ``c`` as subprocesses, interleaved: summary, ratios, runs.

    The pattern of the revenue and product sections: each command through
    ``time_command`` (``bench/procs.py``: wall time from start to exit, imports
    included, peak RSS, the 1-minute load average as it started), ``runs``
    times, their order rotated run by run, the store made current before every
    round (untimed). A command that had to build the store inside the timing is
    not counted and run again (twice at most). ``keep(c, doc)`` gets every
    run's JSON (None when it failed); with one run, every command but
    ``reference`` runs once more, untimed, for the reproducibility check.
    Returns per command its medians (``commands``), the ratios of every other
    command's median wall time to ``reference``'s (``"<c>/<reference>"``), and
    every run's entry.
    """
    names = list(cmds)
    samples: dict[str, list[dict[str, Any]]] = {c: [] for c in names}

    def one(c: str) -> dict[str, Any]:
        for attempt in range(3):
            entry, doc = time_command(c, client, env, tmp, cmds)
            if not entry["store_built"] or attempt == 2:
                break
            print(
                f"[{size}] journey {c} built the store inside the timing "
                f"({entry['wall_s']:.1f} s, not counted); again",
                flush=True,
            )
            ensure_store_untimed(client, env, tmp, size)
        entry["discarded_runs"] = attempt
        keep(c, doc)
        return entry

    for r in range(runs):
        ensure_store_untimed(client, env, tmp, size)
        for c in names[r % len(names) :] + names[: r % len(names)]:
            entry = one(c)
            samples[c].append(entry)
            shown = entry.get("error") or f"{entry['wall_s']:.2f} s wall"
            print(
                f"[{size}] {label} run {r + 1}/{runs} journey {c:<12} {shown}  "
                f"rss {_fmt(entry['rss_mb'], ' MB', 0)}  load {entry['load_1min']:.2f}"
                + ("  (store built inside the timing)" if entry["store_built"] else ""),
                flush=True,
            )
    if runs < 2:  # a second, untimed run for the reproducibility check
        for c in names:
            if c != reference:
                one(c)
    commands: dict[str, Any] = {}
    for c, entries in samples.items():
        ok = [x for x in entries if "error" not in x and not x["store_built"]]
        commands[c] = {
            "args": cmds[c],
            "median_wall_s": _med([x["wall_s"] for x in ok]),
            "all_wall_s": [round(x["wall_s"], 3) for x in ok],
            "load_1min": [x["load_1min"] for x in ok],  # as each of all_wall_s started
            "peak_rss_mb": max((x["rss_mb"] or 0 for x in ok), default=None),
            "store_built_in_timing": sum(x["store_built"] for x in entries),
            "discarded_runs": sum(x["discarded_runs"] for x in entries),
            "errors": [x["error"] for x in entries if "error" in x],
        }
    ref = commands[reference]["median_wall_s"]
    ratios = {
        f"{c}/{reference}": v["median_wall_s"] / ref if v["median_wall_s"] and ref else None
        for c, v in commands.items()
        if c != reference
    }
    return commands, ratios, samples


def bench_revenue(
    size: str, spec: dict[str, Any], runs: int, tmp: Path, env: dict[str, str]
) -> dict[str, Any]:
    """``journey attribution`` and ``journey forecast`` against ``journey metrics``, all ``--json``.

    The three commands (``engines/revenue.py`` ``COMMANDS``) as subprocesses
    (``bench/procs.py``: wall time from start to exit, imports included, peak
    RSS), ``runs`` times, interleaved and their order rotated run by run, the
    store made current before every round (untimed). A command that had to
    build the store inside the timing is not counted and run again (twice at
    most). The 1-minute load average is kept with every measurement. Checks:
    each command's JSON is the same in every run (with one run, attribution and
    forecast run once more, untimed), attribution's every model sums to
    ``conversions``, and its rows equal the metrics document's.
    """
    import revenue

    docs: dict[str, list[Any]] = {c: [] for c in revenue.COMMANDS}

    def keep(c: str, doc: Any) -> None:
        docs[c].append(revenue.metrics_excerpt(doc) if c == revenue.REFERENCE else doc)

    commands, ratios, samples = _time_against_reference(
        size, spec["client"], runs, tmp, env, "revenue", revenue.COMMANDS, revenue.REFERENCE, keep
    )
    checks: dict[str, Any] = {
        "reproducible": {c: revenue.reproducible(d) for c, d in docs.items()},
    }
    attr = next((d for d in reversed(docs["attribution"]) if d is not None), None)
    met = next((d for d in reversed(docs[revenue.REFERENCE]) if d is not None), None)
    checks["model_sums"] = None if attr is None else revenue.model_sums(attr)
    checks["attribution_equals_metrics"] = (
        None if attr is None or met is None else revenue.matches_metrics(attr, met)
    )
    fc = next((d for d in reversed(docs["forecast"]) if d is not None), None)
    return {
        "bar": REVENUE_BAR,
        "commands": commands,
        "ratios": ratios,
        "checks": checks,
        "answer": {
            "conversions": None if attr is None else attr["conversions"],
            "paths": None if attr is None else attr["paths"],
            "channels": None if attr is None else len(attr["attribution"]),
            "forecast_cohorts_used": None if fc is None else fc["cohorts_used"],
            "forecast_months": None if fc is None else len(fc["months"]),
        },
        "runs": samples,
    }


def bench_product(
    size: str, spec: dict[str, Any], runs: int, tmp: Path, env: dict[str, str]
) -> dict[str, Any]:
    """``journey activation`` and ``journey health`` against ``journey metrics``, all ``--json``.

    Timed exactly as the revenue section (``_time_against_reference``: the three
    commands of ``engines/product.py`` ``COMMANDS`` as subprocesses, ``runs``
    times, interleaved and rotated, the store made current before every round,
    a run that built the store not counted and run again, the 1-minute load
    average with every measurement); the bar: each ≤ ``PRODUCT_BAR`` ×
    ``journey metrics``. Checks of every run's JSON: the same in every run
    (with one run, activation and health run once more, untimed; for metrics a
    digest of the document), activation's candidates sorted by phi descending
    and at most 20, health's accounts sorted by score ascending and its
    ``auc_backtest`` in [0, 1] or null.
    """
    import product
    import revenue

    docs: dict[str, list[Any]] = {c: [] for c in product.COMMANDS}
    shape: dict[str, list[dict[str, Any]]] = {"activation": [], "health": []}

    def keep(c: str, doc: Any) -> None:
        if c == product.REFERENCE:
            docs[c].append(product.metrics_excerpt(doc))
            return
        docs[c].append(doc)
        if doc is not None:
            check = product.activation_checks if c == "activation" else product.health_checks
            shape[c].append(check(doc))

    commands, ratios, samples = _time_against_reference(
        size, spec["client"], runs, tmp, env, "product", product.COMMANDS, product.REFERENCE, keep
    )
    act = next((d for d in reversed(docs["activation"]) if d is not None), None)
    hl = next((d for d in reversed(docs["health"]) if d is not None), None)
    top = (act or {}).get("candidates") or [None]
    return {
        "bar": PRODUCT_BAR,
        "commands": commands,
        "ratios": ratios,
        "checks": {
            "reproducible": {c: revenue.reproducible(d) for c, d in docs.items()},
            # the first run whose JSON failed a check, else the last run's
            "activation": product.first_failure(shape["activation"]),
            "health": product.first_failure(shape["health"]),
            "runs_checked": {c: len(v) for c, v in shape.items()},
        },
        "answer": {
            "signups_seen": None if act is None else act["accounts"],
            "retained": None if act is None else act["retained"],
            "top_candidate": top[0],
            "health_month": None if hl is None else hl["month"],
            "paying_accounts": None if hl is None else len(hl["accounts"]),
            "auc_backtest": None if hl is None else hl["auc_backtest"],
            "backtest": None if hl is None else hl["backtest"],
            "metrics_json_chars": next(
                (d["chars"] for d in docs[product.REFERENCE] if d is not None), None
            ),
        },
        "runs": samples,
    }


def time_run(
    client: str, env: dict[str, str], tmp: Path, label: str, jobs: int = 2
) -> dict[str, Any]:
    """``journey run <client> --jobs <jobs>``: wall time, run.json, the peak RSS of every process.

    The run's folder (under ``env``'s ``JOURNEY_REPORTS_DIR``) is removed after
    reading its run.json; the store (``JOURNEY_STORE_DIR``) is left.
    """
    res = procs.measured(
        ["run", client, "--jobs", str(jobs)], env=env, log=tmp / f"run-{label}.log"
    )
    reports = Path(env["JOURNEY_REPORTS_DIR"]) / Path(client).name
    rj = _latest_run_json(reports)
    shutil.rmtree(reports, ignore_errors=True)
    procs_ = res["processes"]
    driver_pid = next((p["pid"] for p in procs_ if p["label"] == "driver"), None)
    driver = [p["peak_rss_mb"] for p in procs_ if p["pid"] == driver_pid]
    # the notebook kernels: the driver's children; anything else (their own children) apart
    kernels = [
        p["peak_rss_mb"] for p in procs_ if p["label"] == "kernel" and p["ppid"] == driver_pid
    ]
    others = [
        p
        for p in procs_
        if p["pid"] != driver_pid and not (p["label"] == "kernel" and p["ppid"] == driver_pid)
    ]
    by_notebook = _kernel_notebooks(res)
    entry: dict[str, Any] = {
        "exit": res["exit"],
        "wall_s": round(res["wall_s"], 2),
        "driver_peak_mb": max(driver, default=None),
        "kernel_peak_mb": max(kernels, default=None),
        "kernels": len(kernels),
        "other_processes": len(others),
        "other_peak_mb": max((p["peak_rss_mb"] for p in others), default=None),
        "max_process_mb": res["peak_rss_mb"],
        # journey run built the store inside the timed region (it was stale)
        "store_built": any("store ready in" in line for _, line in res["lines"]),
        "notebook_peak_mb": {nb: p["peak_rss_mb"] for nb, p in by_notebook.items()},
        "processes": procs_,
    }
    if rj:
        entry.update(
            status=rj.get("status"),
            run_seconds=rj.get("seconds"),
            jobs=rj.get("jobs"),
            notebooks={n["name"]: n["seconds"] for n in rj.get("notebooks", [])},
        )
    if res["exit"] != 0 or (rj or {}).get("status") != "ok":
        entry["error"] = (
            res.get("error") or f"exit {res['exit']}, status {(rj or {}).get('status')}"
        )
    return entry


_NOTEBOOK_DONE = re.compile(r"^\S+\s+(\d\d_\w+)\s+(?:ok|failed)\s+([\d.]+)s\b")


def _kernel_notebooks(res: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Which kernel ran which notebook: the driver's kernel that lived when the notebook ran.

    From the runner's progress line ``<client>  <notebook>  ok  <s>s  (elapsed …)``
    (its arrival time is the notebook's end, ``<s>`` its length) and the first
    and last time each kernel was sampled: the closest match, each kernel used
    once. Adds ``notebook`` to the matched process entries.
    """
    driver = next((p["pid"] for p in res["processes"] if p["label"] == "driver"), None)
    kernels = [p for p in res["processes"] if p["label"] == "kernel" and p["ppid"] == driver]
    out: dict[str, dict[str, Any]] = {}
    for t, line in res["lines"]:
        m = _NOTEBOOK_DONE.match(line.strip())
        if not m or not kernels:
            continue
        start = t - float(m.group(2))
        best = min(kernels, key=lambda p: abs(p["last_s"] - t) + abs(p["first_s"] - start))
        kernels.remove(best)
        best["notebook"] = m.group(1)
        out[m.group(1)] = best
    return dict(sorted(out.items()))


def _run_summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [e for e in entries if "error" not in e]
    return {
        "median_wall_s": _med([e["wall_s"] for e in ok]),
        "all_wall_s": [e["wall_s"] for e in ok],
        "max_process_mb": max((e["max_process_mb"] or 0 for e in ok), default=None),
        "driver_peak_mb": max((e["driver_peak_mb"] or 0 for e in ok), default=None),
        "kernel_peak_mb": max((e["kernel_peak_mb"] or 0 for e in ok), default=None),
        "kernels": max((e["kernels"] for e in ok), default=None),
        "other_processes": max((e["other_processes"] for e in ok), default=None),
        "other_peak_mb": max((e["other_peak_mb"] or 0 for e in ok), default=None),
        "median_notebooks_s": _median_dicts([e.get("notebooks") for e in ok]),
        "max_notebook_peak_mb": {
            nb: max(e["notebook_peak_mb"][nb] for e in ok if nb in e["notebook_peak_mb"])
            for nb in _median_dicts([e["notebook_peak_mb"] for e in ok])
        },
        "store_built_in_timing": sum(e["store_built"] for e in entries),
        "discarded_runs": sum(e.get("discarded_runs", 0) for e in entries),
        "errors": [e["error"] for e in entries if "error" in e],
    }


def bench_run(
    size: str, client: str, tmp: Path, env: dict[str, str], runs: int, demo: dict[str, Any]
) -> dict[str, Any]:
    """``journey run <client> --jobs 2`` and ``journey run demo --jobs 2``, interleaved, stores built."""
    samples: dict[str, list[dict[str, Any]]] = {"size": [], "demo": []}
    for r in range(runs):
        ensure_store_untimed(client, env, tmp, size)
        ensure_store_untimed("demo", demo["env"], demo["tmp"], "demo")
        order = ["demo", "size"] if r % 2 == 0 else ["size", "demo"]
        for which in order:
            for attempt in range(3):
                if which == "size":
                    e = time_run(client, env, tmp, size)
                else:
                    e = time_run("demo", demo["env"], demo["tmp"], "demo")
                if not e["store_built"] or attempt == 2:
                    break
                # the store went stale during the round (its code or the raw files changed):
                # this run built it inside the timing; not counted, run again
                print(
                    f"[{size}] journey run {which} built the store inside the timing "
                    f"({e['wall_s']:.1f} s, not counted); again",
                    flush=True,
                )
            e["discarded_runs"] = attempt
            samples[which].append(e)
            name = Path(client).name if which == "size" else "demo"
            print(
                f"[{size}] run {r + 1}/{runs} journey run {name} --jobs 2: {e['wall_s']:.1f} s wall, "
                f"peak RSS driver {_fmt(e['driver_peak_mb'], ' MB', 0)}, "
                f"kernels max {_fmt(e['kernel_peak_mb'], ' MB', 0)} ({e['kernels']} kernels)"
                + (
                    f", {e['other_processes']} other process(es) max "
                    f"{_fmt(e['other_peak_mb'], ' MB', 0)}"
                    if e["other_processes"]
                    else ""
                )
                + (f"  ERROR {e['error']}" if "error" in e else "")
                + ("  (store built inside the timing)" if e["store_built"] else ""),
                flush=True,
            )
    size_s, demo_s = _run_summary(samples["size"]), _run_summary(samples["demo"])
    a, b = size_s["median_wall_s"], demo_s["median_wall_s"]
    return {
        "jobs": 2,
        "size": size_s,
        "demo": demo_s,
        "ratio": a / b if a and b else None,
        "runs": samples,
    }


def bench_explore(
    size: str, client: str, tmp: Path, env: dict[str, str], runs: int
) -> dict[str, Any]:
    """``bench/explore_bench.py CLIENT --runs N`` (its ``measure``) in a child process."""
    ensure_store_untimed(client, env, tmp, size)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(HERE / "explore_bench.py"), client, "--runs", str(runs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        err = [x for x in proc.stderr.splitlines() if x.strip()]
        print(f"[{size}] explorer failed: {err[-1] if err else proc.returncode}", flush=True)
        return {"error": "\n".join(err[-20:]), "wall_s": wall}
    m = json.loads(proc.stdout)
    m["wall_s"] = wall
    print(
        f"[{size}] explorer ({runs} runs): open {m['open_s']:.2f} s (the first after the "
        f"store was built: {_fmt(m.get('first_open_s'), ' s')}), median redraw "
        f"{m['median_redraw_s']:.2f} s, peak RSS {m['peak_rss_mb']:.0f} MB",
        flush=True,
    )
    return m


def bench_size(
    size: str,
    data_dir: Path,
    engines: list[str],
    runs: dict[str, int],
    seed: int,
    skip: set[str],
    demo: dict[str, Any] | None,
    store_dir: Path | None = None,
) -> dict[str, Any]:
    """Every section of one size, its stores and reports in a temporary folder removed at the end.

    ``store_dir`` (``--store-dir``): the stores there instead, kept.
    """
    data = prepare(size, data_dir, seed)
    spec = data["spec"]
    out: dict[str, Any] = {
        "size": size,
        "rows": data["rows"],
        "parquet_mb": round(data["parquet_bytes"] / 2**20, 1),
        "funnel_steps": FUNNEL_STEPS,
        "period": spec["period"],
    }
    load: dict[str, float] = {}  # the 1-minute load average as each section starts
    out["load_avg_1min"] = load
    with tempfile.TemporaryDirectory(prefix=f"journey-bench-{size}-") as tmpdir:
        tmp = Path(tmpdir)
        env = _env(tmp, store_dir)
        if "ingest" not in skip:
            load["ingest"] = os.getloadavg()[0]
            out["ingest"] = bench_ingest(size, spec, tmp, env, runs["ingest"])
        if "metrics" not in skip and engines:
            load["metrics"] = os.getloadavg()[0]
            out.update(bench_metrics(size, data, engines, runs["metrics"], tmp, env))
        if "analytics" not in skip:
            load["analytics"] = os.getloadavg()[0]
            out["analytics"] = bench_analytics(size, spec, runs["analytics"], tmp, env)
        if "revenue" not in skip:
            load["revenue"] = os.getloadavg()[0]
            out["revenue"] = bench_revenue(size, spec, runs["revenue"], tmp, env)
        if "product" not in skip:
            load["product"] = os.getloadavg()[0]
            out["product"] = bench_product(size, spec, runs["product"], tmp, env)
        if "run" not in skip and demo is not None:
            load["run"] = os.getloadavg()[0]
            out["run"] = bench_run(size, spec["client"], tmp, env, runs["run"], demo)
        if "explore" not in skip:
            load["explore"] = os.getloadavg()[0]
            out["explore"] = bench_explore(size, spec["client"], tmp, env, runs["explore"])
        load["end"] = os.getloadavg()[0]
    out["bars"] = bars(size, out)
    return out


def bars(size: str, s: dict[str, Any]) -> list[dict[str, Any]]:
    """The bars measured for this size: met or not, with numbers.

    ``binding`` says whether the bar is set at this size (the speed bars at 10 M
    events and up, pandas 4× from 50 M; metrics and ingest RSS 1.5 GB at 50 M,
    metrics RSS 3 GB at 100 M; the run and explorer bars at 10 M, the run's
    per-process RSS 3 GB at 100 M); the others are shown for information, as
    are the comparisons on the raw files (``journey metrics`` reads the store).
    """
    n = SIZES[size]
    speed = n >= SIZES["10m"]
    at10 = n == SIZES["10m"]
    pandas_min = 4.0 if n >= SIZES["50m"] else 3.0
    out: list[dict[str, Any]] = []

    def bar(
        name: str, value: float | None, op: str, limit: float, binding: bool, note: str = ""
    ) -> None:
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        out.append(
            {
                "bar": name,
                "value": value,
                "op": op,
                "limit": limit,
                "met": met,
                "binding": binding,
                "note": note,
            }
        )

    def gb(mib: float | None) -> float | None:
        return None if mib is None else mib * 2**20 / GB

    raw = "raw files, for comparison: journey metrics reads the store"
    if "ingest" in s:
        ing = s["ingest"]
        bar("ingest vs DuckDB read-sort-write", ing["ratio"], "<=", 1.5, speed)
        rss = ing["engines"]["ingest"]["peak_rss_mb"]
        bar("ingest peak RSS (GB)", gb(rss), "<=", 1.5, n == SIZES["50m"])
    if "ratios" in s:
        ratios = s["ratios"]
        peak = {e: v.get("peak_rss_mb") for e, v in s["engines"].items()}
        bar(
            "store: 5 families vs DuckDB SQL",
            ratios["polars_store_subset/duckdb_store"],
            "<=",
            1.0,
            speed,
        )
        bar(
            "store: journey metrics vs DuckDB",
            ratios["polars_store/duckdb_store"],
            "<=",
            2.0,
            speed,
        )
        bar("pandas vs journey metrics", ratios["pandas/polars_store"], ">=", pandas_min, speed)
        bar(
            "pandas vs 5 families on store",
            ratios["pandas/polars_store_subset"],
            ">=",
            pandas_min,
            speed,
        )
        bar("journey metrics vs bare scan", ratios["polars_store/scan_polars"], "<=", 5.0, speed)
        if n >= SIZES["100m"]:
            bar("journey metrics peak RSS (GB)", gb(peak.get("polars_store")), "<=", 3.0, True)
        else:
            bar(
                "journey metrics peak RSS (GB)",
                gb(peak.get("polars_store")),
                "<=",
                1.5,
                n == SIZES["50m"],
            )
        bar("raw: load + document vs DuckDB", ratios["polars_doc/duckdb"], "<=", 1.0, False, raw)
        bar("raw: 5 families vs DuckDB SQL", ratios["polars_subset/duckdb"], "<=", 1.0, False, raw)
        bar(
            "raw: pandas vs load + document",
            ratios["pandas/polars_doc"],
            ">=",
            pandas_min,
            False,
            raw,
        )
        bar("raw: load + document vs scan", ratios["polars_doc/scan_polars"], "<=", 5.0, False, raw)
    if "analytics" in s:
        an = s["analytics"]["ratios"]
        bar("lifecycle vs DuckDB SQL", an["lifecycle_lib/lifecycle_duckdb"], "<=", 1.0, speed)
        bar("paths vs DuckDB SQL", an["paths_lib/paths_duckdb"], "<=", 1.0, speed)
    if "revenue" in s:
        rv = s["revenue"]
        for c in ("attribution", "forecast"):
            bar(f"{c} vs journey metrics", rv["ratios"][f"{c}/metrics"], "<=", rv["bar"], speed)
    if "product" in s:
        pr = s["product"]
        for c in ("activation", "health"):
            bar(f"{c} vs journey metrics", pr["ratios"][f"{c}/metrics"], "<=", pr["bar"], speed)
    if "run" in s:
        run = s["run"]
        bar("run vs run demo", run["ratio"], "<=", 2.0, at10)
        worst = gb(run["size"]["max_process_mb"])
        if n >= SIZES["100m"]:
            bar("run peak RSS, any process (GB)", worst, "<=", 3.0, True)
        else:
            bar("run peak RSS, any process (GB)", worst, "<=", 1.5, at10)
    if "explore" in s:
        ex = s["explore"]
        bar("explorer open (s)", ex.get("open_s"), "<=", 2.0, at10)
        # the first opening after a store build computes the map the later ones read
        bar("explorer first open after a build (s)", ex.get("first_open_s"), "<=", 2.0, at10)
        bar("explorer median redraw (s)", ex.get("median_redraw_s"), "<=", 0.5, at10)
        bar("explorer peak RSS (GB)", gb(ex.get("peak_rss_mb")), "<=", 1.5, at10)
    return out


def _print_bars(s: dict[str, Any]) -> None:
    print(f"bars at {s['size']}:")
    for b in s["bars"]:
        verdict = {True: "met", False: "NOT met", None: "not measured"}[b["met"]]
        val = "—" if b["value"] is None else f"{b['value']:.2f}"
        if b["binding"]:
            note = ""
        else:
            note = f"  (informative: {b.get('note') or 'the spec sets it at another size'})"
        print(f"  {b['bar']:<34} {val:>7} {b['op']} {b['limit']:<4}  {verdict}{note}")


def bench_batch(runs: int, counts: tuple[int, ...] = (1, 8), jobs: int = 2) -> dict[str, Any]:
    """``journey batch CLIENT… --jobs 2`` over 1 and 8 copies of data/demo, wall time per run.

    The copies live in a temporary folder and are passed as paths; their
    reports go to a temporary reports folder (``JOURNEY_REPORTS_DIR``), so the
    project's reports/ is left alone. Linear scaling: 8 clients take at most
    8× one client (per-client time no worse than one client alone); with 2
    clients side by side, ideally about 4×.
    """
    journey = ROOT / ".venv" / "bin" / "journey"
    exe = str(journey if journey.exists() else "journey")
    out: dict[int, list[dict[str, Any]]] = {k: [] for k in counts}
    with tempfile.TemporaryDirectory(prefix="journey-bench-batch-") as tmpdir:
        tmp = Path(tmpdir)
        clients = []
        for i in range(max(counts)):
            d = tmp / "clients" / f"bench_batch_{i + 1}"
            shutil.copytree(ROOT / "data" / "demo", d)
            clients.append(str(d))
        reports = tmp / "reports"
        env = dict(os.environ, JOURNEY_REPORTS_DIR=str(reports))
        for r in range(runs):
            for k in counts:
                cmd = [exe, "batch", *clients[:k], "--jobs", str(jobs)]
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
                wall = time.perf_counter() - t0
                per_client = {}
                for c in clients[:k]:
                    rj = _latest_run_json(reports / Path(c).name)
                    per_client[Path(c).name] = (
                        {"status": rj.get("status"), "seconds": rj.get("seconds")} if rj else None
                    )
                ok = proc.returncode == 0 and all(
                    v and v["status"] == "ok" for v in per_client.values()
                )
                out[k].append(
                    {
                        "exit": proc.returncode,
                        "ok": ok,
                        "wall_s": round(wall, 2),
                        "clients": per_client,
                    }
                )
                print(
                    f"[batch] run {r + 1}/{runs} {k} client(s) --jobs {jobs}: {wall:.1f} s wall, "
                    f"exit {proc.returncode}" + ("" if ok else " (a client failed)"),
                    flush=True,
                )
                if not ok and proc.stderr:
                    print("  " + proc.stderr.strip().splitlines()[-1], flush=True)
                shutil.rmtree(reports, ignore_errors=True)
    med = {k: statistics.median(e["wall_s"] for e in v) for k, v in out.items()}
    one, many = med[counts[0]], med[counts[-1]]
    ratio = many / one if one else None
    return {
        "jobs": jobs,
        "clients": list(counts),
        "runs": {str(k): v for k, v in out.items()},
        "median_wall_s": {str(k): v for k, v in med.items()},
        "ratio": ratio,  # t(8) / t(1): linear ≤ 8, ideal ≈ 4 with 2 side by side
        "per_client_ratio": None if ratio is None else ratio / counts[-1] * counts[0],
        "linear": None if ratio is None else ratio <= counts[-1] / counts[0],
        "all_ok": all(e["ok"] for v in out.values() for e in v),
    }


def _latest_run_json(client_reports: Path) -> dict[str, Any] | None:
    latest = client_reports / "latest.txt"
    if not latest.exists():
        return None
    rid = latest.read_text().strip()
    p = Path(rid) if Path(rid).is_absolute() else client_reports / rid
    p = p / "run.json" if p.is_dir() else p
    return json.loads(p.read_text()) if p.exists() else None


def bench_demo(runs: int, demo: dict[str, Any]) -> dict[str, Any]:
    """``journey run demo --jobs 2``: wall time, run.json's per-notebook seconds, peak RSS per process.

    Its store is built before, untimed; store and reports live in the bench's
    temporary demo folder, so the project's reports/ is left alone.
    """
    out: list[dict[str, Any]] = []
    for _ in range(runs):
        ensure_store_untimed("demo", demo["env"], demo["tmp"], "demo")
        entry = time_run("demo", demo["env"], demo["tmp"], "demo")
        entry.pop("processes")
        print(
            f"[demo] journey run demo: {entry['wall_s']} s wall, exit {entry['exit']}"
            + (f"  ERROR {entry['error']}" if "error" in entry else ""),
            flush=True,
        )
        out.append(entry)
    return {"runs": out, "median_wall_s": statistics.median(e["wall_s"] for e in out)}


def _fmt(v: Any, unit: str = "", digits: int = 2) -> str:
    return "—" if v is None else f"{v:.{digits}f}{unit}"


def _print_engines(s: dict[str, Any], runs: dict[str, int]) -> None:
    print(f"metrics engines (medians of {runs['metrics']} runs):")
    print(
        f"{'engine':<22}{'median s':>10}{'load s':>9}{'compute s':>11}{'wall s':>9}"
        f"{'peak RSS MiB':>13}  agrees with library"
    )
    for e, v in s["engines"].items():
        if "error" in v:
            print(f"{e:<22}  error: {v['error']}")
            continue
        agr = s["agreement"].get(e)
        if e == REFERENCE:
            agr_s = "(reference)"
        elif agr is None:
            agr_s = "n/a (no metric output)"
        else:
            bad = {k: m for k, m in agr.items() if m not in ("ok", "missing")}
            agr_s = "yes" if not bad else "NO: " + "; ".join(f"{k}: {m}" for k, m in bad.items())
            missing = [k for k, m in agr.items() if m == "missing"]
            if missing:
                agr_s += f" (not computed: {', '.join(missing)})"
        if v.get("failed_runs"):
            agr_s += f"  [{v['failed_runs']} run(s) failed]"
        print(
            f"{e:<22}{v['median_s']:>10.2f}{v['median_load_s']:>9.2f}{v['median_compute_s']:>11.2f}"
            f"{v['median_wall_s']:>9.2f}{v['peak_rss_mb']:>13.0f}  {agr_s}"
        )
    print("ratios: " + ", ".join(f"{k} {_fmt(v)}" for k, v in s["ratios"].items()))
    for e, v in s["engines"].items():
        if v.get("median_steps_s"):
            parts = ", ".join(f"{k} {x:.2f}" for k, x in v["median_steps_s"].items())
            print(f"  {e} compute by family (s): {parts}")


def _print_analytics(an: dict[str, Any], runs: dict[str, int]) -> None:
    print(
        f"analytics: journey lifecycle --interval week, journey paths --start signed_up "
        f"(medians of {runs['analytics']} runs, store built before):"
    )
    print(
        f"{'engine':<22}{'median s':>10}{'load s':>9}{'compute s':>11}{'wall s':>9}"
        f"{'peak RSS MiB':>13}"
    )
    for e, v in an["engines"].items():
        if "error" in v:
            print(f"{e:<22}  error: {v['error']}")
            continue
        failed = f"  [{v['failed_runs']} run(s) failed]" if v["failed_runs"] else ""
        print(
            f"{e:<22}{v['median_s']:>10.2f}{v['median_load_s']:>9.2f}{v['median_compute_s']:>11.2f}"
            f"{v['median_wall_s']:>9.2f}{v['peak_rss_mb']:>13.0f}{failed}"
        )
    for e, v in an["engines"].items():
        if v.get("median_steps_s"):
            parts = ", ".join(f"{k} {x:.2f}" for k, x in v["median_steps_s"].items())
            print(f"  {e} by step (s): {parts}")
    agr = ", ".join(
        f"{k} {'not computed' if m is None else 'yes' if m == 'ok' else 'NO: ' + m}"
        for k, m in an["agreement"].items()
    )
    print(f"  library = DuckDB: {agr}")
    print("  ratios: " + ", ".join(f"{k} {_fmt(v)}" for k, v in an["ratios"].items()))
    for v in an["commands"].values():
        extra = ""
        if v.get("agrees_with_library"):
            m = v["agrees_with_library"]
            extra += "; JSON = library's: " + ("yes" if m == "ok" else "NO: " + m)
        if v["store_built_in_timing"]:
            extra += f"; {v['store_built_in_timing']} run(s) built the store (not counted)"
        if v["errors"]:
            extra += f"; errors: {v['errors']}"
        print(
            f"  journey {' '.join(a.replace('{client}', 'CLIENT') for a in v['args'])}: "
            f"wall {_fmt(v['median_wall_s'], ' s')}, peak RSS {_fmt(v['peak_rss_mb'], ' MiB', 0)}"
            + extra
        )


def _print_timed_commands(sec: dict[str, Any], digest: str | None = None) -> None:
    """The revenue and product sections' table, ratios against the bar and "same JSON every run".

    ``digest``: the command whose JSON is compared as a digest (a difference is then only "differs").
    """
    print(
        f"  {'command':<14}{'median wall s':>14}{'/ metrics':>10}{'peak RSS MiB':>14}"
        f"  wall s per run (1-min load average)"
    )
    for c, v in sec["commands"].items():
        ratio = sec["ratios"].get(f"{c}/metrics")
        per_run = ", ".join(
            f"{w:.2f} ({la:.1f})" for w, la in zip(v["all_wall_s"], v["load_1min"], strict=True)
        )
        extra = ""
        if v["store_built_in_timing"]:
            extra += f"; {v['store_built_in_timing']} run(s) built the store (not counted)"
        if v["errors"]:
            extra += f"; errors: {v['errors']}"
        print(
            f"  {c:<14}{_fmt(v['median_wall_s']):>14}{'' if ratio is None else _fmt(ratio):>10}"
            f"{_fmt(v['peak_rss_mb'], '', 0):>14}  {per_run}{extra}"
        )
    ratios = ", ".join(
        f"{k} {_fmt(x)} ({'—' if x is None else 'met' if x <= sec['bar'] else 'NOT met'})"
        for k, x in sec["ratios"].items()
    )
    print(f"  ratios (bar ≤ {sec['bar']}×): {ratios}")
    same = []
    for c, v in sec["checks"]["reproducible"].items():
        if v is None:
            same.append(f"{c} not checked")
        elif v["identical"]:
            same.append(f"{c} yes ({v['runs']} runs" + (", digest)" if c == digest else ")"))
        elif c == digest:
            same.append(f"{c} NO (the documents' digests differ)")
        else:
            rel = "shape differs" if v["max_rel"] is None else f"max rel. diff {v['max_rel']:.1e}"
            same.append(f"{c} NO ({rel}; {v['difference']})")
    print("  same JSON every run: " + ", ".join(same))


def _print_revenue(rev: dict[str, Any], runs: dict[str, int]) -> None:
    print(
        f"revenue: journey attribution / forecast against journey metrics, each --json as a "
        f"subprocess (medians of {runs['revenue']} runs, store built before):"
    )
    _print_timed_commands(rev)
    ch = rev["checks"]
    ms = ch["model_sums"]
    if ms is not None:
        verdict = (
            "yes" if ms["ok"] else "NO: " + ", ".join(f"{m} {x}" for m, x in ms["off"].items())
        )
        print(f"  attribution: every model sums to conversions ({ms['conversions']:,}): {verdict}")
    eq = ch["attribution_equals_metrics"]
    if eq is not None:
        print(
            "  attribution rows = metrics document's acquisition.attribution / cac_by_model: "
            + ("yes" if eq == "ok" else "NO: " + eq)
        )
    a = rev["answer"]
    if a["paths"] is not None:
        print(
            f"  answer: {a['paths']['converting']:,} converting and "
            f"{a['paths']['non_converting']:,} non-converting paths, {a['channels']} channels; "
            f"forecast over {a['forecast_cohorts_used']} cohorts, {a['forecast_months']} months"
        )


def _print_product(pr: dict[str, Any], runs: dict[str, int]) -> None:
    print(
        f"product: journey activation / health against journey metrics, each --json as a "
        f"subprocess (medians of {runs['product']} runs, store built before):"
    )
    _print_timed_commands(pr, digest="metrics")
    ch = pr["checks"]
    n = ch["runs_checked"]
    a = ch["activation"]
    if a is not None:
        ties = (
            ""
            if a["ties_ordered"] == "ok"
            else f"; tie order NOT as documented: {a['ties_ordered']}"
        )
        print(
            f"  activation ({n['activation']} runs checked): {a['candidates']} candidates, "
            f"≤ 20: {'yes' if a['at_most_top'] else 'NO'}; sorted by phi descending: "
            + ("yes" if a["sorted_by_phi"] == "ok" else "NO: " + a["sorted_by_phi"])
            + ties
        )
    h = ch["health"]
    if h is not None:
        ties = "" if h["ties_ordered"] == "ok" else f"; ties NOT by account_id: {h['ties_ordered']}"
        print(
            f"  health ({n['health']} runs checked): {h['accounts']:,} accounts sorted by score "
            "ascending: "
            + ("yes" if h["sorted_by_score"] == "ok" else "NO: " + h["sorted_by_score"])
            + f"; auc_backtest {_fmt(h['auc_backtest'], '', 3)} in [0, 1] or null: "
            + ("yes" if h["auc_in_range"] else "NO")
            + ties
        )
    ans = pr["answer"]
    top = ans["top_candidate"]
    if ans["signups_seen"] is not None:
        best = (
            "no candidate"
            if top is None
            else f"top candidate {top['event']!r} ≥ {top['times']}× within {top['days']} d "
            f"(phi {top['phi']:.3f})"
        )
        print(
            f"  answer: {ans['signups_seen']:,} sign-ups seen, {ans['retained']:,} retained, {best}"
        )
    if ans["health_month"] is not None:
        bt = ans["backtest"]
        print(
            f"  answer: health at the end of {ans['health_month']}: {ans['paying_accounts']:,} "
            f"paying accounts; backtest {bt['months'][0]} – {bt['months'][-1]} over "
            f"{bt['account_months']:,} account-months, {bt['churned']:,} churned"
        )


def _print_ingest(ing: dict[str, Any], runs: dict[str, int]) -> None:
    print(f"ingest (medians of {runs['ingest']} runs, {ing['threads']} threads each):")
    for e, v in ing["engines"].items():
        phases = ", ".join(f"{k} {x:.1f}" for k, x in v["median_phases_s"].items())
        err = f"  errors: {v['errors']}" if v["errors"] else ""
        print(
            f"  {e:<14} wall {_fmt(v['median_wall_s'], ' s')}, peak RSS "
            f"{_fmt(v['peak_rss_mb'], ' MiB', 0)}; by phase (s): {phases}{err}"
        )
    print(
        f"  ingest/duckdb_ingest {_fmt(ing['ratio'])}; store {_fmt(ing['store_mb'], ' MiB', 0)}, "
        f"DuckDB's copy {_fmt(ing['duckdb_out_mb'], ' MiB', 0)}"
    )
    print(
        f"  polars_ingest/duckdb_ingest {_fmt(ing.get('polars_yardstick_ratio'))}: "
        "DuckDB's job alone (read, sort, write by month) done by polars"
    )


def _print_run(run: dict[str, Any], size: str, runs: dict[str, int]) -> None:
    print(f"journey run --jobs {run['jobs']} (medians of {runs['run']} runs, store built before):")
    for key, name in (("size", size), ("demo", "demo")):
        v = run[key]
        nb = ", ".join(f"{k} {x:.1f}" for k, x in v["median_notebooks_s"].items())
        err = f"  errors: {v['errors']}" if v["errors"] else ""
        stale = (
            f"  ({v['store_built_in_timing']} run(s) built the store inside the timing)"
            if v["store_built_in_timing"]
            else ""
        )
        if v["discarded_runs"]:
            stale += f"  ({v['discarded_runs']} run(s) that built the store were run again)"
        print(
            f"  {name:<6} wall {_fmt(v['median_wall_s'], ' s', 1)}; peak RSS: driver "
            f"{_fmt(v['driver_peak_mb'], ' MiB', 0)}, kernels max {_fmt(v['kernel_peak_mb'], ' MiB', 0)} "
            f"({v['kernels']} kernels"
            + (
                f"; {v['other_processes']} other, max {_fmt(v['other_peak_mb'], ' MiB', 0)}"
                if v["other_processes"]
                else ""
            )
            + f"), any process {_fmt(v['max_process_mb'], ' MiB', 0)}{err}{stale}"
        )
        print(f"         notebooks (s): {nb}")
        peaks = ", ".join(f"{k} {x:.0f}" for k, x in v["max_notebook_peak_mb"].items())
        print(f"         kernel peak RSS by notebook (MiB, largest of the runs): {peaks}")
    print(f"  run {size} / run demo {_fmt(run['ratio'])}")


def _print_explore(ex: dict[str, Any], runs: dict[str, int]) -> None:
    if "error" in ex:
        print(f"explorer: failed: {ex['error'].splitlines()[-1] if ex['error'] else ''}")
        return
    print(
        f"explorer (medians of {runs['explore']} runs): open {ex['open_s']:.2f} s, "
        f"the first after the store was built {_fmt(ex.get('first_open_s'), ' s')} "
        f"(load {_fmt(ex.get('load_s'), ' s')}, first panel {_fmt(ex.get('first_panel_s'), ' s')}), "
        f"median redraw {ex['median_redraw_s']:.2f} s, median cold redraw "
        f"{ex['median_cold_redraw_s']:.2f} s, peak RSS {ex['peak_rss_mb']:.0f} MiB"
    )
    print("  redraw by panel (s): " + ", ".join(f"{k} {v:.2f}" for k, v in ex["panels"].items()))


def print_table(report: dict[str, Any]) -> None:
    runs = report["runs"]
    for s in report["sizes"]:
        print()
        print(
            f"== {s['size']}: {s['rows']['events']:,} events, {s['rows']['accounts']:,} accounts, "
            f"{s['parquet_mb']} MB Parquet; 1-min load average as each section started: "
            + ", ".join(f"{k} {v:.2f}" for k, v in s.get("load_avg_1min", {}).items())
        )
        if "ingest" in s:
            _print_ingest(s["ingest"], runs)
        if "engines" in s:
            _print_engines(s, runs)
        if "analytics" in s:
            _print_analytics(s["analytics"], runs)
        if "revenue" in s:
            _print_revenue(s["revenue"], runs)
        if "product" in s:
            _print_product(s["product"], runs)
        if "run" in s:
            _print_run(s["run"], s["size"], runs)
        if "explore" in s:
            _print_explore(s["explore"], runs)
        _print_bars(s)
    if report.get("demo"):
        d = report["demo"]
        print()
        print(f"== journey run demo: median wall {d['median_wall_s']:.1f} s")
        for r in d["runs"]:
            nb = ", ".join(f"{k} {v:.1f}" for k, v in (r.get("notebooks") or {}).items())
            print(
                f"  wall {r['wall_s']} s, run.json {r.get('run_seconds')} s, jobs {r.get('jobs')}, "
                f"peak RSS any process {_fmt(r.get('max_process_mb'), ' MiB', 0)}: {nb}"
            )
    if report.get("batch"):
        _print_batch(report["batch"])
    print()
    la0, la1 = report["machine"]["load_avg_start"], report["machine"]["load_avg_end"]
    print(
        f"load average (1, 5, 15 min) at start {', '.join(f'{x:.2f}' for x in la0)}, "
        f"at end {', '.join(f'{x:.2f}' for x in la1)} ({report['machine']['cpus']} CPUs)"
    )


def _print_batch(b: dict[str, Any]) -> None:
    k1, k8 = b["clients"][0], b["clients"][-1]
    t1, t8 = b["median_wall_s"][str(k1)], b["median_wall_s"][str(k8)]
    print()
    print(
        f"== journey batch --jobs {b['jobs']}: median wall {k1} client {t1:.1f} s, {k8} clients {t8:.1f} s"
    )
    if b["ratio"] is not None:
        verdict = "met" if b["linear"] else "NOT met"
        print(
            f"  {k8} clients / {k1} client {b['ratio']:.2f}× (linear ≤ {k8 // k1}×, ideal ≈ "
            f"{k8 // k1 / b['jobs']:.0f}× with {b['jobs']} side by side); per-client time "
            f"{b['per_client_ratio']:.2f}× one client alone: scales linearly {verdict}"
            + ("" if b["all_ok"] else "  (some client runs failed)")
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--child", nargs=3, metavar=("ENGINE", "SPEC", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument(
        "--sizes",
        default="1m,10m",
        help="comma-separated of 100k,1m,10m,50m,100m (default 1m,10m; 100k is a smoke test)",
    )
    ap.add_argument(
        "--big", action="store_true", help="also run 50m and 100m (slow, needs memory and disk)"
    )
    ap.add_argument(
        "--runs", type=int, default=3, help="runs per engine and per section (median; default 3)"
    )
    ap.add_argument("--ingest-runs", type=int, help="runs of the ingest section (default --runs)")
    ap.add_argument(
        "--run-runs",
        type=int,
        help="`journey run` runs per size, each with a demo run (default --runs)",
    )
    ap.add_argument("--explore-runs", type=int, help="explorer runs per size (default --runs)")
    ap.add_argument("--engines", default=",".join(ENGINES), help="comma-separated engines")
    ap.add_argument(
        "--skip",
        default="",
        help=f"comma-separated sections to leave out, of {','.join(SECTIONS)} "
        "(e.g. --skip ingest,run,explore: only the metrics engines)",
    )
    ap.add_argument(
        "--data-dir",
        default=os.environ.get(
            "JOURNEY_BENCH_DATA", str(Path(tempfile.gettempdir()) / "journey-bench")
        ),
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--store-dir",
        help="keep the clients' stores in this folder (JOURNEY_STORE_DIR) instead of a temporary "
        "one: a store already current there is reused, not built again (e.g. "
        "--data-dir /tmp/journey-bench --store-dir /tmp/journey-bench/store); the ingest "
        "section's --rebuild rebuilds it there",
    )
    ap.add_argument(
        "--demo-runs",
        type=int,
        default=1,
        help="timed `journey run demo` runs with their per-notebook seconds (0: skip)",
    )
    ap.add_argument(
        "--batch-runs",
        type=int,
        default=1,
        help="timed `journey batch --jobs 2` runs over 1 and 8 demo copies (0: skip)",
    )
    ap.add_argument("--out", default=str(ROOT / "reports" / "bench"))
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = [s for s in args.sizes.split(",") if s]
    if args.big:
        sizes += [s for s in ("50m", "100m") if s not in sizes]
    bad = [s for s in sizes if s not in SIZES]
    if bad:
        raise SystemExit(f"error: unknown size {bad}; use {', '.join(SIZES)}")
    engines = [e for e in args.engines.split(",") if e]
    bad = [e for e in engines if e not in ENGINES]
    if bad:
        raise SystemExit(f"error: unknown engine {bad}; use {', '.join(ENGINES)}")
    skip = {x for x in args.skip.split(",") if x}
    bad = sorted(skip - set(SECTIONS))
    if bad:
        raise SystemExit(f"error: unknown section {bad}; use {', '.join(SECTIONS)}")
    if args.demo_runs <= 0:
        skip.add("demo")
    if args.batch_runs <= 0:
        skip.add("batch")
    runs = {
        "metrics": args.runs,
        "analytics": args.runs,
        "revenue": args.runs,
        "product": args.runs,
        "ingest": args.ingest_runs or args.runs,
        "run": args.run_runs or args.runs,
        "explore": args.explore_runs or args.runs,
        "demo": args.demo_runs,
        "batch": args.batch_runs,
    }
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store_dir = Path(args.store_dir).resolve() if args.store_dir else None
    report: dict[str, Any] = {
        "started_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_start": os.getloadavg(),
        },
        "runs": runs,
        "skipped": sorted(skip),
        "store_dir": None if store_dir is None else str(store_dir),
        "sizes": [],
    }
    try:
        import duckdb
        import pandas
        import polars

        report["versions"] = {
            "polars": polars.__version__,
            "duckdb": duckdb.__version__,
            "pandas": pandas.__version__,
        }
    except ImportError:
        pass
    # the demo client's store and reports (journey run demo, beside every size's run section)
    with tempfile.TemporaryDirectory(prefix="journey-bench-demo-") as demo_dir:
        demo = {"tmp": Path(demo_dir), "env": _env(Path(demo_dir))}
        for size in sizes:
            report["sizes"].append(
                bench_size(size, data_dir, engines, runs, args.seed, skip, demo, store_dir)
            )
        if "demo" not in skip:
            report["demo"] = bench_demo(args.demo_runs, demo)
    if "batch" not in skip:
        report["batch"] = bench_batch(args.batch_runs)
    report["machine"]["load_avg_end"] = os.getloadavg()
    print_table(report)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = report["started_at"].replace(":", "").replace("-", "")
    path = out / f"bench-{stamp}.json"
    text = json.dumps(report, indent=2, default=str) + "\n"
    path.write_text(text)
    (out / "latest.json").write_text(text)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
