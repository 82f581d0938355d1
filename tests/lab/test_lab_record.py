"""`vmexit-tui record` of the tiny VMM in the lab, checked against perf's own `perf script`.

One recording serves the module: the tiny VMM (2 vCPUs, 100 `cpuid; out` loops/s each)
recorded with `--interval 3` for 24 s; then, for every chunk, `perf script --ns`
and `perf kvm stat report`. The merged report (report.txt) must equal what pairing the
chunks' exits and entries gives, reason by reason. The exits `perf script` counts and the
report does not are the chunk boundaries' own: an exit whose entry fell into the next chunk,
or an exit at a chunk's start before its thread's first entry there (perf learns the vCPU
from an entry): at most one per vCPU and boundary.
"""

from __future__ import annotations

import json
import shlex
import shutil
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

from tests.lab.artifacts import artifacts_dir, save_json
from tests.lab.cli import perf_record_args
from tests.lab.driver import Lab
from tests.lab.perf_text import Pairing, PerfStat, pair_exits, parse_script, parse_stat_report

VCPUS = 2
RECORD_SCRIPT = """
set -eu
tiny_vmm -c {vcpus} -d 1800 -r 100 > "$LAB_OUT/vmm.txt" &
vmm=$!
until grep -q running "$LAB_OUT/vmm.txt"; do sleep 0.2; done
rec=/tmp/vmm-recording
vmexit-tui record --pid "$vmm" --duration 24 --interval 3 --out "$rec" {args} \\
    > "$LAB_OUT/record.out" 2> "$LAB_OUT/record.err"
# the recording is saved: a VMM whose vCPU does not leave KVM_RUN (seen under TCG, after its
# vCPUs were pinned mid-run) is killed after 60 s, its stacks in hung-vmm.txt
kill -INT "$vmm"; lab_wait "$vmm" 60 vmm || true
mkdir -p "$LAB_OUT/rec"
cp "$rec/manifest.json" "$rec/report.txt" "$LAB_OUT/rec/"
for c in "$rec"/perf.data.*; do
    n=$(basename "$c")
    perf script -i "$c" --ns > "$LAB_OUT/rec/$n.script" 2>/dev/null
    perf kvm -i "$c" stat report --event=vmexit > "$LAB_OUT/rec/$n.report" 2>&1
done
pgrep -x perf > "$LAB_OUT/perf-left.txt" || true
"""


@dataclass
class ChunkCheck:
    name: str
    pairing: Pairing
    report_text: str


@dataclass
class VmmRecording:
    folder: Path
    manifest: dict
    merged_text: str
    chunks: list[ChunkCheck]
    stdout: str

    @property
    def merged_rows(self):
        return parse_stat_report(self.merged_text)[0]


@pytest.fixture(scope="module")
def recording(lab: Lab) -> VmmRecording:
    args = " ".join(shlex.quote(a) for a in perf_record_args())
    job = lab.run(RECORD_SCRIPT.format(vcpus=VCPUS, args=args), timeout=1200)
    err = (job.files / "record.err").read_text() if (job.files / "record.err").exists() else ""
    assert job.rc == 0, f"{job.stderr}\n--- record.err ---\n{err}"
    folder = job.files / "rec"
    manifest = json.loads((folder / "manifest.json").read_text())
    chunks = [
        ChunkCheck(
            c["file"],
            pair_exits(parse_script((folder / f"{c['file']}.script").open())),
            (folder / f"{c['file']}.report").read_text(),
        )
        for c in manifest["chunks"]
    ]
    assert (job.files / "perf-left.txt").read_text() == "", "perf left running in L1"
    rec = VmmRecording(folder, manifest, (folder / "report.txt").read_text(), chunks, job.stdout)
    keep = artifacts_dir("test_lab_record")
    for name in ("report.txt", "manifest.json"):
        shutil.copy(folder / name, keep / name)
    save_json(keep, "figures.json", _figures(rec))
    return rec


def _figures(rec: VmmRecording) -> dict:
    """What the README and the closing note quote: counts, boundary losses, time agreement."""
    truth = _merged_truth(rec.chunks)
    exits = sum((c.pairing.exits for c in rec.chunks), Counter())
    return {
        "chunks": len(rec.chunks),
        "chunk_seconds": [round(c["end"] - c["start"], 2) for c in rec.manifest["chunks"]],
        "per_reason": {
            r: {
                "merged_report": row.samples,
                "perf_script_exits": exits[r],
                "perf_script_pairs": truth[r].n if r in truth else 0,
                "mean_us_report": row.mean_us,
                "mean_us_script": round(truth[r].mean / 1000, 4),
                "spread_pct_report": row.rel_pct,
                "spread_pct_script": round(truth[r].rel_pct, 4),
                "min_us": [row.min_us, truth[r].min_ns / 1000],
                "max_us": [row.max_us, truth[r].max_ns / 1000],
            }
            for r, row in rec.merged_rows.items()
        },
        "lost_at_chunk_start": [
            {str(v): n for v, n in sorted(c.pairing.lost_at_start.items())} for c in rec.chunks
        ],
        "lost_inside_chunk_by_perf_pairing": [c.pairing.lost_overwritten for c in rec.chunks],
        "lost_at_chunk_end": [
            {str(v): n for v, n in sorted(c.pairing.lost_at_end.items())} for c in rec.chunks
        ],
        "orphan_entries_at_chunk_start": [c.pairing.orphan_entries for c in rec.chunks],
    }


