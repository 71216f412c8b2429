"""The README's recipe table is generated from catalog.yaml and must be current."""

from tools import readme
from tools.catalog import load_catalog


def test_recipe_table_is_current():
    text = readme.README.read_text(encoding="utf-8")
    assert readme.render(text, load_catalog()) == text, "README recipe table is stale: run 'make readme'"


def test_readme_quick_start_is_the_two_make_commands():
    text = readme.README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
