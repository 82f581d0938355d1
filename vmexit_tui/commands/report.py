"""`vmexit-tui report FILE|-|--builtin NAME`: a perf kvm stat report as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vmexit_tui.analysis.model import SORT_KEYS, EventKind, Report, merge_reports
from vmexit_tui.formats.perf_parser import ReportParseError, parse_reports
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
        "--explain", action="store_true", help="add the meaning of each exit reason"
    )


def _load(args: argparse.Namespace) -> Report:
    if args.builtin:
        return seed_runs.load(args.builtin)
    if args.file == "-":
        text, source = sys.stdin.read(), "<stdin>"
    else:
        path = Path(args.file)
        source = str(path)
        text = path.read_text(encoding="utf-8", errors="replace")
    reports = parse_reports(text, source=source)
    kinds = list(dict.fromkeys(r.event for r in reports))
    kind = EventKind(args.event) if args.event else kinds[0]
    chosen = [r for r in reports if r.event == kind]
    if not chosen:
        found = ", ".join(k.value for k in kinds)
        raise ReportParseError(source, 1, f"a {kind.value} report", f"only {found} reports")
    others = [k.value for k in kinds if k != kind]
    if others and not args.event:
        print(
            f"note: {source} also holds {', '.join(others)} reports (use --event)", file=sys.stderr
        )
    if len(chosen) > 1:  # live output: one block per interval; the total is their exact merge
        merged = merge_reports(chosen)
        assert merged is not None
        return merged
    return chosen[0]


def run(args: argparse.Namespace) -> int:
    try:
        report = _load(args)
    except ReportParseError as err:
        print(f"vmexit-tui report: not a perf kvm stat report: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"vmexit-tui report: cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return 2
    if args.sort:
        key = args.sort if args.sort in SORT_KEYS else "samples"
        descending = not args.ascending if args.sort != "name" else args.ascending
        report = report.sorted_by(key, descending=descending)
    if args.json:
        data = report_to_json(report)
        if args.explain:
            from vmexit_tui.reference.glossary import explain

            for row in data["rows"]:
                row["meaning"] = explain(row["reason"])
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif args.csv:
        sys.stdout.write(report_to_csv(report))
    else:
        meanings = None
        if args.explain:
            from vmexit_tui.reference.glossary import explain

            meanings = {r.reason: explain(r.reason) for r in report.rows}
        sys.stdout.write(report_to_table(report, meanings=meanings))
    return 0
