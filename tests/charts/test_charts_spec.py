"""Chart specs through ``chart.to_dict()``: marks, encoded fields, data sizes, theme."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl
import pytest

from journeylib.analysis import JourneyMapData
from journeylib.charts import (
    chart_attribution,
    chart_cac_by_channel,
    chart_journey_map,
    chart_milestone_times,
    chart_mrr_bridge,
    chart_mrr_movements,
    chart_ordered_funnel,
    chart_retention_heatmap,
    chart_stage_funnel,
    chart_touchpoint_flow,
)
from journeylib.charts.theme import PALETTE, THEME_NAME
from journeylib.errors import DataError


def walk(spec: Any):
    """Every dict inside a spec (depth first)."""
    if isinstance(spec, dict):
        yield spec
        for v in spec.values():
            yield from walk(v)
    elif isinstance(spec, list):
        for v in spec:
            yield from walk(v)


def marks(spec: dict) -> set[str]:
    out = set()
    for d in walk(spec):
        m = d.get("mark")
        if isinstance(m, dict):
            out.add(m["type"])
        elif isinstance(m, str):
            out.add(m)
    return out


def fields(spec: dict) -> set[str]:
    out = set()
    for d in walk(spec):
        enc = d.get("encoding")
        if isinstance(enc, dict):
            for ch in enc.values():
                for item in ch if isinstance(ch, list) else [ch]:
                    if isinstance(item, dict) and "field" in item:
                        out.add(item["field"])
    return out


def rows_of(spec: dict, view: dict) -> list[dict]:
    """The rows a view draws: inline values or a named top-level dataset."""
    data = view.get("data", {})
    if "values" in data:
        return data["values"]
    return spec["datasets"][data["name"]]


def inline_rows(spec: dict) -> list[dict]:
    rows = []
    for d in walk(spec):
        data = d.get("data")
        if isinstance(data, dict) and isinstance(data.get("values"), list):
            rows.extend(data["values"])
    for vals in spec.get("datasets", {}).values():
        rows.extend(vals)
    return rows


def texts(spec: dict) -> list[str]:
    return [str(r["text"]) for r in inline_rows(spec) if "text" in r]


def test_every_chart_serialises_with_theme(all_charts):
    assert alt.theme.active == THEME_NAME
    for name, chart in all_charts.items():
        assert isinstance(chart, alt.TopLevelMixin), name
        spec = chart.to_dict()
        assert spec["config"]["range"]["category"] == PALETTE, name
        assert inline_rows(spec), f"{name} has no inline data"
        # Inline data only: nothing is ever fetched.
        assert not any(
            "url" in d.get("data", {}) for d in walk(spec) if isinstance(d.get("data"), dict)
        ), name


EXPECTED_MARKS = {
    "stage_funnel": {"bar", "text"},
    "ordered_funnel": {"bar", "text"},
    "ordered_funnel_variants": {"bar", "errorbar", "text"},
    "onboarding_map": {"bar", "text"},
    "touchpoint_flow": {"rect", "text"},
    "retention_heatmap": {"rect", "text"},
    "mrr_movements": {"bar", "line", "point", "rule"},
    "mrr_bridge": {"bar", "text"},
    "nrr_grr": {"line", "point", "rule"},
    "cac_by_channel": {"bar", "text"},
    "attribution": {"bar"},
    "milestone_times": {"rule", "bar", "tick", "text"},
    "milestone_retention": {"rule", "point", "text"},
    "nps_over_tenure": {"line", "area", "point", "rule"},
    "ticket_mix": {"bar"},
    "persona_comparison": {"bar", "text"},
    "day_in_life": {"rect"},
    "journey_map": {"rect", "rule", "text", "point", "line"},
    "opportunity_map": {"bar", "text"},
    "service_blueprint": {"rect", "rule", "text", "point"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_MARKS))
def test_mark_types(all_charts, name):
    assert marks(all_charts[name].to_dict()) == EXPECTED_MARKS[name]


def test_milestone_boxes_hold_five_numbers_whatever_the_accounts():
    n = 10_000
    days = [float((i * 7919) % 365) for i in range(n)]
    per = pl.DataFrame(
        {
            "milestone": ["a"] * n + ["b"] * n,
            "account_id": [f"x{i}" for i in range(n)] * 2,
            "days": days + [d / 2 for d in days],
            "reached": [True] * n + [i % 2 == 0 for i in range(n)],
        }
    )
    spec = chart_milestone_times(per).to_dict()
    boxes = [r for r in inline_rows(spec) if "q1" in r]
    assert [r["milestone"] for r in boxes] == ["a", "b"]
    halves = [d / 2 for i, d in enumerate(days) if i % 2 == 0]
    for box, reached in zip(boxes, [days, halves], strict=True):
        s = pl.Series(reached)
        assert box["low"] == s.min() and box["high"] == s.max()
        assert box["median"] == s.median()
        assert box["q1"] == s.quantile(0.25, interpolation="linear")
        assert box["q3"] == s.quantile(0.75, interpolation="linear")
    assert len(str(spec)) < 10_000  # no row per account


def test_stage_funnel_spec(stages):
    spec = chart_stage_funnel(stages).to_dict()
    rows = inline_rows(spec)
    assert len(rows) == 8
    assert {"stage", "reached", "text"} <= fields(spec)
    # Bars keep template order, not alphabetical order.
    y = next(d["encoding"]["y"] for d in walk(spec) if "encoding" in d and "y" in d["encoding"])
    assert y["sort"][:3] == ["Awareness", "Consideration", "Decision"]
    assert rows[1]["text"] == "1,830 accounts · 44% of previous · median 6.5 d"
    assert rows[0]["text"] == "4,200 accounts"


def test_ordered_funnel_spec(funnel_steps, funnel_variants):
    spec = chart_ordered_funnel(funnel_steps).to_dict()
    assert len(inline_rows(spec)) == 4
    assert {"label", "conversion", "text", "time_text"} <= fields(spec)
    assert [r["time_text"] for r in inline_rows(spec)] == [
        "",
        "median 9 min",
        "median 1.5 d",
        "median 4.2 d",
    ]
    vspec = chart_ordered_funnel(funnel_steps, variants=funnel_variants).to_dict()
    assert len(inline_rows(vspec)) == 8
    assert {"variant", "ci_low", "ci_high", "conversion"} <= fields(vspec)
    assert any(
        d.get("encoding", {}).get("xOffset", {}).get("field") == "variant" for d in walk(vspec)
    )


def test_touchpoint_flow_top_n_and_order(transitions):
    spec = chart_touchpoint_flow(transitions, top_n=3).to_dict()
    rows = inline_rows(spec)
    kept = {r["from"] for r in rows} | {r["to"] for r in rows}
    assert kept <= {"website", "pricing_page", "trial_signup", "blog"}
    assert len(kept) <= 3
    order = ["blog", "website", "pricing_page"]
    spec2 = chart_touchpoint_flow(transitions, order=order, top_n=3).to_dict()
    xs = [d["encoding"]["x"]["sort"] for d in walk(spec2) if "x" in d.get("encoding", {})]
    # The given order first, then kept touchpoints it does not name.
    assert xs[0] == ["website", "pricing_page", "trial_signup"]


def test_retention_heatmap_value_param(retention_long):
    spec = chart_retention_heatmap(retention_long, value="nrr").to_dict()
    rows = inline_rows(spec)
    assert len(rows) == retention_long.height
    assert rows[0]["value"] == pytest.approx(1.0)
    assert rows[0]["row"] == "2024-01  (n=120)"
    assert spec["title"] == "Cohort NRR by cohort"
    # NRR above 100 % widens the colour domain instead of clipping.
    dom = next(
        d["encoding"]["color"]["scale"]["domain"]
        for d in walk(spec)
        if "color" in d.get("encoding", {}) and "scale" in d["encoding"]["color"]
    )
    assert dom[1] > 1.0


def test_retention_heatmap_accepts_date_cohorts():
    from datetime import date

    df = pl.DataFrame({"cohort": [date(2024, 1, 1)], "size": [5], "k": [0], "rate": [1.0]})
    rows = inline_rows(chart_retention_heatmap(df).to_dict())
    assert rows[0]["cohort"] == "2024-01"


def test_mrr_movements_long_form(revenue_months):
    spec = chart_mrr_movements(revenue_months).to_dict()
    bars = [
        d
        for d in walk(spec)
        if d.get("mark", {}) == {"type": "bar"}
        or (isinstance(d.get("mark"), dict) and d["mark"].get("type") == "bar")
    ]
    rows = rows_of(spec, bars[0])
    assert len(rows) == 5 * revenue_months.height
    first = {r["movement"]: r["amount"] for r in rows if r["month"] == "2024-02"}
    assert first == {
        "New": 1500.0,
        "Reactivation": 0.0,
        "Expansion": 400.0,
        "Contraction": -200.0,
        "Churn": -650.0,
    }


def test_mrr_bridge_reconciles(revenue_months):
    spec = chart_mrr_bridge(revenue_months, start="2024-04", end="2024-09").to_dict()
    rows = inline_rows(spec)
    assert [r["label"] for r in rows] == [
        "MRR 2024-03",
        "New",
        "Reactivation",
        "Expansion",
        "Contraction",
        "Churn",
        "MRR 2024-09",
    ]
    sel = revenue_months.filter(pl.col("month").is_between(pl.lit("2024-04"), pl.lit("2024-09")))
    opening = revenue_months.filter(pl.col("month") == "2024-03")["mrr"][0]
    assert rows[0]["hi"] == pytest.approx(opening)
    assert rows[-1]["hi"] == pytest.approx(sel["mrr"][-1])
    assert opening + sum(r["amount"] for r in rows[1:-1]) == pytest.approx(rows[-1]["hi"])
    # Each floating bar starts where the previous one ended.
    level = opening
    for r in rows[1:-1]:
        assert sorted([r["lo"], r["hi"]]) == pytest.approx(sorted([level, level + r["amount"]]))
        level += r["amount"]


def test_mrr_bridge_january_start_and_empty_range(revenue_months):
    df = revenue_months.with_columns(pl.col("month").str.replace("2024", "2025"))
    spec = chart_mrr_bridge(
        df.filter(pl.col("month") >= "2025-02"), start="2025-02", end="2025-03"
    ).to_dict()
    assert inline_rows(spec)[0]["label"] == "MRR 2025-01"
    jan = df.with_columns(pl.col("month").str.replace("2025-02", "2025-01"))
    spec = chart_mrr_bridge(jan, start="2025-01", end="2025-01").to_dict()
    assert inline_rows(spec)[0]["label"] == "MRR 2024-12"
    with pytest.raises(DataError):
        chart_mrr_bridge(revenue_months, start="2030-01", end="2030-02")


def test_cac_null_has_no_bar_and_says_why(by_channel):
    rows = inline_rows(chart_cac_by_channel(by_channel).to_dict())
    events = next(r for r in rows if r["channel"] == "events")
    assert events["cac"] is None and events["cac_or_zero"] == 0.0
    assert events["text"].startswith("no new customers")
    assert [r["channel"] for r in rows][0] == "paid_social"  # highest CAC first


def test_attribution_long_form(attribution):
    spec = chart_attribution(attribution).to_dict()
    rows = inline_rows(spec)
    assert len(rows) == 4 * attribution.height
    total = {
        m: sum(r["credit"] for r in rows if r["model"] == m)
        for m in ("First touch", "Last touch", "Linear", "Position-based")
    }
    assert len({round(v, 6) for v in total.values()}) == 1  # every model sums to 74
    assert {"channel", "model", "credit"} <= fields(spec)


def test_missing_column_is_a_clear_error(stages):
    with pytest.raises(DataError, match="missing columns"):
        chart_stage_funnel(stages.drop("reached"))


def test_lazy_frames_are_accepted(stages):
    spec = chart_stage_funnel(stages.lazy()).to_dict()
    assert len(inline_rows(spec)) == 8


def test_nan_and_inf_become_null():
    df = pl.DataFrame(
        {"channel": ["a"], "spend": [float("nan")], "new_customers": [0], "cac": [float("inf")]}
    )
    rows = inline_rows(chart_cac_by_channel(df).to_dict())
    assert rows[0]["spend"] is None and rows[0]["cac"] is None


# --- journey map -----------------------------------------------------------------


def map_texts(chart) -> list[str]:
    return texts(chart.to_dict())


def test_journey_map_has_every_lane(map_data):
    spec = chart_journey_map(map_data).to_dict()
    t = texts(spec)
    for lane in (
        "Stage",
        "Persona:",
        "Customer actions",
        "Touchpoints",
        "Emotion: NPS by",
        "Pain points",
        "Opportunities",
        "KPIs",
    ):
        assert any(x.startswith(lane) for x in t), lane
    assert spec["width"] == 1100
    assert "→ 44%" in t  # conversion between awareness and consideration
    assert "NPS -12" in t and "n = 14 (few)" in t
    assert "no survey answers" in t  # awareness has no answers
    assert "+1 more" in t  # awareness has 6 touchpoints, 5 shown


def test_journey_map_text_fits_columns(map_data):
    """No text line is wider than its stage column (the wrap guarantee)."""
    from journeylib.charts._canvas import CHAR_W

    spec = chart_journey_map(map_data).to_dict()
    col_w = (1100 - 132) / 8
    for layer in spec["layer"]:
        if layer["mark"]["type"] != "text":
            continue
        for r in rows_of(spec, layer):
            if r["x"] < 132 or layer["mark"].get("align") != "left":
                continue
            assert len(r["text"]) * CHAR_W * r["size"] <= col_w, r["text"]


def test_journey_map_lines_do_not_overlap(map_data):
    """Left-aligned text lines in one stage column never share a y position."""
    spec = chart_journey_map(map_data).to_dict()
    seen: dict[tuple[int, int], str] = {}
    col_w = (1100 - 132) / 8
    for layer in spec["layer"]:
        if layer["mark"]["type"] != "text" or layer["mark"].get("align") != "left":
            continue
        for r in rows_of(spec, layer):
            if r["x"] < 132 or r["text"] == "•":
                continue
            key = (int((r["x"] - 132) // col_w), round(r["y"]))
            assert key not in seen, (r["text"], seen.get(key))
            seen[key] = r["text"]


def test_journey_map_emotion_breaks_at_missing_stage(map_data):
    spec = chart_journey_map(map_data).to_dict()
    line = next(lyr for lyr in spec["layer"] if lyr["mark"]["type"] == "line")
    pts = rows_of(spec, line)
    assert len(pts) == 7  # awareness has no NPS
    assert line["encoding"]["detail"]["field"] == "segment"


def test_journey_map_future_state_shows_targets_and_gaps(map_data):
    cur = map_texts(chart_journey_map(map_data))
    fut = map_texts(chart_journey_map(map_data, state="future"))
    assert "gap 12 pts" in " ".join(fut)
    assert "gap" not in " ".join(cur)
    spec = chart_journey_map(map_data, state="future").to_dict()
    fills = [
        r["fill"]
        for lyr in spec["layer"]
        if lyr["mark"]["type"] == "rect"
        for r in rows_of(spec, lyr)
    ]
    # Two at-risk plus three off-track KPIs are shaded.
    assert fills.count("#fbe3d6") == 5


def test_journey_map_skips_empty_lanes():
    st = pl.DataFrame(
        {
            "order": [1, 2],
            "id": ["a", "b"],
            "label": ["A", "B"],
            "reached": [10, 4],
            "conversion_from_previous": [None, 0.4],
        }
    )
    t = map_texts(chart_journey_map(JourneyMapData(stages=st)))
    assert not any(x.startswith(("Touchpoints", "Emotion", "KPIs", "Pain")) for x in t)
    assert "→ 40%" in t


def test_journey_map_escapes_nothing_but_keeps_client_text_as_data(map_data):
    evil = map_data.texts.with_columns(
        pl.lit("<script>alert(1)</script><img src=x onerror=alert(2)>").alias("text")
    )
    d = JourneyMapData(stages=map_data.stages, texts=evil)
    t = map_texts(chart_journey_map(d))
    # The text is data for a text mark (drawn as text, never parsed as HTML).
    assert any("<script>" in x for x in t)


def test_persona_maps_one_per_persona(map_data):
    from journeylib.charts import chart_persona_maps

    spec = chart_persona_maps(
        {"Ops": map_data, "Founder": JourneyMapData(map_data.stages)}
    ).to_dict()
    assert len(spec["vconcat"]) == 2
    subtitles = [m["title"]["subtitle"] for m in spec["vconcat"]]
    assert subtitles[0].startswith("Persona: Operations lead")
    assert subtitles[1].startswith("Persona: Founder")


def test_opportunity_map_ranked(opportunities):
    from journeylib.charts import chart_opportunity_map

    rows = inline_rows(chart_opportunity_map(opportunities, top_n=3).to_dict())
    assert len(rows) == 3
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_service_blueprint_marks_slowest_stage(blueprint):
    from journeylib.charts import chart_service_blueprint
    from journeylib.charts.theme import BAD

    front, back = blueprint
    spec = chart_service_blueprint(front, back).to_dict()
    slow = [
        r
        for lyr in spec["layer"]
        if lyr["mark"]["type"] == "text"
        for r in rows_of(spec, lyr)
        if r["color"] == BAD
    ]
    # Wrapped to the column: "median 18 h" / "to resolve", both in vermillion.
    assert " ".join(r["text"] for r in slow) == "median 18 h to resolve"
    assert "line of visibility" in texts(spec)


def test_service_blueprint_back_stage_text_fits_eight_columns(blueprint):
    """With 8 stages (~121 px columns) no back-stage line runs into the next column."""
    from journeylib.charts import chart_service_blueprint
    from journeylib.charts._canvas import CHAR_W

    front, back = blueprint
    stages = [
        "Awareness",
        "Consideration",
        "Decision",
        "Onboarding",
        "Adoption",
        "Retention",
        "Expansion",
        "Advocacy",
    ]
    extra = pl.DataFrame(
        {
            "stage": ["Advocacy"],
            "tickets": [12_345],
            "top_category": ["billing and invoices questions"],
            "resolution_hours_median": [123.4],
        }
    )
    back = pl.concat([back, extra], how="vertical_relaxed")
    spec = chart_service_blueprint(front, back, stages=stages).to_dict()
    col_w = (1100 - 132) / 8
    lines = []
    for layer in spec["layer"]:
        if layer["mark"]["type"] != "text" or layer["mark"].get("align") != "left":
            continue
        for r in rows_of(spec, layer):
            if r["x"] < 132:
                continue
            lines.append(r["text"])
            # Bold text is ~10 % wider than the regular glyph estimate.
            assert len(r["text"]) * CHAR_W * r["size"] * 1.1 <= col_w - 8, r["text"]
    # 123.4 hours in a narrow cell: the largest unit it reaches, as every chart writes it.
    assert "median 5.1 d" in lines and "to resolve" in lines


def test_journey_map_situation_lane_grows_to_fit(map_data):
    """A long situation paragraph is shown whole (no "…"), not cut at 6 lines."""
    long = (
        "Has a problem the product solves, sometimes without naming it yet, and runs into "
        "the brand through a search, an ad, a post, a talk or a colleague."
    )
    t = map_data.texts.filter(pl.col("lane") != "situation")
    situation = pl.DataFrame({"stage": ["awareness"], "lane": ["situation"], "text": [long]})
    d = JourneyMapData(stages=map_data.stages, texts=pl.concat([situation, t]))
    lines = map_texts(chart_journey_map(d))
    start = next(i for i, x in enumerate(lines) if x.startswith("Has a problem"))
    shown = []
    for x in lines[start:]:
        shown.append(x)
        if x.endswith("colleague."):
            break
    assert len(shown) > 6 and not any("…" in x for x in shown)
    assert " ".join(shown) == long


def test_journey_map_kpi_value_and_trend_on_separate_lines(map_data):
    spec = chart_journey_map(map_data).to_dict()
    kp = map_data.kpis.filter(pl.col("trend").is_not_null()).row(0, named=True)
    rows = [r for lyr in spec["layer"] if lyr["mark"]["type"] == "text" for r in rows_of(spec, lyr)]
    value = next(r for r in rows if r["text"] == kp["value_text"])
    trend = next(r for r in rows if r["text"] == kp["trend"])
    assert trend["x"] == value["x"]  # under the value, not beside it
    assert trend["y"] > value["y"]


def test_persona_named_once_when_title_names_it(map_data):
    d = JourneyMapData(
        stages=map_data.stages,
        texts=map_data.texts,
        persona="Operations lead",
        title="Customer journey map: current state · Operations lead",
    )
    spec = chart_journey_map(d).to_dict()
    assert "subtitle" not in spec["title"]
    assert not any(x.startswith("Persona:") for x in texts(spec))
    assert any(x.startswith("Persona's") for x in texts(spec))  # the lane's own title


def test_milestone_retention_zero_stands_clear_of_the_axis():
    from journeylib.charts import chart_milestone_retention

    m = pl.DataFrame(
        {"id": ["first_value"], "retention_6m_reached": [0.9], "retention_6m_not_reached": [0.0]}
    )
    spec = chart_milestone_retention(m).to_dict()
    domains = [
        d["scale"]["domain"]
        for d in walk(spec)
        if isinstance(d.get("scale"), dict)
        and "domain" in d["scale"]
        and d["scale"]["domain"][-1] == 1.15
    ]
    assert domains and all(lo < 0 for lo, _ in domains)
    axis_values = [
        d["axis"]["values"]
        for d in walk(spec)
        if isinstance(d.get("axis"), dict) and "values" in d["axis"]
    ]
    assert axis_values and all(v == [0, 0.2, 0.4, 0.6, 0.8, 1.0] for v in axis_values)


def test_opportunity_map_ticks_stop_at_top_score(opportunities):
    from journeylib.charts import chart_opportunity_map

    spec = chart_opportunity_map(opportunities).to_dict()
    top = opportunities["score"].max()
    ticks = next(
        d["axis"]["values"]
        for d in walk(spec)
        if isinstance(d.get("axis"), dict) and "values" in d["axis"]
    )
    assert len(ticks) == 5 and ticks[0] == 0 and ticks[-1] == pytest.approx(top)


def test_touchpoint_flow_uses_labels(transitions):
    labels = {"website": "Website", "pricing_page": "Pricing page", "blog": "Blog"}
    spec = chart_touchpoint_flow(transitions, labels=labels, top_n=4).to_dict()
    rows = inline_rows(spec)
    shown = {r["from_name"] for r in rows} | {r["to_name"] for r in rows}
    assert {"Website", "Pricing page"} <= shown
    assert "trial_signup" in shown  # no label given: the id
    sorts = [d["encoding"]["y"]["sort"] for d in walk(spec) if "y" in d.get("encoding", {})]
    assert "Website" in sorts[0] and "website" not in sorts[0]


def test_touchpoint_flow_label_columns_and_duplicate_labels(transitions):
    df = transitions.with_columns(
        from_label=pl.col("from").str.replace("_", " "),
        to_label=pl.col("to").str.replace("_", " "),
    )
    rows = inline_rows(chart_touchpoint_flow(df).to_dict())
    assert any(r["from_name"] == "pricing page" for r in rows)
    same = {"website": "Site", "pricing_page": "Site"}
    rows = inline_rows(chart_touchpoint_flow(transitions, labels=same).to_dict())
    names = {r["from_name"] for r in rows}
    assert {"Site (website)", "Site (pricing_page)"} <= names


def test_journey_map_tooltips_only_name_fields_the_mark_has(map_data):
    """Backgrounds get no tooltip; a touchpoint dot's tooltip has no NPS (no "undefined")."""
    spec = chart_journey_map(map_data).to_dict()
    for layer in spec["layer"]:
        tips = layer.get("encoding", {}).get("tooltip", [])
        fields_ = {t["field"] for t in tips}
        for r in rows_of(spec, layer):
            assert fields_ <= set(r), (layer["mark"]["type"], fields_ - set(r))
    point_tips = [
        {t["field"] for t in lyr["encoding"].get("tooltip", [])}
        for lyr in spec["layer"]
        if lyr["mark"]["type"] == "point"
    ]
    assert {"touchpoint", "events", "accounts", "kind"} in point_tips
    assert any("nps" in t and "touchpoint" not in t for t in point_tips)
