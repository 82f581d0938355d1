"""The lab itself: L1 boots, has /dev/kvm from kvm_amd, and the tiny VMM makes real exits."""

from __future__ import annotations

from tests.lab.driver import REPO, Lab
from tests.lab.emulator import MIN_MAJOR, qemu_major


def _loops(text: str) -> dict[int, int]:
    """vCPU -> loops, from the tiny VMM's `vcpu N loops M` lines."""
    rows = (ln.split() for ln in text.splitlines())
    return {int(w[1]): int(w[3]) for w in rows if w[:1] == ["vcpu"]}


def test_l1_runs_under_a_qemu_whose_svm_emulation_holds(lab: Lab) -> None:
    """Not Debian 12's QEMU 7.2 (tests/lab/emulator.py says why); the host's if recent enough,
    else the backports build from the lab cache."""
    qemu = lab.settings.qemu
    assert qemu_major(qemu.binary) >= MIN_MAJOR, qemu.note
    if qemu_major("qemu-system-x86_64") < MIN_MAJOR:
        assert "/qemu/" in qemu.binary and len(qemu.data_dirs) == 2, qemu


def test_tiny_vmm_makes_real_kvm_exits(lab: Lab) -> None:
    job = lab.run(
        """
        test -c /dev/kvm
        grep -qw kvm_amd /proc/modules
        perf stat -x, -e kvm:kvm_exit -o "$LAB_OUT/stat.csv" -- \
            tiny_vmm -c 2 -d 1 -r 300 > "$LAB_OUT/vmm.txt"
        """
    )
    assert job.rc == 0, job.stderr
    loops = _loops((job.files / "vmm.txt").read_text())
    assert sorted(loops) == [0, 1]
    assert all(n > 0 for n in loops.values())
    rows = [ln.split(",") for ln in (job.files / "stat.csv").read_text().splitlines()]
    exits = next(int(r[0]) for r in rows if len(r) > 2 and r[2] == "kvm:kvm_exit")
    # every loop is one cpuid exit and one io exit; interrupts and npf add more
    assert exits >= 2 * sum(loops.values())


def test_a_hanging_job_is_killed_and_its_output_returned(lab: Lab) -> None:
    job = lab.run("echo before; echo to-stderr >&2; sleep 600 & wait; echo never", timeout=3)
    assert job.timed_out
    assert job.rc == 124
    assert job.stdout == "before\n"
    assert job.stderr.startswith("to-stderr\n")
    assert "killed after its timeout of 3 s" in job.stderr
    # the job's background sleep went with it
    assert lab.run("pgrep -x sleep || echo none").stdout.strip() == "none"


def test_jobs_get_env_cwd_and_exit_status(lab: Lab) -> None:
    job = lab.run('pwd; echo "$GREETING"; command -v vmexit-tui; exit 3', env={"GREETING": "hello"})
    assert job.rc == 3 and not job.timed_out
    cwd, greeting, tool = job.stdout.split()
    assert cwd == str(REPO)
    assert greeting == "hello"
    assert tool.endswith("/.venv/bin/vmexit-tui")


def test_a_guest_not_up_in_time_is_started_again_then_given_up(lab: Lab) -> None:
    job = lab.run(
        'LAB_GUEST_UP_S=1 lab_guest_up slow; echo "rc $?"; lab_guest_alive slow || echo gone',
        timeout=300,
    )
    assert job.stdout.split() == ["rc", "1", "gone"], job.stderr
    assert [f"try {n} of 3" in job.stderr for n in (1, 2, 3)] == [True] * 3, job.stderr
