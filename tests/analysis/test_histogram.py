"""Log2Histogram: the kernel's bucketing, exact merge and difference, percentile bounds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmexit_tui.analysis.histogram import Log2Histogram, NegativeBucket, merge_optional

values = st.lists(st.integers(min_value=0, max_value=5_000_000), max_size=200)


def test_buckets_are_named_by_upper_bound_as_the_kernel_files_them():
    # kernel: key = ilog2(roundup_pow_of_two(v)); 0 and 1 land in 2^0, 17..32 in 2^5
    h = Log2Histogram.of_values([0, 1, 2, 3, 4, 17, 32, 33])
    assert h.as_dict() == {1.0: 2, 2.0: 1, 4.0: 2, 32.0: 2, 64.0: 1}
    assert h.count == 8
    assert h.max_bound == 64.0
    assert h.min_bound == 1.0


def test_from_log2_keys_maps_key_k_to_2_to_the_k():
    h = Log2Histogram.from_log2_keys({5: 13543, 0: 2, 10: 1})
    assert h.buckets == ((1.0, 2), (32.0, 13543), (1024.0, 1))


def test_percentile_bound_is_the_bucket_of_the_rank_ceil_q_n():
    h = Log2Histogram.from_counts({8: 90, 16: 9, 1024: 1})
    assert h.percentile_bound(0.5) == 8
    assert h.percentile_bound(0.9) == 8  # rank 90 is the last sample of bucket 8
    assert h.percentile_bound(0.91) == 16
    assert h.percentile_bound(0.99) == 16
    assert h.percentile_bound(0.999) == 1024
    assert h.percentile_bound(1.0) == h.max_bound == 1024
    assert Log2Histogram().percentile_bound(0.5) is None
    with pytest.raises(ValueError):
        h.percentile_bound(0)


@given(values, st.sampled_from([0.5, 0.9, 0.99, 0.999, 1.0]))
def test_percentile_bound_bounds_the_true_percentile_within_a_factor_two(vs, q):
    h = Log2Histogram.of_values(vs)
    bound = h.percentile_bound(q)
    if not vs:
        assert bound is None
        return
    true = sorted(vs)[max(math.ceil(q * len(vs) - 1e-9), 1) - 1]
    assert true <= bound
    assert bound <= max(2 * true, 1)


@given(values, values)
def test_merge_is_the_histogram_of_the_union_and_minus_undoes_it(a, b):
    ha, hb = Log2Histogram.of_values(a), Log2Histogram.of_values(b)
    union = ha.merge(hb)
    assert union == Log2Histogram.of_values(a + b)
    assert union == hb.merge(ha)
    assert union.minus(ha) == hb


def test_minus_refuses_a_reading_that_went_backwards():
    with pytest.raises(NegativeBucket, match="bucket 8 µs went from 5 to 3"):
        Log2Histogram.from_counts({8: 3}).minus(Log2Histogram.from_counts({8: 5}))


def test_json_round_trip_and_keys_are_upper_bounds():
    h = Log2Histogram.from_counts({1: 4, 32: 7, 0.5: 1})
    assert h.to_json() == {"0.5": 1, "1": 4, "32": 7}
    assert Log2Histogram.from_json(h.to_json()) == h


def test_invalid_histograms_are_refused():
    with pytest.raises(ValueError):
        Log2Histogram(((8.0, 1), (4.0, 1)))
    with pytest.raises(ValueError):
        Log2Histogram(((8.0, 0),))
    with pytest.raises(ValueError):
        Log2Histogram.from_counts({8: -1})


def test_merge_optional_keeps_unknown_unknown():
    h = Log2Histogram.from_counts({4: 1})
    assert merge_optional(h, h) == Log2Histogram.from_counts({4: 2})
    assert merge_optional(h, None) is None
    assert merge_optional(None, h) is None
