"""`vmexit-tui report FILE|-|--builtin NAME`: a perf kvm stat report as a table, JSON or CSV.

A file may hold several separate reports (two tables pasted one after the other): each is
shown, or `--index N` picks one; the blocks of one `perf kvm stat live` session are one run.
Lines that are not perf's are skipped with a warning (stderr, or `warnings` in the JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from vmexit_tui.analysis.model import SORT_KEYS, EventKind, Report
from vmexit_tui.commands._arg_types import positive_int
from vmexit_tui.formats.pasted_lines import ParseWarning
from vmexit_tui.formats.perf_parser import independent_reports, parse_text
from vmexit_tui.formats.perf_report_lines import BinaryInput, ReportParseError, decode_input
from vmexit_tui.formats.report_output import report_to_csv, report_to_json, report_to_table
from vmexit_tui.reference import seed_runs

NAME = "report"
HELP = "print a saved `perf kvm stat report` (or `live`) output as a table, JSON or CSV"
SORT_CHOICES = ("samples", "time", "mean", "max", "min", "name", "share", "spread")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "file",
        nargs="?",
        help="a file holding what perf printed (its stderr), or - for standard input",
    )
    src.add_argument(
        "--builtin",
        metavar="NAME",
        choices=seed_runs.NAMES,
        help="a built-in reference run: " + ", ".join(seed_runs.NAMES),
    )
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the report as JSON")
    fmt.add_argument("--csv", action="store_true", help="print the rows as CSV")
    parser.add_argument("--sort", choices=SORT_CHOICES, help="sort rows (default: as perf printed)")
    parser.add_argument("--ascending", action="store_true", help="sort ascending")
    parser.add_argument(
        "--event",
        choices=[k.value for k in EventKind],
        help="which event kind to show when the input holds several (default: the first)",
    )
    parser.add_argument(
        "--index",
        type=positive_int,
        metavar="N",
        help="when the file holds several separate reports (e.g. before/after), show only "
        "the N-th (1 = the first); by default each is shown, and --json prints a list",
    )
    parser.add_argument(
        "--explain", action="store_true", help="add the meaning of each exit reason"
    )


@dataclass(frozen=True)
class _Shown:
    """One report to print, with what the parser skipped around it."""

    report: Report
    warnings: tuple[ParseWarning, ...] = ()
    lines: tuple[int, int] | None = None


def _read(args: argparse.Namespace) -> tuple[str, str]:
    if args.file == "-":
        return decode_input(sys.stdin.buffer.read(), "<stdin>"), "<stdin>"
    path = Path(args.file)
    return decode_input(path.read_bytes(), str(path)), str(path)


def _load(args: argparse.Namespace) -> list[_Shown]:
    if args.builtin:
        return [_Shown(seed_runs.load(args.builtin))]
    text, source = _read(args)
    parsed = parse_text(text, source=source)
    kinds = list(dict.fromkeys(p.report.event for p in parsed.reports))
    kind = EventKind(args.event) if args.event else kinds[0]
    chosen = [p for p in parsed.reports if p.report.event == kind]
    if not chosen:
        found = ", ".join(k.value for k in kinds)
        raise ReportParseError(source, 1, f"a {kind.value} report", f"only {found} reports")
    others = [k.value for k in kinds if k != kind]
    if others and not args.event:
        print(
            f"note: {source} also holds {', '.join(others)} reports (use --event)", file=sys.stderr
        )
    runs = independent_reports(chosen)  # live intervals merge; separate reports stay apart
    shown = []
    for i, run in enumerate(runs):
        first = 1 if i == 0 else runs[i - 1].last_line + 1
        last = run.last_line if i < len(runs) - 1 else 1 << 62
        shown.append(
            _Shown(run.report, parsed.warnings_of(first, last), (run.first_line, run.last_line))
        )
    if args.index is not None:
        if args.index > len(shown):
            raise IndexError(
                f"--index {args.index}: {source} holds {len(shown)} "
                f"{kind.value} report{'s' if len(shown) != 1 else ''}"
            )
        return [shown[args.index - 1]]
    return shown


def _json(item: _Shown, explain: bool) -> dict:
    data = report_to_json(item.report)
    if not item.report.scope.known:
        data["scope"] = None  # the input did not say (an excerpt, or perf's table view)
    if item.lines is not None:
        data["lines"] = list(item.lines)
    data["warnings"] = [w.to_json() for w in item.warnings]
    if explain:
        from vmexit_tui.reference.glossary import explain as meaning

        for row in data["rows"]:
            row["meaning"] = meaning(row["reason"])
    return data


def run(args: argparse.Namespace) -> int:
    try:
        shown = _load(args)
    except BinaryInput as err:
        print(f"vmexit-tui report: {err}", file=sys.stderr)
        return 2
    except ReportParseError as err:
        print(f"vmexit-tui report: not a perf kvm stat report: {err}", file=sys.stderr)
        return 2
    except IndexError as err:
        print(f"vmexit-tui report: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"vmexit-tui report: cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return 2
    if args.sort:
        key = args.sort if args.sort in SORT_KEYS else "samples"
        descending = not args.ascending if args.sort != "name" else args.ascending
        shown = [replace(s, report=s.report.sorted_by(key, descending=descending)) for s in shown]
    if not args.json:
        for item in shown:
            for w in item.warnings:
                print(f"warning: {w}", file=sys.stderr)
    several = len(shown) > 1
    if args.json:
        data = [_json(s, args.explain) for s in shown]
        sys.stdout.write(json.dumps(data if several else data[0], indent=2) + "\n")
    elif args.csv:
        for i, item in enumerate(shown, 1):
            body = report_to_csv(item.report)
            if several:  # one CSV: a leading column says which report a row belongs to
                head, *rows = body.splitlines(keepends=True)
                body = ("report," + head if i == 1 else "") + "".join(f"{i},{r}" for r in rows)
            sys.stdout.write(body)
    else:
        meanings = None
        for i, item in enumerate(shown, 1):
            if args.explain:
                from vmexit_tui.reference.glossary import explain

                meanings = {r.reason: explain(r.reason) for r in item.report.rows}
            if several:
                assert item.lines is not None
                a, b = item.lines
                sys.stdout.write(
                    ("\n" if i > 1 else "") + f"report {i} of {len(shown)} (lines {a}-{b})\n"
                )
            sys.stdout.write(report_to_table(item.report, meanings=meanings))
    return 0
