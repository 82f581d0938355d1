"""Tests for the exit-reason glossary against the kernel's tables and the installed perf."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from vmexit_tui.reference.glossary import (
    CATEGORIES,
    PERF_NAME_CUT,
    ExitReasonInfo,
    all_reasons,
    explain,
    lookup,
)

# The kernel's VMX_EXIT_REASONS, read from torvalds/linux arch/x86/include/uapi/asm/vmx.h
# (and its tools/ copy that perf builds with): the union over versions, name -> code.
# PENDING_INTERRUPT is the older name of code 7; TDCALL and the *_IMM pair are the newest.
KERNEL_VMX: dict[str, int] = {
    "EXCEPTION_NMI": 0,
    "EXTERNAL_INTERRUPT": 1,
    "TRIPLE_FAULT": 2,
    "INIT_SIGNAL": 3,
    "SIPI_SIGNAL": 4,
    "INTERRUPT_WINDOW": 7,
    "PENDING_INTERRUPT": 7,
    "NMI_WINDOW": 8,
    "TASK_SWITCH": 9,
    "CPUID": 10,
    "HLT": 12,
    "INVD": 13,
    "INVLPG": 14,
    "RDPMC": 15,
    "RDTSC": 16,
    "VMCALL": 18,
    "VMCLEAR": 19,
    "VMLAUNCH": 20,
    "VMPTRLD": 21,
    "VMPTRST": 22,
    "VMREAD": 23,
    "VMRESUME": 24,
    "VMWRITE": 25,
    "VMOFF": 26,
    "VMON": 27,
    "CR_ACCESS": 28,
    "DR_ACCESS": 29,
    "IO_INSTRUCTION": 30,
    "MSR_READ": 31,
    "MSR_WRITE": 32,
    "INVALID_STATE": 33,
    "MSR_LOAD_FAIL": 34,
    "MWAIT_INSTRUCTION": 36,
    "MONITOR_TRAP_FLAG": 37,
    "MONITOR_INSTRUCTION": 39,
    "PAUSE_INSTRUCTION": 40,
    "MCE_DURING_VMENTRY": 41,
    "TPR_BELOW_THRESHOLD": 43,
    "APIC_ACCESS": 44,
    "EOI_INDUCED": 45,
    "GDTR_IDTR": 46,
    "LDTR_TR": 47,
    "EPT_VIOLATION": 48,
    "EPT_MISCONFIG": 49,
    "INVEPT": 50,
    "RDTSCP": 51,
    "PREEMPTION_TIMER": 52,
    "INVVPID": 53,
    "WBINVD": 54,
    "XSETBV": 55,
    "APIC_WRITE": 56,
    "RDRAND": 57,
    "INVPCID": 58,
    "VMFUNC": 59,
    "ENCLS": 60,
    "RDSEED": 61,
    "PML_FULL": 62,
    "XSAVES": 63,
    "XRSTORS": 64,
    "UMWAIT": 67,
    "TPAUSE": 68,
    "BUS_LOCK": 74,
    "NOTIFY": 75,
    "TDCALL": 77,
    "MSR_READ_IMM": 84,
    "MSR_WRITE_IMM": 85,
}

# The kernel's SVM_EXIT_REASONS from arch/x86/include/uapi/asm/svm.h, union over versions
# (write_*_trap and vmgexit_* came with SEV-ES/SNP; idle-halt, buslock and pml_full are the
# newest). Exceptions are SVM_EXIT_EXCP_BASE (0x40) + vector.
_EXCP_VECTORS = {
    "DE": 0, "DB": 1, "BP": 3, "OF": 4, "BR": 5, "UD": 6, "NM": 7, "DF": 8, "TS": 10,
    "NP": 11, "SS": 12, "GP": 13, "PF": 14, "MF": 16, "AC": 17, "MC": 18, "XF": 19,
}  # fmt: skip
KERNEL_SVM: dict[str, int] = {
    "read_cr0": 0x000,
    "read_cr2": 0x002,
    "read_cr3": 0x003,
    "read_cr4": 0x004,
    "read_cr8": 0x008,
    "write_cr0": 0x010,
    "write_cr2": 0x012,
    "write_cr3": 0x013,
    "write_cr4": 0x014,
    "write_cr8": 0x018,
    **{f"read_dr{n}": 0x020 + n for n in range(8)},
    **{f"write_dr{n}": 0x030 + n for n in range(8)},
    **{f"{mn} excp": 0x040 + vec for mn, vec in _EXCP_VECTORS.items()},
    "interrupt": 0x060,
    "nmi": 0x061,
    "smi": 0x062,
    "init": 0x063,
    "vintr": 0x064,
    "cr0_sel_write": 0x065,
    "read_idtr": 0x066,
    "read_gdtr": 0x067,
    "read_ldtr": 0x068,
    "read_rt": 0x069,
    "write_idtr": 0x06A,
    "write_gdtr": 0x06B,
    "write_ldtr": 0x06C,
    "write_rt": 0x06D,
    "rdtsc": 0x06E,
    "rdpmc": 0x06F,
    "pushf": 0x070,
    "popf": 0x071,
    "cpuid": 0x072,
    "rsm": 0x073,
    "iret": 0x074,
    "swint": 0x075,
    "invd": 0x076,
    "pause": 0x077,
    "hlt": 0x078,
    "invlpg": 0x079,
    "invlpga": 0x07A,
    "io": 0x07B,
    "msr": 0x07C,
    "task_switch": 0x07D,
    "ferr_freeze": 0x07E,
    "shutdown": 0x07F,
    "vmrun": 0x080,
    "hypercall": 0x081,
    "vmload": 0x082,
    "vmsave": 0x083,
    "stgi": 0x084,
    "clgi": 0x085,
    "skinit": 0x086,
    "rdtscp": 0x087,
    "icebp": 0x088,
    "wbinvd": 0x089,
    "monitor": 0x08A,
    "mwait": 0x08B,
    "xsetbv": 0x08D,
    "write_efer_trap": 0x08F,
    "write_cr0_trap": 0x090,
    "write_cr4_trap": 0x094,
    "write_cr8_trap": 0x098,
    "invpcid": 0x0A2,
    "buslock": 0x0A5,
    "idle-halt": 0x0A6,
    "npf": 0x400,
    "avic_incomplete_ipi": 0x401,
    "avic_unaccelerated_access": 0x402,
    "vmgexit": 0x403,
    "pml_full": 0x407,
    "vmgexit_mmio_read": 0x80000001,
    "vmgexit_mmio_write": 0x80000002,
    "vmgexit_nmi_complete": 0x80000003,
    "vmgexit_ap_hlt_loop": 0x80000004,
    "vmgexit_ap_jump_table": 0x80000005,
    "vmgexit_page_state_change": 0x80000010,
    "vmgexit_guest_request": 0x80000011,
    "vmgexit_ext_guest_request": 0x80000012,
    "vmgexit_ap_creation": 0x80000013,
    "vmgexit_hypervisor_feature": 0x8000FFFD,
    "invalid_guest_state": -1,  # SVM_EXIT_ERR
}

# The eleven reasons the seed measured, with words their meaning must contain (lower case;
# each inner tuple is "any of these").
KEY_IDEAS: dict[str, tuple[tuple[str, ...], ...]] = {
    "EPT_VIOLATION": (("ept",), ("page",), ("fault",)),
    "MSR_WRITE": (("wrmsr",), ("timer", "tsc-deadline"), ("ipi", "icr")),
    "HLT": (("hlt",), ("idle",), ("halt poll", "halt_poll")),
    "EXTERNAL_INTERRUPT": (("interrupt",), ("host",)),
    "IO_INSTRUCTION": (("port",), ("in/out",)),
    "EPT_MISCONFIG": (("mmio",), ("ept",)),
    "PREEMPTION_TIMER": (("preemption timer",), ("timer",)),
    "PAUSE_INSTRUCTION": (("pause",), ("spin",), ("lock",)),
    "INTERRUPT_WINDOW": (("window",), ("inject",)),
    "CPUID": (("cpuid",), ("feature",)),
    "MSR_READ": (("rdmsr",), ("model-specific register",)),
}


def _kernel_names() -> list[tuple[str, str, int]]:
    return [("vmx", n, c) for n, c in KERNEL_VMX.items()] + [
        ("svm", n, c) for n, c in KERNEL_SVM.items()
    ]


@pytest.mark.parametrize(("vendor", "name", "code"), _kernel_names())
def test_every_kernel_name_is_present_with_its_header_code(vendor: str, name: str, code: int):
    info = lookup(name)
    assert info is not None, f"{name} from the kernel's {vendor} table is missing"
    assert (info.name, info.vendor, info.code) == (name, vendor, code)


def test_table_holds_nothing_beyond_the_kernel_tables_and_unknown():
    names = {info.name for info in all_reasons()}
    extra = names - set(KERNEL_VMX) - set(KERNEL_SVM) - {"UNKNOWN"}
    assert not extra, f"names no kernel table prints: {sorted(extra)}"
    assert len(all_reasons()) == len(names), "a name appears twice in the table"


def test_unknown_is_perfs_own_entry():
    info = lookup("UNKNOWN")
    assert info == ExitReasonInfo("UNKNOWN", "any", None, info.meaning, "other")
    assert "unknown kvm exit code" in info.meaning


def test_vendor_names_follow_case_convention_and_lookup_is_case_sensitive():
    for info in all_reasons("vmx"):
        assert info.name == info.name.upper()
    for info in all_reasons("svm"):
        assert info.name.endswith(" excp") or info.name == info.name.lower()
    assert lookup("HLT").vendor == "vmx"
    assert lookup("hlt").vendor == "svm"
    assert lookup("Hlt") is None
    assert lookup("ept_violation") is None


def test_pending_interrupt_is_the_old_name_of_interrupt_window():
    old, new = lookup("PENDING_INTERRUPT"), lookup("INTERRUPT_WINDOW")
    assert old.code == new.code == 7
    assert old.category == new.category == "interrupt"
    assert "INTERRUPT_WINDOW" in old.meaning


@pytest.mark.parametrize(
    "info", [i for i in all_reasons() if len(i.name) > PERF_NAME_CUT], ids=lambda i: i.name
)
def test_name_cut_to_19_chars_finds_its_entry(info: ExitReasonInfo):
    cut = info.name[:PERF_NAME_CUT]
    assert lookup(cut) is info
    assert lookup(f"  {cut} ") is info  # padding from a fixed-width column
    assert explain(cut) == info.meaning


def test_19_char_cuts_are_unambiguous():
    names = [i.name for i in all_reasons()]
    cuts = [n[:PERF_NAME_CUT] for n in names if len(n) > PERF_NAME_CUT]
    assert len(cuts) == len(set(cuts)), "two long names share their 19-character cut"
    clashes = set(cuts) & set(names)
    assert not clashes, f"a cut equals another full name: {clashes}"
    # The kernel names the test knows independently must be unambiguous too.
    kernel = list(KERNEL_VMX) + list(KERNEL_SVM)
    kernel_cuts = [n[:PERF_NAME_CUT] for n in kernel if len(n) > PERF_NAME_CUT]
    assert len(kernel_cuts) == len(set(kernel_cuts))
    assert len(kernel_cuts) >= 7  # avic_unaccelerated_access and the long vmgexit names


def test_only_a_19_char_cut_matches_not_any_prefix():
    assert lookup("avic_unaccelerated") is None  # 18 characters
    assert lookup("avic_unaccelerated_a") is None  # 20 characters, neither full nor cut
    assert lookup("EPT_VIOL") is None
    assert lookup("avic_incomplete_ipi") is not None  # exactly 19 and complete


@pytest.mark.parametrize("name", sorted(KEY_IDEAS))
def test_measured_reasons_mention_their_key_idea(name: str):
    meaning = lookup(name).meaning.lower()
    for alternatives in KEY_IDEAS[name]:
        assert any(word in meaning for word in alternatives), (
            f"{name}: meaning lacks any of {alternatives}: {meaning}"
        )


def test_meanings_are_short_nonempty_unique_and_categorised():
    reasons = all_reasons()
    meanings = [i.meaning for i in reasons]
    assert all(m.strip() for m in meanings)
    assert len(set(meanings)) == len(meanings), "two reasons share a meaning"
    for info in reasons:
        assert info.category in CATEGORIES, info
        assert info.meaning.endswith("."), info.name
        sentences = re.split(r"(?<=[.;])\s+(?=[A-Z(])", info.meaning)
        assert len(sentences) <= 3, f"{info.name}: {len(sentences)} sentences"
        assert len(info.meaning) <= 330, f"{info.name}: {len(info.meaning)} chars"


def test_categories_of_the_common_reasons():
    expected = {
        "EPT_VIOLATION": "memory",
        "npf": "memory",
        "EPT_MISCONFIG": "io",
        "IO_INSTRUCTION": "io",
        "io": "io",
        "MSR_READ": "msr",
        "MSR_WRITE": "msr",
        "msr": "msr",
        "EXTERNAL_INTERRUPT": "interrupt",
        "interrupt": "interrupt",
        "PREEMPTION_TIMER": "timer",
        "HLT": "instruction",
        "CR_ACCESS": "control",
        "PF excp": "exception",
    }
    assert {n: lookup(n).category for n in expected} == expected


def test_explain_unknown_name_says_so():
    text = explain("kvm_fast_mmio")
    assert "'kvm_fast_mmio'" in text
    assert "not a known VMX/SVM exit reason" in text
    assert explain("0xfee00380:W").startswith("'0xfee00380:W' is not a known")


def test_all_reasons_filters_by_vendor():
    vmx, svm, other = all_reasons("vmx"), all_reasons("svm"), all_reasons("any")
    assert {i.vendor for i in vmx} == {"vmx"}
    assert {i.vendor for i in svm} == {"svm"}
    assert [i.name for i in other] == ["UNKNOWN"]
    assert len(vmx) + len(svm) + len(other) == len(all_reasons())
    assert len(vmx) == len(KERNEL_VMX)
    assert len(svm) == len(KERNEL_SVM)
    all_reasons().clear()  # a copy: clearing it leaves the table intact
    assert len(all_reasons()) == len(vmx) + len(svm) + 1


def test_all_reasons_rejects_unknown_vendor():
    with pytest.raises(ValueError, match=r"'intel'.*vmx, svm, any"):
        all_reasons("intel")


def _installed_perf_exit_names() -> list[str]:
    """The exit-reason strings compiled into the installed perf, in table order.

    perf's tables are static arrays of string literals, laid out consecutively in .rodata,
    starting with SVM's "read_cr0". The run ends at the first string that is not name-like.
    """
    perf = shutil.which("perf")
    if perf is None:
        pytest.skip("perf is not installed")
    data = Path(perf).read_bytes()
    start = data.find(b"\0read_cr0\0")
    if start < 0:
        pytest.skip(f"{perf} holds no SVM exit-reason table")
    names = []
    for raw in data[start + 1 :].split(b"\0"):
        if not re.fullmatch(rb"[A-Za-z][A-Za-z0-9_]*( excp)?|idle-halt", raw):
            break
        names.append(raw.decode())
    return names


@pytest.mark.perf
def test_every_name_in_the_installed_perf_is_known():
    names = _installed_perf_exit_names()
    assert len(names) > 100, f"table run too short, layout not understood: {names}"
    assert "EPT_VIOLATION" in names and "avic_incomplete_ipi" in names
    unknown = [n for n in names if lookup(n) is None]
    assert not unknown, f"the installed perf prints names the glossary lacks: {unknown}"
