"""Breakdown charts: what their specs hold (greyed small-n cells, intervals, the test) and rendering."""

from __future__ import annotations

import pytest

from journeylib.analysis.breakdowns import SMALL_N
from journeylib.charts.breakdowns import chart_funnel_breakdown, chart_retention_breakdown
from journeylib.errors import DataError
from journeylib.present import render


def _rates(size: int, rates: list[float]) -> list[dict]:
    out = []
    for k, rate in enumerate(rates):
        n = max(size - 15 * k, 1)
        out.append(
            {"k": k, "rate": rate, "lo": max(rate - 0.1, 0), "hi": min(rate + 0.1, 1), "n": n}
        )
    return out


@pytest.fixture(scope="module")
def retention() -> dict:
    return {
        "column": "persona",
        "p_value": 0.0017,
        "activity_retention": [
            {"value": "enterprise_it", "size": 40, "rates": _rates(40, [1.0, 0.58, 0.3, 0.32])},
            {"value": "smb_founder", "size": 400, "rates": _rates(400, [1.0, 0.4, 0.18, 0.16])},
        ],
        "logo_retention": [
            {"value": "enterprise_it", "size": 41, "rates": _rates(41, [1.0, 0.97, 0.97])},
            {"value": "smb_founder", "size": 143, "rates": _rates(143, [1.0, 0.89, 0.85])},
        ],
    }


@pytest.fixture(scope="module")
def funnel() -> dict:
    groups = []
    for value, n, counts in [("direct", 64, [64, 38, 13]), ("email", 20, [20, 9, 3])]:
        steps = []
        for k, (event, c) in enumerate(zip(["trial", "checkout", "paid"], counts, strict=True)):
            steps.append(
                {
                    "step": k + 1,
                    "event": event,
                    "count": c,
                    "conversion": c / n,
                    "lo": max(c / n - 0.1, 0),
                    "hi": min(c / n + 0.1, 1),
                    "n": n,
                }
            )
        groups.append({"value": value, "steps": steps})
    return {"breakdown": groups, "p_value": 0.054}


def _cells(spec: dict) -> list[dict]:
    (rows,) = [v for v in spec["datasets"].values() if v and "small" in v[0]]
    return rows


def test_retention_cells_under_30_accounts_are_greyed(retention):
    spec = chart_retention_breakdown(retention).to_dict()
    cells = _cells(spec)
    assert len(cells) == 8
    assert all(c["small"] == (c["n"] < SMALL_N) for c in cells)
    # enterprise_it: n = 40, 25, 10, 1 → months 1 to 3 greyed; smb_founder never
    assert [(c["value"], c["k"]) for c in cells if c["small"]] == [
        ("enterprise_it", 1),
        ("enterprise_it", 2),
        ("enterprise_it", 3),
    ]
    colour = spec["layer"][0]["encoding"]["color"]
    assert colour["condition"]["test"] == "datum.small"
    assert colour["condition"]["value"] == "#d9dde2"
    assert colour["field"] == "rate"
    # the small-n cells' labels are their own muted layer, the others' another
    assert spec["layer"][2]["transform"] == [{"filter": "datum.small"}]
    assert spec["layer"][1]["transform"] == [{"filter": "!datum.small"}]
    subtitle = " ".join(spec["title"]["subtitle"])
    assert "n < 30" in subtitle
    assert "p = 0.0017" in subtitle
    assert spec["title"]["text"] == "Activity retention by persona"


def test_retention_tooltip_carries_the_interval_and_n(retention):
    spec = chart_retention_breakdown(retention).to_dict()
    tips = {t["field"]: t["title"] for t in spec["layer"][0]["encoding"]["tooltip"]}
    assert tips["interval"] == "95 % interval"
    assert tips["n"] == "Accounts (n)"
    cell = next(c for c in _cells(spec) if c["value"] == "smb_founder" and c["k"] == 1)
    assert cell["interval"] == "30.0% – 50.0%"


def test_retention_colours_spread_over_the_readable_months(retention):
    spec = chart_retention_breakdown(retention).to_dict()
    # months k >= 1 with n >= 30: smb_founder's 0.4, 0.18, 0.16 (month 0 is 100 % by construction)
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale["domain"] == [0.16, 0.4]
    assert scale["clamp"] is True


def test_retention_options(retention):
    spec = chart_retention_breakdown(retention, max_k=1).to_dict()
    assert {c["k"] for c in _cells(spec)} == {0, 1}
    logo = chart_retention_breakdown(retention, measure="logo_retention").to_dict()
    assert logo["title"]["text"] == "Logo retention by persona"
    assert not any("p =" in s for s in logo["title"]["subtitle"])  # the test is on activity
    bare = chart_retention_breakdown(retention["activity_retention"], title="Mine").to_dict()
    assert bare["title"]["text"] == "Mine"
    assert len(bare["title"]["subtitle"]) == 1
    with pytest.raises(DataError, match="missing key"):
        chart_retention_breakdown({"column": "persona"})
    with pytest.raises(DataError, match="not a breakdown"):
        chart_retention_breakdown(3)


def test_funnel_bars_intervals_and_small_groups(funnel):
    spec = chart_funnel_breakdown(funnel).to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["bar", "errorbar", "errorbar", "text"]
    (bars,) = [v for v in spec["datasets"].values() if v and "small" in v[0]]
    assert len(bars) == 6
    assert {b["value"] for b in bars if b["small"]} == {"email"}  # n = 20
    assert spec["layer"][0]["encoding"]["opacity"]["condition"]["test"] == "datum.small"
    err = spec["layer"][2]["encoding"]
    assert (err["y"]["field"], err["y2"]["field"]) == ("lo", "hi")
    assert [b["text"] for b in bars if b["step"] == 1] == ["", ""]  # 100 % by definition
    subtitle = " ".join(spec["title"]["subtitle"])
    assert "n < 30" in subtitle
    assert "p = 0.054" in subtitle
    assert chart_funnel_breakdown(funnel["breakdown"], title="T").to_dict()["title"]["text"] == "T"


def test_p_value_words():
    one = {"column": "plan", "p_value": None, "activity_retention": []}
    spec = chart_retention_breakdown(one).to_dict()
    assert len(spec["title"]["subtitle"]) == 1  # no test with fewer than two groups
    tiny = {"breakdown": [], "p_value": 1e-9}
    assert chart_funnel_breakdown(tiny).to_dict()["title"]["subtitle"] == [
        "Lines: 95 % intervals; pale bars: fewer than 30 accounts (n < 30)."
    ]


@pytest.mark.slow
def test_breakdown_charts_render_to_svg_and_png(retention, funnel, tmp_path):
    charts = {
        "retention": chart_retention_breakdown(retention),
        "logo": chart_retention_breakdown(retention, measure="logo_retention"),
        "funnel": chart_funnel_breakdown(funnel),
    }
    for name, chart in charts.items():
        svg = render.chart_svg(chart)
        assert svg.startswith("<svg"), name
        assert "enterprise_it" in svg or "direct" in svg, name
        png = render.save_chart(chart, tmp_path / f"{name}.png", scale=1).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n", name
        assert len(png) > 20_000, (name, len(png))
    assert "n &lt; 30" in render.chart_svg(charts["retention"])  # the note is drawn
