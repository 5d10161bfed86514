"""Analysis by topic on top of the metric families: goals, personas, touchpoints, stages, milestones, onboarding, feedback, journey-map data."""
