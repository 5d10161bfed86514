"""The interactive explorer of notebook ``00_explore``: filters, panels and the widget."""

from journeylib.explore.widget import (
    ALL,
    DEPENDENCIES,
    PANELS,
    Explorer,
    Filters,
    Panel,
    account_ids,
    client_months,
    dropped_accounts,
    explore,
    restrict_tables,
)

__all__ = [
    "ALL",
    "DEPENDENCIES",
    "PANELS",
    "Explorer",
    "Filters",
    "Panel",
    "account_ids",
    "client_months",
    "dropped_accounts",
    "explore",
    "restrict_tables",
]
