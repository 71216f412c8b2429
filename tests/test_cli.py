"""The `recipe` command as a user meets it: exit codes, one-line errors, no TensorFlow on `list`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RECIPE_IDS

from tools.catalog import read_catalog

RECIPE = Path(sys.executable).parent / "recipe"


def recipe(*args, cwd=None):
    result = subprocess.run([str(RECIPE), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def one_line_error(result, code=2):
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_list_and_show_never_import_a_backend():
    code = (
        "import sys; from tools.cli import main\n"
        f"main(['list']); main(['list', '--json']); main(['show', {RECIPE_IDS[0]!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'jax', 'torch', 'matplotlib'})\n"
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_list_shows_every_recipe():
    result = recipe("list")
    assert result.returncode == 0
    for rid in RECIPE_IDS:
        assert rid in result.stdout


def test_list_json_and_property_filter_agree_with_the_catalog():
    catalog = read_catalog()
    for prop in {p for entry in catalog.values() for p in entry["properties"]}:
        listed = {item["id"] for item in json.loads(recipe("list", "--property", prop, "--json").stdout)}
        assert listed == {rid for rid, entry in catalog.items() if prop in entry["properties"]}


def test_list_pattern():
    rid = RECIPE_IDS[0]
    assert json.loads(recipe("list", rid[:4] + "*", "--json").stdout)[0]["id"] == rid


def test_show():
    rid = RECIPE_IDS[0]
    result = recipe("show", rid)
    assert result.returncode == 0 and "brief run:" in result.stdout and "seed" in result.stdout


@pytest.mark.parametrize("verb", ["show", "run", "plot", "weights"])
def test_unknown_recipe_suggests_the_closest(verb):
    rid = RECIPE_IDS[0]
    line = one_line_error(recipe(verb, rid[:-1] + "x"))
    assert f"Unknown recipe '{rid[:-1]}x'" in line and f"Did you mean '{rid}'?" in line


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--set", "epohcs=2"], "has no config key 'epohcs'. Did you mean 'epochs'?"),
        (["--set", "epochs=two"], "takes an integer"),
        (["--set", "learning_rate"], "--set expects key=value"),
        (["--epochs", "0"], "Config key 'epochs' of 'sine_continuation' takes an integer from 1 to 10,000, got 0. Use e.g. --set epochs="),
        (["--epochs", "x"], "invalid int value"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(args, fragment):
    line = one_line_error(recipe("run", RECIPE_IDS[0], *args))
    assert fragment in line


def test_bad_family_and_property():
    assert "Did you mean 'teacher_forcing'?" in one_line_error(recipe("list", "--property", "teacher_forced"))
    assert "Use one of" in one_line_error(recipe("list", "--family", "transformer"))


def test_weights_of_something_that_is_not_a_run(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "not a usable run directory" in one_line_error(recipe("weights", tmp_path / "empty"))
    assert "no such directory" in one_line_error(recipe("weights", tmp_path / "missing"))


def test_plot_writes_a_graph(tmp_path):
    out = tmp_path / "graph.svg"
    result = recipe("plot", RECIPE_IDS[0], "--out", out)
    assert result.returncode == 0 and out.read_bytes().startswith(b"<?xml")
    assert "TensorFlow" not in result.stderr and "oneDNN" not in result.stderr  # start-up logs are silenced


def test_help_and_argparse_errors():
    assert recipe("--help").returncode == 0
    assert "invalid choice" in one_line_error(recipe("fly"))
    assert "invalid choice" in one_line_error(recipe("plot", RECIPE_IDS[0], "--format", "gif"))
