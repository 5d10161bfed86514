"""The unified journey event stream: raw events, derived events, touchpoints and stages.

The tables of a client become one stream of journey events, ordered by
(account, timestamp, seq), with the columns of :data:`STREAM_COLUMNS`. Besides
the raw ``events`` rows it *derives* events from the other tables (data.md:
"The unified journey event stream") so that a template can place sign-up,
revenue, support and survey moments on the journey like any other event, and
it attaches each event's ``touchpoint`` and ``stage`` from the template.

Everything is written on narwhals and stays lazy until the end, so it runs on
polars (eager or lazy) and DuckDB alike: one pass over the events, the
template mapping applied as a tiny ``replace_strict`` lookup, no row loops.

Choices made where the spec leaves room (the "natural reading" rule):

* Derived rows carry null ``user_id``, ``anonymous_id``, ``channel``,
  ``campaign`` and ``variant``. ``tickets.channel`` (chat, email, phone) is
  *not* copied into ``channel``: that column holds the marketing vocabulary of
  the raw events (organic_search, email, ...) that attribution reads, and a
  support e-mail is not a marketing e-mail.
* ``seq`` is the raw events' file row order (0, 1, ...; an existing ``seq``
  column of the events frame is used as is). On engines without a row order
  (DuckDB, Spark) and no ``seq`` column, raw rows are numbered in
  (timestamp, account_id, anonymous_id, user_id, event, ...) order instead.
  Derived rows follow all raw rows (seq = number of raw rows + k, k numbered
  by account, timestamp, source table, event kind, ticket/response id), so at
  equal timestamps a raw event comes before a derived one.
* ``survey_answered`` is mapped by the template like every event; the
  ``stage``/``touchpoint`` columns of the surveys table (where a survey was
  asked) stay in that table for the NPS-by-stage metric.
* Anonymous rows (null ``account_id``) sort after all accounts.

The stream is built in :mod:`journeylib.stream.unified` from the raw events
and the derived events of :mod:`journeylib.stream.derived`;
:mod:`journeylib.stream.inventory` reports what it covers.
"""

from journeylib.stream.derived import DERIVED_EVENTS, derived_events
from journeylib.stream.inventory import (
    account_stage_entries,
    touchpoint_inventory,
    touchpoint_table,
    unmapped_events,
)
from journeylib.stream.unified import STREAM_COLUMNS, events, journey_events, map_events

__all__ = [
    "DERIVED_EVENTS",
    "STREAM_COLUMNS",
    "account_stage_entries",
    "derived_events",
    "events",
    "journey_events",
    "map_events",
    "touchpoint_inventory",
    "touchpoint_table",
    "unmapped_events",
]
