"""Paths as a Sankey diagram: one column per step, bands as wide as the accounts they carry.

Vega-Lite has no Sankey layout, so it is computed here: node rectangles per
step column stacked by accounts, links as smooth bands (an area over sampled
x positions between a node's right side and the next node's left side),
everything in pixels (``scale=None``). Words are in the current language
(:mod:`journeylib.i18n`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import altair as alt
import polars as pl

from journeylib.analysis.paths import OTHER, PathsResult
from journeylib.charts._util import data, require, wrap
from journeylib.charts.theme import INK, MUTED, PALETTE
from journeylib.errors import DataError
from journeylib.formatting import format_value
from journeylib.i18n import direction
from journeylib.i18n import gettext as _

__all__ = ["chart_paths"]

WIDTH = 940
NODE_WIDTH = 12
#: Room right of the last column for its labels.
LABEL_ROOM = 190
HEADER = 26
#: Samples along a band: enough for a smooth curve at chart size.
SAMPLES = 24
STUB = 30
#: Colours of the items with most accounts, the same in every column; the rest are grey.
#: Okabe-Ito without black and yellow, then three of Paul Tol's colour-blind-safe "muted" set.
ITEM_COLOURS = [*PALETTE[:6], "#332288", "#882255", "#999933"]
REST = "#9aa5b1"
OTHER_COLOUR = "#cbd2d9"


@dataclasses.dataclass(frozen=True)
class _Node:
    step: int
    item: str
    accounts: int
    dropped: int
    x: float
    y0: float
    y1: float


def chart_paths(
    result_or_frames: Any,
    *,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """A Sankey diagram of paths: steps left to right, band widths proportional to accounts.

    Each step is a column of nodes (items) stacked by accounts, the largest on
    top and ``(other)`` last; a band from one node to a node of the next step
    carries the accounts that went that way. The accounts whose path ends at
    a node leave it as a grey band fading out (not drawn at the last step,
    where every path ends). Node labels give the item and its accounts with
    their share of all paths; tooltips give the exact counts.

    Args:
        result_or_frames: a :class:`~journeylib.analysis.paths.PathsResult`,
            a ``(nodes, edges)`` pair of frames, or the ``paths_json`` dict.
        labels: item → the name shown (e.g. ``{tp.id: tp.display for tp in
            template.touchpoints}``); items without one show as they are.
        title: chart title (default: "Paths", "Paths from E" or "Paths to E").

    Returns:
        A layered chart: ``links``, ``ends``, ``nodes``, ``labels`` and ``steps`` layers.

    Examples:
        >>> import polars as pl
        >>> nodes = pl.DataFrame({"step": [1, 2, 2], "item": ["view", "buy", "help"],
        ...     "accounts": [10, 6, 3], "dropped": [1, 6, 3]})
        >>> edges = pl.DataFrame({"step": [1, 1], "source": ["view", "view"],
        ...     "target": ["buy", "help"], "accounts": [6, 3]})
        >>> spec = chart_paths((nodes, edges)).to_dict()
        >>> [layer["name"] for layer in spec["layer"]]
        ['links', 'ends', 'nodes', 'labels', 'steps']
        >>> links = spec["datasets"][spec["layer"][0]["data"]["name"]]
        >>> sorted({r["link"] for r in links})
        ['1:view→buy', '1:view→help']
    """
    nodes, edges, start, end = _frames(result_or_frames)
    names = {str(k): str(v) for k, v in (labels or {}).items() if v}

    def name(item: str | None) -> str | None:
        return None if item is None else names.get(item, item)

    layout = _layout(nodes, edges)
    colour = _colours(nodes)
    total = int(nodes["dropped"].sum())
    height = layout["height"]

    def share(n: int) -> str:
        return format_value(n / total if total else None, "fraction", style="compact")

    x_px = {"scale": None, "axis": None}
    node_rows = [
        {
            "step": n.step,
            "item": n.item,
            "name": name(n.item),
            "accounts": n.accounts,
            "dropped": n.dropped,
            "share": n.accounts / total if total else None,
            "x": n.x,
            "x2": n.x + NODE_WIDTH,
            "y": n.y0,
            "y2": max(n.y1, n.y0 + 1),
            "colour": colour(n.item),
        }
        for n in layout["nodes"]
    ]
    rtl = direction() == "rtl"
    if rtl:  # a right-to-left page: the paths run from the right edge, labels to their left
        _mirror(node_rows, layout["links"], layout["ends"], layout["steps"])
    node_tip = [
        alt.Tooltip("name:N", title=_("Item")),
        alt.Tooltip("step:Q", title=_("Step")),
        alt.Tooltip("accounts:Q", title=_("Accounts"), format=","),
        alt.Tooltip("share:Q", title=_("Share of all paths"), format=".1%"),
        alt.Tooltip("dropped:Q", title=_("Paths that end here"), format=","),
    ]
    nodes_layer = (
        alt.Chart(data(node_rows))
        .mark_rect(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("x:Q", **x_px),
            x2="x2:Q",
            y=alt.Y("y:Q", **x_px),
            y2="y2:Q",
            color=alt.Color("colour:N", scale=None),
            tooltip=node_tip,
        )
        .properties(name="nodes")
    )
    for row in layout["links"]:
        row.update(
            colour=colour(row["source"]), from_name=name(row["source"]), to_name=name(row["target"])
        )
    links_layer = (
        alt.Chart(data(layout["links"]))
        .mark_area(orient="vertical", opacity=0.38, interpolate="linear")
        .encode(
            x=alt.X("x:Q", **x_px),
            y=alt.Y("y:Q", **x_px),
            y2="y2:Q",
            detail="link:N",
            color=alt.Color("colour:N", scale=None),
            tooltip=[
                alt.Tooltip("from_name:N", title=_("From")),
                alt.Tooltip("to_name:N", title=_("To")),
                alt.Tooltip("step:Q", title=_("From step")),
                alt.Tooltip("accounts:Q", title=_("Accounts"), format=","),
                alt.Tooltip("share:Q", title=_("Share of the from node"), format=".1%"),
            ],
        )
        .properties(name="links")
    )
    fade = alt.Gradient(
        gradient="linear",
        stops=[
            alt.GradientStop(color="#9aa5b1", offset=0),
            alt.GradientStop(color="#ffffff", offset=1),
        ],
        x1=1 if rtl else 0,  # the ending paths fade the way the paths run
        x2=0 if rtl else 1,
        y1=0,
        y2=0,
    )
    for row in layout["ends"]:
        row["name"] = name(row["item"])
    ends_layer = (
        alt.Chart(data(layout["ends"]))
        .mark_rect(fill=fade, opacity=0.9)
        .encode(
            x=alt.X("x:Q", **x_px),
            x2="x2:Q",
            y=alt.Y("y:Q", **x_px),
            y2="y2:Q",
            tooltip=[
                alt.Tooltip("name:N", title=_("Item")),
                alt.Tooltip("step:Q", title=_("Step")),
                alt.Tooltip("dropped:Q", title=_("Paths that end here"), format=","),
            ],
        )
        .properties(name="ends")
    )
    label_rows = []
    chars = layout["label_chars"]
    for n, lines in layout["labels"]:
        if lines == 2:
            text = [
                wrap(name(n.item), chars, max_lines=1)[0],
                f"{format_value(n.accounts)} · {share(n.accounts)}",
            ]
        else:  # a thin node: the name cut to leave room for its count on the same line
            count = format_value(n.accounts)
            text = [f"{wrap(name(n.item), chars - len(count) - 1, max_lines=1)[0]} {count}"]
        label_rows.append(
            {
                "x": n.x + NODE_WIDTH + 5,
                "y": (n.y0 + n.y1) / 2,
                "text": text,
                "item": n.item,
                "accounts": n.accounts,
            }
        )
    if rtl:
        _mirror(label_rows)
    start_side = "right" if rtl else "left"
    labels_layer = (
        alt.Chart(data(label_rows))
        .mark_text(
            align=start_side,
            baseline="middle",
            fontSize=11,
            color=INK,
            limit=layout["label_px"],
            lineHeight=13,
        )
        .encode(x=alt.X("x:Q", **x_px), y=alt.Y("y:Q", **x_px), text="text:N")
        .properties(name="labels")
    )
    steps_layer = (
        alt.Chart(data(layout["steps"]))
        .mark_text(align=start_side, baseline="middle", fontSize=12, fontWeight=600, color=MUTED)
        .encode(x=alt.X("x:Q", **x_px), y=alt.Y("y:Q", **x_px), text="text:N")
        .properties(name="steps")
    )
    if title is None:
        if start is not None:
            title = _("Paths from {item}").format(item=name(start))
        elif end is not None:
            title = _("Paths to {item}").format(item=name(end))
        else:
            title = _("Paths")
    # whole sentences, one message each (a translation may order them its own way)
    subtitle = (
        _(
            "{n} accounts, step by step; band width = accounts; a grey band fading out = paths that end there"
        )
        if layout["ends"]
        else _("{n} accounts, step by step; band width = accounts")
    ).format(n=format_value(total))
    return alt.layer(links_layer, ends_layer, nodes_layer, labels_layer, steps_layer).properties(
        title=alt.Title(title, subtitle=subtitle),
        width=WIDTH,
        height=height,
    )


def _mirror(*layers: list[dict[str, Any]]) -> None:
    """Flip rows laid out in pixels from the left edge around the chart's middle (in place)."""
    for rows in layers:
        for r in rows:
            if "x2" in r:
                r["x"], r["x2"] = WIDTH - r["x2"], WIDTH - r["x"]
            else:
                r["x"] = WIDTH - r["x"]


