"""Journey Workbench: customer journey maps computed from a SaaS company's data.

The public API in one place. Notebooks read like::

    import journeylib as jl
    client = jl.load_client("demo")
    doc = jl.metrics_document(client)
    stream = jl.journey_events(client)
"""

from journeylib.config import ClientConfig, JourneyTemplate, load_client_config, load_template
from journeylib.errors import ClientNameError, ConfigError, DataError, JourneyError, TemplateError
from journeylib.ingest.client import Client, data_quality, load_client, write_rejected
from journeylib.ingest.restrict import restrict_to_accounts, restrict_to_segment
from journeylib.metrics import (
    CATALOG,
    catalog_rows,
    get_metric,
    metrics_document,
    metrics_json,
    resolve_period,
    summary_lines,
    with_period,
)
from journeylib.metrics.forecast import fit_sbg
from journeylib.paths import PROJ_ROOT, data_dir, reports_dir, resolve_client_dir
from journeylib.sources.scaffold import init_client
from journeylib.stream import (
    account_stage_entries,
    derived_events,
    journey_events,
    touchpoint_inventory,
    unmapped_events,
)

__version__ = "0.1.0"

__all__ = [
    "CATALOG",
    "Client",
    "ClientConfig",
    "ClientNameError",
    "ConfigError",
    "DataError",
    "JourneyError",
    "JourneyTemplate",
    "PROJ_ROOT",
    "TemplateError",
    "account_stage_entries",
    "catalog_rows",
    "data_dir",
    "data_quality",
    "derived_events",
    "fit_sbg",
    "get_metric",
    "init_client",
    "journey_events",
    "load_client",
    "load_client_config",
    "load_template",
    "metrics_document",
    "metrics_json",
    "reports_dir",
    "resolve_client_dir",
    "resolve_period",
    "restrict_to_accounts",
    "restrict_to_segment",
    "summary_lines",
    "touchpoint_inventory",
    "unmapped_events",
    "with_period",
    "write_rejected",
]
