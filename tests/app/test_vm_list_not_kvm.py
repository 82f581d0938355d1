"""An emulated guest (QEMU -accel tcg) beside a KVM one: listed as "not KVM", never recorded."""

from __future__ import annotations

from dataclasses import replace

from tests.app.helpers import wait_for
from tests.qemu_guest import needs_qemu, qemu_guest
from vmexit_tui.app.app import VmExitApp
from vmexit_tui.app.main import real_sources
from vmexit_tui.app.widgets.vm_list import VmList

pytestmark = needs_qemu


async def test_an_emulated_guest_is_marked_and_refused(tmp_path):
    with qemu_guest(smp=1, accel="tcg") as tcg, qemu_guest(smp=1, accel="kvm") as kvm:
        sources = replace(real_sources(tmp_path), problems=(), scan_every_s=0.2)
        app = VmExitApp(sources)
        async with app.run_test(size=(100, 30)) as pilot:
            vm_list = app.query_one(VmList)
            await wait_for(pilot, lambda: {str(tcg.pid), str(kvm.pid)} <= set(vm_list.vms), 60)
            assert not vm_list.vms[str(tcg.pid)].kvm and vm_list.vms[str(kvm.pid)].kvm
            assert str(vm_list.get_cell(str(tcg.pid), "vmm")) == "qemu (not KVM)"
            assert vm_list.get_cell(str(kvm.pid), "vmm") == "qemu"
            vm_list.focus()
            vm_list.move_cursor(row=vm_list.get_row_index(str(tcg.pid)))
            await pilot.pause()
            assert vm_list.selected is not None and vm_list.selected.pid == tcg.pid
            await pilot.press("space")
            await pilot.pause()
            assert app.current is None and not app.sessions  # nothing started
            messages = [n.message for n in app._notifications]
            assert any(f"(pid {tcg.pid}) is not a KVM guest" in m for m in messages), messages
