"""What surrounds the exits of runs being compared: host RT configuration, latency, hints.

- `config_differences`: the audit checks whose values differ between runs (vCPU checks are
  compared by vCPU index, whatever the guest was called), plus a one-line vCPU summary per run
  ("SCHED_FIFO 95 on CPU 2 (isolated)");
- `latency_line`: max / avg / p99.9 of a run's cyclictest latency;
- `hint_for`: for a finding about an exit reason with a usual configuration cause, which
  setting to look at (a hint, not a diagnosis), with its recorded value when there is one.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vmexit_tui.analysis.findings import Finding
from vmexit_tui.analysis.latency import LatencySummary
from vmexit_tui.host.audit import UNKNOWN, AuditCheck

__all__ = [
    "ConfigDifference",
    "RunContext",
    "config_differences",
    "hint_for",
    "latency_line",
    "render_context",
    "vcpu_summary",
]

_VM_CHECK = re.compile(r"^vm\.(?P<vm>.+)\.(?P<rest>vcpu\d+\.\w+|vcpus)$")


@dataclass(frozen=True, slots=True)
class RunContext:
    """One run's surroundings: its label, its audit (empty when none) and its latency."""

    label: str
    audit: tuple[AuditCheck, ...] = ()
    latency: LatencySummary | None = None


@dataclass(frozen=True, slots=True)
class ConfigDifference:
    """One setting that differs: its (guest-independent) name and its value per run."""

    name: str
    values: tuple[str | None, ...]  # None: the run has no audit, or not this check


def normalized(checks: Sequence[AuditCheck]) -> dict[str, str]:
    """Check name -> value, with `vm.<guest>.vcpuN.x` named `vm.vcpuN.x` (one guest per run)."""
    out: dict[str, str] = {}
    for c in checks:
        m = _VM_CHECK.match(c.name)
        out[f"vm.{m['rest']}" if m else c.name] = c.value
    return out


def config_differences(contexts: Sequence[RunContext]) -> list[ConfigDifference]:
    """The settings whose values differ between the runs that have an audit."""
    tables = [normalized(c.audit) if c.audit else None for c in contexts]
    audited = [t for t in tables if t is not None]
    if len(audited) < 2:
        return []
    names = list(dict.fromkeys(n for t in audited for n in t))
    diffs = []
    for name in names:
        values = tuple(t.get(name) if t is not None else None for t in tables)
        if len({v for v, t in zip(values, tables, strict=True) if t is not None}) > 1:
            diffs.append(ConfigDifference(name, values))
    return diffs


def vcpu_summary(checks: Sequence[AuditCheck]) -> str:
    """The vCPU threads in one phrase: policies, host CPUs, isolation."""
    table = normalized(checks)
    vcpus = sorted({k.split(".")[1] for k in table if re.match(r"^vm\.vcpu\d+\.", k)})
    if not vcpus:
        return "vCPU threads not audited"
    policies = sorted({table.get(f"vm.{v}.policy", UNKNOWN) for v in vcpus})
    cpus = [table.get(f"vm.{v}.affinity", UNKNOWN) for v in vcpus]
    iso = {table.get(f"vm.{v}.isolated", UNKNOWN).split(" ")[0] for v in vcpus}
    isolation = (
        "isolated" if iso == {"yes"} else "not isolated" if iso == {"no"} else "isolation mixed"
    )
    if iso == {UNKNOWN}:
        isolation = "isolation unknown"
    return f"vCPU threads {'/'.join(policies)} on CPUs {', '.join(cpus)}, {isolation}"


def latency_line(latency: LatencySummary | None) -> str:
    """`max 586 µs, avg 19.9 µs, p99.9 95 µs (histogram)`, or that none was recorded."""
    if latency is None:
        return "no cyclictest latency recorded"

    def us(v: float | None) -> str:
        return "?" if v is None else (f"{v:.1f} µs" if isinstance(v, float) else f"{v} µs")

    p = "?" if latency.p999_us is None else f"{latency.p999_us} µs ({latency.p999_source})"
    return (
        f"max {us(latency.max_us)}, avg {us(latency.avg_us)}, p99.9 {p}, "
        f"{len(latency.spikes)} spikes"
    )


def _value(checks: Mapping[str, str], name: str) -> str:
    return checks.get(name, UNKNOWN) if checks else "not recorded"


def hint_for(finding: Finding, audit: Sequence[AuditCheck] = ()) -> str | None:
    """A usual configuration cause of what the finding shows, when there is one."""
    reason = finding.reason
    table = normalized(audit)
    up = finding.direction == "up"
    if reason in ("EXTERNAL_INTERRUPT", "interrupt") and up:
        irqs = sorted({v for k, v in table.items() if k.endswith(".irqs")})
        where = f" (audit: {'; '.join(irqs)})" if irqs else ""
        return (
            "usual cause: device IRQs allowed on the vCPU's host CPU "
            f"(/proc/irq/*/smp_affinity_list, irqaffinity=){where}"
        )
    if reason in ("HLT", "hlt") and finding.metric == "mean_us" and up:
        return (
            "usual setting: kvm.halt_poll_ns decides how long a halted vCPU polls before "
            f"sleeping (recorded: {_value(table, 'kvm.halt_poll_ns')})"
        )
    if reason in ("PAUSE_INSTRUCTION", "pause") and up:
        return (
            "usual setting: pause-loop exiting, kvm_intel.ple_gap "
            f"({_value(table, 'kvm_intel.ple_gap')}) / kvm_amd.pause_filter_count "
            f"({_value(table, 'kvm_amd.pause_filter_count')}); 0 turns it off"
        )
    if reason == "PREEMPTION_TIMER" and up:
        return (
            "usual cause: the guest's timer mode (TSC-deadline timers are emulated with the "
            f"VMX preemption timer; kvm_intel.preemption_timer "
            f"{_value(table, 'kvm_intel.preemption_timer')})"
        )
    return None


