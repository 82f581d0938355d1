"""What people paste around perf's tables: shell prompts, elisions, notes; and binary input.

None of these lines is perf's. The parser skips them with a `ParseWarning` that names the line
and says what it looked like, and never reads one as a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ELISION = re.compile(
    r"^(?:\[\s*\.\.\.?\s*\]|\.{3,}|…|<\s*snip(?:ped)?\s*>|\[\s*snip(?:ped)?\s*\]"
    r"|-+\s*snip(?:ped)?\s*-+|\(\s*snip(?:ped)?\s*\))$",
    re.IGNORECASE,
)
# "$ perf ...", "# perf ...", "root@host:~# perf ...", "[root@host ~]$ ...", "(venv) user@h:~$ ..."
_PROMPT = re.compile(
    r"^(?:\([^)]*\)\s*)?(?:[\w.-]+@[\w.-]+(?::\S*)?\s*|\[[^\]]*\]\s*)?[$#%>]\s+\S"
    r"|^(?:\([^)]*\)\s*)?[\w.-]+@[\w.-]+(?::\S*)?\s*[$#%>]\s*$"
)
_COMMAND = re.compile(r"^(?:sudo\s+)?(?:perf|\S*/perf)\s+\S")
_PERF_STATUS = re.compile(r"^(?:\[ perf record:|Warning:|Processed \d+ events|Couldn't )")


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """A line that was skipped: where, what it looked like, and the line itself."""

    source: str
    line: int
    kind: str  # "elision" | "shell prompt" | "command" | "perf message" | "note" | ...
    text: str

    @property
    def message(self) -> str:
        shown = self.text if len(self.text) <= 80 else self.text[:77] + "..."
        return f"{self.source}:{self.line}: skipped {self.kind}: {shown!r}"

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, object]:
        return {"line": self.line, "kind": self.kind, "text": self.text, "message": self.message}


def is_elision(line: str) -> bool:
    """`[..]`, `...`, `…`, `<snip>` and the like: rows left out by whoever pasted."""
    return bool(_ELISION.match(line.strip()))


def kind_of(line: str) -> str:
    """What a line that is not perf's table looks like (for the warning)."""
    s = line.strip()
    if is_elision(s):
        return "elision"
    if _PROMPT.match(s):
        return "shell prompt"
    if _COMMAND.match(s):
        return "command"
    if _PERF_STATUS.match(s):
        return "perf message"
    return "note"


def ends_a_table(line: str) -> bool:
    """A prompt or a command: whatever table came before it is over."""
    return kind_of(line) in ("shell prompt", "command")


_TEXT_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n\r\f\b\x1b"


def looks_binary(data: bytes) -> bool:
    """True for data that is not text: a NUL byte, or mostly non-text bytes, in its first 8 KiB.

    UTF-8 is text (an NBSP or a `±` is fine); so are perf's ANSI escapes.
    """
    head = data[:8192]
    if not head:
        return False
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut at the 8 KiB boundary
            return False
    odd = sum(1 for b in head if b not in _TEXT_BYTES)
    return odd / len(head) > 0.3


def binary_hint(data: bytes) -> str:
    """What a binary input probably is, for the error message."""
    if data.startswith(b"PERFILE2") or data.startswith(b"PERFFILE"):
        return (
            " (a perf.data file: run `perf kvm -i FILE stat report >report.txt 2>&1`"
            " and give report.txt)"
        )
    return ""
