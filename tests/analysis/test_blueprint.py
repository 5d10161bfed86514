"""The service blueprint's data (journeylib.analysis.blueprint)."""

from __future__ import annotations

import dataclasses

import polars as pl

import journeylib as jl
from journeylib.analysis import blueprint
from journeylib.analysis.stages import stage_pairs
from journeylib.charts import (
    chart_service_blueprint,
)
from journeylib.config import JourneyTemplate
from tests.analysis.analysis_helpers import day


def test_blueprint_places_tickets_on_the_stage_at_opening(world):
    client, doc, _ = world
    tpl = JourneyTemplate.model_validate(
        {
            "stages": [
                {"id": "a", "label": "A", "touchpoints": [{"id": "web", "events": ["visit"]}]},
                {"id": "b", "label": "B", "touchpoints": [{"id": "app", "events": ["login"]}]},
                {
                    "id": "s",
                    "label": "S",
                    "touchpoints": [{"id": "help", "events": ["ticket_opened"]}],
                },
            ]
        }
    )
    tickets = pl.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3", "t4"],
            "account_id": ["x", "x", "y", "z"],
            "opened_at": [day(2), day(5), day(3), day(1)],
            "resolved_at": [day(2, 4), day(5, 10), None, day(1, 1)],
            "category": ["how_to", "bug", "how_to", "bug"],
        }
    )
    stream = pl.DataFrame(
        {
            "account_id": ["x", "x", "y", "x", "x", "y", "z"],
            "timestamp": [day(1), day(4), day(1), day(2), day(5), day(3), day(1)],
            "event": [
                "visit",
                "login",
                "visit",
                "ticket_opened",
                "ticket_opened",
                "ticket_opened",
                "ticket_opened",
            ],
            "touchpoint": ["web", "app", "web", "help", "help", "help", "help"],
            "stage": ["a", "b", "a", "s", "s", "s", "s"],
            "source": ["events"] * 3 + ["tickets"] * 4,
            "anonymous_id": [None] * 7,
        },
        schema_overrides={"anonymous_id": pl.String},
    )
    accounts = pl.DataFrame(
        {
            "account_id": ["x", "y", "z"],
            "first_seen_at": [day(1)] * 3,
            "persona": [None, None, None],
        },
        schema_overrides={"persona": pl.String},
    )
    fake = dataclasses.replace(
        client,
        template=tpl,
        tables={"accounts": accounts, "tickets": tickets, "events": stream},
        config=client.config.model_copy(update={"period": None}),
    )
    front, back = blueprint.blueprint_frames(fake, doc, stream)
    # t1 (x, day 2: in A), t2 (x, day 5: in B), t3 (y, day 3: in A); t4 (z) has no stage
    # median resolution: t1 took 4 h, t3 is unresolved; t2 took 10 h
    assert back.rows() == [("A", 2, "how to", 4.0), ("B", 1, "bug", 10.0)]
    assert set(front["touchpoint"]) == {"web", "app", "help"}


def test_blueprint_on_the_synthetic_client(world):
    client, doc, stream = world
    front, back = blueprint.blueprint_frames(client, doc, stream)
    labels = [lab for _, lab in stage_pairs(client.template)]
    assert set(back["stage"]) <= set(labels)
    period = jl.resolve_period(client)
    opened = client.tables["tickets"].filter(
        pl.col("opened_at").dt.strftime("%Y-%m").is_between(pl.lit(period[0]), pl.lit(period[1]))
    )
    assert 0 < back["tickets"].sum() <= opened.height
    assert (front["accounts"] > 0).all()
    chart_service_blueprint(front, back, stages=labels).to_dict()
