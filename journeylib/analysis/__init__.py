"""Analysis by topic, on top of the metric families: what the notebooks, report and explorer show.

One module per topic: goals, stages, touchpoints, feedback, milestones,
onboarding, personas, segments, interviews; the analytics of analytics.md
(paths, funnel correlation, breakdowns with intervals); the journey map's data
(journey_map, with its KPI lane in map_kpis) and the service blueprint's
(blueprint); the notebooks' captions and messages (notes). Their public names
are gathered here, so a notebook reads ``from journeylib import analysis`` and
``analysis.goals_table(...)``.
"""

from journeylib.analysis import notes
from journeylib.analysis.blueprint import blueprint_frames
from journeylib.analysis.breakdowns import (
    funnel_breakdown,
    logo_retention_breakdown,
    metrics_breakdowns,
    retention_breakdown,
    stage_breakdown,
)
from journeylib.analysis.correlation import (
    CONVERSION_WINDOW,
    conversion_funnel,
    correlation_json,
    funnel_correlation,
    leading_events,
)
from journeylib.analysis.feedback import moments
from journeylib.analysis.goals import (
    CHECK_NAMES,
    NO_GOALS_HELP,
    catalog_table,
    goal_explanations,
    goals_table,
    round_or_none,
    trend_of,
)
from journeylib.analysis.interviews import (
    AUDIENCES,
    CUSTOMER_QUESTIONS,
    SUPPORT_QUESTIONS,
    question_bank,
)
from journeylib.analysis.journey_map import (
    JourneyMapData,
    journey_map_data,
    map_sections,
    opportunity_backlog,
    opportunity_frame,
    persona_map_data,
    report_view,
)
from journeylib.analysis.map_kpis import kpi_lane
from journeylib.analysis.milestones import (
    milestone_revenue,
    milestone_table,
    milestone_times,
    stuck_table,
)
from journeylib.analysis.onboarding import onboarding_steps, variant_steps
from journeylib.analysis.paths import (
    drop_off_paths,
    paths_json,
    readable_paths,
    sankey_min_accounts,
)
from journeylib.analysis.personas import (
    NO_PERSONAS_HELP,
    day_in_life_frame,
    persona_cards,
    persona_labels,
    persona_profile,
    persona_rules_text,
)
from journeylib.analysis.product import (
    account_health_of,
    activation_finder,
    activation_frame,
    call_first,
    health_frame,
)
from journeylib.analysis.segments import (
    FEATURE_COLUMNS,
    persona_segment_crosstab,
    segment_features,
    suggest_segments,
)
from journeylib.analysis.stages import (
    SEVERITY_ORDER,
    largest_drop,
    pain_points,
    stage_briefs,
    stage_entry_summary,
    stage_kpis,
    stage_notes,
    stage_pairs,
)
from journeylib.analysis.touchpoints import (
    event_mapping_snippet,
    stream_in_period,
    touchpoint_channel_mix,
    touchpoint_conversion,
    touchpoint_details,
)

__all__ = [
    "account_health_of",
    "activation_finder",
    "activation_frame",
    "call_first",
    "health_frame",
    "AUDIENCES",
    "CHECK_NAMES",
    "CONVERSION_WINDOW",
    "CUSTOMER_QUESTIONS",
    "FEATURE_COLUMNS",
    "JourneyMapData",
    "NO_GOALS_HELP",
    "NO_PERSONAS_HELP",
    "SEVERITY_ORDER",
    "SUPPORT_QUESTIONS",
    "blueprint_frames",
    "catalog_table",
    "conversion_funnel",
    "correlation_json",
    "day_in_life_frame",
    "drop_off_paths",
    "event_mapping_snippet",
    "funnel_breakdown",
    "funnel_correlation",
    "goal_explanations",
    "goals_table",
    "journey_map_data",
    "kpi_lane",
    "largest_drop",
    "leading_events",
    "logo_retention_breakdown",
    "map_sections",
    "metrics_breakdowns",
    "milestone_revenue",
    "milestone_table",
    "milestone_times",
    "moments",
    "notes",
    "onboarding_steps",
    "opportunity_backlog",
    "opportunity_frame",
    "pain_points",
    "paths_json",
    "persona_cards",
    "persona_labels",
    "persona_map_data",
    "persona_profile",
    "persona_rules_text",
    "persona_segment_crosstab",
    "question_bank",
    "report_view",
    "retention_breakdown",
    "readable_paths",
    "round_or_none",
    "sankey_min_accounts",
    "segment_features",
    "stage_breakdown",
    "stage_briefs",
    "stage_entry_summary",
    "stage_kpis",
    "stage_notes",
    "stage_pairs",
    "stream_in_period",
    "stuck_table",
    "suggest_segments",
    "touchpoint_channel_mix",
    "touchpoint_conversion",
    "touchpoint_details",
    "trend_of",
    "variant_steps",
]
