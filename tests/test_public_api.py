"""Names users and notebooks import from ``journeylib`` keep working across the layout's moves."""

import importlib

import pytest

import journeylib as jl

#: ``journeylib.__all__`` before the package was laid out in folders (one name per line).
BEFORE_THE_LAYOUT = """
CATALOG Client ClientConfig ClientNameError ConfigError DataError JourneyError JourneyTemplate
PROJ_ROOT TemplateError account_stage_entries catalog_rows data_dir data_quality derived_events
get_metric init_client journey_events load_client load_client_config load_template
metrics_document metrics_json reports_dir resolve_client_dir resolve_period restrict_to_segment
summary_lines touchpoint_inventory unmapped_events with_period write_rejected
""".split()

#: Where each public name now lives (its one home; ``journeylib`` re-exports it).
HOMES = {
    "Client": "journeylib.ingest.client",
    "load_client": "journeylib.ingest.client",
    "init_client": "journeylib.sources.scaffold",
    "restrict_to_segment": "journeylib.ingest.restrict",
    "journey_events": "journeylib.stream.unified",
    "metrics_document": "journeylib.metrics.document",
    "resolve_period": "journeylib.metrics.period",
    "fit_sbg": "journeylib.metrics.forecast",
}


@pytest.mark.parametrize("name", BEFORE_THE_LAYOUT)
def test_every_name_of_the_old_api_is_still_exported(name):
    assert name in jl.__all__
    assert getattr(jl, name) is not None


@pytest.mark.parametrize(("name", "home"), sorted(HOMES.items()))
def test_a_re_export_is_the_object_of_its_home(name, home):
    assert getattr(jl, name) is getattr(importlib.import_module(home), name)


def test_all_names_exist():
    missing = [n for n in jl.__all__ if not hasattr(jl, n)]
    assert missing == []
