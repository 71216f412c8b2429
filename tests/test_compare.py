"""`recipe compare`: grid parsing and the markdown table (the runs themselves are brief runs)."""

import pytest

from tools import compare
from tools.errors import UsageError


def test_parse_grid():
    assert compare.parse_grid(["cell=lstm, basic_rnn", "units=8,16"]) == [("cell", ["lstm", "basic_rnn"]), ("units", ["8", "16"])]


@pytest.mark.parametrize("grid", [[], ["a=1", "b=2", "c=3"], ["cell="], ["cell"]])
def test_bad_grid(grid):
    with pytest.raises(UsageError):
        compare.parse_grid(grid)


def test_markdown_table():
    cells = {("5", "lstm"): "1.000", ("5", "gru"): "0.990", ("50", "lstm"): "0.980", ("50", "gru"): "0.970"}
    table = compare.markdown_table("gap", ["5", "50"], "cell", ["lstm", "gru"], cells)
    assert table.splitlines() == [
        "| gap | cell=lstm | cell=gru |",
        "|---|---|---|",
        "| 5 | 1.000 | 0.990 |",
        "| 50 | 0.980 | 0.970 |",
    ]
