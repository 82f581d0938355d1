"""The fleet view's core: several exporters' /metrics read, parsed and turned into rates.

`read_targets` checks the URLs (from the command line or a file, one per line); `fetch`
reads one /metrics over HTTP(S); `parse_metrics` reads it with prometheus_client's text
parser into a `HostSample` (per guest: exits and handling time per reason, pinning);
`FleetTracker` keeps the last two samples of each host and makes the immutable
`FleetView` the screen shows: one row per host and guest with exits/s, top reason and its
share, and pinning. A host that cannot be read keeps its rows, marked with the error; the
others go on updating. No Textual here.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

FETCH_TIMEOUT_S = 3.0
MAX_BODY = 32 * 1024 * 1024


class FleetInputError(ValueError):
    """A fleet URL or URL file that cannot be used; the message is one line."""


class HostError(Exception):
    """One host could not be read this time (unreachable, not an exporter, malformed)."""


def read_targets(urls: Sequence[str], files: Sequence[str] = ()) -> list[str]:
    """The exporters' /metrics URLs: each checked, duplicates dropped, order kept."""
    found: list[tuple[str, str]] = [(u, f"--fleet {u!r}") for u in urls]
    for name in files:
        try:
            lines = Path(name).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise FleetInputError(f"{name}: cannot read the fleet file: {exc}") from None
        for n, line in enumerate(lines, 1):
            line = line.split("#", 1)[0].strip()
            if line:
                found.append((line, f"{name}:{n}"))
    out: list[str] = []
    for url, where in found:
        url = normalize_url(url, where)
        if url not in out:
            out.append(url)
    if not out:
        raise FleetInputError("--fleet needs at least one exporter URL")
    return out


