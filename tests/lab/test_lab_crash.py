"""An L1 that dies during a job: the job says so, and the next job gets a fresh L1; a spent
budget stops the session's lab work at once."""

from __future__ import annotations

import time

import pytest

from tests.lab.driver import Lab, LabCrashed, LabGaveUp


def test_a_crashed_l1_is_replaced_for_the_next_job(lab: Lab) -> None:
    assert lab.restart_on_crash
    crashes = lab.crashes
    lab.run("lab_guest_start doomed", timeout=300)
    with pytest.raises(LabCrashed, match="reset itself") as e:
        # an immediate reboot; with -no-reboot qemu exits, as on a triple fault
        lab.run("echo b > /proc/sysrq-trigger; sleep 600", timeout=900, retry=False)
    assert "console tail" in str(e.value)
    job = lab.run("test -c /dev/kvm && echo fresh; ls $LAB_GUESTS | wc -l", timeout=600)
    assert job.stdout == "fresh\n0\n", job.stderr  # a fresh L1, without the old L1's guests
    assert lab.crashes == crashes + 1


def test_stall_reports_on_the_console_end_a_hanging_job_as_a_wedge(lab: Lab) -> None:
    """What a CPU without timer interrupts prints, twice, while the job hangs (the runner's
    heartbeat goes on from the other CPU): the job ends well before its timeout."""
    mark = "<4>rcu: INFO: rcu_preempt detected stalls on CPUs/tasks: (written by a lab test)"
    crashes = lab.crashes
    with pytest.raises(LabCrashed, match="reported 2 stalls or lockups"):
        lab.run(f"for i in 1 2; do echo '{mark}' > /dev/kmsg; done; sleep 600", 900, retry=False)
    job = lab.run("echo fresh", timeout=600)
    assert job.stdout == "fresh\n" and lab.crashes == crashes + 1


def test_a_spent_budget_clips_the_last_job_and_refuses_the_next(lab: Lab) -> None:
    saved = lab.deadline, lab.max_crashes
    try:
        lab.deadline = time.monotonic() + 8
        job = lab.run("sleep 600", timeout=900)
        assert job.timed_out and job.rc == 124  # killed when the budget ran out, not at 900 s
        with pytest.raises(LabGaveUp, match="time budget is spent"):
            lab.run("true")
        lab.deadline, lab.gave_up = saved[0], ""
        lab.max_crashes = lab.crashes - 1
        with pytest.raises(LabGaveUp, match=f"crashed {lab.crashes} times"):
            lab.run("true")
    finally:
        (lab.deadline, lab.max_crashes), lab.gave_up = saved, ""
