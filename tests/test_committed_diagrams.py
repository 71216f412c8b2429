"""The book-notation diagrams the READMEs show are exactly what `recipe diagram` and `recipe atlas` draw today.

`make figures` rewrites them; these tests fail when one is stale, missing, or not shown.
"""

from pathlib import Path

import pytest
from conftest import RECIPE_IDS

from tools import atlas, diagram, figures, runner

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_recipe_diagrams_are_current_and_shown(recipe_id, tmp_path):
    _, model = runner.build_untrained(recipe_id)
    views = figures.recipe_views(diagram.recipe_architecture(recipe_id, model))
    folder = ROOT / "recipes" / recipe_id
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert sorted(p.name for p in folder.glob("diagram_*.svg")) == sorted(f"diagram_{view}.svg" for view in views)
    shown = {part.split(")")[0] for part in readme.split("](diagram_")[1:]}
    assert shown == {f"{view}.svg" for view in views}, f"recipes/{recipe_id}/README.md shows diagram_{sorted(shown)}"
    for view in views:
        drawn = figures.draw(tmp_path / f"{view}.svg", (recipe_id, view, "light", 3))
        assert drawn.read_bytes() == (folder / f"diagram_{view}.svg").read_bytes(), f"{recipe_id} {view}: run 'make figures'"
        assert f"](diagram_{view}.svg)" in readme, f"recipes/{recipe_id}/README.md does not show diagram_{view}.svg"


@pytest.mark.parametrize("name", sorted(figures.EXAMPLES))
def test_readme_examples_are_current_and_shown(name, tmp_path):
    drawn = figures.draw(tmp_path / name, figures.EXAMPLES[name])
    assert drawn.read_bytes() == (figures.DOCS / name).read_bytes(), f"{name}: run 'make figures'"
    assert f"](docs/figures/{name})" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_atlas_is_current(tmp_path):
    assert atlas.write_atlas(tmp_path / "atlas.svg").read_bytes() == figures.ATLAS.read_bytes(), "run 'make figures'"
    assert "](docs/figures/atlas.svg)" in (ROOT / "README.md").read_text(encoding="utf-8")
