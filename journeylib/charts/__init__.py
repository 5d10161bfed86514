"""Charts of the workbench: functions named ``chart_*`` that return altair charts.

Each takes the small polars frames computed by ``journeylib.metrics`` and
returns an ``alt.Chart``/``LayerChart``/``VConcatChart``; none shows or saves.
Show one with ``journeylib.present.render.display``, write it with
``journeylib.present.render.save_chart``. Importing this package registers and enables
the one workbench theme.
"""

from journeylib.charts import theme
from journeylib.charts.acquisition import (
    chart_attribution,
    chart_cac_by_channel,
    chart_cac_by_model,
)
from journeylib.charts.activity import chart_lifecycle, chart_stickiness
from journeylib.charts.blueprint import chart_service_blueprint
from journeylib.charts.breakdowns import chart_funnel_breakdown, chart_retention_breakdown
from journeylib.charts.correlation import chart_correlation
from journeylib.charts.feedback import chart_nps_over_tenure
from journeylib.charts.forecast import chart_forecast, chart_survival
from journeylib.charts.funnels import (
    chart_onboarding_map,
    chart_ordered_funnel,
    chart_stage_funnel,
)
from journeylib.charts.goals import chart_goal_progress
from journeylib.charts.journey_map import chart_journey_map, chart_persona_maps
from journeylib.charts.milestones import chart_milestone_retention, chart_milestone_times
from journeylib.charts.opportunities import chart_opportunity_map
from journeylib.charts.paths import chart_paths
from journeylib.charts.personas import chart_day_in_life, chart_persona_comparison
from journeylib.charts.product import chart_activation, chart_anomalies, chart_health_backtest
from journeylib.charts.retention import chart_retention_heatmap
from journeylib.charts.revenue import chart_mrr_bridge, chart_mrr_movements, chart_nrr_grr
from journeylib.charts.support import chart_ticket_mix
from journeylib.charts.touchpoints import chart_touchpoint_flow
from journeylib.charts.value import chart_value_curves, payback_table

__all__ = [
    "chart_activation",
    "chart_anomalies",
    "chart_attribution",
    "chart_cac_by_channel",
    "chart_cac_by_model",
    "chart_correlation",
    "chart_day_in_life",
    "chart_forecast",
    "chart_funnel_breakdown",
    "chart_goal_progress",
    "chart_health_backtest",
    "chart_journey_map",
    "chart_lifecycle",
    "chart_milestone_retention",
    "chart_milestone_times",
    "chart_mrr_bridge",
    "chart_mrr_movements",
    "chart_nps_over_tenure",
    "chart_nrr_grr",
    "chart_onboarding_map",
    "chart_opportunity_map",
    "chart_ordered_funnel",
    "chart_paths",
    "chart_persona_comparison",
    "chart_persona_maps",
    "chart_retention_breakdown",
    "chart_retention_heatmap",
    "chart_service_blueprint",
    "chart_stage_funnel",
    "chart_stickiness",
    "chart_survival",
    "chart_ticket_mix",
    "chart_touchpoint_flow",
    "chart_value_curves",
    "payback_table",
    "theme",
]
