"""Vectorised building blocks of the generator: groups, draws, event rows and column encodings."""

from __future__ import annotations

import numpy as np
import polars as pl

from journeylib.sources.synth.parameters import (
    CAMP,
    CH,
    CHANNEL_CAMPAIGNS,
    CHANNELS,
    DAY,
    EV,
)

__all__ = [
    "EventRows",
    "campaign_for",
    "choice_rows",
    "decode",
    "expand_groups",
    "id_width",
    "month_dates",
    "nullable_int",
    "numbered_ids",
    "utc_times",
]


def expand_groups(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given lengths: (group index, offset inside the group) per output row."""
    lengths = np.asarray(lengths, dtype=np.int64)
    grp = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    off = np.arange(grp.size, dtype=np.int64) - np.repeat(starts, lengths)
    return grp, off


def choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of ``probs`` (rows sum to 1), by inverse CDF."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0])[:, None] * cum[:, -1:]
    return np.minimum((u >= cum).sum(axis=1), probs.shape[1] - 1)


def campaign_for(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    """A campaign code for each channel code (-1: untagged, for organic, direct and null)."""
    first = np.full(len(CHANNELS), -1)
    count = np.zeros(len(CHANNELS), dtype=np.int64)
    for c in CHANNELS:
        if c in ("organic_search", "direct"):
            continue
        first[CH[c]] = CAMP[CHANNEL_CAMPAIGNS[c][0][0]]
        count[CH[c]] = len(CHANNEL_CAMPAIGNS[c])
    ch = np.where(channel < 0, 0, channel)
    n = count[ch]
    pick = (rng.random(channel.size) * np.maximum(n, 1)).astype(np.int64)
    return np.where((channel >= 0) & (n > 0), first[ch] + pick, -1)


class EventRows:
    """Accumulates event rows as integer-coded numpy arrays; strings come at the end."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(
        self,
        acc: np.ndarray,
        ts: np.ndarray,
        event: str | np.ndarray,
        *,
        user: np.ndarray | int = 0,
        channel: np.ndarray | int = -1,
        campaign: np.ndarray | int = -1,
        variant: np.ndarray | int = -1,
        anon: np.ndarray | None = None,
    ) -> None:
        """Add rows: one per ``ts``; scalars apply to every row (-1 codes: null)."""
        n = int(np.asarray(ts).size)
        if n == 0:
            return

        def col(v: np.ndarray | int, dtype: type) -> np.ndarray:
            return np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()

        self.parts.append(
            {
                "acc": col(acc, np.int32),
                "anon": col(-1 if anon is None else anon, np.int32),
                "ts": col(ts, np.int64),
                "event": col(EV[event] if isinstance(event, str) else event, np.int16),
                "user": col(user, np.int16),
                "channel": col(channel, np.int16),
                "campaign": col(campaign, np.int16),
                "variant": col(variant, np.int16),
            }
        )

    def concat(self) -> dict[str, np.ndarray]:
        """All rows, one array per column; the parts are released column by column."""
        if not self.parts:
            cols = ["acc", "anon", "ts", "event", "user", "channel", "campaign", "variant"]
            return {k: np.zeros(0, dtype=np.int64) for k in cols}
        out = {}
        for k in list(self.parts[0]):
            out[k] = np.concatenate([p.pop(k) for p in self.parts])
        self.parts.clear()
        return out


def numbered_ids(prefix: str, n: int, width: int) -> pl.Series:
    """``prefix`` + zero-padded 1-based numbers, as a polars string Series."""
    nums = pl.Series("id", np.arange(1, n + 1, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return (prefix + nums).alias("id")


def decode(names: list[str], codes: np.ndarray) -> pl.Series:
    """Codes (-1 = null) to strings through a small vocabulary."""
    s = pl.Series(names + [None], dtype=pl.String)
    idx = np.where(codes < 0, len(names), codes)
    return s.gather(pl.Series(idx, dtype=pl.Int64))


def nullable_int(values: np.ndarray) -> pl.Series:
    """Int64 with negative values as null."""
    v = np.asarray(values, dtype=np.int64)
    return pl.Series(v).set(pl.Series(v < 0), None)


def utc_times(ts: np.ndarray) -> pl.Series:
    """Epoch seconds to Datetime(us, UTC)."""
    return pl.Series(np.asarray(ts, dtype=np.int64) * 1_000_000).cast(pl.Datetime("us", "UTC"))


def id_width(n: int) -> int:
    """The digits of the numbered ids of ``n`` things (at least 6, so ids sort as text)."""
    return max(6, len(str(n)))


def month_dates(ms: np.ndarray, idx: np.ndarray) -> pl.Series:
    """Month indexes to dates (the 1st of each month)."""
    return pl.Series((ms[np.asarray(idx)] // DAY).astype(np.int32)).cast(pl.Date)
