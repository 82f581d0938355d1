"""A log2 latency histogram, as the kernel's hist triggers keep it (`lat.log2`).

The kernel files a value v under the key ``ceil(log2(v))`` and prints it as ``~ 2^k``: the
bucket holds the values in (2^(k-1), 2^k] (0 and 1 both land in 2^0). A bucket is therefore
named by its *upper bound* in µs, and every figure read from the histogram (a percentile,
the maximum) is a bound, never an exact value: the true p99 is at most `percentile_bound(0.99)`.

Histograms of disjoint sets of samples merge exactly (counts add per bucket), and the
difference of two cumulative readings of the same hist file is the histogram of the interval
between them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass


class NegativeBucket(ValueError):
    """A difference of two readings went below zero: the later one is not cumulative."""


@dataclass(frozen=True, slots=True)
class Log2Histogram:
    """Immutable: (bucket upper bound in µs, count) pairs, sorted by bound, counts > 0."""

    buckets: tuple[tuple[float, int], ...] = ()

    def __post_init__(self) -> None:
        bounds = [b for b, _ in self.buckets]
        if bounds != sorted(set(bounds)):
            raise ValueError("bucket bounds must be distinct and sorted ascending")
        for bound, count in self.buckets:
            if not bound >= 0 or math.isinf(bound):
                raise ValueError(f"bucket bound must be a finite number >= 0, got {bound!r}")
            if count <= 0:
                raise ValueError(f"bucket {bound:g} µs has count {count}; counts must be > 0")

    @classmethod
    def from_counts(
        cls, counts: Mapping[float, int] | Iterable[tuple[float, int]]
    ) -> Log2Histogram:
        """From bound → count pairs in any order; zero counts are dropped, repeats add."""
        items = counts.items() if isinstance(counts, Mapping) else counts
        merged: dict[float, int] = {}
        for bound, count in items:
            if count < 0:
                raise ValueError(f"bucket {bound:g} µs has count {count}; counts must be >= 0")
            if count:
                merged[float(bound)] = merged.get(float(bound), 0) + int(count)
        return cls(tuple(sorted(merged.items())))

    @classmethod
    def from_log2_keys(cls, counts: Mapping[int, int]) -> Log2Histogram:
        """From the kernel's keys (``~ 2^k`` → count), the bound of key k being 2^k µs."""
        return cls.from_counts({float(2**k): n for k, n in counts.items()})

    @classmethod
    def of_values(cls, values_us: Iterable[float]) -> Log2Histogram:
        """The histogram the kernel would keep of these values (µs; reference for tests)."""
        counts: dict[float, int] = {}
        for v in values_us:
            bound = float(2 ** max(math.ceil(math.log2(v)), 0)) if v > 1 else 1.0
            counts[bound] = counts.get(bound, 0) + 1
        return cls.from_counts(counts)

    # ---- reading ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[float, int]]:
        return iter(self.buckets)

    def __len__(self) -> int:
        return len(self.buckets)

    def __bool__(self) -> bool:
        return bool(self.buckets)

    def as_dict(self) -> dict[float, int]:
        return dict(self.buckets)

    @property
    def count(self) -> int:
        """Samples in all buckets."""
        return sum(n for _, n in self.buckets)

    @property
    def max_bound(self) -> float | None:
        """The upper bound of the highest non-empty bucket (the max is at most this)."""
        return self.buckets[-1][0] if self.buckets else None

    @property
    def min_bound(self) -> float | None:
        """The upper bound of the lowest non-empty bucket."""
        return self.buckets[0][0] if self.buckets else None

    def percentile_bound(self, q: float) -> float | None:
        """Upper bound of the bucket holding the q-quantile (0 < q <= 1), None when empty.

        The q-quantile is the sample of rank ceil(q * n) in ascending order.
        """
        if not 0 < q <= 1:
            raise ValueError(f"q must be in (0, 1], got {q!r}")
        total = self.count
        if not total:
            return None
        rank = max(math.ceil(q * total - 1e-9), 1)
        seen = 0
        for bound, n in self.buckets:
            seen += n
            if seen >= rank:
                return bound
        return self.buckets[-1][0]  # pragma: no cover - rank <= total

    # ---- arithmetic ------------------------------------------------------------------------

    def merge(self, other: Log2Histogram) -> Log2Histogram:
        """The histogram of both sets of samples (counts add per bucket)."""
        if not other.buckets:
            return self
        if not self.buckets:
            return other
        return Log2Histogram.from_counts([*self.buckets, *other.buckets])

    def minus(self, earlier: Log2Histogram) -> Log2Histogram:
        """This cumulative reading less an earlier one: the samples added in between."""
        counts = self.as_dict()
        for bound, n in earlier.buckets:
            left = counts.get(bound, 0) - n
            if left < 0:
                raise NegativeBucket(
                    f"bucket {bound:g} µs went from {n} to {counts.get(bound, 0)}: "
                    "the later reading is not cumulative"
                )
            counts[bound] = left
        return Log2Histogram.from_counts(counts)

    def to_json(self) -> dict[str, int]:
        """Bucket upper bound in µs (as a string key, `%g`) → count."""
        return {f"{bound:g}": n for bound, n in self.buckets}

    @classmethod
    def from_json(cls, data: Mapping[str, int]) -> Log2Histogram:
        return cls.from_counts({float(k): int(v) for k, v in data.items()})


def merge_optional(a: Log2Histogram | None, b: Log2Histogram | None) -> Log2Histogram | None:
    """Merge two histograms where either may be unknown: unknown wins (None)."""
    if a is None or b is None:
        return None
    return a.merge(b)
