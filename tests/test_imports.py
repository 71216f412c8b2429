"""A one-way house: recipe code never imports tools/, and tools/ imports only the recipes' shared code.

tools/ reaches a recipe only by its catalog id (importlib of `recipes.<id>.model/data/demo`,
which is a string, not an import statement) and the contract's hooks; recipes/common/ is
shared code tools/ may use.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_names(source, package=""):
    """(line, dotted name) for every import statement in `source`, at any depth.

    `import a.b` gives a.b; `from a import b, c` gives a.b and a.c (b may be a module or a
    name in a); relative imports are resolved against `package` (the importing module's package).
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = ".".join(p for p in (parent, base) if p)
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}" if base else alias.name


def within(name, package):
    return name == package or name.startswith(package + ".")


def reaches_tools(name):
    return within(name, "tools")


def reaches_a_recipe(name):
    """A recipe's own modules (or the recipes package as a whole), not recipes/common/."""
    return within(name, "recipes") and not within(name, "recipes.common")


RULES = {"recipes": reaches_tools, "tools": reaches_a_recipe}  # folder -> what its files must not import


def violations(root):
    """'path:line imports name' for every import under root/recipes and root/tools that breaks RULES."""
    found = []
    for folder, forbidden in RULES.items():
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root)
            package = ".".join(relative.parts[:-1])  # of a module and of an __init__.py alike
            for line, name in imported_names(path.read_text(encoding="utf-8"), package):
                if forbidden(name):
                    found.append(f"{relative}:{line} imports {name}")
    return found


def test_recipes_never_import_tools_and_tools_import_only_recipes_common():
    assert (ROOT / "recipes" / "common").is_dir() and (ROOT / "tools").is_dir()
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    "source",
    [
        "import tools",
        "import tools.errors",
        "import tools.errors as errors",
        "from tools import errors",
        "from tools.catalog import load_catalog",
        "from tools import *",
        "def figure():\n    from tools import errors\n    return errors",
        "try:\n    import numpy\nexcept ImportError:\n    import tools.quiet\n",
        "if True:\n    import os, tools",
    ],
)
def test_every_form_of_importing_tools_is_seen(source):
    assert any(reaches_tools(name) for _, name in imported_names(source, "recipes.memory_task"))


@pytest.mark.parametrize(
    "source",
    [
        "import toolsmith",
        "from recipes.common import style",
        "from . import data",
        "from .model import build_model",
        "import importlib\nimportlib.import_module('tools.errors')",  # strings are not imports
    ],
)
def test_what_is_not_an_import_of_tools_passes(source):
    assert not any(reaches_tools(name) for _, name in imported_names(source, "recipes.memory_task"))


@pytest.mark.parametrize(
    ("source", "breaks"),
    [
        ("from recipes.common import ctc, speech", False),
        ("from recipes.common.config import ConfigError", False),
        ("import recipes.common.style", False),
        ("from recipes import common", False),
        ("import importlib\nimportlib.import_module(f'recipes.{recipe_id}.demo')", False),
        ("from recipes.memory_task import demo", True),
        ("from recipes.wav2letter.demo import transcribe", True),
        ("from recipes import memory_task", True),
        ("import recipes", True),
        ("import recipes.commonplace", True),
    ],
)
def test_tools_may_import_only_recipes_common(source, breaks):
    assert any(reaches_a_recipe(name) for _, name in imported_names(source, "tools")) == breaks


def test_relative_imports_resolve_against_the_package():
    names = [name for _, name in imported_names("from . import data\nfrom ..common import style\nfrom .. import tools", "recipes.wavenet")]
    assert names == ["recipes.wavenet.data", "recipes.common.style", "recipes.tools"]


def test_a_planted_violation_fails_the_check(tmp_path):
    for folder in ("recipes/common", "recipes/some_recipe", "tools"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "recipes" / "common" / "style.py").write_text("import matplotlib\n")
    (tmp_path / "recipes" / "some_recipe" / "demo.py").write_text('"""A demo."""\n\n\ndef demo():\n    from tools import errors\n')
    (tmp_path / "tools" / "runner.py").write_text("from recipes.common import style\nfrom recipes.some_recipe.model import build_model\n")
    assert violations(tmp_path) == [
        "recipes/some_recipe/demo.py:5 imports tools.errors",
        "tools/runner.py:2 imports recipes.some_recipe.model.build_model",
    ]
