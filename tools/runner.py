"""Train, evaluate and demo one recipe; write its run directory.

The one training path of the project (`model.fit` with callbacks): no recipe has a loop
of its own. A run directory holds config.json, history.csv, metrics.json, model.keras,
loss.png, the demo's files and run.json (provenance and status). run.json is written
first with status "running" and rewritten at the end ("complete", "interrupted" or
"diverged"), so a half-written directory never passes for a finished one.
"""

import importlib
import importlib.util
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tools import errors
from tools.catalog import get_entry, load_catalog
from tools.config import resolve_config

RUN_FILE = "run.json"
MODEL_FILE = "model.keras"


@dataclass
class RunResult:
    """What `run` produced: the run directory, metrics, and the expectation verdict."""

    run_dir: Path
    config: dict
    metrics: dict
    status: str
    expectation: str
    met: bool
    files: list = field(default_factory=list)
    seconds: float = 0.0


def import_recipe(recipe_id):
    """The recipe's modules: (model, data, demo or None). Import errors propagate: a broken recipe is never hidden."""
    model = importlib.import_module(f"recipes.{recipe_id}.model")
    data = importlib.import_module(f"recipes.{recipe_id}.data")
    demo_name = f"recipes.{recipe_id}.demo"
    demo = importlib.import_module(demo_name) if importlib.util.find_spec(demo_name) else None
    return model, data, demo


def fit_arguments(split, config):
    """`fit`/`evaluate` arguments for a split given as (x, y) arrays or as a PyDataset."""
    if isinstance(split, (tuple, list)):
        return {"x": split[0], "y": split[1], "batch_size": config["batch_size"]}
    return {"x": split}


def validation_data(split):
    return tuple(split) if isinstance(split, (tuple, list)) else split


def evaluation_split(data):
    """The split a run reports on: test when the recipe has one, else validation."""
    return ("test", data["test"]) if data.get("test") is not None else ("validation", data["validation"])


def expectation_line(entry, metrics):
    """('expect recall_accuracy >= 0.95: got 0.98 ok', met) for the catalog's brief expectation."""
    brief = entry["brief"]
    metric = brief["metric"]
    (kind, bound), = brief["expect"].items()
    op = ">=" if kind == "min" else "<="
    if metric not in metrics:
        return f"expect {metric} {op} {bound:g}: the run reported no '{metric}' (got {', '.join(metrics)}) MISSED", False
    value = metrics[metric]
    met = math.isfinite(value) and (value >= bound if kind == "min" else value <= bound)
    return f"expect {metric} {op} {bound:g}: got {value:.4g} {'ok' if met else 'MISSED'}", met


def provenance():
    """Backend, library versions and machine, for run.json."""
    import keras
    import numpy

    backend = keras.backend.backend()
    engine = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    versions = {"python": platform.python_version(), "keras": keras.__version__, "numpy": numpy.__version__}
    if engine:
        versions[engine] = importlib.import_module(engine).__version__
    machine = {"platform": platform.platform(), "processor": platform.machine(), "cpu_count": os.cpu_count()}
    return {"backend": backend, "versions": versions, "machine": machine}


def write_json(path, payload):
    Path(path).write_text(json.dumps(payload, indent=2, sort_keys=False, default=float) + "\n", encoding="utf-8")


def new_run_dir(recipe_id, out=None):
    """The run directory to write: `out`, or runs/<id>-<UTC time>; it must not hold an earlier run."""
    path = Path(out) if out else Path("runs") / f"{recipe_id}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise errors.UsageError(f"Output directory '{path}' already exists and is not empty. Choose another --out or remove it.")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _training_callbacks(run_dir, guard):
    import keras

    class NaNGuard(keras.callbacks.Callback):
        """Stops training at the first non-finite loss and remembers where."""

        def on_train_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                guard["where"] = f"epoch {guard['epoch'] + 1}, batch {batch + 1}"
                self.model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            guard["epoch"] = epoch

    return [
        NaNGuard(),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv")),
        # The best epoch by validation loss is kept on disk as training goes.
        keras.callbacks.ModelCheckpoint(str(run_dir / MODEL_FILE), monitor="val_loss", save_best_only=True, verbose=0),
    ]


