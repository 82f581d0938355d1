"""`vmexit-tui compare A B [C D]`: compare 2 to 4 runs and list the significant changes."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from vmexit_tui.analysis.comparison import MAX_RUNS, MIN_RUNS, ComparedRun, compare, pair_layout
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.run_context import RunContext, with_context
from vmexit_tui.commands._arg_types import probability
from vmexit_tui.formats.comparison_export import FORMATS, render
from vmexit_tui.formats.perf_parser import separate_reports
from vmexit_tui.formats.perf_report_lines import ReportParseError, decode_input
from vmexit_tui.formats.run_context_json import load_contexts
from vmexit_tui.formats.snapshots import SnapshotError, load_comparison, load_run
from vmexit_tui.reference import seed_runs

NAME = "compare"
HELP = (
    "compare 2 to 4 runs (snapshot files, perf kvm stat report text files or built-in runs "
    f"{', '.join(seed_runs.NAMES)}) and list the statistically significant changes"
)


class RunNotFound(Exception):
    """An argument that is neither a readable run nor a built-in run name."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs", nargs="+", metavar="RUN",
        help="a snapshot (.json), a perf kvm stat report text file, or a built-in run name",
    )  # fmt: skip
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument(
        "--baseline", metavar="N|LABEL",
        help="compare every run with this one (index from 0, or label); default: raw->bind "
        "pairs for runs labelled X-RAW/X-BIND, else the first run",
    )  # fmt: skip
    parser.add_argument(
        "--event", choices=[k.value for k in EventKind], default=EventKind.VMEXIT.value,
        help="which event kind of a snapshot to compare (default vmexit)",
    )  # fmt: skip
    parser.add_argument(
        "--alpha", type=probability, default=0.01, help="family-wise alpha, 0 < alpha < 1 (0.01)"
    )
    parser.add_argument(
        "--width", type=_width, metavar="COLUMNS",
        help="fit the table to this many columns (0: no limit); default: $COLUMNS, else the "
        "terminal's width, else no limit when the output is not a terminal",
    )  # fmt: skip


def _width(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of columns, got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (no limit) or more columns, got {value}")
    return value


def output_width(explicit: int | None) -> int | None:
    """The width to fit: --width, else $COLUMNS, else the terminal's, else None (no limit)."""
    if explicit is not None:
        return explicit or None
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def load_argument(arg: str, kind: EventKind = EventKind.VMEXIT) -> list[ComparedRun]:
    """The run(s) one argument names: an existing file first, then a built-in run name."""
    path = Path(arg)
    if path.is_file():
        try:
            head = path.read_text("utf-8", errors="replace").lstrip()[:1]
        except OSError as exc:
            raise RunNotFound(f"{arg}: cannot be read: {exc.strerror or exc}") from None
        if head == "{":
            doc_kind = _snapshot_kind(path)
            if doc_kind == "comparison":
                return list(load_comparison(path).runs)
            saved = load_run(path)
            try:
                return [saved.compared(kind)]
            except KeyError as exc:
                raise RunNotFound(f"{arg}: {exc.args[0]}") from None
        text = decode_input(path.read_bytes(), str(path))
        reports = separate_reports(text, source=str(path), kind=kind)  # several: before/after
        if len(reports) == 1:
            return [ComparedRun(path.stem, reports[0])]
        return [ComparedRun(f"{path.stem}[{i}]", r) for i, r in enumerate(reports, 1)]
    if arg.lower() in seed_runs.NAMES:
        return [ComparedRun(arg.upper(), seed_runs.load(arg))]
    raise RunNotFound(
        f"{arg!r} is neither a file nor a built-in run; built-in runs: {', '.join(seed_runs.NAMES)}"
    )


def _snapshot_kind(path: Path) -> str:
    import json

    try:
        doc = json.loads(path.read_text("utf-8"))
    except (ValueError, OSError):
        return "run"  # load_run explains what is wrong
    return doc.get("kind", "run") if isinstance(doc, dict) else "run"


def _baseline_index(value: str, runs: list[ComparedRun]) -> int:
    if value.isdigit():
        index = int(value)
        if index < len(runs):
            return index
        raise ValueError(
            f"--baseline {value}: there are only {len(runs)} runs (0..{len(runs) - 1})"
        )
    for i, run in enumerate(runs):
        if run.label.lower() == value.lower():
            return i
    labels = ", ".join(r.label for r in runs)
    raise ValueError(f"--baseline {value!r} matches no run label; labels: {labels}")


def _unique_labels(runs: list[ComparedRun]) -> list[ComparedRun]:
    seen: dict[str, int] = {}
    out = []
    for run in runs:
        count = seen.get(run.label, 0) + 1
        seen[run.label] = count
        label = run.label if count == 1 else f"{run.label}#{count}"
        out.append(ComparedRun(label, run.report, run.duration_s, run.info))
    return out


def run(args: argparse.Namespace) -> int:
    try:
        runs: list[ComparedRun] = []
        contexts: list[RunContext] = []
        for arg in args.runs:
            loaded = load_argument(arg, EventKind(args.event))
            runs += loaded
            contexts += load_contexts(arg, len(loaded))
        if not MIN_RUNS <= len(runs) <= MAX_RUNS:
            raise ValueError(f"compare takes {MIN_RUNS} to {MAX_RUNS} runs, got {len(runs)}")
        runs = _unique_labels(runs)
        if args.baseline is not None:
            comparison = compare(runs, _baseline_index(args.baseline, runs), alpha=args.alpha)
        else:
            pairs = pair_layout(runs)
            baseline = pairs[0][0] if pairs else 0
            comparison = compare(runs, baseline, alpha=args.alpha, pairs=pairs)
    except (RunNotFound, SnapshotError, ReportParseError, ValueError) as exc:
        print(f"vmexit-tui compare: error: {exc}", file=sys.stderr)
        return 2
    contexts = [replace(c, label=r.label) for c, r in zip(contexts, runs, strict=True)]
    width = output_width(args.width)
    rendered = render(comparison, args.format, width=width)
    sys.stdout.write(with_context(rendered, args.format, contexts, comparison.findings, width))
    return 0
