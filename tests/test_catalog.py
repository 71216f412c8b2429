"""Catalog validation: the real catalog is valid, and broken entries give errors that name
the entry, the field, the bad value and the fix."""

import copy
import shutil

import pytest

from tools import catalog as cat
from tools.config import resolve_config
from tools.errors import UsageError


@pytest.fixture(scope="module")
def raw():
    return cat.read_catalog()


def test_real_catalog_is_valid(raw):
    assert cat.validate_catalog(raw) == []


def test_every_folder_has_an_entry_and_back(raw):
    assert set(cat.recipe_folders()) == set(raw)


def test_defaults_have_the_keys_the_runner_needs(raw):
    for rid in raw:
        config = cat.read_default_config(cat.RECIPES_DIR / rid)
        for key, kind in cat.REQUIRED_CONFIG.items():
            assert isinstance(config[key], kind), (rid, key)


def broken(raw, path, value):
    """A copy of the first entry with the field at `path` (tuple of keys) set to value (None deletes)."""
    rid = next(iter(raw))
    entry = copy.deepcopy(raw[rid])
    node = entry
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return rid, entry


@pytest.mark.parametrize(
    "path, value, expected",
    [
        (("family",), "lstm_family", ["family", "lstm_family", "Use one of"]),
        (("task",), "forcasting", ["task", "forcasting", "Did you mean 'forecasting'?"]),
        (("modality",), "smell", ["modality", "smell", "Use one of"]),
        (("properties",), ["output_each_step", "teacher_forced"], ["properties", "teacher_forced", "Did you mean 'teacher_forcing'?"]),
        (("properties",), ["attention", "attention"], ["properties", "twice"]),
        (("properties",), [], ["properties", "non-empty"]),
        (("summary",), "No full stop", ["summary", "No full stop", "full stop"]),
        (("title",), None, ["missing field 'title'", "Add it"]),
        (("colour",), "blue", ["unknown field 'colour'", "Allowed"]),
        (("papers",), [{"title": "x", "authors": "y", "year": "1997", "url": "https://a"}], ["year", "'1997'", "like 1997"]),
        (("papers",), [{"title": "x", "authors": "y", "year": 1997, "url": "doi:1"}], ["url", "doi:1", "http"]),
        (("brief", "overrides"), {"epochz": 1}, ["brief.overrides.epochz", "no such key", "Did you mean 'epochs'?"]),
        (("brief", "overrides"), {"epochs": 1.5}, ["brief.overrides.epochs", "1.5", "float", "same type"]),
        (("brief", "overrides"), {"learning_rate": "fast"}, ["brief.overrides.learning_rate", "'fast'", "same type"]),
        (("brief", "expect"), {"at_least": 0.9}, ["brief.expect", "at_least", "{min: number}"]),
        (("brief", "expect"), {"min": True}, ["brief.expect", "{min: number}"]),
        (("brief", "budget_seconds"), -5, ["budget_seconds", "-5", "positive"]),
        (("brief", "metric"), None, ["missing field 'metric'"]),
    ],
)
def test_broken_entry_is_rejected_with_a_helpful_message(raw, path, value, expected):
    rid, entry = broken(raw, path, value)
    problems = cat.validate_entry(rid, entry)
    assert problems, f"{path}={value!r} was accepted"
    message = " ".join(problems)
    assert f"'{rid}'" in message
    for fragment in expected:
        assert fragment in message


def test_int_is_accepted_for_a_float_key(raw):
    rid, entry = broken(raw, ("brief", "overrides"), {"learning_rate": 1})
    assert cat.validate_entry(rid, entry) == []


def test_entry_without_folder_and_folder_without_entry(raw, tmp_path):
    rid = next(iter(raw))
    shutil.copytree(cat.RECIPES_DIR / rid, tmp_path / rid)
    (tmp_path / "orphan").mkdir()
    (tmp_path / "common").mkdir()  # shared code, never a recipe
    doc = {rid: raw[rid], "ghost": copy.deepcopy(raw[rid])}
    problems = cat.validate_catalog(doc, tmp_path)
    assert any("'ghost'" in p and "recipes/ghost/ is missing" in p for p in problems)
    assert any("recipes/orphan/ has no catalog entry" in p for p in problems)
    assert not any("common" in p for p in problems)


