"""Explorer timing: open, redraw after a filter change, peak memory (not part of ``make test``).

``python bench/explore_bench.py CLIENT [--runs 3]`` prints, as JSON, what
:func:`measure` returns for a client (a name under ``data/`` or a client
folder). The bars of the explorer (issue "the explorer on the store", at 10 M
events): it opens in at most 2 s, redraws a panel after a filter change in at
most 0.5 s (median over the panels) and peaks at most 1.5 GB.

Each run is a fresh Python process (imports included in its memory, not in
its times) that:

1. opens the explorer as the notebook does (``Explorer(client)``, only the tab
   on screen drawn): ``open_s`` is the construction (store opened, controls
   filled, the journey map drawn); ``load_s`` its part before the first panel;
   then opens the tabs of :data:`KEPT_TABS` on the unfiltered client
   (``unfiltered_panels``: the store keeps their unfiltered result, as it
   keeps the journey map, so the first run computes it and the later runs
   read it) and goes back to the first tab;
2. for each filter change (the first persona, then also the first channel):
   sets the dropdown (the status line and the panel on screen redraw:
   ``change_s``), then redraws every other shown panel in tab order (the
   panels drawn under another one included: the breakdowns and what drives
   the funnel; the attribution panel's five models of the filtered
   accounts); ``panels`` holds each panel's seconds, with what panels
   share in one filter state (the stage funnel, the ordered funnel) computed
   once, as the explorer does. Every control is at its default (paths from
   the first event, 5 steps, min accounts auto; lifecycle by week; no
   breakdown, so the breakdown panels draw nothing and are left out of the
   median);
3. redraws each panel again alone on a fresh filter state (the state's cache
   dropped first): ``cold_panels``, what a panel costs when its tab is the
   first opened after a change;
4. sets the breakdown to ``acquisition_channel`` (else the first column
   offered) and redraws the two breakdown panels: ``breakdown_panels``;
5. reports its peak RSS (``VmHWM`` of ``/proc/self/status``).

The store is built (or found current) first, in a process of its own and
untimed. Per panel the median over runs and filter changes is reported, then
the median over the panels.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: Tabs besides the journey map whose unfiltered result the store keeps (timed after opening).
KEPT_TABS = ("attribution",)


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _child(client_dir: str, module: str) -> dict[str, Any]:
    """One run, in this process (see the module docstring)."""
    t0 = time.perf_counter()
    explore = importlib.import_module(module)
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ex = explore.Explorer(client_dir)
    open_s = time.perf_counter() - t0
    first = ex.visible_panel()
    out: dict[str, Any] = {
        "import_s": import_s,
        "open_s": open_s,
        "load_s": ex.timings.get("load"),
        "first_panel": first,
        "first_panel_s": ex.timings.get(first),
        "rss_after_open_mb": _peak_rss_mb(),
        "changes": [],
    }
    tab_ids = getattr(ex, "_tab_ids", [])  # an older explorer (--module) may lack a tab
    unfiltered = {}
    for pid in KEPT_TABS:
        if pid in tab_ids:
            ex.tabs.selected_index = tab_ids.index(pid)
            unfiltered[pid] = ex.timings[pid]
    ex.tabs.selected_index = 0
    out["unfiltered_panels"] = unfiltered
    for name in ("persona", "channel"):
        dropdown = getattr(ex, name)
        value = dropdown.options[1][1]
        t0 = time.perf_counter()
        dropdown.value = value
        change_s = time.perf_counter() - t0
        panels = {first: ex.timings[first]}
        for pid in ex._shown:
            if pid != first:
                ex.redraw(pid)
                panels[pid] = ex.timings[pid]
        cold = {}
        for pid in ex._shown:
            ex._current.scopes.clear()
            ex.redraw(pid)
            cold[pid] = ex.timings[pid]
        failed = {p: m for p, m in ex.messages.items() if m and "could not be drawn" in m}
        empty = [p for p in ex._shown if not ex.outputs[p].outputs]  # drew nothing (no breakdown)
        breakdown = getattr(ex, "breakdown", None)  # an older explorer (--module) has none
        columns = [v for _, v in breakdown.options if v] if breakdown is not None else []
        broken = {}
        if columns:
            with ex._silently():
                ex.breakdown.value = (
                    "acquisition_channel" if "acquisition_channel" in columns else columns[0]
                )
            for pid in ("funnel_breakdown", "retention_breakdown"):
                ex.redraw(pid)
                broken[pid] = ex.timings[pid]
            with ex._silently():
                ex.breakdown.value = ""
        out["changes"].append(
            {
                "filter": f"{name} = {value}",
                "accounts": ex.scope().n_accounts(),
                "change_s": change_s,
                "panels": panels,
                "cold_panels": cold,
                "breakdown_panels": broken,
                "empty": empty,
                "failed": failed,
            }
        )
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _run(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"explore_bench child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _forget_kept(client_dir: str) -> None:
    """Remove what the explorer kept in the client's current store (``cache/``)."""
    import shutil

    from journeylib.store import read_store

    store = read_store(client_dir)
    if store is not None:
        shutil.rmtree(store.files.folder / "cache", ignore_errors=True)


