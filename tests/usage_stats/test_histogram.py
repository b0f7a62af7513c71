"""Latency histogram buckets shared by the rollups and the dashboards. Pure: no database."""

import itertools
import math

import pytest

from usage_stats.rollups.histogram import BOUNDS_MS, BUCKETS, bucket_index, bucket_range, merge, percentile


def test_there_are_28_buckets_growing_by_sqrt_2_from_1_ms_to_8192_ms():
    assert BUCKETS == 28
    assert (BOUNDS_MS[0], BOUNDS_MS[-1]) == (1.0, 8192.0)
    assert all(math.isclose(b / a, math.sqrt(2)) for a, b in itertools.pairwise(BOUNDS_MS))


@pytest.mark.parametrize(
    ("latency", "index"),
    [
        (0.0, 0),
        (0.999, 0),
        (1.0, 1),
        (math.sqrt(2) - 1e-9, 1),
        (math.sqrt(2), 2),
        (8191.9, 26),
        (8192, 27),
        (1e9, 27),
    ],
)
def test_a_bound_belongs_to_the_bucket_above_it_like_width_bucket(latency, index):
    assert bucket_index(latency) == index
    low, high = bucket_range(index)
    assert low <= latency < high


def test_bucket_ranges_are_contiguous_from_zero_to_infinity():
    ranges = [bucket_range(i) for i in range(BUCKETS)]
    assert ranges[0] == (0.0, 1.0)
    assert ranges[-1] == (8192.0, math.inf)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))


@pytest.mark.parametrize("hist", [None, [], [0] * BUCKETS])
def test_an_empty_histogram_has_no_percentile(hist):
    assert percentile(hist, 0.5) is None


def test_percentiles_interpolate_inside_the_bucket_and_never_leave_it():
    hist = [0] * BUCKETS
    hist[0] = 10  # under 1 ms: linear from 0
    assert percentile(hist, 0.5) == pytest.approx(0.5)
    hist = [0] * BUCKETS
    hist[bucket_index(100.0)] = 4
    low, high = bucket_range(bucket_index(100.0))
    values = [percentile(hist, q) for q in (0.01, 0.25, 0.5, 0.75, 1.0)]
    assert values == sorted(values)
    assert low < values[0] and values[-1] == pytest.approx(high)


def test_the_open_last_bucket_reports_its_lower_bound():
    hist = [0] * BUCKETS
    hist[-1] = 3
    assert percentile(hist, 0.99) == 8192.0


def test_merge_sums_element_wise_and_skips_missing_histograms():
    a = [1] * BUCKETS
    b = list(range(BUCKETS))
    assert merge([a, None, b, []]) == [1 + i for i in range(BUCKETS)]
    assert merge([]) == [0] * BUCKETS
