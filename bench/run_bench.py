"""Journey Workbench benchmark: `make bench` (not part of `make test`).

Synthesises clients of 1 M and 10 M events (``--big`` adds 50 M and 100 M),
each written as Parquet with the events partitioned by month
(``bench_<size>_s<seed>/events/month=YYYY-MM/*.parquet``, every other table one
file), then times, in one run, each engine in its own child process (peak RSS
from the child's VmHWM), engines interleaved and their order rotated run by run:

* ``scan_polars`` / ``scan_duckdb``: a bare scan of the columns the metrics read;
* ``polars_doc``: ``journey metrics`` on files seen for the first time
  (``metrics_document(load_client(path, lazy=True))``, every row validated);
* ``polars_doc_cached``: ``journey metrics`` again on the same files: the
  validation is read from the client's cache (``load_client(..., cache=True)``,
  primed by one untimed run), the rest is the same;
* ``polars_subset``: ``load_client(path, lazy=True)`` + the library functions of
  the five families below;
* ``duckdb``: those five families as hand-written DuckDB SQL over the same files;
* ``pandas``: the same in straightforward pandas.

The five families: revenue movements per month, activity retention, stage
funnel reached counts, an ordered 3-step funnel, CAC by channel. Every engine's
numbers are compared with the library's (``polars_subset``). Also timed:
``journey run demo`` (wall time and the per-notebook seconds of run.json) and
``journey batch --jobs 2`` over 1 and 8 copies of the demo client.

Prints a table of medians, ratios and the quality bars met, and writes it as
JSON under reports/bench/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
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
    "polars_doc_cached",
    "polars_subset",
    "duckdb",
    "pandas",
]
FUNNEL_STEPS = ["website_visit", "pricing_page_viewed", "trial_started"]
WINDOW_US = 14 * 86_400 * 1_000_000
REFERENCE = "polars_subset"


# ---------------------------------------------------------------- child side
def child(engine: str, spec_path: str, out_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    if engine == "scan_polars":
        import scan

        res = scan.run_polars(spec)
    elif engine == "scan_duckdb":
        import scan

        res = scan.run_duckdb(spec)
    elif engine == "polars_doc":
        import polars_lib

        res = polars_lib.run_doc(spec)
    elif engine == "polars_doc_cached":
        import polars_lib

        res = polars_lib.run_doc(spec, cache=True)
    elif engine == "polars_subset":
        import polars_lib

        res = polars_lib.run_subset(spec)
    elif engine == "duckdb":
        import duckdb_sql

        res = duckdb_sql.run(spec)
    elif engine == "pandas":
        import pandas_impl

        res = pandas_impl.run(spec)
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
def run_child(engine: str, spec: dict[str, Any], tmp: Path) -> dict[str, Any]:
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


def bench_size(
    size: str, data_dir: Path, engines: list[str], runs: int, seed: int
) -> dict[str, Any]:
    from common import compare, normalise

    data = prepare(size, data_dir, seed)
    spec = data["spec"]
    samples: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    with tempfile.TemporaryDirectory(prefix="journey-bench-") as tmpdir:
        tmp = Path(tmpdir)
        # the validation cache of polars_doc_cached (reports/<client>/.cache/), primed untimed
        spec = {**spec, "reports_dir": str(tmp / "reports")}
        if "polars_doc_cached" in engines:
            primed = run_child("polars_doc_cached", spec, tmp)
            print(f"[{size}] cache primed in {primed.get('seconds', 0):.2f} s", flush=True)
        for r in range(runs):
            order = engines[r % len(engines) :] + engines[: r % len(engines)]
            for e in order:
                res = run_child(e, spec, tmp)
                samples[e].append(res)
                shown = f"{res['seconds']:.2f} s" if "seconds" in res else res["error"]
                print(
                    f"[{size}] run {r + 1}/{runs} {e:<14} {shown}  rss {res['rss_mb']:.0f} MB",
                    flush=True,
                )
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
            "median_steps_s": {
                k: round(statistics.median(s["steps"][k] for s in ok), 3)
                for k in (ok[0].get("steps") or {})
            },
            "peak_rss_mb": max(s["rss_mb"] for s in ok),
        }
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

    ratios = {
        "polars_doc/duckdb": ratio("polars_doc", "duckdb"),
        "polars_doc_cached/duckdb": ratio("polars_doc_cached", "duckdb"),
        "polars_subset/duckdb": ratio("polars_subset", "duckdb"),
        "pandas/polars_doc": ratio("pandas", "polars_doc"),
        "pandas/polars_doc_cached": ratio("pandas", "polars_doc_cached"),
        "pandas/polars_subset": ratio("pandas", "polars_subset"),
        "polars_doc/scan_polars": ratio("polars_doc", "scan_polars"),
        "polars_doc_cached/scan_polars": ratio("polars_doc_cached", "scan_polars"),
        "polars_subset/scan_polars": ratio("polars_subset", "scan_polars"),
        "duckdb/scan_duckdb": ratio("duckdb", "scan_duckdb"),
    }
    peak = {e: v.get("peak_rss_mb") for e, v in summary.items()}
    return {
        "size": size,
        "bars": bars(size, ratios, peak),
        "rows": data["rows"],
        "parquet_mb": round(data["parquet_bytes"] / 2**20, 1),
        "engines": summary,
        "ratios": ratios,
        "agreement": agreement,
        "funnel_steps": FUNNEL_STEPS,
        "period": spec["period"],
    }


def bars(size: str, ratios: dict[str, float | None], peak: dict[str, Any]) -> list[dict[str, Any]]:
    """The speed and memory bars of shared/spec/quality.md for this size: met or not, with numbers.

    ``binding`` says whether the spec sets the bar at this size (the speed
    bars at 10 M events and up, pandas 4× from 50 M, RSS 1.5 GB at 50 M and
    3 GB at 100 M); the others are shown for information.
    """
    n = SIZES[size]
    pandas_min = 4.0 if n >= SIZES["50m"] else 3.0
    out: list[dict[str, Any]] = []

    def bar(name: str, value: float | None, op: str, limit: float, binding: bool) -> None:
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        out.append(
            {"bar": name, "value": value, "op": op, "limit": limit, "met": met, "binding": binding}
        )

    speed = n >= SIZES["10m"]
    bar("journey metrics vs DuckDB SQL", ratios["polars_doc/duckdb"], "<=", 1.0, speed)
    bar("  cached validation", ratios["polars_doc_cached/duckdb"], "<=", 1.0, speed)
    bar("library subset vs DuckDB SQL", ratios["polars_subset/duckdb"], "<=", 1.0, speed)
    bar("pandas vs journey metrics", ratios["pandas/polars_doc"], ">=", pandas_min, speed)
    bar("  cached validation", ratios["pandas/polars_doc_cached"], ">=", pandas_min, speed)
    bar("pandas vs library subset", ratios["pandas/polars_subset"], ">=", pandas_min, speed)
    bar("journey metrics vs bare scan", ratios["polars_doc/scan_polars"], "<=", 5.0, speed)
    bar("  cached validation", ratios["polars_doc_cached/scan_polars"], "<=", 5.0, speed)
    rss = peak.get("polars_doc")  # MiB
    gb = None if rss is None else rss * 2**20 / 1e9  # the spec's GB: 10^9 bytes
    if n >= SIZES["100m"]:
        bar("journey metrics peak RSS (GB)", gb, "<=", 3.0, True)
    else:
        bar("journey metrics peak RSS (GB)", gb, "<=", 1.5, n == SIZES["50m"])
    return out


def _print_bars(s: dict[str, Any]) -> None:
    print(f"bars at {s['size']}:")
    for b in s["bars"]:
        verdict = {True: "met", False: "NOT met", None: "not measured"}[b["met"]]
        val = "—" if b["value"] is None else f"{b['value']:.2f}"
        note = "" if b["binding"] else "  (informative: the spec sets it at another size)"
        print(f"  {b['bar']:<32} {val:>7} {b['op']} {b['limit']:<4}  {verdict}{note}")


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


def bench_demo(runs: int) -> dict[str, Any]:
    journey = ROOT / ".venv" / "bin" / "journey"
    cmd = [str(journey if journey.exists() else "journey"), "run", "demo", "--jobs", "2"]
    out: list[dict[str, Any]] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        latest = ROOT / "reports" / "demo" / "latest.txt"
        run_json = None
        if latest.exists():
            rid = latest.read_text().strip()
            p = Path(rid) if Path(rid).is_absolute() else ROOT / "reports" / "demo" / rid
            p = p / "run.json" if p.is_dir() else p
            if p.exists():
                run_json = json.loads(p.read_text())
        entry = {"exit": proc.returncode, "wall_s": round(wall, 2)}
        if run_json:
            entry.update(
                status=run_json.get("status"),
                run_seconds=run_json.get("seconds"),
                jobs=run_json.get("jobs"),
                notebooks={n["name"]: n["seconds"] for n in run_json.get("notebooks", [])},
            )
        print(
            f"[demo] journey run demo: {entry['wall_s']} s wall, exit {proc.returncode}", flush=True
        )
        out.append(entry)
    return {"runs": out, "median_wall_s": statistics.median(e["wall_s"] for e in out)}


def _fmt(v: Any, unit: str = "") -> str:
    return "—" if v is None else f"{v:.2f}{unit}"


def print_table(report: dict[str, Any]) -> None:
    for s in report["sizes"]:
        print()
        print(
            f"== {s['size']}: {s['rows']['events']:,} events, {s['rows']['accounts']:,} accounts, "
            f"{s['parquet_mb']} MB Parquet; medians of {report['runs']} runs"
        )
        print(
            f"{'engine':<18}{'median s':>10}{'load s':>9}{'compute s':>11}{'wall s':>9}{'peak RSS MiB':>13}  agrees with library"
        )
        for e, v in s["engines"].items():
            if "error" in v:
                print(f"{e:<18}  error: {v['error']}")
                continue
            agr = s["agreement"].get(e)
            if e == REFERENCE:
                agr_s = "(reference)"
            elif agr is None:
                agr_s = "n/a (no metric output)"
            else:
                bad = {k: m for k, m in agr.items() if m not in ("ok", "missing")}
                agr_s = (
                    "yes" if not bad else "NO: " + "; ".join(f"{k}: {m}" for k, m in bad.items())
                )
                missing = [k for k, m in agr.items() if m == "missing"]
                if missing:
                    agr_s += f" (not computed: {', '.join(missing)})"
            print(
                f"{e:<18}{v['median_s']:>10.2f}{v['median_load_s']:>9.2f}{v['median_compute_s']:>11.2f}"
                f"{v['median_wall_s']:>9.2f}{v['peak_rss_mb']:>13.0f}  {agr_s}"
            )
        print("ratios: " + ", ".join(f"{k} {_fmt(v)}" for k, v in s["ratios"].items()))
        _print_bars(s)
        for e, v in s["engines"].items():
            if v.get("median_steps_s"):
                parts = ", ".join(f"{k} {x:.2f}" for k, x in v["median_steps_s"].items())
                print(f"  {e} compute by family (s): {parts}")
    if report.get("demo"):
        d = report["demo"]
        print()
        print(f"== journey run demo: median wall {d['median_wall_s']:.1f} s")
        for r in d["runs"]:
            nb = ", ".join(f"{k} {v:.1f}" for k, v in (r.get("notebooks") or {}).items())
            print(
                f"  wall {r['wall_s']} s, run.json {r.get('run_seconds')} s, jobs {r.get('jobs')}: {nb}"
            )
    if report.get("batch"):
        _print_batch(report["batch"])


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
    ap.add_argument("--runs", type=int, default=3, help="runs per engine (median; default 3)")
    ap.add_argument("--engines", default=",".join(ENGINES), help="comma-separated engines")
    ap.add_argument(
        "--data-dir",
        default=os.environ.get(
            "JOURNEY_BENCH_DATA", str(Path(tempfile.gettempdir()) / "journey-bench")
        ),
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--demo-runs", type=int, default=1, help="timed `journey run demo` runs (0: skip)"
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
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "started_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_start": os.getloadavg(),
        },
        "runs": args.runs,
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
    for size in sizes:
        report["sizes"].append(bench_size(size, data_dir, engines, args.runs, args.seed))
    if args.demo_runs > 0:
        report["demo"] = bench_demo(args.demo_runs)
    if args.batch_runs > 0:
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
