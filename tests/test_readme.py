"""The README's examples are what the code prints (issue 14 item 13), and its Findings
paragraph states what the seed's four runs give."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from vmexit_tui.analysis.comparison import ComparedRun, compare, pair_layout
from vmexit_tui.reference import seed_runs

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "readme_examples", ROOT / "scripts" / "readme_examples.py"
)
assert _spec is not None and _spec.loader is not None
readme_examples = importlib.util.module_from_spec(_spec)
sys.modules["readme_examples"] = readme_examples  # dataclasses look their module up
_spec.loader.exec_module(readme_examples)

TEXT = (ROOT / "README.md").read_text("utf-8")
EXAMPLES = readme_examples.examples(TEXT)


def test_the_readme_has_the_examples_the_issue_names():
    args = {" ".join(e.args) for e in EXAMPLES}
    assert {"report --builtin gp-rt-raw", "report --builtin gp-rt-raw --json"} <= args
    assert any(e.args[0] == "compare" for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: " ".join(e.args))
def test_readme_example_matches_the_output(example):
    assert readme_examples.check(example) is None, readme_examples.check(example)


def test_the_plain_table_example_has_the_legend():
    table = next(e for e in EXAMPLES if e.args == ("report", "--builtin", "gp-rt-raw"))
    assert table.body.rstrip().splitlines()[-1].startswith("? = not known · – = no exits")
    assert "±<x%" in table.body


def test_subset_check_catches_a_wrong_value():
    assert (
        readme_examples.contained({"a": [{"b": 1}]}, {"a": [{"b": 1, "c": 2}, {}], "d": 0}) is None
    )
    assert "README says 0.45" in readme_examples.contained({"x": 0.45}, {"x": None})
    assert readme_examples.contained({"rows": [1, 2]}, {"rows": [1]}) is not None


def test_findings_paragraph_states_what_the_four_seed_runs_give():
    runs = [ComparedRun(n.upper(), seed_runs.load(n)) for n in seed_runs.NAMES]
    c = compare(runs, pairs=pair_layout(runs))
    claim = re.search(r"that gives (\d+) findings over (\d+) tests and (\d+) differences", TEXT)
    assert claim is not None
    assert tuple(map(int, claim.groups())) == (len(c.findings), c.tests, len(c.differences))
    shares = {(f.reason, f.labels[0]): (round(f.baseline_value, 2), round(f.value, 2))
              for f in c.findings if f.metric == "share"}  # fmt: skip
    assert shares[("IO_INSTRUCTION", "GP-GP-RAW")] == (1.95, 1.02)
    assert shares[("IO_INSTRUCTION", "GP-RT-RAW")] == (1.40, 2.61)
    assert shares[("INTERRUPT_WINDOW", "GP-RT-RAW")] == (0.11, 0.84)
    assert "(1.95% → 1.02%)" in TEXT and "(1.40% → 2.61%)" in TEXT
