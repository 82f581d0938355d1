"""Check (or regenerate) the README's examples against what the code prints.

    python scripts/readme_examples.py            # exit 1 and show the first mismatch
    python scripts/readme_examples.py --update   # rewrite the exact examples in README.md

An example is a fenced block right after a marker line naming the arguments of `vmexit-tui`:

    <!-- example: report --builtin gp-rt-raw -->           the block is the exact output
    <!-- example subset: report --builtin gp-rt-raw --json -->  the block is JSON contained in
                                                            the output (keys a subset, lists a
                                                            prefix), so it can stay short

Commands run as `python -m vmexit_tui ARGS` with COLUMNS=100, so tables have a fixed width.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"
COLUMNS = "100"
_MARKER = re.compile(
    r"^<!-- example(?P<subset> subset)?: (?P<args>.+?) -->\n```(?P<lang>\w*)\n(?P<body>.*?)^```$",
    re.M | re.S,
)


@dataclass(frozen=True)
class Example:
    args: tuple[str, ...]
    subset: bool
    body: str
    span: tuple[int, int]  # of the body in the README text
    line: int


def examples(text: str) -> list[Example]:
    return [
        Example(
            tuple(shlex.split(m["args"])),
            bool(m["subset"]),
            m["body"],
            m.span("body"),
            text.count("\n", 0, m.start()) + 1,
        )
        for m in _MARKER.finditer(text)
    ]


def run(args: tuple[str, ...]) -> str:
    env = {**os.environ, "COLUMNS": COLUMNS}
    done = subprocess.run(
        [sys.executable, "-m", "vmexit_tui", *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"vmexit-tui {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def contained(part: Any, whole: Any, where: str = "$") -> str | None:
    """None when `part` is contained in `whole`, else where they differ."""
    if isinstance(part, dict):
        if not isinstance(whole, dict):
            return f"{where}: expected an object"
        for key, value in part.items():
            if key not in whole:
                return f"{where}.{key}: not in the output"
            problem = contained(value, whole[key], f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(part, list):
        if not isinstance(whole, list) or len(whole) < len(part):
            return f"{where}: expected a list of at least {len(part)} items"
        for i, (p, w) in enumerate(zip(part, whole, strict=False)):
            problem = contained(p, w, f"{where}[{i}]")
            if problem:
                return problem
        return None
    return None if part == whole else f"{where}: README says {part!r}, the output {whole!r}"


def check(example: Example) -> str | None:
    """None when the example matches what the code prints, else what differs."""
    out = run(example.args)
    if example.subset:
        return contained(json.loads(example.body), json.loads(out))
    if out != example.body:
        return f"output differs:\n--- README\n{example.body}--- output\n{out}"
    return None


def main(argv: list[str]) -> int:
    text = README.read_text("utf-8")
    found = examples(text)
    if "--update" in argv:
        for ex in reversed(found):
            if not ex.subset:
                text = text[: ex.span[0]] + run(ex.args) + text[ex.span[1] :]
        README.write_text(text, "utf-8")
        return 0
    for ex in found:
        problem = check(ex)
        if problem:
            print(f"README.md:{ex.line}: vmexit-tui {' '.join(ex.args)}: {problem}")
            return 1
    print(f"{len(found)} README examples match")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
