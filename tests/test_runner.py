"""The shared runner: run directory contents, provenance, NaN divergence, Ctrl-C, --check."""

import json
import types

import keras
import numpy as np
import pytest

from tools import errors, runner

RECIPE = "memory_task"  # the demo recipe; these tests shrink its data so each run takes seconds


def shrink(split, size):
    x, y = split
    return x[:size], y[:size]


@pytest.fixture
def tiny(monkeypatch):
    """Run RECIPE on 64 training examples; poison=True makes the inputs NaN so the loss diverges;
    interrupt_after=N raises KeyboardInterrupt (Ctrl-C) at the end of epoch N."""

    def make(poison=False, interrupt_after=None):
        model_module, data_module, demo_module = runner.import_recipe(RECIPE)

        def load_data(config):
            data = data_module.load_data(config)
            small = {key: shrink(value, 64) if key in ("train", "validation", "test") else value for key, value in data.items()}
            if poison:
                x, y = small["train"]
                small["train"] = (np.full(x.shape, np.nan, dtype="float32"), y)
            return small

        fake_data = types.SimpleNamespace(load_data=load_data)
        monkeypatch.setattr(runner, "import_recipe", lambda rid: (model_module, fake_data, demo_module))
        if interrupt_after is not None:
            monitor = runner._monitor_class()

            class CtrlC(monitor):
                def on_epoch_end(self, epoch, logs=None):
                    super().on_epoch_end(epoch, logs)
                    if epoch + 1 == interrupt_after:
                        raise KeyboardInterrupt

            monkeypatch.setattr(runner, "_monitor_class", lambda: CtrlC)

    return make


def quiet_run(tmp_path, **kwargs):
    return runner.run(RECIPE, brief=True, out=tmp_path / "run", verbose=0, log=lambda *_: None, **kwargs)


def test_run_directory_and_provenance(tiny, tmp_path):
    tiny()
    result = quiet_run(tmp_path, epochs=2, seed=3)
    record = json.loads((result.run_dir / "run.json").read_text())
    assert record["status"] == "complete" and record["recipe"] == RECIPE and record["seed"] == 3
    assert record["backend"] == keras.backend.backend() and record["versions"]["keras"] == keras.__version__
    assert record["wall_seconds"] > 0 and record["machine"]["cpu_count"] >= 1
    assert json.loads((result.run_dir / "config.json").read_text())["epochs"] == 2
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["split"] in ("test", "validation") and np.isfinite(metrics["loss"])
    assert len((result.run_dir / "history.csv").read_text().strip().splitlines()) == 3  # header + 2 epochs
    assert result.expectation.startswith("expect ")
    recipe_id, config, model = runner.load_run(result.run_dir)
    assert recipe_id == RECIPE and config["seed"] == 3 and model.count_params() > 0


def test_nan_loss_stops_with_a_clear_failure(tiny, tmp_path):
    tiny(poison=True)
    with pytest.raises(errors.RunFailed, match=r"loss became NaN at epoch 1, batch 1.*learning_rate="):
        quiet_run(tmp_path, epochs=3)
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["status"] == "diverged"
    with pytest.raises(errors.UsageError, match="status is 'diverged'"):
        runner.load_run(tmp_path / "run")


def test_ctrl_c_keeps_what_was_trained(tiny, tmp_path):
    tiny(interrupt_after=1)
    result = quiet_run(tmp_path, epochs=5)
    assert result.status == "interrupted"
    record = json.loads((result.run_dir / "run.json").read_text())
    assert record["status"] == "interrupted" and record["epochs_run"] == 1
    assert (result.run_dir / "model.keras").is_file() and (result.run_dir / "metrics.json").is_file()


def test_a_run_stopped_while_evaluating_shows_its_training_but_never_reads_as_finished(tiny, tmp_path, monkeypatch):
    """Ctrl-C (or a kill) after training, during evaluation: run.json says what was trained and stays 'running'."""
    tiny()

    def ctrl_c(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "keras_evaluate", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        quiet_run(tmp_path, epochs=2)
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["status"] == "running" and record["epochs_run"] == 2 and record["train_steps"] > 0 and record["train_seconds"] > 0
    assert not (tmp_path / "run" / "metrics.json").exists()
    with pytest.raises(errors.UsageError, match="status is 'running'"):
        runner.read_run(tmp_path / "run")


def test_existing_run_directory_is_not_overwritten(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("x")
    with pytest.raises(errors.UsageError, match="already exists"):
        quiet_run(tmp_path)


@pytest.mark.parametrize(
    "value, bound, kind, met",
    [(0.98, 0.95, "min", True), (0.90, 0.95, "min", False), (0.04, 0.044, "max", True), (float("nan"), 0.044, "max", False)],
)
def test_expectation_line(value, bound, kind, met):
    entry = {"brief": {"metric": "m", "expect": {kind: bound}}}
    line, ok = runner.expectation_line(entry, {"m": value})
    assert ok is met and line.endswith("ok" if met else "MISSED") and line.startswith(f"expect m {'>=' if kind == 'min' else '<='}")
