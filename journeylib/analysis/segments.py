"""Data-driven segments of the accounts, to set beside the personas.

:func:`suggest_segments` clusters accounts on firmographic and behavioural
features (:func:`segment_features`; scikit-learn k-means on a small
standardised matrix) and describes each cluster in words, so an analyst can
name it and compare it with the personas (:func:`persona_segment_crosstab`).
The population and the paid months are read as for the personas (one home:
:mod:`journeylib.analysis._accounts`). The descriptions are in the current
language (:mod:`journeylib.i18n`); segment ids and industries stay as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl

from journeylib.analysis._accounts import paid_summary, population
from journeylib.formatting import format_value
from journeylib.frames import collect, to_lazy, to_polars
from journeylib.i18n import gettext as _
from journeylib.months import month_index, month_index_of, months_filter

__all__ = [
    "FEATURE_COLUMNS",
    "persona_segment_crosstab",
    "segment_features",
    "suggest_segments",
]

#: Behavioural and firmographic feature columns of :func:`segment_features` (besides industry).
FEATURE_COLUMNS: tuple[str, ...] = (
    "company_size",
    "events_per_active_month",
    "distinct_touchpoints",
    "days_to_first_value",
    "paid",
    "mrr",
)

_OTHER = "other"
_K_SAMPLE = 20_000  # accounts on which k is chosen for large clients


def segment_features(
    accounts: Any,
    stream: Any | None,
    subscriptions: Any | None,
    *,
    period: tuple[str, str] | None = None,
    first_value_event: str | None = None,
    top_industries: int = 5,
) -> pl.DataFrame:
    """Per account: the firmographic and behavioural features :func:`suggest_segments` clusters on.

    Features (all up to the period's last month; the whole data without a period):
    ``company_size`` (employees; null when unknown), ``industry_group`` (the
    ``top_industries`` most common industries, the rest ``other``),
    ``events_per_active_month`` (raw events / calendar months with a raw event;
    0 without events), ``distinct_touchpoints`` (touchpoints of the journey
    stream the account touched), ``days_to_first_value`` (days from sign-up, or
    first seen without a sign-up, to the first ``first_value_event``; null when
    never reached or no event is configured), ``paid`` (1 when it paid in any
    month, else 0), ``mrr`` (MRR in the last month).

    Examples:
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
        >>> acc = pl.DataFrame({"account_id": ["a", "b"], "first_seen_at": [t, t],
        ...     "industry": ["x", "y"], "company_size": [10, 20]})
        >>> ev = pl.DataFrame({"account_id": ["a", "a"], "timestamp": [t, t],
        ...     "event": ["login", "report"], "touchpoint": ["app", "app"], "source": ["events"] * 2})
        >>> f = segment_features(acc, ev, None, first_value_event="report")
        >>> f.select("account_id", "events_per_active_month", "distinct_touchpoints",
        ...     "days_to_first_value", "paid").rows()
        [('a', 2.0, 1, 0.0, 0), ('b', 0.0, 0, None, 0)]
    """
    last = month_index(period[1]) if period else None
    acc = population(accounts, last)
    cols = acc.columns
    size = (
        pl.col("company_size").cast(pl.Float64)
        if "company_size" in cols
        else pl.lit(None, pl.Float64)
    )
    industry = pl.col("industry").cast(pl.String) if "industry" in cols else pl.lit(None, pl.String)
    start = (
        pl.coalesce(pl.col("signup_at"), pl.col("first_seen_at"))
        if "signup_at" in cols
        else pl.col("first_seen_at")
    )
    feats = acc.select(
        "account_id", size.alias("company_size"), industry.alias("industry"), start.alias("_start")
    )
    top = (
        feats.filter(pl.col("industry").is_not_null())
        .group_by("industry")
        .agg(pl.len().alias("n"))
        .sort(["n", "industry"], descending=[True, False])
        .head(top_industries)["industry"]
        .to_list()
    )
    feats = feats.with_columns(
        pl.when(pl.col("industry").is_in(top))
        .then(pl.col("industry"))
        .otherwise(pl.lit(_OTHER))
        .alias("industry_group")
    )
    ev_rate = pl.DataFrame(schema={"account_id": pl.String, "events_per_active_month": pl.Float64})
    tps = pl.DataFrame(schema={"account_id": pl.String, "distinct_touchpoints": pl.Int64})
    fv = pl.DataFrame(schema={"account_id": pl.String, "_fv_at": pl.Datetime("us", "UTC")})
    if stream is not None:
        lf = to_lazy(stream).filter(~nw.col("account_id").is_null())
        if last is not None:
            lf = lf.filter(months_filter(lf, "timestamp", last=last))
        names = lf.collect_schema().names()
        raw = lf.filter(nw.col("source") == "events") if "source" in names else lf
        ev_rate = collect(
            raw.with_columns(month_index_of("timestamp").alias("_mi"))
            .group_by("account_id")
            .agg(nw.len().alias("_n"), nw.col("_mi").n_unique().alias("_months"))
            .with_columns(
                (nw.col("_n").cast(nw.Float64()) / nw.col("_months")).alias(
                    "events_per_active_month"
                )
            )
            .select("account_id", "events_per_active_month")
        )
        if "touchpoint" in names:
            tps = collect(
                lf.filter(~nw.col("touchpoint").is_null())
                .group_by("account_id")
                .agg(nw.col("touchpoint").n_unique().cast(nw.Int64()).alias("distinct_touchpoints"))
            )
        if first_value_event is not None:
            fv = collect(
                lf.filter(nw.col("event") == first_value_event)
                .group_by("account_id")
                .agg(nw.col("timestamp").min().alias("_fv_at"))
            )
    paid = paid_summary(subscriptions, last)
    days = (pl.col("_fv_at") - pl.col("_start")).dt.total_microseconds() / 86_400_000_000
    out = (
        feats.join(ev_rate, on="account_id", how="left")
        .join(tps, on="account_id", how="left")
        .join(
            fv.with_columns(pl.col("_fv_at").cast(pl.Datetime("us", "UTC"))),
            on="account_id",
            how="left",
        )
        .join(paid, on="account_id", how="left")
        .with_columns(
            pl.col("events_per_active_month").fill_null(0.0),
            pl.col("distinct_touchpoints").fill_null(0).cast(pl.Int64),
            # a first-value event before the start (e.g. during a trial without sign-up) counts as 0
            pl.when(days >= 0).then(days).when(days < 0).then(0.0).alias("days_to_first_value"),
            pl.col("first_paid").is_not_null().cast(pl.Int64).alias("paid"),
            pl.col("mrr_last").fill_null(0.0).alias("mrr"),
        )
    )
    return out.select(
        "account_id", "company_size", "industry", "industry_group", *FEATURE_COLUMNS[1:]
    ).sort("account_id")


def _model_matrix(feats: pl.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Standardised numeric matrix: logs of skewed counts, imputed nulls, one-hot industry."""
    size = pl.col("company_size")
    med_size = feats["company_size"].median()
    fv = pl.col("days_to_first_value")
    fv_max = feats["days_to_first_value"].max()
    cols = {
        "log_company_size": (size.fill_null(med_size if med_size is not None else 1.0))
        .clip(1.0, None)
        .log(),
        "log_events_per_active_month": pl.col("events_per_active_month").log1p(),
        "distinct_touchpoints": pl.col("distinct_touchpoints").cast(pl.Float64),
        # never reached first value: as slow as the slowest that did
        "days_to_first_value": fv.fill_null(fv_max if fv_max is not None else 0.0).log1p(),
        "paid": pl.col("paid").cast(pl.Float64),
        "log_mrr": pl.col("mrr").log1p(),
    }
    num = feats.select(**cols)
    groups = sorted(set(feats["industry_group"].to_list()))
    onehot = feats.select(
        [(pl.col("industry_group") == g).cast(pl.Float64).alias(f"industry={g}") for g in groups]
    )
    mat = pl.concat([num, onehot], how="horizontal")
    x = mat.to_numpy().astype(float)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0  # a constant column carries no information; keep it at 0
    x = (x - x.mean(axis=0)) / sd
    # One-hot columns together weigh like one numeric feature, so industry does not dominate.
    n_hot = onehot.width
    if n_hot:
        x[:, num.width :] /= math.sqrt(n_hot)
    return x, mat.columns


def _level(z: float, low: str, mid: str, high: str) -> str:
    return high if z >= 0.5 else low if z <= -0.5 else mid


def _describe(seg: dict[str, Any]) -> str:
    """One line that an analyst can turn into a segment name.

    ``seg`` holds the segment's raw summaries and, under ``z_<feature>``, the
    segment's mean of each standardised model column (0 = the average account,
    ±0.5 = half a standard deviation away).
    """

    def z(key: str) -> float:
        v = seg.get(f"z_{key}")
        return 0.0 if v is None else float(v)

    parts = []
    size = seg.get("company_size_median")
    if size is not None:
        # absolute bands (the usual SMB / mid-market / enterprise split), not relative ones
        size_text = (
            _("small companies (median {employees} employees)")
            if size <= 50
            else _("mid-size companies (median {employees} employees)")
            if size < 500
            else _("large companies (median {employees} employees)")
        )
        parts.append(size_text.format(employees=format_value(size, "count")))
    usage = _level(
        z("log_events_per_active_month"),
        _("light usage ({events} events per active month)"),
        _("moderate usage ({events} events per active month)"),
        _("heavy usage ({events} events per active month)"),
    )
    parts.append(usage.format(events=format_value(seg["events_per_active_month"], "count")))
    paid = seg["paid_share"]
    paid_text = (
        _("mostly paying ({share} paid)")
        if paid >= 0.6
        else _("few paying ({share} paid)")
        if paid <= 0.2
        else _("partly paying ({share} paid)")
    )
    parts.append(paid_text.format(share=format_value(paid, "fraction", digits=0)))
    if seg.get("days_to_first_value") is not None:
        # a low standardised time to first value is fast
        speed = _level(
            -z("days_to_first_value"),
            _("slow to first value (median {days})"),
            "",
            _("fast to first value (median {days})"),
        )
        if speed:
            parts.append(
                speed.format(days=format_value(seg["days_to_first_value"], "days", digits=0))
            )
    if (seg.get("top_industry_share") or 0) >= 0.4 and seg.get("top_industry") not in (
        None,
        _OTHER,
    ):
        share = format_value(seg["top_industry_share"], "fraction", digits=0)
        parts.append(
            _("mostly {industry} ({share})").format(industry=seg["top_industry"], share=share)
        )
    return _(", ").join(parts)


def suggest_segments(
    accounts: Any,
    stream: Any | None,
    subscriptions: Any | None,
    *,
    k: int | None = None,
    seed: int = 0,
    period: tuple[str, str] | None = None,
    first_value_event: str | None = None,
    top_industries: int = 5,
    k_range: Sequence[int] = (3, 4, 5, 6),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Data-driven segments: k-means on firmographic and behavioural features, described in words.

    The features of :func:`segment_features` become a standardised matrix:
    log company size (unknown sizes take the median), log events per active
    month, distinct touchpoints, log days to first value (never reached = the
    slowest observed), paid yes/no, log MRR, and one-hot industry groups (scaled
    so that together they weigh like one feature). scikit-learn's ``KMeans``
    (``n_init=10``, ``random_state=seed``) clusters it; with ``k=None`` the k of
    ``k_range`` with the best silhouette score (on a sample of at most 3,000
    accounts, drawn with ``seed``) wins; above 20,000 accounts k is chosen on
    a seeded sample of 20,000 (whose distinct rows also bound k; a given ``k``
    is bounded by every account's), and every
    account is then clustered by k-means started from the sample's centres
    (one run: at 200,000 accounts 0.05 s instead of 0.5 s, the same segments
    for all but a few accounts). Segments are numbered ``S1``, ``S2``, …
    from the largest; the same inputs give the same segments.

    The description reads: company size in absolute bands of the segment's
    median (up to 50 employees small, 51–499 mid-size, 500 and more large);
    usage and time to first value relative to the average account (half a
    standard deviation or more away); "mostly paying" from 60 % paid, "few
    paying" up to 20 %; the top industry when it holds 40 % of the segment.

    Args:
        accounts: accounts table.
        stream: the journey event stream (or None).
        subscriptions: subscriptions table (or None).
        k: number of segments, or None to choose by silhouette.
        seed: random seed (k-means initialisation, silhouette sample).
        period: closed range of months; features use data up to its end.
        first_value_event: the event of first value (``client.yaml: first_value``).
        top_industries: industries kept apart; the rest are grouped as ``other``.
        k_range: the k tried when ``k`` is None.

    Returns:
        ``(assignments, description)``: ``assignments[account_id, segment]`` and
        ``description[segment, size, share, description, company_size_median,
        events_per_active_month, distinct_touchpoints, days_to_first_value,
        paid_share, mrr_mean, top_industry, top_industry_share, silhouette]``
        (``days_to_first_value`` is the median over the accounts that reached it;
        ``silhouette`` is the score of the chosen k, the same on every row).

    Examples:
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
        >>> acc = pl.DataFrame({"account_id": [f"a{i}" for i in range(12)], "first_seen_at": [t] * 12,
        ...     "company_size": [5, 6, 7, 8, 50, 60, 70, 80, 900, 1000, 1100, 1200]})
        >>> assign, desc = suggest_segments(acc, None, None, k=3)
        >>> desc["size"].to_list(), assign.height
        ([4, 4, 4], 12)
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    feats = segment_features(
        accounts,
        stream,
        subscriptions,
        period=period,
        first_value_event=first_value_event,
        top_industries=top_industries,
    )
    n = feats.height
    if n == 0:
        return (
            pl.DataFrame(schema={"account_id": pl.String, "segment": pl.String}),
            pl.DataFrame(
                schema={
                    "segment": pl.String,
                    "size": pl.Int64,
                    "share": pl.Float64,
                    "description": pl.String,
                }
            ),
        )
    x, names = _model_matrix(feats)
    # Large clients: k is chosen on a seeded sample, whose distinct rows also bound k
    sel = x
    if n > _K_SAMPLE:
        rows = np.sort(np.random.default_rng(seed).choice(n, _K_SAMPLE, replace=False))
        sel = x[rows]
    n_distinct = len(np.unique(sel.round(9), axis=0))

    def fit(kk: int, data: np.ndarray = x, init: np.ndarray | None = None) -> Any:
        # One thread: on a busy machine OpenMP oversubscription made this 10x slower.
        with threadpool_limits(1):
            if init is None:
                return KMeans(n_clusters=kk, n_init=10, random_state=seed).fit(data)
            return KMeans(n_clusters=kk, init=init, n_init=1, random_state=seed).fit(data)

    best_sil: float | None = None
    if k is None:
        candidates = [kk for kk in k_range if 2 <= kk <= min(n_distinct, n - 1)]
        if not candidates:
            k = max(1, min(n_distinct, 2))
            labels = fit(k).labels_
        else:
            best = None
            sample = min(sel.shape[0], 3000)
            for kk in candidates:
                model = fit(kk, sel)
                lab = model.labels_
                if len(set(lab.tolist())) < 2:
                    continue
                with threadpool_limits(1):
                    sil = float(silhouette_score(sel, lab, sample_size=sample, random_state=seed))
                # strictly better only: ties keep the smaller k
                if best is None or sil > best[0] + 1e-12:
                    best = (sil, kk, model)
            if best is None:
                k = candidates[0]
                labels = fit(k).labels_
            else:
                best_sil, k, model = best
                labels = model.labels_
                if sel is not x:  # every account, from the sample's centres
                    labels = fit(k, x, init=model.cluster_centers_).labels_
    else:
        n_distinct = len(np.unique(x.round(9), axis=0))  # a given k: bounded by every account
        k = max(1, min(int(k), n_distinct))
        labels = fit(k).labels_
        if 2 <= k <= n - 1 and len(set(labels.tolist())) > 1:
            best_sil = float(
                silhouette_score(x, labels, sample_size=min(n, 3000), random_state=seed)
            )

    feats = feats.with_columns(pl.Series("_cluster", labels.astype(np.int64)))
    # Number segments from the largest; ties by the cluster's mean MRR then id, for stability.
    order = (
        feats.group_by("_cluster")
        .agg(pl.len().alias("_n"), pl.col("mrr").mean().alias("_m"))
        .sort(["_n", "_m", "_cluster"], descending=[True, True, False])
        .with_columns(pl.format("S{}", pl.int_range(1, pl.len() + 1)).alias("segment"))
        .select("_cluster", "segment")
    )
    feats = feats.join(order, on="_cluster", how="left")
    desc = (
        feats.group_by("segment")
        .agg(
            pl.len().cast(pl.Int64).alias("size"),
            pl.col("company_size").median().alias("company_size_median"),
            pl.col("events_per_active_month").mean(),
            pl.col("distinct_touchpoints").mean().cast(pl.Float64),
            pl.col("days_to_first_value").median(),
            pl.col("paid").mean().alias("paid_share"),
            pl.col("mrr").mean().alias("mrr_mean"),
        )
        .with_columns((pl.col("size") / n).alias("share"))
    )
    top_ind = (
        feats.filter(pl.col("industry").is_not_null())
        .group_by("segment", "industry")
        .agg(pl.len().alias("_n"))
        .join(desc.select("segment", "size"), on="segment")
        .sort(["segment", "_n", "industry"], descending=[False, True, False])
        .group_by("segment", maintain_order=True)
        .agg(
            pl.col("industry").first().alias("top_industry"),
            (pl.col("_n").first() / pl.col("size").first()).alias("top_industry_share"),
        )
    )
    desc = desc.join(top_ind, on="segment", how="left")
    # words: the segment's means of the standardised numeric columns (the matrix is centred)
    model = pl.DataFrame(x[:, :6], schema=[f"z_{c}" for c in names[:6]], orient="row").with_columns(
        feats["segment"]
    )
    seg_means = {r["segment"]: r for r in model.group_by("segment").mean().iter_rows(named=True)}
    texts = [_describe({**row, **seg_means[row["segment"]]}) for row in desc.iter_rows(named=True)]
    desc = desc.with_columns(
        pl.Series("description", texts, dtype=pl.String),
        pl.lit(best_sil, pl.Float64).alias("silhouette"),
    ).with_columns(pl.col("segment").str.slice(1).cast(pl.Int64).alias("_i"))
    desc = desc.sort("_i").select(
        "segment",
        "size",
        "share",
        "description",
        "company_size_median",
        "events_per_active_month",
        "distinct_touchpoints",
        "days_to_first_value",
        "paid_share",
        "mrr_mean",
        "top_industry",
        "top_industry_share",
        "silhouette",
    )
    return feats.select("account_id", "segment").sort("account_id"), desc


def persona_segment_crosstab(accounts: Any, assignments: pl.DataFrame) -> pl.DataFrame:
    """Accounts per persona (rows) and data-driven segment (columns), with row totals.

    Examples:
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"], "persona": ["x", "x", "y"]})
        >>> seg = pl.DataFrame({"account_id": ["a", "b", "c"], "segment": ["S1", "S2", "S1"]})
        >>> persona_segment_crosstab(acc, seg).rows()
        [('x', 1, 1, 2), ('y', 1, 0, 1)]
    """
    acc = to_polars(accounts).select(
        "account_id", pl.col("persona").cast(pl.String).fill_null("unassigned")
    )
    joined = acc.join(assignments, on="account_id", how="inner")
    segs = sorted(set(joined["segment"].to_list()), key=lambda s: (len(s), s))
    counts = joined.group_by("persona", "segment").agg(pl.len().cast(pl.Int64).alias("n"))
    wide = counts.pivot(on="segment", index="persona", values="n").fill_null(0)
    for s in segs:
        if s not in wide.columns:
            wide = wide.with_columns(pl.lit(0, pl.Int64).alias(s))
    return (
        wide.select("persona", *segs)
        .with_columns(pl.sum_horizontal(*segs).cast(pl.Int64).alias("total"))
        .sort("persona")
    )
