"""The chart fixtures of tests/charts, for the renderer's tests."""

from tests.charts.conftest import stages, ticket_mix  # noqa: F401 - pytest fixtures
