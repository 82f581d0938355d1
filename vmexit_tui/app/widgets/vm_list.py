"""The running VMs: name, pid, vCPUs, pinning and CPU use; keyed by pid, updated in place."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from vmexit_tui.app import format as fmt
from vmexit_tui.host.discovery import VmInfo

_PINNING_STYLE = {"bind": "green", "raw": "yellow", "partial": "magenta", "unknown": "dim"}
_COLUMNS = (
    ("name", "VM"),
    ("pid", "PID"),
    ("vcpus", "vCPUs"),
    ("pinning", "Pinning"),
    ("cpu", "CPU%"),
    ("rss", "Memory"),
    ("vmm", "VMM"),
)


class VmList(DataTable):
    """One row per VM; the cursor stays on the same VM across refreshes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.vms: dict[str, VmInfo] = {}

    def on_mount(self) -> None:
        for key, title in _COLUMNS:
            self.add_column(title, key=key)

    @property
    def selected(self) -> VmInfo | None:
        """The VM under the cursor, if any."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return self.vms.get(str(key.value))

    def show(self, vms: Sequence[VmInfo]) -> None:
        """Apply a scan: add new VMs, update known ones, drop VMs that are gone."""
        fresh = {str(vm.pid): vm for vm in vms}
        for gone in [k for k in self.rows if k.value not in fresh]:
            self.remove_row(gone)
        for key, vm in fresh.items():
            pinning = str(vm.pinning)
            cells = (
                vm.name,
                Text(str(vm.pid) if vm.pid > 0 else "sim", justify="right"),
                Text(str(len(vm.vcpus)), justify="right"),
                Text(pinning, style=_PINNING_STYLE.get(pinning, "")),
                Text(fmt.pct(vm.cpu_percent, 1), justify="right"),  # 800.0 for 8 busy vCPUs
                Text(fmt.size(vm.rss_bytes) if vm.rss_bytes else fmt.UNKNOWN, justify="right"),
                vm.vmm if vm.kvm else Text(f"{vm.vmm} (not KVM)", style="dim"),
            )
            if key in self.rows:
                for (col, _), cell in zip(_COLUMNS, cells, strict=True):
                    self.update_cell(key, col, cell, update_width=True)  # "118.0", not "118."
            else:
                self.add_row(*cells, key=key)
        self.vms = fresh