def render_context(contexts: Sequence[RunContext]) -> str:
    """The text shown above the findings: vCPU setup, configuration differences, latency."""
    lines: list[str] = []
    labels = [c.label for c in contexts]
    if any(c.audit for c in contexts):
        lines.append("Host configuration (RT audit):")
        for c in contexts:
            summary = vcpu_summary(c.audit) if c.audit else "no audit recorded"
            lines.append(f"  {c.label}: {summary}")
        diffs = config_differences(contexts)
        if diffs:
            lines.append("  differences:")
            for d in diffs:
                shown = "; ".join(
                    f"{label} {v if v is not None else '-'}"
                    for label, v in zip(labels, d.values, strict=True)
                )
                lines.append(f"    {d.name}: {shown}")
        elif sum(1 for c in contexts if c.audit) >= 2:
            lines.append("  no differences in the audited settings")
    if any(c.latency is not None for c in contexts):
        lines.append("Latency (cyclictest):")
        for c in contexts:
            lines.append(f"  {c.label}: {latency_line(c.latency)}")
    return "\n".join(lines) + ("\n" if lines else "")


def render_hints(contexts: Sequence[RunContext], findings: Sequence[Finding]) -> str:
    """Hints for the findings that have a usual configuration cause (grouped by reason)."""
    by_label = {c.label: c.audit for c in contexts}
    grouped: dict[tuple[str, str], list[int]] = {}
    for i, f in enumerate(findings, 1):
        hint = hint_for(f, by_label.get(f.labels[1], ()))
        if hint:
            grouped.setdefault((f.reason, hint), []).append(i)
    if not grouped:
        return ""
    lines = ["Hints (usual configuration causes to check, not measured causes):"]
    lines += [
        f"  findings {', '.join(map(str, nums))} ({reason}): {hint}"
        for (reason, hint), nums in grouped.items()
    ]
    return "\n".join(lines) + "\n"


def context_json(contexts: Sequence[RunContext], findings: Sequence[Finding] = ()) -> dict:
    """The same for `compare --format json`."""
    by_label = {c.label: c.audit for c in contexts}
    return {
        "runs": [
            {
                "label": c.label,
                "vcpus": vcpu_summary(c.audit) if c.audit else None,
                "latency": latency_line(c.latency) if c.latency is not None else None,
                "latency_max_us": c.latency.max_us if c.latency else None,
                "latency_avg_us": c.latency.avg_us if c.latency else None,
                "latency_p999_us": c.latency.p999_us if c.latency else None,
            }
            for c in contexts
        ],
        "config_differences": [
            {"name": d.name, "values": list(d.values)} for d in config_differences(contexts)
        ],
        "hints": [
            {"finding": i, "reason": f.reason, "hint": h}
            for i, f in enumerate(findings, 1)
            if (h := hint_for(f, by_label.get(f.labels[1], ())))
        ],
    }


def _wrap(block: str, width: int | None) -> str:
    """Each line of `block` folded to `width`, continuation lines indented two more."""
    if not width or not block:
        return block
    out = []
    for line in block.splitlines():
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        out.append(textwrap.fill(line, width, subsequent_indent=indent, break_on_hyphens=False))
    return "\n".join(out) + "\n"


def with_context(
    rendered: str,
    fmt: str,
    contexts: Sequence[RunContext],
    findings: Sequence[Finding],
    width: int | None = None,
) -> str:
    """A rendered comparison with its context: the configuration and latency just above the
    findings and the hints after them (table, markdown), a `run_context` key (json); csv
    stays rows only."""
    if fmt == "json":
        doc = json.loads(rendered)
        doc["run_context"] = context_json(contexts, findings)
        return json.dumps(doc, indent=2) + "\n"
    if fmt not in ("table", "markdown"):
        return rendered
    block = _wrap(render_context(contexts), width if fmt == "table" else None)
    hints = _wrap(render_hints(contexts, findings), width if fmt == "table" else None)
    marker = "\nFindings:" if fmt == "table" else "\n### Findings"
    at = rendered.find(marker)
    if block:
        block = block if fmt == "table" else "```\n" + block + "```\n"
        rendered = (
            rendered[: at + 1] + block + "\n" + rendered[at + 1 :]
            if at >= 0
            else block + "\n" + rendered
        )
    if hints:
        rendered += "\n" + (hints if fmt == "table" else "```\n" + hints + "```\n")
    return rendered