def _frames(obj: Any) -> tuple[pl.DataFrame, pl.DataFrame, str | None, str | None]:
    """``(nodes, edges, start, end)`` from a PathsResult, a pair of frames or the JSON dict."""
    start = end = None
    if isinstance(obj, PathsResult):
        nodes, edges, start, end = obj.nodes, obj.edges, obj.start, obj.end
    elif isinstance(obj, Mapping):
        nodes, edges = obj.get("nodes"), obj.get("edges")
        start, end = obj.get("start"), obj.get("end")
    else:
        nodes, edges = obj
    schemas = (
        {"step": pl.Int64, "item": pl.String, "accounts": pl.Int64, "dropped": pl.Int64},
        {"step": pl.Int64, "source": pl.String, "target": pl.String, "accounts": pl.Int64},
    )
    frames = []
    for frame, schema, name in zip((nodes, edges), schemas, ("nodes", "edges"), strict=True):
        if isinstance(frame, list):
            frame = pl.DataFrame(frame, schema=schema) if frame else pl.DataFrame(schema=schema)
        frames.append(require(frame, list(schema), name=name).cast(schema).select(list(schema)))
    return frames[0], frames[1], start, end


def _colours(nodes: pl.DataFrame) -> Any:
    """Item → colour: the items with most accounts over all steps get the palette, the rest grey."""
    ranked = (
        nodes.filter(pl.col("item") != OTHER)
        .group_by("item")
        .agg(pl.col("accounts").sum())
        .sort(["accounts", "item"], descending=[True, False])["item"]
        .to_list()
    )
    own = dict(zip(ranked, ITEM_COLOURS, strict=False))

    def colour(item: str) -> str:
        return OTHER_COLOUR if item == OTHER else own.get(item, REST)

    return colour


