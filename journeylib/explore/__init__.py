"""The interactive explorer of notebook ``00_explore``: filters, panels and the widget.

``source`` says where a client is read from (its client store, or a client in
memory), ``filters`` which accounts and months a filter state selects,
``compute`` what each panel computes from the store's marts and lazy scans,
``panels`` what each panel depends on and draws, and ``widget`` the
ipywidgets :class:`Explorer` that ties them together.
"""

from journeylib.explore import compute
from journeylib.explore.filters import (
    ALL,
    STREAM,
    Filters,
    Scope,
    account_ids,
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
from journeylib.explore.source import Options, Source, client_months, load_options
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
    "Options",
    "Panel",
    "Scope",
    "Source",
    "account_ids",
    "client_months",
    "compute",
    "draw",
    "dropped_accounts",
    "explore",
    "load_options",
    "note_html",
]
