"""`scripts/kvm-lab`: a shell in L1 on a real terminal (tmux)."""

from __future__ import annotations

import sys

import pytest

from tests.lab.driver import REPO
from tests.lab.test_lab_boot_errors import _real_kernel_or_skip
from tests.tmux_term import TMUX, TmuxTerm

SCRIPT = REPO / "scripts" / "kvm-lab"
pytestmark = pytest.mark.lab


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_kvm_lab_gives_a_root_shell_in_l1_sized_to_the_terminal() -> None:
    _real_kernel_or_skip()
    with TmuxTerm([sys.executable, str(SCRIPT)], width=100, height=30) as term:
        term.wait_for("source $LAB_TOOLS/lab.sh", timeout=300)
        term.send("test -c /dev/kvm && echo KVM-$((6*7)) $(id -u) $(uname -r)", "Enter")
        screen = term.wait_for("KVM-42 0 ", timeout=300)
        assert "-amd64" in screen.split("KVM-42 0 ", 1)[1].split()[0]
        term.send("stty size; pwd", "Enter")
        term.wait_for(f"30 100\n{REPO}", timeout=120)
        term.send("exit", "Enter")
        assert term.wait_exit(timeout=120) == 0
