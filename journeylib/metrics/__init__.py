"""Metric functions, one module per family, and the metrics document.

Every definition lives in the metrics definitions (metric catalogue:
:mod:`journeylib.metrics.catalog`). Functions are pure: frames in (polars,
DuckDB or PySpark through narwhals), polars frames or plain values out.
"""

from journeylib.metrics._memo import keep_results
from journeylib.metrics.catalog import CATALOG, catalog_rows, get_metric
from journeylib.metrics.document import metrics_document, metrics_json, summary_lines
from journeylib.metrics.period import resolve_period, with_period

__all__ = [
    "CATALOG",
    "catalog_rows",
    "get_metric",
    "keep_results",
    "metrics_document",
    "metrics_json",
    "resolve_period",
    "summary_lines",
    "with_period",
]
