"""json_checks: a value of the wrong type, a missing key, a non-object or non-list each raise
a DocumentError (a ValueError) that says where and what was expected."""

from __future__ import annotations

import pytest

from vmexit_tui.formats.json_checks import DocumentError, check, get, items, obj


def test_numbers_are_strict_about_bools_and_floats_take_ints():
    assert check(3, float, "x") == 3.0 and isinstance(check(3, float, "x"), float)
    assert check(3, int, "x") == 3
    for kind in (int, float):
        with pytest.raises(DocumentError, match=r"^x: expected an? \w+, found true$"):
            check(True, kind, "x")
    with pytest.raises(DocumentError, match=r'^run\.n: expected an integer, found "12"$'):
        check("12", int, "run.n")


def test_null_is_taken_only_where_optional_and_a_missing_key_is_always_named():
    assert check(None, str, "x", optional=True) is None
    with pytest.raises(DocumentError, match=r"^x: expected a string, found null$"):
        check(None, str, "x")
    assert get({"k": None}, "k", str, "run", optional=True) is None
    with pytest.raises(DocumentError, match=r"^run: missing key 'k'$"):
        get({}, "k", str, "run", optional=True)
    with pytest.raises(DocumentError, match=r"^run\.k: expected a string or null, found 1$"):
        get({"k": 1}, "k", str, "run", optional=True)


def test_objects_and_lists_are_checked_and_the_error_is_a_value_error():
    assert obj({"a": 1}, "x") == {"a": 1} and items([1], "x") == [1]
    with pytest.raises(DocumentError, match=r"^x: expected an object, found \[1\]$"):
        obj([1], "x")
    with pytest.raises(ValueError, match=r"^x\.rows: expected a list, found \{\}$"):
        items({}, "x.rows")
