"""Fixed log-scale latency buckets shared by the rollup (writes) and the dashboards (reads).

Bucket i (0-based) of a `latency_hist` array holds latencies in [BOUNDS_MS[i-1], BOUNDS_MS[i]);
bucket 0 is everything under 1 ms and the last bucket everything from 8192 ms up. The bounds
grow by sqrt(2), so an estimated percentile is never more than one bucket (~41 %) off.
Changing the bounds invalidates every stored histogram: rebuild the rollups if you do.
"""

import math
from collections.abc import Sequence

BOUNDS_MS: tuple[float, ...] = tuple(2 ** (k / 2) for k in range(27))
BUCKETS = len(BOUNDS_MS) + 1


def bucket_index(latency_ms: float) -> int:
    """The 0-based bucket of one latency (what PostgreSQL's width_bucket() returns)."""
    lo, hi = 0, len(BOUNDS_MS)
    while lo < hi:
        mid = (lo + hi) // 2
        if latency_ms < BOUNDS_MS[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


def bucket_range(index: int) -> tuple[float, float]:
    """[low, high) of a bucket in ms; the last bucket's high is infinity."""
    low = 0.0 if index == 0 else BOUNDS_MS[index - 1]
    high = BOUNDS_MS[index] if index < len(BOUNDS_MS) else math.inf
    return low, high


def percentile(hist: Sequence[int] | None, q: float) -> float | None:
    """Estimate the q-quantile (0 < q <= 1) from bucket counts, interpolating
    geometrically inside the bucket that holds the rank (linearly in the first).
    None when the histogram is empty."""
    if not hist:
        return None
    total = sum(hist)
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(hist):
        if count and seen + count >= rank:
            low, high = bucket_range(index)
            fraction = min(max((rank - seen) / count, 0.0), 1.0)
            if math.isinf(high):
                return low
            if low == 0.0:
                return high * fraction
            return low * (high / low) ** fraction
        seen += count
    return bucket_range(len(hist) - 1)[0]


def merge(hists: Sequence[Sequence[int] | None]) -> list[int]:
    """Element-wise sum of histograms (None entries are skipped)."""
    merged = [0] * BUCKETS
    for hist in hists:
        if hist:
            for i, count in enumerate(hist):
                merged[i] += count
    return merged
