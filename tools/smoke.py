"""The smoke check of one recipe on this process' Keras backend, and a worker that runs it on another.

`check(recipe_id, folder)` builds the recipe's brief-config model on a batch of its real
data, runs a forward pass, one training step and a `.keras` save/load round trip with
equal predictions. Tests call it for the session's backend (TensorFlow).

A Keras backend is fixed when Keras is first imported, so another backend needs another
process: `python -m tools.smoke` reads recipe ids on stdin, one per line, and answers
each with one JSON line {"id", "ok", "error"} on stdout. `Worker(backend)` starts one
with KERAS_BACKEND set and keeps it for many checks (tests keep one per backend).
"""

import json
import os
import selectors
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from tools import runner

ROOT = Path(__file__).resolve().parent.parent


def first_batch(split, size):
    """A few real examples from a split given as (x, y) arrays or as a PyDataset."""
    if isinstance(split, (tuple, list)):
        x, y = split
        take = lambda a: (
            [v[:size] for v in a] if isinstance(a, (list, tuple)) else ({k: v[:size] for k, v in a.items()} if isinstance(a, dict) else a[:size])
        )
        return take(x), take(y)
    return split[0][:2]


def check(recipe_id, folder):
    """Build, forward, one training step and a .keras round trip of `recipe_id`'s brief model.

    Args:
        recipe_id: catalog id.
        folder: an empty folder for the saved model.

    Returns:
        (the runner's Plan, the data, the model after its training step).

    Raises:
        AssertionError: naming what went wrong (non-finite output or loss, an undeclared
            metric, predictions that change across the round trip).
    """
    import keras
    import numpy as np

    from tools.catalog import get_entry, load_catalog

    plan = runner.resolve(recipe_id, brief=True)
    data, model = runner.build(plan, log=lambda *_: None)
    x, y = first_batch(data["train"], 8)
    for output in keras.tree.flatten(model.predict_on_batch(x)):
        assert np.all(np.isfinite(output)), "the forward pass gives non-finite outputs"
    declared = runner.metric_names(model, plan.demo_module)
    metric = get_entry(load_catalog(), recipe_id)["brief"]["metric"]
    assert runner.reports(declared, metric), f"the brief metric {metric} is not declared"
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(logs["loss"]), f"one training step gives loss {logs['loss']}"
    assert all(runner.reports(declared, name) for name in logs), f"undeclared training metrics in {sorted(logs)}"
    path = Path(folder) / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for a, b in zip(keras.tree.flatten(model.predict_on_batch(x)), keras.tree.flatten(loaded.predict_on_batch(x))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6, err_msg="predictions change across the .keras round trip")
    return plan, data, model


class Worker:
    """A `python -m tools.smoke` process on another Keras backend, started on first use.

    Example:
        with Worker("jax") as jax_worker:
            answer = jax_worker.check("memory_task")   # {"id": ..., "ok": True, "error": None}
    """

    def __init__(self, backend, timeout=900):
        self.backend, self.timeout, self.process = backend, timeout, None

    def _start(self):
        environment = {**os.environ, "KERAS_BACKEND": self.backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (the worker's stderr, kept as long as the worker)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.smoke"],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def check(self, recipe_id):
        """The worker's answer for one recipe; a dead or silent worker is an answer with ok False."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        self.process.stdin.write(recipe_id + "\n")
        self.process.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            line = self.process.stdout.readline() if selector.select(self.timeout) else ""
        if line:
            return json.loads(line)
        self.close()
        self.log.seek(0)
        tail = self.log.read().decode(errors="replace")[-2000:]
        return {"id": recipe_id, "ok": False, "error": f"the {self.backend} worker gave no answer within {self.timeout} s:\n{tail}"}

    def close(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


def serve():
    """Answer recipe ids from stdin with JSON lines on stdout; anything else printed goes to stderr."""
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    for line in sys.stdin:
        recipe_id = line.strip()
        with tempfile.TemporaryDirectory() as folder:
            try:
                check(recipe_id, folder)
                answer = {"id": recipe_id, "ok": True, "error": None}
            except Exception as error:  # every failure is an answer; the test shows it
                answer = {"id": recipe_id, "ok": False, "error": f"{type(error).__name__}: {error}\n{traceback.format_exc()[-3000:]}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
        import keras  # loaded by the first check

        keras.backend.clear_session()  # free the last recipe's graphs and compiled functions


if __name__ == "__main__":
    serve()