def _smooth(t: float) -> float:
    """Smoothstep: a band leaves and enters its nodes horizontally."""
    return t * t * (3 - 2 * t)


def _layout(nodes: pl.DataFrame, edges: pl.DataFrame) -> dict[str, Any]:
    """Pixel positions of nodes, link bands, end stubs, labels and step headers."""
    steps = sorted(set(nodes["step"].to_list()))
    cols = {s: i for i, s in enumerate(steps)}
    per_col: dict[int, list[dict[str, Any]]] = {s: [] for s in steps}
    for r in nodes.iter_rows(named=True):
        per_col[r["step"]].append(r)
    for s in steps:  # largest first, (other) last
        per_col[s].sort(key=lambda r: (r["item"] == OTHER, -r["accounts"], r["item"]))
    most = max((len(v) for v in per_col.values()), default=1)
    gap = 8 if most <= 12 else 4
    plot = max(380, min(1000, 200 + 14 * most))
    # one scale (pixels per account) for every column, set by the tallest
    k = min(
        (
            (plot - gap * (len(v) - 1)) / max(sum(r["accounts"] for r in v), 1)
            for v in per_col.values()
        ),
        default=1.0,
    )
    span = (WIDTH - NODE_WIDTH - LABEL_ROOM) / max(len(steps) - 1, 1)
    placed: dict[tuple[int, str], _Node] = {}
    for s in steps:
        y = float(HEADER)
        for r in per_col[s]:
            h = r["accounts"] * k
            placed[(s, r["item"])] = _Node(
                s, r["item"], r["accounts"], r["dropped"], cols[s] * span, y, y + h
            )
            y += h + gap
    loose = [
        f"{e['step']}:{e['source']}→{e['target']}"
        for e in edges.iter_rows(named=True)
        if (e["step"], e["source"]) not in placed or (e["step"] + 1, e["target"]) not in placed
    ]
    if loose:
        raise DataError(
            "edges between nodes that are not there",
            where="edges",
            expected="edges from a node of step k to a node of step k + 1",
            found=", ".join(loose[:3]) + (", …" if len(loose) > 3 else ""),
            fix="pass the nodes and edges of one paths() result",
        )
    # bands leave a node in the order of their targets and enter in the order of their sources
    out_y = {key: n.y0 for key, n in placed.items()}
    in_y = {key: n.y0 for key, n in placed.items()}
    links = []
    ordered_edges = sorted(
        edges.iter_rows(named=True),
        key=lambda e: (
            e["step"],
            placed[(e["step"], e["source"])].y0,
            placed[(e["step"] + 1, e["target"])].y0,
        ),
    )
    bands = []
    for e in ordered_edges:
        src, tgt = (e["step"], e["source"]), (e["step"] + 1, e["target"])
        h = e["accounts"] * k
        bands.append((e, out_y[src], h))
        out_y[src] += h
    for e, sy, h in sorted(
        bands, key=lambda b: (b[0]["step"], placed[(b[0]["step"] + 1, b[0]["target"])].y0, b[1])
    ):
        src, tgt = (e["step"], e["source"]), (e["step"] + 1, e["target"])
        ty = in_y[tgt]
        in_y[tgt] += h
        x0, x1 = placed[src].x + NODE_WIDTH, placed[tgt].x
        link = f"{e['step']}:{e['source']}→{e['target']}"
        source_accounts = placed[src].accounts
        for i in range(SAMPLES + 1):
            f = _smooth(i / SAMPLES)
            top = sy + (ty - sy) * f
            links.append(
                {
                    "link": link,
                    "step": e["step"],
                    "source": e["source"],
                    "target": e["target"],
                    "accounts": e["accounts"],
                    "share": e["accounts"] / source_accounts if source_accounts else None,
                    "x": x0 + (x1 - x0) * i / SAMPLES,
                    "y": top,
                    "y2": top + max(h, 0.5),
                }
            )
    last = steps[-1] if steps else None
    ends = [
        {
            "step": n.step,
            "item": n.item,
            "dropped": n.dropped,
            "x": n.x + NODE_WIDTH,
            "x2": n.x + NODE_WIDTH + STUB,
            "y": n.y1 - n.dropped * k,
            "y2": n.y1,
        }
        for n in placed.values()
        if n.dropped and n.step != last
    ]
    label_px = int(min(span - NODE_WIDTH - 14, LABEL_ROOM - 10)) if len(steps) > 1 else LABEL_ROOM
    chars = max(int(label_px / 6.6), 6)
    labels: list[tuple[_Node, int]] = []
    for s in steps:
        below = float("-inf")  # the lowest pixel a label of this column already takes
        for r in per_col[s]:
            n = placed[(s, r["item"])]
            mid, h = (n.y0 + n.y1) / 2, n.y1 - n.y0
            # two lines (name, count) where the node has room, one line from 13 px, else none
            lines = 2 if h + gap >= 26 else 1 if h + gap >= 13 else 0
            if not lines or mid - 6.5 * lines < below + 1:
                continue
            labels.append((n, lines))
            below = mid + 6.5 * lines
    steps_rows = [
        {"x": cols[s] * span, "y": HEADER / 2 - 2, "text": _("Step {n}").format(n=s)} for s in steps
    ]
    return {
        "nodes": list(placed.values()),
        "links": links,
        "ends": ends,
        "labels": labels,
        "steps": steps_rows,
        "height": int(HEADER + plot + 16),  # room below for the lowest labels
        "label_px": label_px,
        "label_chars": chars,
    }