def plot_history(history_csv, path, title):
    """Loss curves (train and validation) from history.csv; returns the path or None when empty."""
    import csv

    from tools import style

    with open(history_csv, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return None
    epochs = [int(row["epoch"]) + 1 for row in rows]
    fig, ax = style.subplots(figsize=(6, 3.6))
    for key, label in (("loss", "training"), ("val_loss", "validation")):
        if key in rows[0]:
            ax.plot(epochs, [float(row[key]) for row in rows], marker="o", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    return style.save(fig, path)


def run(recipe_id, brief=False, sets=(), epochs=None, seed=None, out=None, verbose=None, log=print):
    """Train, evaluate and demo one recipe, writing a run directory.

    Args:
        recipe_id: catalog id.
        brief: apply the catalog's brief overrides (the checked, few-minute run).
        sets: 'key=value' config overrides.
        epochs, seed: shortcuts for the config keys of the same name.
        out: run directory to create (default runs/<id>-<time>).
        verbose: Keras fit verbosity (default: progress bar on a terminal, one line per epoch otherwise).
        log: where progress lines go.

    Returns:
        A RunResult.

    Raises:
        UsageError, ConfigError: bad recipe id or config (nothing is trained).
        RunFailed: the loss became NaN.
    """
    started = time.perf_counter()
    entry = get_entry(load_catalog(), recipe_id)
    config, changes = resolve_config(recipe_id, entry, brief=brief, sets=sets, epochs=epochs, seed=seed)
    for key, old, new, source in changes:
        log(f"config {key} = {new!r} (default {old!r}; from {source})")

    import keras

    model_module, data_module, demo_module = import_recipe(recipe_id)
    keras.utils.set_random_seed(config["seed"])
    data = data_module.load_data(config)
    model = model_module.build_model(config)
    run_dir = new_run_dir(recipe_id, out)
    log(f"run directory: {run_dir}")
    write_json(run_dir / "config.json", config)
    record = {
        "recipe": recipe_id,
        "status": "running",
        "brief": brief,
        "overrides": {key: new for key, _, new, _ in changes},
        "seed": config["seed"],
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **provenance(),
    }
    write_json(run_dir / RUN_FILE, record)

    guard = {"epoch": 0, "where": None}
    status = "complete"
    train_started = time.perf_counter()
    try:
        model.fit(
            **fit_arguments(data["train"], config),
            validation_data=validation_data(data["validation"]),
            epochs=config["epochs"],
            callbacks=_training_callbacks(run_dir, guard),
            verbose=verbose if verbose is not None else (1 if sys.stdout.isatty() else 2),
        )
    except KeyboardInterrupt:
        status = "interrupted"
        log("interrupted: keeping what was trained so far (Ctrl-C again to abort)")
    train_seconds = time.perf_counter() - train_started
    record.update(train_seconds=round(train_seconds, 2), epochs_run=guard["epoch"] + 1)

    if guard["where"]:
        record.update(status="diverged", diverged_at=guard["where"], wall_seconds=round(time.perf_counter() - started, 2))
        write_json(run_dir / RUN_FILE, record)
        raise errors.RunFailed(
            f"Training diverged: the loss became NaN at {guard['where']}. "
            f"Try a lower learning rate (--set learning_rate={config['learning_rate'] / 10:g})."
        )

    checkpoint = run_dir / MODEL_FILE
    if checkpoint.exists():
        model.load_weights(checkpoint)  # the best epoch by validation loss
    model.save(checkpoint)

    split_name, split = evaluation_split(data)
    metrics = model.evaluate(**fit_arguments(split, config), verbose=0, return_dict=True)
    metrics = {key: float(value) for key, value in metrics.items()}
    files = []
    if demo_module is not None:
        if hasattr(demo_module, "evaluate"):
            metrics.update({key: float(value) for key, value in demo_module.evaluate(model, data, config).items()})
        if hasattr(demo_module, "demo"):
            files.extend(str(path) for path in demo_module.demo(model, data, config, run_dir) or ())
    write_json(run_dir / "metrics.json", {"split": split_name, **metrics})
    loss_plot = plot_history(run_dir / "history.csv", run_dir / "loss.png", f"{recipe_id}: loss per epoch")
    files = [str(checkpoint), *([loss_plot] if loss_plot else []), *files]

    line, met = expectation_line(entry, metrics)
    seconds = time.perf_counter() - started
    record.update(status=status, wall_seconds=round(seconds, 2), metrics=metrics, expectation=line, expectation_met=met)
    write_json(run_dir / RUN_FILE, record)
    for key, value in metrics.items():
        log(f"{split_name} {key}: {value:.4g}")
    return RunResult(run_dir, config, metrics, status, line, met, files, seconds)


def read_run(run_dir):
    """A finished run's (run.json record, config) without loading the model or Keras.

    Raises:
        UsageError: not a run directory, or a run that did not finish.
    """
    run_dir = Path(run_dir)
    try:
        record = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise errors.not_a_run_dir(run_dir, "no readable run.json and config.json") from None
    if record.get("status") not in ("complete", "interrupted"):
        raise errors.not_a_run_dir(run_dir, f"its run status is '{record.get('status')}'")
    if not (run_dir / MODEL_FILE).is_file():
        raise errors.not_a_run_dir(run_dir, f"{MODEL_FILE} is missing")
    return record, config


def load_run(run_dir):
    """A finished run's (recipe_id, config, model); imports the recipe so its custom layers load.

    Raises:
        UsageError: not a run directory, or a run that did not finish.
    """
    record, config = read_run(run_dir)
    import keras

    import_recipe(record["recipe"])
    return record["recipe"], config, keras.saving.load_model(Path(run_dir) / MODEL_FILE)


def build_untrained(recipe_id, sets=()):
    """(config, model) built from DEFAULT_CONFIG (+ --set) without data or training: for plots and weights."""
    entry = get_entry(load_catalog(), recipe_id)
    config, _ = resolve_config(recipe_id, entry, sets=sets)
    import keras

    model_module, _, _ = import_recipe(recipe_id)
    keras.utils.set_random_seed(config["seed"])
    return config, model_module.build_model(config)