def test_the_recording_has_chunks_with_the_vmm_exits(recording: VmmRecording) -> None:
    assert recording.chunks, f"no chunks: {recording.manifest}"
    rows = recording.merged_rows
    # every loop is one cpuid and one io exit: both reasons are there, in about equal numbers
    assert {"cpuid", "io"} <= set(rows)
    assert abs(rows["cpuid"].samples - rows["io"].samples) <= VCPUS * len(recording.chunks)


def test_each_chunk_report_is_what_pairing_its_perf_script_gives(
    recording: VmmRecording,
) -> None:
    """Our pairing reproduces perf's per-chunk table to the last printed digit."""
    for chunk in recording.chunks:
        rows, _ = parse_stat_report(chunk.report_text)
        stats = chunk.pairing.stats
        assert set(rows) == set(stats), chunk.name
        for reason, row in rows.items():
            s = stats[reason]
            assert row.samples == s.n, (chunk.name, reason)
            assert row.min_us == pytest.approx(s.min_ns / 1000, abs=0.006), (chunk.name, reason)
            assert row.max_us == pytest.approx(s.max_ns / 1000, abs=0.006), (chunk.name, reason)
            assert row.mean_us == pytest.approx(s.mean / 1000, abs=0.006), (chunk.name, reason)
            assert row.rel_pct == pytest.approx(s.rel_pct, abs=0.006), (chunk.name, reason)


def _merged_truth(chunks: list[ChunkCheck]) -> dict[str, PerfStat]:
    """Per reason, the statistics of all chunks' pairs taken together (from perf script)."""
    total: dict[str, PerfStat] = {}
    for chunk in chunks:
        for reason, s in chunk.pairing.stats.items():
            t = total.setdefault(reason, PerfStat())
            if t.n == 0:
                total[reason] = PerfStat(s.n, s.min_ns, s.max_ns, s.mean, s.m2)
                continue
            n = t.n + s.n
            delta = s.mean - t.mean
            t.m2 += s.m2 + delta * delta * t.n * s.n / n
            t.mean += delta * s.n / n
            t.n = n
            t.min_ns = min(t.min_ns, s.min_ns)  # type: ignore[type-var]
            t.max_ns = max(t.max_ns, s.max_ns)  # type: ignore[type-var]
    return total


def test_merged_counts_equal_perf_script_and_only_boundary_pairs_are_lost(
    recording: VmmRecording,
) -> None:
    rows = recording.merged_rows
    exits = sum((c.pairing.exits for c in recording.chunks), Counter())
    paired = sum((c.pairing.paired for c in recording.chunks), Counter())
    assert {r: row.samples for r, row in rows.items()} == dict(paired)
    # what perf script counts and the report does not: exits at the chunks' edges only
    chunks = recording.chunks
    for chunk in chunks:
        # inside a chunk, an exit with no entry before its vCPU's next exit is dropped by
        # perf's own pairing, chunked or not (seen now and then in L1 under TCG, 2 in a
        # chunk of ~1,100, with no "Lost events"); it must stay rare, and is not the chunking's
        assert chunk.pairing.lost_overwritten <= sum(chunk.pairing.exits.values()) // 200, (
            chunk.name,
            chunk.pairing.lost_overwritten,
        )
        for edge in (chunk.pairing.lost_at_start, chunk.pairing.lost_at_end):
            assert set(edge) <= set(range(VCPUS)) and all(n <= 1 for n in edge.values())
    for before, after in pairwise(chunks):  # one pair per vCPU and boundary
        for vcpu in range(VCPUS):
            lost = before.pairing.lost_at_end[vcpu] + after.pairing.lost_at_start[vcpu]
            assert lost <= 1, (before.name, after.name, vcpu)
    lost = sum(c.pairing.lost for c in chunks)
    assert sum(exits.values()) - sum(paired.values()) == lost
    at_edges = lost - sum(c.pairing.lost_overwritten for c in chunks)
    assert at_edges <= VCPUS * (len(chunks) + 1)


def test_merged_times_agree_with_perf_script_to_print_precision(
    recording: VmmRecording,
) -> None:
    """min/max exact; the mean and spread are merged from per-chunk figures printed with two
    decimals, so they may differ from the exact ones by that rounding."""
    truth = _merged_truth(recording.chunks)
    for reason, row in recording.merged_rows.items():
        t = truth[reason]
        assert row.min_us == pytest.approx(t.min_ns / 1000, abs=0.006), reason
        assert row.max_us == pytest.approx(t.max_ns / 1000, abs=0.006), reason
        assert row.mean_us == pytest.approx(t.mean / 1000, abs=0.011), reason
        assert row.rel_pct == pytest.approx(t.rel_pct, abs=0.011, rel=0.005), reason
