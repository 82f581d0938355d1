"""The built-in reference runs hold the seed's figures, with unknowns left unknown."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vmexit_tui.reference import seed_runs

SEED_TSV = Path(seed_runs.__file__).parent / "data" / seed_runs.DATA_FILE


def tsv_rows() -> list[dict[str, str]]:
    lines = [ln for ln in SEED_TSV.read_text().splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def test_all_four_runs_load_by_name_in_any_case():
    runs = seed_runs.load_all()
    assert list(runs) == ["gp-gp-raw", "gp-gp-bind", "gp-rt-raw", "gp-rt-bind"]
    assert seed_runs.load("GP-RT-RAW") is runs["gp-rt-raw"]
    with pytest.raises(KeyError, match="choose one of gp-gp-raw"):
        seed_runs.load("gp-xx")


def test_every_cell_of_the_shipped_tsv_is_carried_over():
    runs = seed_runs.load_all()
    for cells in tsv_rows():
        report = runs[cells["run"].lower()]
        if cells["reason"] == "TOTAL":
            want_n = int(cells["samples"]) if cells["samples"] else None
            want_t = float(cells["avg_us"]) if cells["avg_us"] else None
            assert (report.total_samples, report.total_time_us) == (want_n, want_t)
            continue
        row = report.row(cells["reason"])
        assert row.samples == int(cells["samples"])
        for column, attr in [
            ("samples_pct", "samples_pct"),
            ("time_pct", "time_pct"),
            ("min_us", "min_us"),
            ("max_us", "max_us"),
            ("avg_us", "mean_us"),
        ]:
            want = float(cells[column]) if cells[column] else None
            assert getattr(row, attr) == want, (cells["run"], cells["reason"], column)


def test_unknown_cells_stay_unknown_and_cut_spreads_become_bounds():
    raw = seed_runs.load("gp-gp-raw")
    pause = raw.row("PAUSE_INSTRUCTION")
    assert pause.samples == 290
    assert pause.samples_pct is None and pause.max_us is None and pause.mean_us is None
    assert pause.rel_stddev_below == 22.0  # printed "21>"
    assert raw.row("EXTERNAL_INTERRUPT").max_us is None
    bind = seed_runs.load("gp-gp-bind")
    assert bind.total_samples is None and bind.total_time_us is None
    assert bind.row("MSR_WRITE").rel_stddev_below == 0.5  # printed "0.4>"
    assert all(r.rel_stddev_pct is None for run in seed_runs.load_all().values() for r in run.rows)


def test_a_malformed_tsv_names_the_line():
    bad = (
        "# c\nrun\treason\tsamples\tsamples_pct\ttime_pct\tmin_us\tmax_us\tavg_us\trel_stddev_pct\n"
    )
    bad += "X\tHLT\tmany\t\t\t\t\t\t\n"
    with pytest.raises(seed_runs.ReferenceDataError, match=r"t.tsv:3: expected a sample count"):
        seed_runs.parse_tsv(bad, "t.tsv")
