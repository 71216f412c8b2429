"""The README's recipe table is generated from catalog.yaml and must be current."""

import importlib.util

import pytest

from bench import tables
from tools import readme
from tools.catalog import load_catalog


def test_recipe_table_is_current():
    text = readme.README.read_text(encoding="utf-8")
    assert readme.render(text, load_catalog()) == text, "README recipe table is stale: run 'make readme'"


def test_readme_quick_start_is_the_two_make_commands():
    text = readme.README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text


@pytest.mark.parametrize("name", ["backends", "sampling", "throughput", "ctc_decode"])
def test_bench_tables_in_the_readme_are_current(name):
    """The README's backend, sampling, throughput and CTC decoding tables are what bench/<name>.py renders from its
    saved results (`python bench/<name>.py --table --write`): every number in them was measured."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", readme.ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = tables.read_block(None, name)
    assert written is not None, f"README.md has no filled '{name}' table block"
    assert written == module.table(), f"README's {name} table is stale: run 'python bench/{name}.py --table --write'"
