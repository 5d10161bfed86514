"""The one workbench theme for every chart, registered once on import.

Altair 6 keeps themes in ``alt.theme``; registering with ``enable=True`` makes
the theme the active one, and altair merges its config into every
``chart.to_dict()``, so the HTML renderer and vl-convert exports both see it.
"""

from __future__ import annotations

import altair as alt

from journeylib.charts.fonts import font_stack

__all__ = [
    "BAD",
    "FONT",
    "GOOD",
    "INK",
    "MUTED",
    "NEUTRAL",
    "PALETTE",
    "SEQUENTIAL",
    "THEME_NAME",
    "enable_theme",
    "workbench_theme",
]

THEME_NAME = "journey_workbench"

# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
# Yellow is last because it is faint on white.
PALETTE = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
]
GOOD = "#009E73"
BAD = "#D55E00"
NEUTRAL = "#0072B2"
INK = "#1f2933"
MUTED = "#616e7c"
# Single-hue sequential scheme: ordered light to dark, safe for colour-blind readers.
SEQUENTIAL = "blues"

# DejaVu Sans is what vl-convert finds on our machines; browsers use the first
# font they have. Noto Sans CJK SC and Noto Sans Arabic follow as fallbacks for
# Chinese and Arabic text (exports get them from journeylib.charts.fonts); the
# Latin fonts stay first, so English text looks as before.
FONT = font_stack()


@alt.theme.register(THEME_NAME, enable=True)
def workbench_theme() -> alt.theme.ThemeConfig:
    """The workbench theme: readable fonts, Okabe-Ito colours, default size.

    Returns:
        The vega-lite config dictionary of the theme.

    Examples:
        >>> workbench_theme()["config"]["range"]["category"][0]
        '#0072B2'
    """
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "view": {"continuousWidth": 640, "continuousHeight": 320, "stroke": None},
            "range": {"category": PALETTE},
            "title": {
                "fontSize": 16,
                "fontWeight": 600,
                "anchor": "start",
                "color": INK,
                "subtitleFontSize": 12,
                "subtitleColor": MUTED,
                "offset": 10,
            },
            "axis": {
                "labelFontSize": 12,
                "titleFontSize": 13,
                "titleFontWeight": 600,
                "labelColor": INK,
                "titleColor": INK,
                "gridColor": "#e4e7eb",
                "domainColor": "#9aa5b1",
                "tickColor": "#9aa5b1",
                "labelLimit": 240,
            },
            "legend": {
                "labelFontSize": 12,
                "titleFontSize": 12,
                "titleFontWeight": 600,
                "labelLimit": 240,
                "orient": "bottom",
                "direction": "horizontal",
            },
            "header": {"labelFontSize": 13, "titleFontSize": 13, "labelFontWeight": 600},
            "text": {"fontSize": 12, "color": INK},
            "bar": {"color": NEUTRAL},
            "line": {"strokeWidth": 2.5},
            "point": {"size": 60, "filled": True},
        }
    }


def enable_theme() -> None:
    """Make the workbench theme the active altair theme again.

    Registering already enables it; call this after code that switched to
    another theme.

    Examples:
        >>> enable_theme()
        >>> alt.theme.active == THEME_NAME
        True
    """
    alt.theme.enable(THEME_NAME)
