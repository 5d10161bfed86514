"""Presentation: chart rendering (the vega bundle inlined once), HTML tables, and the notebooks' shared helpers."""
