"""The five metric families written by hand as DuckDB SQL over the client's Parquet files.

The events are read from the month partitions ``events/month=YYYY-MM/*.parquet``,
the other tables from their single Parquet files.

Same definitions as journeylib (shared/spec/metrics.md), same readings:
money summed in integer micro-units, month index = year * 12 + month - 1 in UTC,
the stage funnel over raw + derived journey events mapped by the template,
the ordered funnel by greedy matching (ASOF joins: the first step-k event at or
after the step-(k-1) event, within the window from the attempt's first step).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from common import NO_CHANNEL, month_label


def _mi(col: str) -> str:
    return f"(year({col}) * 12 + month({col}) - 1)"


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _views(con: Any, spec: dict[str, Any]) -> None:
    d = Path(spec["client"])
    for t in ("accounts", "subscriptions", "marketing", "tickets", "surveys"):
        con.execute(
            f"CREATE VIEW {t} AS SELECT * FROM read_parquet({_q(str(d / (t + '.parquet')))})"
        )
    # the month partitions; their names are not read as a column (the rows carry timestamps)
    con.execute(
        "CREATE VIEW events AS SELECT * FROM "
        f"read_parquet({_q(spec['events_glob'])}, hive_partitioning = false)"
    )
    values = ", ".join(f"({_q(e)}, {i})" for e, i in spec["stage_of"].items())
    con.execute("CREATE TABLE stage_map(event VARCHAR, idx INTEGER)")
    con.execute(f"INSERT INTO stage_map VALUES {values}")


def revenue_sql(first: int, last: int) -> str:
    micro = "CAST(floor(mrr * 1000000 + 0.5) AS BIGINT)"
    return f"""
    WITH paid AS (
      SELECT account_id, {_mi("month")} AS mi, {micro} AS micro
      FROM subscriptions WHERE {micro} > 0
    ), w AS (
      SELECT *, lag(mi) OVER w AS pmi, lag(micro) OVER w AS pmicro, lead(mi) OVER w AS nmi
      FROM paid WINDOW w AS (PARTITION BY account_id ORDER BY mi)
    ), mv AS (
      SELECT mi, micro AS mrr, 1 AS cust,
        CASE WHEN pmi IS NULL THEN micro ELSE 0 END AS new_mrr,
        CASE WHEN pmi < mi - 1 THEN micro ELSE 0 END AS react_mrr,
        CASE WHEN pmi = mi - 1 AND micro > pmicro THEN micro - pmicro ELSE 0 END AS exp_mrr,
        CASE WHEN pmi = mi - 1 AND micro < pmicro THEN micro - pmicro ELSE 0 END AS contr_mrr,
        0 AS churn_mrr
      FROM w
      UNION ALL
      SELECT mi + 1, 0, 0, 0, 0, 0, 0, -micro FROM w WHERE nmi IS NULL OR nmi > mi + 1
    ), agg AS (
      SELECT mi, sum(mrr) AS mrr, sum(cust) AS cust, sum(new_mrr) AS new_mrr,
        sum(exp_mrr) AS exp_mrr, sum(react_mrr) AS react_mrr, sum(contr_mrr) AS contr_mrr,
        sum(churn_mrr) AS churn_mrr
      FROM mv GROUP BY mi
    ), tf AS (SELECT min({_mi("month")}) AS tfirst FROM subscriptions)
    SELECT m.range AS mi, coalesce(a.mrr, 0) / 1e6, coalesce(a.cust, 0),
      coalesce(a.new_mrr, 0) / 1e6, coalesce(a.exp_mrr, 0) / 1e6, coalesce(a.react_mrr, 0) / 1e6,
      coalesce(a.contr_mrr, 0) / 1e6, coalesce(a.churn_mrr, 0) / 1e6,
      (coalesce(a.new_mrr, 0) + coalesce(a.exp_mrr, 0) + coalesce(a.react_mrr, 0)
        + coalesce(a.contr_mrr, 0) + coalesce(a.churn_mrr, 0)) / 1e6
    FROM range({first}, {last + 1}) m CROSS JOIN tf LEFT JOIN agg a ON a.mi = m.range
    WHERE m.range - 1 >= tf.tfirst ORDER BY 1
    """


def retention_sql(first: int, last: int) -> str:
    return f"""
    WITH su AS (
      SELECT account_id, {_mi("signup_at")} AS c FROM accounts
      WHERE signup_at IS NOT NULL AND {_mi("signup_at")} BETWEEN {first} AND {last}
    ), act AS (
      SELECT DISTINCT account_id, {_mi("timestamp")} AS mi FROM events WHERE account_id IS NOT NULL
    ), sizes AS (SELECT c, count(*) AS size FROM su GROUP BY c),
    active AS (
      SELECT su.c, act.mi - su.c AS k, count(*) AS n FROM su JOIN act USING (account_id)
      WHERE act.mi >= su.c AND act.mi <= {last} GROUP BY ALL
    ), grid AS (SELECT c, size, unnest(range(0, {last} - c + 1)) AS k FROM sizes)
    SELECT g.c, g.k, g.size, coalesce(a.n, 0) / g.size
    FROM grid g LEFT JOIN active a ON a.c = g.c AND a.k = g.k ORDER BY 1, 2
    """


def stages_sql(first: int, last: int, n_stages: int) -> str:
    # Derived journey events (journeylib.stream): signed_up, the revenue moments, tickets, surveys.
    return f"""
    WITH acc AS (
      SELECT DISTINCT account_id FROM accounts WHERE {_mi("first_seen_at")} BETWEEN {first} AND {last}
    ), s AS (
      SELECT account_id, mi, mrr, paid,
        CASE WHEN lag(mi) OVER w = mi - 1 THEN lag(mrr) OVER w ELSE 0 END AS p,
        lead(mi) OVER w AS nmi,
        sum(paid::INT) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > 0 AS pb,
        max(mi) OVER () AS last_mi
      FROM (SELECT account_id, {_mi("month")} AS mi, coalesce(mrr, 0) AS mrr,
                   coalesce(mrr, 0) > 0 AS paid FROM subscriptions)
      WINDOW w AS (PARTITION BY account_id ORDER BY mi)
    ), derived AS (
      SELECT account_id, 'signed_up' AS event, {_mi("signup_at")} AS mi FROM accounts WHERE signup_at IS NOT NULL
      UNION ALL SELECT account_id, 'subscription_started', mi FROM s WHERE paid AND p = 0 AND NOT coalesce(pb, false)
      UNION ALL SELECT account_id, 'reactivated', mi FROM s WHERE paid AND p = 0 AND coalesce(pb, false)
      UNION ALL SELECT account_id, 'subscription_renewed', mi FROM s WHERE paid AND p > 0
      UNION ALL SELECT account_id, 'expanded', mi FROM s WHERE paid AND p > 0 AND mrr > p
      UNION ALL SELECT account_id, 'contracted', mi FROM s WHERE paid AND p > 0 AND mrr < p
      UNION ALL SELECT account_id, 'churned', mi FROM s WHERE NOT paid AND p > 0
      UNION ALL SELECT account_id, 'churned', mi + 1 FROM s
        WHERE paid AND (nmi IS NULL OR nmi <> mi + 1) AND mi + 1 <= last_mi
      UNION ALL SELECT account_id, 'ticket_opened', {_mi("opened_at")} FROM tickets
      UNION ALL SELECT account_id, 'ticket_resolved', {_mi("resolved_at")} FROM tickets WHERE resolved_at IS NOT NULL
      UNION ALL SELECT account_id, 'survey_answered', {_mi("responded_at")} FROM surveys
    ), rows AS (
      SELECT account_id, event, {_mi("timestamp")} AS mi FROM events WHERE account_id IS NOT NULL
      UNION ALL SELECT * FROM derived
    ), furthest AS (
      SELECT r.account_id, max(m.idx) AS f
      FROM rows r JOIN stage_map m USING (event) JOIN acc USING (account_id)
      WHERE r.mi <= {last} GROUP BY r.account_id
    )
    SELECT s.range AS idx, count(f.account_id) FROM range(0, {n_stages}) s
    LEFT JOIN furthest f ON f.f >= s.range GROUP BY s.range ORDER BY s.range
    """


def funnel_sql(first: int, last: int, steps: list[str], window_us: int) -> str:
    e1, e2, e3 = (_q(s) for s in steps)
    return f"""
    WITH e AS (
      SELECT account_id, timestamp AS ts, event FROM events
      WHERE account_id IS NOT NULL AND event IN ({e1}, {e2}, {e3})
        AND {_mi("timestamp")} BETWEEN {first} AND {last}
    ), a AS (SELECT account_id, ts AS t1 FROM e WHERE event = {e1}),
    b AS (SELECT account_id, ts FROM e WHERE event = {e2}),
    c AS (SELECT account_id, ts FROM e WHERE event = {e3}),
    ab AS (
      SELECT a.account_id, a.t1,
        CASE WHEN b.ts <= a.t1 + to_microseconds({window_us}) THEN b.ts END AS t2
      FROM a ASOF LEFT JOIN b ON a.account_id = b.account_id AND b.ts >= a.t1
    ), abc AS (
      -- only attempts that reached step 2 (an ASOF LEFT JOIN on a NULL key lost rows' t2 here)
      SELECT ab.account_id, c.ts <= ab.t1 + to_microseconds({window_us}) AS ok3
      FROM (SELECT * FROM ab WHERE t2 IS NOT NULL) ab
      ASOF JOIN c ON ab.account_id = c.account_id AND c.ts >= ab.t2
    )
    SELECT (SELECT count(DISTINCT account_id) FROM a),
      (SELECT count(DISTINCT account_id) FROM ab WHERE t2 IS NOT NULL),
      (SELECT count(DISTINCT account_id) FROM abc WHERE ok3)
    """


def cac_sql(first: int, last: int) -> str:
    micro = "CAST(floor(spend * 1000000 + 0.5) AS BIGINT)"
    return f"""
    WITH mk AS (
      SELECT channel, sum({micro}) AS spend FROM marketing
      WHERE {_mi("month")} BETWEEN {first} AND {last} GROUP BY channel
    ), tf AS (SELECT min({_mi("month")}) AS tfirst FROM subscriptions),
    firsts AS (
      SELECT account_id, min({_mi("month")}) AS fmi FROM subscriptions
      WHERE floor(mrr * 1000000 + 0.5) > 0 GROUP BY account_id
    ), new AS (
      SELECT account_id FROM firsts, tf WHERE fmi BETWEEN greatest({first}, tfirst + 1) AND {last}
    ), nc AS (
      SELECT coalesce(a.acquisition_channel, {_q(NO_CHANNEL)}) AS channel, count(*) AS n
      FROM new LEFT JOIN accounts a USING (account_id) GROUP BY 1
    )
    SELECT channel, coalesce(spend, 0) / 1e6, coalesce(n, 0),
      CASE WHEN n > 0 THEN coalesce(spend, 0) / 1e6 / n END
    FROM mk FULL OUTER JOIN nc USING (channel)
    """


def run(spec: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    _views(con, spec)
    first, last = spec["period"]
    steps: dict[str, float] = {}
    tick = time.perf_counter()

    def step(name: str, sql: str, one: bool = False) -> Any:
        nonlocal tick
        cur = con.execute(sql)
        out = cur.fetchone() if one else cur.fetchall()
        now = time.perf_counter()
        steps[name] = now - tick
        tick = now
        return out

    rev = step("revenue", revenue_sql(first, last))
    ret = step("retention", retention_sql(first, last))
    st = step("stages", stages_sql(first, last, len(spec["stages"])))
    fun = step("funnel", funnel_sql(first, last, spec["funnel_steps"], spec["window_us"]), one=True)
    cac = step("cac", cac_sql(first, last))
    t1 = time.perf_counter()
    stage_ids = spec["stages"]
    return {
        "load_seconds": 0.0,
        "compute_seconds": t1 - t0,
        "steps": steps,
        "results": {
            "revenue": [[month_label(r[0]), *r[1:]] for r in rev],
            "retention": [[month_label(r[0]), *r[1:]] for r in ret],
            "stages": [[stage_ids[i], n] for i, n in st],
            "funnel": list(fun),
            "cac": [list(r) for r in cac],
        },
    }