@pytest.mark.parametrize(
    "source, fragment",
    [
        ("DEFAULT_CONFIG = dict(units=3)\n", "not a literal dict"),
        ("DEFAULT_CONFIG = {'units': [1, 2]}\n", "key 'units' has a list"),
        ("CONFIG = {}\n", "no top-level DEFAULT_CONFIG"),
    ],
)
def test_default_config_must_be_a_flat_literal(tmp_path, source, fragment):
    folder = tmp_path / "bad_recipe"
    folder.mkdir()
    (folder / "model.py").write_text(source)
    with pytest.raises(cat.CatalogError, match=fragment):
        cat.read_default_config(folder)


def test_missing_required_config_key(raw, tmp_path):
    rid = next(iter(raw))
    shutil.copytree(cat.RECIPES_DIR / rid, tmp_path / rid)
    model = tmp_path / rid / "model.py"
    model.write_text(model.read_text().replace('"seed"', '"random_seed"', 1))
    problems = cat.validate_entry(rid, raw[rid], tmp_path)
    assert any("needs 'seed'" in p for p in problems)


def test_yaml_syntax_error_is_one_line(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text("a: [1, 2\n")
    with pytest.raises(cat.CatalogError, match="not valid YAML"):
        cat.read_catalog(path)


def test_config_layers_default_brief_set(raw):
    rid = next(iter(raw))
    entry = raw[rid]
    default = cat.read_default_config(cat.RECIPES_DIR / rid)
    config, changes = resolve_config(rid, entry, brief=True, sets=["seed=7"], epochs=2)
    for key, value in entry["brief"]["overrides"].items():
        if key != "epochs":
            assert config[key] == value
    assert config["seed"] == 7 and config["epochs"] == 2
    assert {key for key, *_ in changes} <= set(default)
    assert ("seed", default["seed"], 7, "--set") in changes


@pytest.mark.parametrize(
    "sets, fragment",
    [
        (["unitz=3"], "no config key 'unitz'"),
        (["epochs=many"], "takes an integer"),
        (["learning_rate=fast"], "takes a number"),
        (["epochs"], "--set expects key=value"),
    ],
)
def test_bad_set_is_a_usage_error(raw, sets, fragment):
    rid = next(iter(raw))
    with pytest.raises(UsageError, match=fragment):
        resolve_config(rid, raw[rid], sets=sets)


@pytest.mark.parametrize(
    "path, value, expected",
    [
        (("properties",), [], "field 'properties': expected a non-empty list, got []"),
        (("papers",), "Elman 1990", "field 'papers': expected a non-empty list of title/authors/year/url, got 'Elman 1990'"),
        (("brief", "overrides"), [1], "brief.overrides: expected a mapping of config keys, got [1]"),
        (("family",), ["recurrent"], "field 'family': '['recurrent']' is not allowed."),
        (("properties",), [["attention"]], "field 'properties': '['attention']' is not allowed."),
        (("data",), "generated", "field 'data': expected a mapping, got 'generated'."),
    ],
)
def test_wrong_kind_of_value_is_a_problem_not_a_crash(raw, path, value, expected):
    rid, entry = broken(raw, path, value)
    assert any(expected in p for p in cat.validate_entry(rid, entry)), cat.validate_entry(rid, entry)


@pytest.mark.parametrize("path", [("properties",), ("papers",), ("brief", "overrides")])
def test_empty_yaml_value_is_rejected(raw, path):
    """`properties:` with nothing after it reads as None; `recipe list --property` and `show` need a list/mapping."""
    rid = next(iter(raw))
    entry = copy.deepcopy(raw[rid])
    node = entry
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = None
    problems = cat.validate_entry(rid, entry)
    assert problems and "got None" in problems[0] and f"'{rid}'" in problems[0]


def test_every_field_has_a_rule():
    assert set(cat.ENTRY) == set(cat.FIELDS) and set(cat.BRIEF) == set(cat.BRIEF_FIELDS)
    assert set(cat.PAPER) == set(cat.PAPER_FIELDS) and set(cat.DATA) == set(cat.DATA_FIELDS)


def test_catalog_module_imports_no_backend():
    import subprocess
    import sys

    code = (
        "import sys, tools.catalog as c; c.validate_catalog(c.read_catalog()); assert not {'tensorflow', 'keras', 'jax', 'torch'} & set(sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
