"""Onboarding and micro-journey steps (journeylib.analysis.onboarding)."""

from __future__ import annotations

from journeylib.analysis import onboarding


def test_onboarding_and_variant_steps(world):
    client, _, stream = world
    steps = onboarding.onboarding_steps(client, stream)
    onb = next(s for s in client.template.stages if s.id == "onboarding")
    listed = {e for tp in onb.touchpoints for e in tp.events}
    assert steps and set(steps) <= listed
    assert client.config.first_value.event in steps
    var = onboarding.variant_steps(stream)
    assert var == ["checkout_started", "plan_selected", "payment_submitted"]
