"""VmList: CPU% is never cut, however busy the guest (issue 14 item 7)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from vmexit_tui.app.widgets.vm_list import VmList
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo


def vm(cpu: float | None) -> VmInfo:
    vcpus = tuple(VCpu(i, 1000 + i, (i,)) for i in range(4))
    return VmInfo(4242, "guest1", "qemu", 0.0, cpu, 512 << 20, vcpus, Pinning.BIND)


class _ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield VmList(id="vms")


def lines(table: VmList) -> list[str]:
    return ["".join(s.text for s in table.render_line(y)) for y in range(table.size.height)]


async def test_cpu_percent_over_100_is_shown_whole():
    app = _ListApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(VmList)
        table.show([vm(None)])  # the first scan: unknown
        await pilot.pause()
        assert "?" in lines(table)[1].split()
        for cpu, shown in ((5.0, "5.0"), (118.3, "118.3"), (799.96, "800.0")):
            table.show([vm(cpu)])  # updated in place: the column must widen
            await pilot.pause()
            row = lines(table)[1].split()
            assert shown in row, row  # not "118." or "100."
