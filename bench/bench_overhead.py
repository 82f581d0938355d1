"""What watching costs the guest: the tiny VMM's exit rate under each recording mode, in the lab.

Run: python bench/bench_overhead.py [--rounds 5] [--seconds 6]   (boots the lab; prints figures)

Modes, interleaved A B C D, A B C D, ... so that drift (other load on the host, TCG's moods)
hits every mode alike:

    A none     no observer
    B kernel   vmexit-tui record --source kernel   (tracefs hist triggers)
    C count    vmexit-tui record --source count    (perf stat, one filtered counter per reason)
    D perf     vmexit-tui record --source perf     (perf kvm stat record, 1 s chunks)

Each run starts a 1-vCPU tiny VMM frozen (SIGSTOP), starts the observer and waits until it
records, then lets the VMM run for --seconds and counts its loops (each loop is one cpuid and
one io exit). Printed per mode: the median and the range of (loops/s ÷ loops/s of the same
round's run without observer), and the bytes the observer wrote per minute of recording (the
recording folder, less report.txt/report.json written at the end). The lab is emulated (TCG)
and noisy: the figures are relative only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lab.driver import Lab

MODES = ("none", "kernel", "count", "perf")

SCRIPT = r"""
ROUNDS=%(rounds)d; SECONDS_RUN=%(seconds)s
out="$LAB_OUT/results.tsv"; : > "$out"
run() {  # run ROUND MODE
    local round=$1 mode=$2 dir=/tmp/bench-$1-$2 vmm rec="" t0 t1 loops bytes
    rm -rf "$dir"
    tiny_vmm -c 1 -d 100000 > /tmp/bench-vmm.txt 2>&1 &
    vmm=$!
    for i in $(seq 200); do [ "$(ls /proc/$vmm/task | wc -l)" -ge 2 ] && break; sleep 0.05; done
    kill -STOP $vmm
    if [ "$mode" != none ]; then
        vmexit-tui record --source "$mode" --pid $vmm --out "$dir" >/dev/null 2>/tmp/bench-rec.err &
        rec=$!
        for i in $(seq 1500); do
            grep -q "^vmexit-tui record: recording" /tmp/bench-rec.err && break; sleep 0.2
        done
    fi
    sleep 2  # counters open, first chunk started
    t0=$(date +%%s.%%N); kill -CONT $vmm; sleep "$SECONDS_RUN"; kill -STOP $vmm; t1=$(date +%%s.%%N)
    bytes=0
    if [ -n "$rec" ]; then
        bytes=$(find "$dir" -type f ! -name report.txt ! -name report.json -printf '%%s\n' \
                | awk '{s+=$1} END {print s+0}')
        kill -INT $rec; wait $rec
    fi
    kill -CONT $vmm; kill -TERM $vmm; wait $vmm
    loops=$(awk '$1 == "vcpu" {s += $4} END {print s+0}' /tmp/bench-vmm.txt)
    printf '%%s\t%%s\t%%s\t%%s\t%%s\n' "$round" "$mode" "$loops" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" "$bytes" >> "$out"
    rm -rf "$dir"
}
for r in $(seq $ROUNDS); do
    for m in %(modes)s; do run $r $m; done
done
"""


def summarize(rows: list[tuple[int, str, int, float, int]]) -> list[str]:
    """Per mode: median and range of the rate ratio to the round's no-observer run; bytes/min."""
    rate = {(r, m): loops / secs for r, m, loops, secs, _ in rows if secs > 0}
    written = {(r, m): b / secs * 60 for r, m, _, secs, b in rows if secs > 0}
    rounds = sorted({r for r, *_ in rows})
    lines = [f"{'mode':8} {'median':>8} {'range':>15} {'loops/s (median)':>17} {'bytes/min':>12}"]
    for mode in MODES:
        ratios = [rate[(r, mode)] / rate[(r, "none")] for r in rounds if (r, mode) in rate]
        speeds = [rate[(r, mode)] for r in rounds if (r, mode) in rate]
        per_min = [written[(r, mode)] for r in rounds if (r, mode) in written]
        if not ratios:
            continue
        lines.append(
            f"{mode:8} {statistics.median(ratios):8.3f} "
            f"{min(ratios):7.3f}-{max(ratios):<7.3f} {statistics.median(speeds):17.0f} "
            f"{statistics.median(per_min):12.0f}"
        )
    return lines


def parse(text: str) -> list[tuple[int, str, int, float, int]]:
    rows = []
    for line in text.splitlines():
        r, m, loops, secs, b = line.split("\t")
        rows.append((int(r), m, int(loops), float(secs), int(b)))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--from-tsv", metavar="FILE", help="summarize an earlier results.tsv")
    args = ap.parse_args()
    if args.from_tsv:
        text = Path(args.from_tsv).read_text()
    else:
        script = SCRIPT % {"rounds": args.rounds, "seconds": args.seconds, "modes": " ".join(MODES)}
        with Lab.boot() as lab:
            job = lab.run(script, timeout=args.rounds * len(MODES) * (args.seconds + 120))
            text = (job.files / "results.tsv").read_text()
            if job.rc != 0:
                print(job.stderr, file=sys.stderr)
    print("tiny VMM (1 vCPU, cpuid+io loop) in the lab; ratio = loops/s ÷ same round's 'none'")
    print(text, end="")
    for line in summarize(parse(text)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
