"""What each exit reason `perf kvm stat` can print means, for someone tuning a KVM host.

Names are exactly as perf prints them: Intel names from the kernel's ``VMX_EXIT_REASONS``
(``arch/x86/include/uapi/asm/vmx.h``), AMD names from ``SVM_EXIT_REASONS``
(``arch/x86/include/uapi/asm/svm.h``), across kernel versions (older perf says
``PENDING_INTERRUPT`` for ``INTERRUPT_WINDOW``), plus perf's own ``UNKNOWN``. perf up to 6.3
cuts names to 19 characters, so :func:`lookup` also accepts such a cut name.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATEGORIES", "PERF_NAME_CUT", "ExitReasonInfo", "all_reasons", "explain", "lookup"]

CATEGORIES = frozenset(
    {"memory", "interrupt", "io", "msr", "instruction", "timer", "control", "exception", "other"}
)
VENDORS = ("vmx", "svm", "any")
PERF_NAME_CUT = 19
"""perf <= 6.3 prints names into a 20-byte buffer: at most 19 characters survive."""


@dataclass(frozen=True, slots=True)
class ExitReasonInfo:
    """One exit reason: its perf name, vendor, hardware code, meaning and category."""

    name: str
    vendor: str
    code: int | None
    meaning: str
    category: str


def _vmx(code: int, name: str, category: str, meaning: str) -> ExitReasonInfo:
    return ExitReasonInfo(name, "vmx", code, meaning, category)


def _svm(code: int, name: str, category: str, meaning: str) -> ExitReasonInfo:
    return ExitReasonInfo(name, "svm", code, meaning, category)


_NESTED = "the guest is itself a hypervisor (nested virtualization) and KVM emulates it"

_VMX: tuple[ExitReasonInfo, ...] = (
    _vmx(
        0,
        "EXCEPTION_NMI",
        "exception",
        "A guest exception KVM intercepts (#PF under shadow paging, #UD, #DB/#BP while "
        "debugging, #MC, #AC) or an NMI that hit while the guest ran. Grows with shadow "
        "paging, guest debugging and host NMIs such as the perf NMI watchdog.",
    ),
    _vmx(
        1,
        "EXTERNAL_INTERRUPT",
        "interrupt",
        "A host hardware interrupt (timer tick, device IRQ, IPI) arrived while the guest ran, "
        "so the CPU left the guest for the host to handle it. Driven by host interrupt load on "
        "that physical CPU; isolcpus/nohz_full and IRQ affinity away from vCPU cores cut it.",
    ),
    _vmx(
        2,
        "TRIPLE_FAULT",
        "exception",
        "The guest faulted while delivering a double fault, which resets a real CPU; KVM "
        "turns it into a guest shutdown or reset. Seen at reboot or crash, never steady state.",
    ),
    _vmx(
        3,
        "INIT_SIGNAL",
        "interrupt",
        "An INIT signal arrived for this vCPU (an INIT IPI from another vCPU or a reset). "
        "Happens when the guest boots or hot-plugs secondary vCPUs.",
    ),
    _vmx(
        4,
        "SIPI_SIGNAL",
        "interrupt",
        "A start-up IPI arrived while the vCPU waited for SIPI. Only while the guest brings "
        "up its secondary vCPUs.",
    ),
    _vmx(
        7,
        "INTERRUPT_WINDOW",
        "interrupt",
        "KVM asked for an exit as soon as the guest can take an interrupt again (interrupt "
        "window open: IF set, no blocking) so it can inject a pending one. Follows the "
        "injection rate while the guest runs with interrupts masked; APICv posted interrupts "
        "remove most of them.",
    ),
    _vmx(
        7,
        "PENDING_INTERRUPT",
        "interrupt",
        "Older perf's name for INTERRUPT_WINDOW: the guest became able to accept an interrupt "
        "KVM had queued, so KVM exits to inject it. Driven by interrupts sent while the guest "
        "masks them; APICv with posted interrupts avoids most.",
    ),
    _vmx(
        8,
        "NMI_WINDOW",
        "interrupt",
        "KVM asked for an exit as soon as the guest can take an NMI, to inject a pending one "
        "(virtual PMU overflow, NMI IPI). Follows the NMIs sent to the guest.",
    ),
    _vmx(
        9,
        "TASK_SWITCH",
        "control",
        "The guest did a hardware task switch (far jump or call through a TSS or task gate), "
        "which KVM emulates. Only legacy 32-bit guests; rare.",
    ),
    _vmx(
        10,
        "CPUID",
        "instruction",
        "The guest executed CPUID, which always exits so KVM can report the virtual CPU's "
        "features. Mostly a burst at boot; a steady rate means guest code keeps issuing CPUID "
        "(feature probing in a hot path or CPUID used to serialize).",
    ),
    _vmx(
        12,
        "HLT",
        "instruction",
        "The guest executed HLT because the vCPU was idle. Time here is mostly idle time until "
        "the next interrupt wakes it, not overhead; halt polling (halt_poll_ns) or guest "
        "haltpoll/idle=poll trade CPU for lower wake-up latency.",
    ),
    _vmx(
        13,
        "INVD",
        "instruction",
        "The guest executed INVD (drop caches without writing them back), which always "
        "exits. Rare outside firmware.",
    ),
    _vmx(
        14,
        "INVLPG",
        "memory",
        "The guest flushed a TLB entry with INVLPG; it exits only under shadow paging (no "
        "EPT), where the count follows guest page-table churn.",
    ),
    _vmx(
        15,
        "RDPMC",
        "instruction",
        "The guest read a performance counter with RDPMC and KVM emulates the virtual PMU. "
        "Driven by profilers running inside the guest.",
    ),
    _vmx(
        16,
        "RDTSC",
        "timer",
        "The guest read the time-stamp counter with RDTSC while KVM intercepts it, normally "
        "only when TSC offsetting or scaling cannot be done in hardware. A high count points at "
        "TSC emulation or a guest clocksource problem.",
    ),
    _vmx(
        18,
        "VMCALL",
        "instruction",
        "The guest made a hypercall with VMCALL (KVM PV IPIs, PV spinlock kick, clock pairing, "
        "Hyper-V enlightenments). Follows the guest's use of paravirtual features.",
    ),
    _vmx(
        19,
        "VMCLEAR",
        "instruction",
        f"The guest ran VMCLEAR to flush one of its own VMCSs: {_NESTED}. Grows when the L1 "
        "hypervisor moves or tears down L2 vCPUs.",
    ),
    _vmx(
        20,
        "VMLAUNCH",
        "instruction",
        f"The guest ran VMLAUNCH to start an L2 guest on a fresh VMCS: {_NESTED}. Follows "
        "L2 vCPU creation and VMCS reloads.",
    ),
    _vmx(
        21,
        "VMPTRLD",
        "instruction",
        f"The guest ran VMPTRLD to make a VMCS current: {_NESTED}. Grows as the L1 hypervisor "
        "switches between its L2 vCPUs.",
    ),
    _vmx(
        22,
        "VMPTRST",
        "instruction",
        f"The guest ran VMPTRST to store the current-VMCS pointer: {_NESTED}. Rare.",
    ),
    _vmx(
        23,
        "VMREAD",
        "instruction",
        f"The guest read a VMCS field with VMREAD: {_NESTED}. Without VMCS shadowing every read "
        "exits, multiplying the cost of each L2 exit.",
    ),
    _vmx(
        24,
        "VMRESUME",
        "instruction",
        f"The guest re-entered its L2 guest with VMRESUME: {_NESTED}. One per L2 exit that L1 "
        "handled, so it tracks the L2 exit rate.",
    ),
    _vmx(
        25,
        "VMWRITE",
        "instruction",
        f"The guest wrote a VMCS field with VMWRITE: {_NESTED}. Exits when VMCS shadowing is "
        "off or the field is not shadowed.",
    ),
    _vmx(
        26,
        "VMOFF",
        "instruction",
        "The guest left VMX operation with VMXOFF (stopping its own hypervisor at shutdown or "
        "kexec). Rare.",
    ),
    _vmx(
        27,
        "VMON",
        "instruction",
        "The guest entered VMX operation with VMXON to run its own hypervisor (nested "
        "virtualization). Once per vCPU when L1 loads KVM or another hypervisor.",
    ),
    _vmx(
        28,
        "CR_ACCESS",
        "control",
        "The guest moved to or from a control register (CR0, CR3, CR4, CR8) that KVM "
        "intercepts. With EPT, CR3 loads rarely exit; a high count means CR0/CR4 bit toggling "
        "(old lazy-FPU CR0.TS, CR4.PGE flushes), CR8 without a virtual TPR, or shadow paging.",
    ),
    _vmx(
        29,
        "DR_ACCESS",
        "control",
        "The guest accessed a debug register (DR0-DR7) while KVM intercepts them; typical with "
        "a debugger, watchpoints or perf breakpoints in the guest.",
    ),
    _vmx(
        30,
        "IO_INSTRUCTION",
        "io",
        "The guest executed a port I/O instruction (IN/OUT/INS/OUTS) that KVM or QEMU emulates: "
        "serial, PIT, RTC, PCI config space, legacy virtio notify. Follows emulated legacy "
        "device use; virtio with ioeventfd keeps each exit short.",
    ),
    _vmx(
        31,
        "MSR_READ",
        "msr",
        "The guest read a model-specific register with RDMSR that is not passed through, so KVM "
        "emulates it. Common sources: APIC/timer MSRs without APICv, PMU and power-management "
        "MSRs polled by guest tools.",
    ),
    _vmx(
        32,
        "MSR_WRITE",
        "msr",
        "The guest wrote a model-specific register with WRMSR that KVM intercepts; usually "
        "arming the TSC-deadline timer, or x2APIC EOI and ICR (IPI) writes without APICv. "
        "Follows guest timer reprogramming and IPI rate.",
    ),
    _vmx(
        33,
        "INVALID_STATE",
        "control",
        "VM entry failed because the VMCS guest state was invalid (e.g. real-mode state the "
        "CPU cannot run without unrestricted guest), so KVM emulates instead. Early boot or "
        "unrestricted_guest=0 only.",
    ),
    _vmx(
        34,
        "MSR_LOAD_FAIL",
        "msr",
        "VM entry failed while loading guest MSRs from the VM-entry MSR-load list. A KVM or "
        "hardware error, not a workload signal.",
    ),
    _vmx(
        36,
        "MWAIT_INSTRUCTION",
        "instruction",
        "The guest executed MWAIT to idle while KVM intercepts it (MWAIT not passed through "
        "with cpu-pm=on); KVM treats it like a NOP. Follows guest idle entries.",
    ),
    _vmx(
        37,
        "MONITOR_TRAP_FLAG",
        "control",
        "The monitor trap flag forced an exit after a single guest instruction: single-stepping "
        "by a debugger or by KVM itself. Should be zero in production.",
    ),
    _vmx(
        39,
        "MONITOR_INSTRUCTION",
        "instruction",
        "The guest executed MONITOR (arming an address for MWAIT) while KVM intercepts it. "
        "Comes paired with MWAIT_INSTRUCTION in guest idle loops.",
    ),
    _vmx(
        40,
        "PAUSE_INSTRUCTION",
        "instruction",
        "Pause-loop exiting: the vCPU spun on PAUSE in a spin-lock loop longer than the PLE "
        "window, so KVM exits to let the lock holder run. Driven by lock contention and vCPU "
        "overcommit (preempted lock holders); tune ple_gap/ple_window, pin vCPUs, PV spinlocks.",
    ),
    _vmx(
        41,
        "MCE_DURING_VMENTRY",
        "exception",
        "A machine check happened during VM entry: a hardware error for the host's "
        "machine-check handling, not a tuning matter.",
    ),
    _vmx(
        43,
        "TPR_BELOW_THRESHOLD",
        "interrupt",
        "Without APICv, the guest lowered its task priority (TPR) below the threshold KVM set, "
        "so a held-back interrupt may now be delivered. Follows TPR changes, e.g. Windows IRQL.",
    ),
    _vmx(
        44,
        "APIC_ACCESS",
        "interrupt",
        "The guest touched the memory-mapped local APIC page (xAPIC mode) in a way hardware does "
        "not virtualize, so KVM emulates the register access. x2APIC in the guest or APICv "
        "reduces it.",
    ),
    _vmx(
        45,
        "EOI_INDUCED",
        "interrupt",
        "With APICv, the guest acknowledged (EOI) a vector KVM asked to hear about, typically a "
        "level-triggered IOAPIC interrupt, so KVM can update the emulated IOAPIC. Follows "
        "level-triggered device interrupts.",
    ),
    _vmx(
        46,
        "GDTR_IDTR",
        "control",
        "The guest executed LGDT, LIDT, SGDT or SIDT while descriptor-table exiting is on "
        "(UMIP emulation or introspection). Rare otherwise.",
    ),
    _vmx(
        47,
        "LDTR_TR",
        "control",
        "The guest executed LLDT, LTR, SLDT or STR while descriptor-table exiting is on (UMIP "
        "emulation or introspection). Rare otherwise.",
    ),
    _vmx(
        48,
        "EPT_VIOLATION",
        "memory",
        "The guest accessed guest-physical memory whose EPT entry is missing or forbids the "
        "access, so KVM must fault the page in (or track dirty pages). High at boot, after "
        "migration or ballooning; hugepages, preallocated memory and no host swapping reduce "
        "it.",
    ),
    _vmx(
        49,
        "EPT_MISCONFIG",
        "io",
        "The guest accessed a guest-physical address whose EPT entry KVM marked invalid on "
        "purpose: that is how KVM traps emulated MMIO (virtio, VGA, other device registers). "
        "Follows MMIO traffic to emulated devices; ioeventfd keeps each exit short.",
    ),
    _vmx(
        50,
        "INVEPT",
        "memory",
        f"The guest ran INVEPT to flush EPT-derived TLB entries: {_NESTED}, resyncing its "
        "shadow EPT tables.",
    ),
    _vmx(
        51,
        "RDTSCP",
        "timer",
        "The guest executed RDTSCP while KVM intercepts it (RDTSCP not exposed, or TSC "
        "emulated). Rare on modern hosts.",
    ),
    _vmx(
        52,
        "PREEMPTION_TIMER",
        "timer",
        "The VMX preemption timer expired; KVM uses it to emulate the guest's APIC "
        "(TSC-deadline) timer without a host hrtimer, so the count follows the guest's timer "
        "interrupt rate (tick frequency, high-resolution timers).",
    ),
    _vmx(
        53,
        "INVVPID",
        "memory",
        f"The guest ran INVVPID to flush VPID-tagged TLB entries: {_NESTED}.",
    ),
    _vmx(
        54,
        "WBINVD",
        "instruction",
        "The guest executed WBINVD (write back and invalidate all caches), intercepted because "
        "it is slow and disturbs the host. Follows guest cache flushes (MTRR changes, some GPU "
        "drivers).",
    ),
    _vmx(
        55,
        "XSETBV",
        "instruction",
        "The guest wrote XCR0 with XSETBV to enable extended register state (AVX and others). "
        "A few per vCPU at boot.",
    ),
    _vmx(
        56,
        "APIC_WRITE",
        "interrupt",
        "With APICv, the guest wrote an APIC register that hardware virtualizes but KVM must "
        "act on afterwards (ICR for some IPIs, timer registers). Follows IPIs and APIC timer "
        "programming.",
    ),
    _vmx(
        57,
        "RDRAND",
        "instruction",
        "The guest executed RDRAND while KVM intercepts it; not intercepted by default, so a "
        "count means a special configuration.",
    ),
    _vmx(
        58,
        "INVPCID",
        "memory",
        "The guest flushed TLB entries with INVPCID; exits only when KVM intercepts it (shadow "
        "paging, or INVPCID not exposed).",
    ),
    _vmx(
        59,
        "VMFUNC",
        "instruction",
        "The guest executed VMFUNC for a function hardware does not handle alone, such as EPTP "
        "switching under nested virtualization.",
    ),
    _vmx(
        60,
        "ENCLS",
        "instruction",
        "The guest executed an SGX ENCLS leaf that KVM intercepts to manage enclave pages (EPC). "
        "Follows SGX enclave setup in the guest.",
    ),
    _vmx(
        61,
        "RDSEED",
        "instruction",
        "The guest executed RDSEED while KVM intercepts it; not intercepted by default.",
    ),
    _vmx(
        62,
        "PML_FULL",
        "memory",
        "The page-modification log (the CPU's list of pages the guest dirtied) filled up and "
        "KVM drains it. Happens during live migration or dirty tracking; follows the guest's "
        "memory write rate.",
    ),
    _vmx(
        63,
        "XSAVES",
        "instruction",
        "The guest executed XSAVES while KVM intercepts it; rare, depends on exposed "
        "supervisor state features.",
    ),
    _vmx(
        64,
        "XRSTORS",
        "instruction",
        "The guest executed XRSTORS while KVM intercepts it; rare, depends on exposed "
        "supervisor state features.",
    ),
    _vmx(
        67,
        "UMWAIT",
        "instruction",
        "The guest used UMWAIT (user-level wait on a monitored address) in a way that exits; "
        "not intercepted by default.",
    ),
    _vmx(
        68,
        "TPAUSE",
        "instruction",
        "The guest used TPAUSE (timed user-level pause) in a way that exits; not intercepted "
        "by default.",
    ),
    _vmx(
        74,
        "BUS_LOCK",
        "other",
        "The guest did a bus-locking atomic access (typically a split lock across a cache "
        "line) and bus-lock detection reported it; KVM may rate-limit the guest. Caused by "
        "misaligned atomics in guest code.",
    ),
    _vmx(
        75,
        "NOTIFY",
        "other",
        "The CPU stayed in a non-interruptible state inside the guest longer than the notify "
        "window, a guard against a guest hanging the CPU, so it forced an exit.",
    ),
    _vmx(
        77,
        "TDCALL",
        "instruction",
        "The guest executed TDCALL, meaningful only inside an Intel TDX trust domain; for an "
        "ordinary VM KVM answers with #UD.",
    ),
    _vmx(
        84,
        "MSR_READ_IMM",
        "msr",
        "The guest read an intercepted MSR with the immediate-operand form of RDMSR; same "
        "drivers as MSR_READ.",
    ),
    _vmx(
        85,
        "MSR_WRITE_IMM",
        "msr",
        "The guest wrote an intercepted MSR with the immediate-operand form of WRMSRNS; same "
        "drivers as MSR_WRITE.",
    ),
)

_SVM_CR: tuple[ExitReasonInfo, ...] = (
    _svm(
        0x000,
        "read_cr0",
        "control",
        "The guest read CR0 while KVM intercepts it, only when KVM hides or tracks CR0 bits "
        "(shadow paging, lazy FPU).",
    ),
    _svm(
        0x002,
        "read_cr2",
        "control",
        "The guest read CR2 (last page-fault address) while intercepted; not intercepted normally.",
    ),
    _svm(
        0x003,
        "read_cr3",
        "control",
        "The guest read CR3 (its page-table base) while intercepted; happens under shadow "
        "paging (no NPT).",
    ),
    _svm(
        0x004,
        "read_cr4",
        "control",
        "The guest read CR4 while KVM intercepts it to hide CR4 bits it does not expose.",
    ),
    _svm(
        0x008,
        "read_cr8",
        "control",
        "The guest read CR8 (task priority) while intercepted; without AVIC KVM tracks the "
        "guest's TPR this way.",
    ),
    _svm(
        0x010,
        "write_cr0",
        "control",
        "The guest wrote CR0 (paging, caching, FPU bits) and KVM intercepts it. Follows mode "
        "switches and CR0.TS toggling by old lazy-FPU kernels.",
    ),
    _svm(
        0x012,
        "write_cr2",
        "control",
        "The guest wrote CR2 while intercepted; not intercepted normally.",
    ),
    _svm(
        0x013,
        "write_cr3",
        "control",
        "The guest switched page tables by writing CR3; exits under shadow paging (no NPT), "
        "where it follows guest context switches.",
    ),
    _svm(
        0x014,
        "write_cr4",
        "control",
        "The guest wrote CR4 (paging and feature-enable bits), which KVM intercepts. A high "
        "count usually means CR4.PGE toggling for TLB flushes in older guest kernels.",
    ),
    _svm(
        0x018,
        "write_cr8",
        "control",
        "The guest wrote CR8 (task priority) while intercepted; without AVIC this follows "
        "guests that change priority often, such as Windows.",
    ),
)

_SVM_DR: tuple[ExitReasonInfo, ...] = tuple(
    _svm(
        base + n,
        f"{verb}_dr{n}",
        "control",
        f"The guest {past} debug register DR{n} while KVM intercepts debug registers: a "
        "debugger, watchpoint or perf breakpoint is active in the guest.",
    )
    for base, verb, past in ((0x020, "read", "read"), (0x030, "write", "wrote"))
    for n in range(8)
)

# (mnemonic, vector, what it is, why KVM sees it)
_SVM_EXCEPTIONS = (
    ("DE", 0, "divide error (#DE)", "Not intercepted normally; a count means a debug setup."),
    (
        "DB",
        1,
        "debug exception (#DB)",
        "Seen while the guest is single-stepped or debugged, by the guest or from the host.",
    ),
    ("BP", 3, "breakpoint (#BP, INT3)", "Seen while a host-side debugger (gdbstub) is attached."),
    ("OF", 4, "overflow trap (#OF, INTO)", "Not intercepted normally."),
    ("BR", 5, "bound-range fault (#BR)", "Not intercepted normally."),
    (
        "UD",
        6,
        "invalid-opcode fault (#UD)",
        "KVM intercepts it to emulate instructions the CPU rejected, e.g. VMCALL on AMD "
        "after migration or instructions hidden from the guest.",
    ),
    ("NM", 7, "device-not-available fault (#NM)", "Older KVM used it for lazy FPU switching."),
    ("DF", 8, "double fault (#DF)", "The guest is crashing."),
    ("TS", 10, "invalid-TSS fault (#TS)", "Not intercepted normally."),
    ("NP", 11, "segment-not-present fault (#NP)", "Not intercepted normally."),
    ("SS", 12, "stack-segment fault (#SS)", "Not intercepted normally."),
    (
        "GP",
        13,
        "general-protection fault (#GP)",
        "KVM intercepts it for the VMware backdoor port or erratum workarounds; otherwise rare.",
    ),
    (
        "PF",
        14,
        "page fault (#PF)",
        "Intercepted only under shadow paging (no NPT), where it follows guest page faults.",
    ),
    ("MF", 16, "x87 floating-point error (#MF)", "Not intercepted normally."),
    (
        "AC",
        17,
        "alignment-check fault (#AC)",
        "Intercepted for split-lock detection; caused by misaligned atomics in the guest.",
    ),
    ("MC", 18, "machine check (#MC)", "Always intercepted: a hardware error, not a tuning matter."),
    ("XF", 19, "SIMD floating-point exception (#XM)", "Not intercepted normally."),
)

_SVM_EXCP: tuple[ExitReasonInfo, ...] = tuple(
    _svm(
        0x040 + vec,
        f"{mn} excp",
        "exception",
        f"The guest raised a {what} that KVM intercepts. {why}",
    )
    for mn, vec, what, why in _SVM_EXCEPTIONS
)

_SVM_REST: tuple[ExitReasonInfo, ...] = (
    _svm(
        0x060,
        "interrupt",
        "interrupt",
        "A physical interrupt for the host (timer tick, device IRQ, IPI) arrived while the "
        "guest ran: AMD's counterpart of EXTERNAL_INTERRUPT. Driven by host interrupt load on "
        "that CPU; isolate vCPU cores and steer IRQs elsewhere.",
    ),
    _svm(
        0x061,
        "nmi",
        "interrupt",
        "A host NMI arrived while the guest ran, e.g. the perf NMI watchdog or host profiling.",
    ),
    _svm(
        0x062,
        "smi",
        "interrupt",
        "A system-management interrupt made the CPU leave the guest for firmware (SMM). High "
        "counts point at BIOS/firmware activity and cause latency spikes.",
    ),
    _svm(
        0x063,
        "init",
        "interrupt",
        "An INIT signal arrived for the physical CPU while it ran the guest. Rare.",
    ),
    _svm(
        0x064,
        "vintr",
        "interrupt",
        "KVM asked for an exit as soon as the guest can take a virtual interrupt, to inject a "
        "pending one (AMD's interrupt window). Follows interrupts sent while the guest masks "
        "them; AVIC avoids most.",
    ),
    _svm(
        0x065,
        "cr0_sel_write",
        "control",
        "The guest wrote CR0 changing bits other than TS and MP (selective CR0 write intercept), "
        "e.g. switching paging or cache modes.",
    ),
    _svm(
        0x066,
        "read_idtr",
        "control",
        "The guest read the IDT register (SIDT) while intercepted, for UMIP emulation or "
        "introspection.",
    ),
    _svm(
        0x067,
        "read_gdtr",
        "control",
        "The guest read the GDT register (SGDT) while intercepted, for UMIP emulation or "
        "introspection.",
    ),
    _svm(
        0x068,
        "read_ldtr",
        "control",
        "The guest read the LDT register (SLDT) while intercepted, for UMIP emulation or "
        "introspection.",
    ),
    _svm(
        0x069,
        "read_rt",
        "control",
        "The guest read the task register (STR) while intercepted (the kernel spells it "
        "read_rt), for UMIP emulation or introspection.",
    ),
    _svm(
        0x06A,
        "write_idtr",
        "control",
        "The guest loaded the IDT register (LIDT) while intercepted; rare.",
    ),
    _svm(
        0x06B,
        "write_gdtr",
        "control",
        "The guest loaded the GDT register (LGDT) while intercepted; rare.",
    ),
    _svm(
        0x06C,
        "write_ldtr",
        "control",
        "The guest loaded the LDT register (LLDT) while intercepted; rare.",
    ),
    _svm(
        0x06D,
        "write_rt",
        "control",
        "The guest loaded the task register (LTR) while intercepted (the kernel spells it "
        "write_rt); rare.",
    ),
    _svm(
        0x06E,
        "rdtsc",
        "timer",
        "The guest read the TSC with RDTSC while KVM intercepts it; not intercepted normally, "
        "so a count points at TSC emulation.",
    ),
    _svm(
        0x06F,
        "rdpmc",
        "instruction",
        "The guest read a performance counter with RDPMC while KVM emulates the virtual PMU; "
        "follows profilers inside the guest.",
    ),
    _svm(
        0x070,
        "pushf",
        "instruction",
        "The guest executed PUSHF while intercepted; not intercepted normally.",
    ),
    _svm(
        0x071,
        "popf",
        "instruction",
        "The guest executed POPF while intercepted; not intercepted normally.",
    ),
    _svm(
        0x072,
        "cpuid",
        "instruction",
        "The guest executed CPUID, which always exits so KVM can report the virtual CPU's "
        "features. Mostly at boot; a steady rate means guest code keeps calling cpuid.",
    ),
    _svm(
        0x073,
        "rsm",
        "instruction",
        "The guest left its own system-management mode with RSM; only with emulated SMM (e.g. "
        "OVMF secure boot), and slow.",
    ),
    _svm(
        0x074,
        "iret",
        "interrupt",
        "The guest executed IRET while KVM waits for the end of an NMI handler to inject the "
        "next NMI (the NMI window on AMD CPUs without vNMI).",
    ),
    _svm(
        0x075,
        "swint",
        "instruction",
        "The guest executed a software interrupt (INT n) while intercepted; not intercepted "
        "normally.",
    ),
    _svm(
        0x076,
        "invd",
        "instruction",
        "The guest executed INVD (discard caches without write-back), always intercepted; rare "
        "outside firmware.",
    ),
    _svm(
        0x077,
        "pause",
        "instruction",
        "Pause filtering: the vCPU executed PAUSE in a spin loop more often than the pause "
        "filter allows, so KVM exits to let a lock holder run. Driven by spin-lock contention "
        "and vCPU overcommit; pause_filter_count/thresh and PV spinlocks tune it.",
    ),
    _svm(
        0x078,
        "hlt",
        "instruction",
        "The guest executed HLT to idle its vCPU; the time is mostly spent waiting for the "
        "next interrupt, not overhead. Halt polling or guest idle polling lower wake-up "
        "latency at the cost of CPU time.",
    ),
    _svm(
        0x079,
        "invlpg",
        "memory",
        "The guest flushed a TLB entry with INVLPG; intercepted only under shadow paging (no NPT).",
    ),
    _svm(
        0x07A,
        "invlpga",
        "memory",
        f"The guest ran INVLPGA to flush a TLB entry for a given ASID: {_NESTED}.",
    ),
    _svm(
        0x07B,
        "io",
        "io",
        "The guest executed an IN/OUT port I/O instruction that KVM or QEMU emulates (serial, "
        "PIT, RTC, PCI config space, legacy virtio notify). Follows emulated legacy device "
        "traffic.",
    ),
    _svm(
        0x07C,
        "msr",
        "msr",
        "The guest read or wrote an intercepted model-specific register (RDMSR or WRMSR; SVM "
        "uses one code for both). Usually TSC-deadline timer arming, x2APIC EOI/ICR without "
        "AVIC, or PMU and power MSRs.",
    ),
    _svm(
        0x07D,
        "task_switch",
        "control",
        "The guest did a hardware task switch through a TSS or task gate, which KVM emulates; "
        "legacy 32-bit guests only.",
    ),
    _svm(
        0x07E,
        "ferr_freeze",
        "exception",
        "Legacy x87 FERR# error signalling froze the processor (IGNNE# handling); practically "
        "never seen.",
    ),
    _svm(
        0x07F,
        "shutdown",
        "exception",
        "The guest hit a shutdown condition (triple fault), which KVM turns into a reset or "
        "shutdown; at reboot or crash.",
    ),
    _svm(
        0x080,
        "vmrun",
        "instruction",
        f"The guest ran VMRUN to enter its own L2 guest: {_NESTED}, so the count follows L2 "
        "entries.",
    ),
    _svm(
        0x081,
        "hypercall",
        "instruction",
        "The guest made a hypercall with VMMCALL (PV IPIs, PV spinlock kick, clock pairing, "
        "Hyper-V enlightenments). Follows guest use of paravirtual features.",
    ),
    _svm(
        0x082,
        "vmload",
        "instruction",
        f"The guest ran VMLOAD to load extra guest state: {_NESTED} unless virtual "
        "VMLOAD/VMSAVE is available.",
    ),
    _svm(
        0x083,
        "vmsave",
        "instruction",
        f"The guest ran VMSAVE to save extra guest state: {_NESTED} unless virtual "
        "VMLOAD/VMSAVE is available.",
    ),
    _svm(
        0x084,
        "stgi",
        "instruction",
        f"The guest ran STGI to set the global interrupt flag: {_NESTED} unless virtual GIF "
        "is available.",
    ),
    _svm(
        0x085,
        "clgi",
        "instruction",
        f"The guest ran CLGI to clear the global interrupt flag: {_NESTED} unless virtual GIF "
        "is available.",
    ),
    _svm(
        0x086,
        "skinit",
        "instruction",
        "The guest executed SKINIT (secure late launch), which KVM does not support; "
        "essentially never seen.",
    ),
    _svm(
        0x087,
        "rdtscp",
        "timer",
        "The guest executed RDTSCP while intercepted (RDTSCP not exposed, or TSC emulated); rare.",
    ),
    _svm(
        0x088,
        "icebp",
        "exception",
        "The guest executed ICEBP (INT1, the one-byte debug trap) while intercepted, usually "
        "under a debugger.",
    ),
    _svm(
        0x089,
        "wbinvd",
        "instruction",
        "The guest executed WBINVD to flush all caches, intercepted because it is slow and "
        "disturbs the host. Follows guest cache-flush code.",
    ),
    _svm(
        0x08A,
        "monitor",
        "instruction",
        "The guest executed MONITOR while KVM intercepts it (MWAIT not passed through).",
    ),
    _svm(
        0x08B,
        "mwait",
        "instruction",
        "The guest executed MWAIT to idle while KVM intercepts it and treats it as a NOP; "
        "follows guest idle entries unless cpu-pm is passed through.",
    ),
    _svm(
        0x08D,
        "xsetbv",
        "instruction",
        "The guest set XCR0 with XSETBV to enable extended register state (AVX and others); a "
        "few per vCPU at boot.",
    ),
    _svm(
        0x08F,
        "write_efer_trap",
        "control",
        "An SEV-ES guest wrote EFER and the CPU reported it afterwards (a trap), since KVM "
        "cannot read encrypted state; mostly at boot.",
    ),
    _svm(
        0x090,
        "write_cr0_trap",
        "control",
        "An SEV-ES guest wrote CR0 and the CPU reported it afterwards (a trap) so KVM can "
        "follow a mode it cannot read.",
    ),
    _svm(
        0x094,
        "write_cr4_trap",
        "control",
        "An SEV-ES guest wrote CR4 and the CPU reported it afterwards (a trap).",
    ),
    _svm(
        0x098,
        "write_cr8_trap",
        "control",
        "An SEV-ES guest wrote CR8 (task priority) and the CPU reported it afterwards (a "
        "trap); follows priority changes without AVIC.",
    ),
    _svm(
        0x0A2,
        "invpcid",
        "memory",
        "The guest executed INVPCID while intercepted (shadow paging, or INVPCID not exposed).",
    ),
    _svm(
        0x0A5,
        "buslock",
        "other",
        "The guest did a bus-locking atomic access (e.g. a split lock) and the bus-lock "
        "threshold ran out; caused by misaligned atomics in guest code.",
    ),
    _svm(
        0x0A6,
        "idle-halt",
        "instruction",
        "The guest executed HLT with no interrupt pending (Idle HLT intercept), i.e. the vCPU "
        "really goes idle; replaces hlt on CPUs with this feature, same tuning knobs.",
    ),
    _svm(
        0x400,
        "npf",
        "memory",
        "Nested page fault: the guest touched guest-physical memory the nested page table does "
        "not map or forbids, so KVM faults the page in, emulates MMIO or tracks dirty pages "
        "(AMD's EPT_VIOLATION and EPT_MISCONFIG in one). Boot, ballooning, migration and MMIO "
        "drive it; hugepages and preallocated memory cut the memory part.",
    ),
    _svm(
        0x401,
        "avic_incomplete_ipi",
        "interrupt",
        "With AVIC, an IPI the guest sent could not be fully delivered by hardware (target "
        "vCPU not running, or invalid target), so KVM completes it. Follows IPIs to "
        "descheduled vCPUs.",
    ),
    _svm(
        0x402,
        "avic_unaccelerated_access",
        "interrupt",
        "With AVIC, the guest accessed an APIC register hardware does not accelerate, so KVM "
        "emulates it (some timer, LDR or DFR accesses). Follows guest APIC programming.",
    ),
    _svm(
        0x403,
        "vmgexit",
        "other",
        "An SEV-ES/SEV-SNP encrypted guest asked the hypervisor for help through the GHCB with "
        "VMGEXIT (its #VC handler's path for CPUID, MSR, I/O and more); the encrypted-guest "
        "counterpart of many ordinary exits.",
    ),
    _svm(
        0x407,
        "pml_full",
        "memory",
        "AMD's page-modification log of guest-dirtied pages filled up and KVM drains it; "
        "during live migration or dirty tracking.",
    ),
    _svm(
        0x80000001,
        "vmgexit_mmio_read",
        "io",
        "An SEV-ES guest asked the hypervisor via VMGEXIT to do an MMIO read for it; follows "
        "emulated device register reads.",
    ),
    _svm(
        0x80000002,
        "vmgexit_mmio_write",
        "io",
        "An SEV-ES guest asked the hypervisor via VMGEXIT to do an MMIO write for it; follows "
        "emulated device register writes (virtio notifies).",
    ),
    _svm(
        0x80000003,
        "vmgexit_nmi_complete",
        "interrupt",
        "An SEV-ES guest reported via VMGEXIT that its NMI handler finished, so the next NMI "
        "can be injected.",
    ),
    _svm(
        0x80000004,
        "vmgexit_ap_hlt_loop",
        "other",
        "A parked secondary CPU of an SEV-ES guest asked via VMGEXIT to halt until woken (AP "
        "reset hold); boot and CPU hotplug.",
    ),
    _svm(
        0x80000005,
        "vmgexit_ap_jump_table",
        "other",
        "An SEV-ES guest set or read the AP jump table (where secondary CPUs start) via "
        "VMGEXIT; boot only.",
    ),
    _svm(
        0x80000010,
        "vmgexit_page_state_change",
        "memory",
        "An SEV-SNP guest asked via VMGEXIT to convert pages between private and shared; "
        "follows boot-time memory acceptance and shared DMA (swiotlb) buffers.",
    ),
    _svm(
        0x80000011,
        "vmgexit_guest_request",
        "other",
        "An SEV-SNP guest sent a message to the AMD security processor (attestation report, "
        "key derivation) via VMGEXIT.",
    ),
    _svm(
        0x80000012,
        "vmgexit_ext_guest_request",
        "other",
        "An SEV-SNP guest sent an extended guest request (attestation with certificate data) "
        "via VMGEXIT.",
    ),
    _svm(
        0x80000013,
        "vmgexit_ap_creation",
        "other",
        "An SEV-SNP guest asked via VMGEXIT to create or destroy a secondary vCPU's state (AP "
        "start-up); boot and hotplug.",
    ),
    _svm(
        0x8000FFFD,
        "vmgexit_hypervisor_feature",
        "other",
        "An SEV-ES/SNP guest asked via VMGEXIT which GHCB features the hypervisor supports; "
        "once at boot.",
    ),
    _svm(
        -1,
        "invalid_guest_state",
        "control",
        "VMRUN failed because the VMCB guest state was invalid (SVM_EXIT_ERR); a KVM or VMM "
        "bug or unsupported state, not a workload signal.",
    ),
)

_UNKNOWN = ExitReasonInfo(
    "UNKNOWN",
    "any",
    None,
    "perf could not name this exit code (it printed 'unknown kvm exit code:<n> on VMX/SVM' "
    "before the table): the kernel reported a reason newer than perf's table. Look the number "
    "up in the kernel's vmx.h/svm.h or use a newer perf.",
    "other",
)

REASONS: tuple[ExitReasonInfo, ...] = (
    *_VMX,
    *_SVM_CR,
    *_SVM_DR,
    *_SVM_EXCP,
    *_SVM_REST,
    _UNKNOWN,
)
"""Every exit reason name perf kvm stat can print, Intel first, then AMD, then UNKNOWN."""

_BY_NAME: dict[str, ExitReasonInfo] = {info.name: info for info in REASONS}


def _cut_index() -> dict[str, ExitReasonInfo]:
    """Map each 19-character cut of a longer name to its entry, leaving out ambiguous cuts."""
    seen: dict[str, list[ExitReasonInfo]] = {}
    for info in REASONS:
        if len(info.name) > PERF_NAME_CUT:
            seen.setdefault(info.name[:PERF_NAME_CUT], []).append(info)
    return {cut: infos[0] for cut, infos in seen.items() if len(infos) == 1 and cut not in _BY_NAME}


_BY_CUT = _cut_index()


def lookup(reason: str) -> ExitReasonInfo | None:
    """The entry for a perf exit-reason name, exact or cut to 19 characters (case-sensitive).

    Surrounding whitespace is ignored; inner spaces (``"PF excp"``) are part of the name.
    """
    name = reason.strip()
    return _BY_NAME.get(name) or _BY_CUT.get(name)


def explain(reason: str) -> str:
    """The meaning of an exit reason, or a sentence saying the name is not a known one."""
    info = lookup(reason)
    if info is not None:
        return info.meaning
    return (
        f"{reason.strip()!r} is not a known VMX/SVM exit reason: perf kvm stat prints the "
        "names of the kernel's VMX_EXIT_REASONS (upper case) and SVM_EXIT_REASONS (lower case) "
        "tables, matched case-sensitively."
    )


def all_reasons(vendor: str | None = None) -> list[ExitReasonInfo]:
    """All entries, or only those of one vendor: "vmx", "svm" or "any" (perf's UNKNOWN)."""
    if vendor is None:
        return list(REASONS)
    if vendor not in VENDORS:
        raise ValueError(
            f"unknown vendor {vendor!r}: expected one of {', '.join(VENDORS)} or None for all"
        )
    return [info for info in REASONS if info.vendor == vendor]
