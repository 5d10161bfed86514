"""The interactive explorer of notebook ``00_explore``: filters, panels and the widget.

``filters`` says which accounts and months a filter state selects, ``panels``
what each panel depends on, computes and draws, and ``widget`` the ipywidgets
:class:`Explorer` that ties them together.
"""

from journeylib.explore.filters import (
    ALL,
    STREAM,
    Filters,
    Scope,
    account_ids,
    client_months,
    dropped_accounts,
)
from journeylib.explore.panels import (
    CONTROL_GROUPS,
    DEPENDENCIES,
    PANELS,
    Drawn,
    FunnelChoice,
    Panel,
    draw,
    note_html,
)
from journeylib.explore.widget import Explorer, explore

__all__ = [
    "ALL",
    "CONTROL_GROUPS",
    "DEPENDENCIES",
    "PANELS",
    "STREAM",
    "Drawn",
    "Explorer",
    "Filters",
    "FunnelChoice",
    "Panel",
    "Scope",
    "account_ids",
    "client_months",
    "draw",
    "dropped_accounts",
    "explore",
    "note_html",
]