def measure(client_dir: str, *, runs: int = 3, module: str = "journeylib.explore") -> dict:
    """Open the explorer on a client in ``runs`` fresh processes and time it (module docstring).

    Args:
        client_dir: a client name under ``data/`` or a client folder.
        runs: fresh processes to run.
        module: the module whose ``Explorer`` is timed (another copy of the
            explorer, e.g. an older version importable under another name).

    Returns:
        ``{"client", "runs", "first_open_s", "open_s", "load_s", "first_panel_s", "panels",
        "median_redraw_s", "cold_panels", "median_cold_redraw_s", "breakdown_panels",
        "unfiltered_panels", "left_out_of_medians", "peak_rss_mb", "bars", "raw"}``: medians
        over runs (per panel over runs and filter changes; ``open_s`` over the runs after the first,
        which open on the map the first one kept in the store, and
        ``first_open_s`` the first, which computes it), the largest peak RSS,
        and every run as measured.
    """
    if module == "journeylib.explore":  # the store first, untimed, in a process of its own
        _run(["--store-only", client_dir])
        _forget_kept(client_dir)  # the first opening computes the map and keeps it
    raw = [_run(["--child", "--module", module, client_dir]) for _ in range(runs)]
    med = statistics.median
    later = raw[1:] or raw

    def per_panel(key: str) -> dict[str, float]:
        names = list(raw[0]["changes"][0][key])
        return {p: med(c[key][p] for r in raw for c in r["changes"]) for p in names}

    panels, cold = per_panel("panels"), per_panel("cold_panels")
    # panels that drew nothing at the default controls (no breakdown) leave the medians
    empty = set.intersection(*(set(c.get("empty", [])) for r in raw for c in r["changes"]))
    drawn = {p: v for p, v in panels.items() if p not in empty}
    drawn_cold = {p: v for p, v in cold.items() if p not in empty}
    out = {
        "client": client_dir,
        "runs": runs,
        # the first opening after the store was built computes the unfiltered map and keeps
        # it in the store; every later opening reads it
        "first_open_s": raw[0]["open_s"],
        "open_s": med(r["open_s"] for r in later),
        "load_s": med(r["load_s"] for r in raw if r["load_s"] is not None)
        if any(r["load_s"] is not None for r in raw)
        else None,
        "first_panel_s": med(r["first_panel_s"] for r in raw),
        "panels": panels,
        "median_redraw_s": med(drawn.values()),
        "cold_panels": cold,
        "median_cold_redraw_s": med(drawn_cold.values()),
        "breakdown_panels": per_panel("breakdown_panels"),
        # first: computed (the first run, after what was kept was removed); kept: read back
        "unfiltered_panels": {
            p: {
                "first_s": raw[0]["unfiltered_panels"][p],
                "kept_s": med(r["unfiltered_panels"][p] for r in later),
            }
            for p in raw[0].get("unfiltered_panels", {})
        },
        "left_out_of_medians": sorted(empty),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in raw),
    }
    out["bars"] = {
        "open_le_2s": out["open_s"] <= 2.0,
        "median_redraw_le_0.5s": out["median_redraw_s"] <= 0.5,
        "peak_rss_le_1.5gb": out["peak_rss_mb"] <= 1.5 * 1024,
    }
    out["raw"] = raw
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("client", help="a client name under data/ or a client folder")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--module", default="journeylib.explore", help=argparse.SUPPRESS)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--store-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.store_only:
        from journeylib.store import ensure_store

        store = ensure_store(args.client)
        print(json.dumps({"built": store.built, "key": store.key}))
    elif args.child:
        print(json.dumps(_child(args.client, args.module)))
    else:
        print(json.dumps(measure(args.client, runs=args.runs, module=args.module), indent=1))


if __name__ == "__main__":
    main()
