"""Every recipe on every installed Keras backend: the smoke check of tools/smoke.py in a worker
process per backend (TensorFlow, the session's own, is tests/test_recipes.py::test_smoke), and
`recipe run --backend` refusing what it cannot do before any work starts."""

import importlib.util
import json
import os
import sys

import keras  # the test process' own backend, TensorFlow; loaded at collection, before any captured output
import pytest
from conftest import RECIPE_IDS

from tools import cli, smoke
from tools.catalog import BACKENDS, check_backend, get_entry, load_catalog, validate_entry

OTHER_BACKENDS = [backend for backend in BACKENDS if backend != "tensorflow"]


@pytest.fixture(scope="module")
def workers():
    """One smoke worker per other backend, started on first use and kept for the module."""
    started = {backend: smoke.Worker(backend) for backend in OTHER_BACKENDS}
    yield started
    for worker in started.values():
        worker.close()


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_smoke_on_backend(recipe_id, backend, workers):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (optional: see the README's Backends section)")
    entry = get_entry(load_catalog(), recipe_id)
    if backend in entry.get("backends", {}):
        with pytest.raises(Exception, match="does not run on the"):
            check_backend(recipe_id, entry, backend)
        return
    answer = workers[backend].check(recipe_id)
    assert answer["id"] == recipe_id
    assert answer["ok"], answer["error"]


def test_catalog_backends_field(tmp_path):
    """`backends:` lists only the backends a recipe cannot run on, each with a one-sentence reason."""
    entry = dict(get_entry(load_catalog(), "memory_task"))
    assert not validate_entry("memory_task", {**entry, "backends": {"torch": "Its layer has no torch kernel."}})
    for bad in ({"torch": "no full stop"}, {"theano": "Gone."}, {}, ["torch"], {"torch": 3}):
        problems = validate_entry("memory_task", {**entry, "backends": bad})
        assert len(problems) == 1 and "backends" in problems[0] and "tensorflow, jax, torch" in problems[0], problems


def test_run_refuses_a_ruled_out_backend(monkeypatch, cli_error):
    """A backend the catalog rules out is refused in one line, with the reason and the backends that work."""
    entry = get_entry(load_catalog(), "memory_task")
    ruled_out = {**entry, "backends": {"jax": "Its made-up layer has no JAX kernel."}}
    monkeypatch.setattr(cli, "get_entry", lambda catalog, recipe_id: ruled_out)
    code, err = cli_error(["run", "memory_task", "--brief", "--backend", "jax"])
    assert code == 2 and len(err) == 1
    assert "memory_task does not run on the jax backend: Its made-up layer has no JAX kernel. Use --backend tensorflow or torch." in err[0]


def test_run_refuses_a_missing_backend(monkeypatch, cli_error):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: None if name == "torch" else real(name, *rest))
    code, err = cli_error(["run", "memory_task", "--brief", "--backend", "torch"])
    assert code == 2 and len(err) == 1
    assert "The torch backend needs torch, which is not installed. Install it: pip install torch --index-url" in err[0]


def test_run_refuses_a_second_backend_in_one_process(cli_error):
    """Keras is loaded (TensorFlow) in the test process: another backend needs its own command."""
    assert keras.backend.backend() == "tensorflow"
    code, err = cli_error(["run", "memory_task", "--brief", "--backend", "jax"])
    assert code == 2 and len(err) == 1 and "already loaded with the tensorflow backend" in err[0]


def test_unknown_backend_is_a_usage_error(cli_error):
    code, err = cli_error(["run", "memory_task", "--backend", "theano"])
    assert code == 2 and "invalid choice: 'theano'" in err[0]


def test_resume_keeps_the_runs_backend(tmp_path, monkeypatch):
    """`recipe run --resume` points Keras at the backend the run was started on (run.json)."""
    (tmp_path / "run.json").write_text(json.dumps({"backend": "jax"}))
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")  # restored after the test
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    cli.use_backend(cli.build_parser().parse_args(["run", "--resume", str(tmp_path)]))
    assert os.environ["KERAS_BACKEND"] == "jax"
