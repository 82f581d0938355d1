"""An L1 that dies during a job: the job says so, and the next job gets a fresh L1."""

from __future__ import annotations

import pytest

from tests.lab.driver import Lab, LabCrashed


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
