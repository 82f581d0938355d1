"""The four reference runs of the seed document, shipped as package data.

`data/seed-reports.tsv` holds the `perf kvm stat report --event=vmexit` figures of four runs
(GP-GP and GP-RT guests, vCPUs pinned "BIND" or not "RAW") while the guest ran cyclictest.
Empty cells are values that were not legible in the source: they stay unknown (None), never 0.
A spread shown cut off by a pager ("0.4>") is kept as an upper bound.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from vmexit_tui.analysis.model import EventKind, ExitStat, Report
from vmexit_tui.formats.perf_report_lines import cut_bound

DATA_FILE = "seed-reports.tsv"
COLUMNS = (
    "run", "reason", "samples", "samples_pct", "time_pct", "min_us", "max_us", "avg_us",
    "rel_stddev_pct",
)  # fmt: skip
_HEADER = "\t".join(COLUMNS)
NAMES = ("gp-gp-raw", "gp-gp-bind", "gp-rt-raw", "gp-rt-bind")


class ReferenceDataError(ValueError):
    """The shipped TSV does not have the expected shape."""


def _float(cell: str, where: str) -> float | None:
    if cell == "":
        return None
    try:
        return float(cell)
    except ValueError:
        msg = f"{where}: expected a number or an empty cell, found {cell!r}"
        raise ReferenceDataError(msg) from None


def parse_tsv(text: str, source: str = DATA_FILE) -> dict[str, Report]:
    """All runs of a seed-reports TSV, keyed by lower-case run name."""
    rows: dict[str, list[ExitStat]] = {}
    totals: dict[str, tuple[int | None, float | None]] = {}
    header_seen = False
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        where = f"{source}:{no}"
        if not header_seen:
            if tuple(cells) != COLUMNS:
                raise ReferenceDataError(f"{where}: expected the header {_HEADER!r}")
            header_seen = True
            continue
        if len(cells) != len(COLUMNS):
            raise ReferenceDataError(f"{where}: expected {len(COLUMNS)} cells, found {len(cells)}")
        run, reason, samples, sp, tp, mn, mx, avg, rel = cells
        key = run.lower()
        rows.setdefault(key, [])
        if reason == "TOTAL":
            n = int(samples) if samples else None
            totals[key] = (n, _float(avg, where))
            continue
        if not samples.isdigit():
            raise ReferenceDataError(f"{where}: expected a sample count, found {samples!r}")
        rel_pct = below = None
        if rel.endswith(">"):
            below = cut_bound(rel[:-1])
        else:
            rel_pct = _float(rel, where)
        rows[key].append(
            ExitStat(
                reason=reason,
                samples=int(samples),
                samples_pct=_float(sp, where),
                time_pct=_float(tp, where),
                min_us=_float(mn, where),
                max_us=_float(mx, where),
                mean_us=_float(avg, where),
                rel_stddev_pct=rel_pct,
                rel_stddev_below=below,
            )
        )
    return {
        key: Report(
            event=EventKind.VMEXIT,
            rows=tuple(stats),
            total_samples=totals.get(key, (None, None))[0],
            total_time_us=totals.get(key, (None, None))[1],
            source=f"builtin:{key}",
        )
        for key, stats in rows.items()
    }


@cache
def _all() -> dict[str, Report]:
    text = resources.files("vmexit_tui.reference").joinpath("data", DATA_FILE).read_text("utf-8")
    return parse_tsv(text)


def load(name: str) -> Report:
    """A reference run by name (`gp-rt-raw`, case-insensitive)."""
    key = name.lower()
    runs = _all()
    if key not in runs:
        raise KeyError(f"no built-in run {name!r}; choose one of {', '.join(NAMES)}")
    return runs[key]


def load_all() -> dict[str, Report]:
    """All four reference runs, in seed order."""
    runs = _all()
    return {name: runs[name] for name in NAMES}