def normalize_url(text: str, where: str = "") -> str:
    """`host:9977` -> `http://host:9977/metrics`; `FleetInputError` for anything else."""
    raw = text.strip()
    url = raw if "://" in raw else f"http://{raw}"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FleetInputError(
            f"{where or raw}: expected an exporter URL like http://HOST:9977/metrics, got {raw!r}"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise FleetInputError(f"{where or raw}: bad port in {raw!r}") from None
    path = parts.path if parts.path not in ("", "/") else "/metrics"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def host_name(url: str) -> str:
    """How a host is shown: `host:port`."""
    return urllib.parse.urlsplit(url).netloc


def fetch(url: str, timeout: float = FETCH_TIMEOUT_S) -> str:
    """The text of one /metrics; `HostError` with a short reason when it cannot be read."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = r.read(MAX_BODY + 1)
    except urllib.error.HTTPError as exc:
        raise HostError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        text = getattr(reason, "strerror", None) or str(reason)
        raise HostError(f"unreachable: {text}") from None
    except (OSError, ValueError) as exc:
        raise HostError(f"unreachable: {exc}") from None
    if len(body) > MAX_BODY:
        raise HostError(f"/metrics larger than {MAX_BODY // (1024 * 1024)} MiB")
    return body.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class GuestSample:
    """One guest in one /metrics: exits and handling seconds per reason (all vCPUs)."""

    vm: str
    pid: str = ""
    pinning: str = "unknown"
    exits: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HostSample:
    guests: dict[str, GuestSample]
    mode: str


def parse_metrics(text: str) -> HostSample:
    """A vmexit-tui exporter's /metrics; `HostError` (one line) when it is not one."""
    guests: dict[str, GuestSample] = {}
    mode: str | None = None

    def guest(vm: str) -> GuestSample:
        if vm not in guests:
            guests[vm] = GuestSample(vm)
        return guests[vm]

    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == "kvm_vmexits_total":
                    g = guest(s.labels.get("vm", "?"))
                    reason = s.labels.get("reason", "?")
                    g.exits[reason] = g.exits.get(reason, 0.0) + s.value
                elif s.name == "kvm_vmexit_handling_seconds_sum":
                    g = guest(s.labels.get("vm", "?"))
                    reason = s.labels.get("reason", "?")
                    g.seconds[reason] = g.seconds.get(reason, 0.0) + s.value
                elif s.name == "kvm_vm_info":
                    vm = s.labels.get("vm", "?")
                    old = guest(vm)
                    guests[vm] = GuestSample(
                        vm,
                        s.labels.get("pid", ""),
                        s.labels.get("pinning", "unknown"),
                        old.exits,
                        old.seconds,
                    )
                elif s.name == "vmexit_tui_source_info":
                    mode = s.labels.get("mode", "?")
    except Exception as exc:  # the parser raises ValueError, IndexError, ... on bad text
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise HostError(f"malformed /metrics: {first[:120]}") from None
    if mode is None:
        raise HostError("not a vmexit-tui exporter: no vmexit_tui_source_info metric")
    return HostSample(guests, mode)


@dataclass(frozen=True, slots=True)
class ReasonRate:
    reason: str
    total: float
    rate: float | None  # exits/s over the last poll interval
    share: float | None  # of the guest's exits/s (or of its total before a rate is known)
    seconds_per_s: float | None  # handling time per second of wall time


@dataclass(frozen=True, slots=True)
class FleetRow:
    """One host × guest line of the fleet table (a host without guests has vm None)."""

    host: str
    vm: str | None
    pid: str
    pinning: str
    exits_per_s: float | None
    top_reason: str | None
    top_share: float | None
    error: str | None  # set when the host could not be read at the last poll
    reasons: tuple[ReasonRate, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.host}\x00{self.vm or ''}"


@dataclass(frozen=True, slots=True)
class FleetView:
    rows: tuple[FleetRow, ...]
    polled_at: float

    def row(self, key: str) -> FleetRow | None:
        return next((r for r in self.rows if r.key == key), None)


@dataclass(slots=True)
class _HostState:
    url: str
    history: deque[tuple[float, HostSample]] = field(default_factory=deque)
    error: str | None = None

    @property
    def last(self) -> HostSample | None:
        return self.history[-1][1] if self.history else None

    @property
    def last_t(self) -> float | None:
        return self.history[-1][0] if self.history else None

    @property
    def prev(self) -> HostSample | None:
        return self.history[0][1] if len(self.history) > 1 else None

    @property
    def prev_t(self) -> float | None:
        return self.history[0][0] if len(self.history) > 1 else None


class FleetTracker:
    """Each host's samples of the last `window_s` seconds, and the rows made from them.

    A rate is taken between the newest sample and the oldest one still in the window:
    exporters count in ticks, and a window of several ticks keeps the rate from jumping
    with how many ticks fell between two polls.
    """

    def __init__(
        self,
        urls: Iterable[str],
        window_s: float = 10.0,
        *,
        fetcher: Callable[[str], str] = fetch,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hosts = {u: _HostState(u) for u in urls}
        self.window_s = window_s
        self.fetcher = fetcher
        self.clock = clock

    def record(self, url: str, sample: HostSample | HostError, at: float) -> None:
        """One poll's outcome for one host."""
        state = self.hosts[url]
        if isinstance(sample, HostError):
            state.error = str(sample)
            return
        state.error = None
        state.history.append((at, sample))
        while len(state.history) > 2 and state.history[1][0] <= at - self.window_s:
            state.history.popleft()

    def poll(
        self, fetcher: Callable[[str], str] | None = None, clock: Callable[[], float] | None = None
    ) -> FleetView:
        """Read every host once, side by side (a slow host delays no other), and return the view."""
        fetcher = fetcher or self.fetcher
        clock = clock or self.clock

        def one(url: str) -> tuple[HostSample | HostError, float]:
            try:
                return parse_metrics(fetcher(url)), clock()
            except HostError as exc:
                return exc, clock()

        urls = list(self.hosts)
        with ThreadPoolExecutor(max_workers=min(8, len(urls)) or 1) as pool:
            outcomes = list(pool.map(one, urls))
        for url, (outcome, at) in zip(urls, outcomes, strict=True):
            self.record(url, outcome, at)
        return self.view(clock())

    def view(self, at: float) -> FleetView:
        rows: list[FleetRow] = []
        for url, state in self.hosts.items():
            host = host_name(url)
            if state.last is None:
                rows.append(
                    FleetRow(host, None, "", "", None, None, None, state.error or "not read yet")
                )
                continue
            for _vm, g in sorted(state.last.guests.items()):
                rows.append(self._row(host, state, g))
            if not state.last.guests:
                rows.append(FleetRow(host, None, "", "", None, None, None, state.error))
        return FleetView(tuple(rows), at)

    @staticmethod
    def _row(host: str, state: _HostState, g: GuestSample) -> FleetRow:
        before = state.prev.guests.get(g.vm) if state.prev is not None else None
        dt = (state.last_t or 0.0) - (state.prev_t or 0.0)
        usable = before is not None and before.pid == g.pid and dt > 0
        reasons = []
        for reason, total in g.exits.items():
            rate = secs = None
            if usable:
                assert before is not None
                old = before.exits.get(reason, 0.0)
                rate = (total - old) / dt if total >= old else None
                old_s = before.seconds.get(reason)
                new_s = g.seconds.get(reason)
                if old_s is not None and new_s is not None and new_s >= old_s:
                    secs = (new_s - old_s) / dt
            reasons.append((reason, total, rate, secs))
        exits_per_s: float | None = None
        if usable and all(r[2] is not None for r in reasons):
            exits_per_s = sum(r[2] or 0.0 for r in reasons)
        if exits_per_s:  # shares of the current rate ...
            weights = {r[0]: r[2] or 0.0 for r in reasons}
        else:  # ... or, before a rate is known or while the guest is idle, of all exits so far
            weights = {r[0]: r[1] for r in reasons}
        whole = sum(weights.values())
        out = tuple(
            sorted(
                (
                    ReasonRate(
                        reason, total, rate, weights[reason] / whole if whole else None, secs
                    )
                    for reason, total, rate, secs in reasons
                ),
                key=lambda r: (-(r.share or 0.0), r.reason),
            )
        )
        top = out[0] if out and whole else None
        return FleetRow(
            host,
            g.vm,
            g.pid,
            g.pinning,
            exits_per_s,
            top.reason if top else None,
            top.share if top else None,
            state.error,
            out,
        )
