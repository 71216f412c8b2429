"""Train, evaluate and demo one recipe; write its run directory. The recipe contract lives here.

A recipe is a folder recipes/<id>/ named by its catalog id (catalog.yaml holds its metadata):

    model.py  DEFAULT_CONFIG   flat dict of str/int/float/bool; shared defaults may be spread in
                               (`**SYNTHESIS_DEFAULTS`), the catalog reader follows such spreads
              CONFIG_RULES     one rule per key (recipes/common/config.py helpers)
              check_config(config)            optional: checks that tie keys together
              build_model(config)             -> a compiled keras.Model; builds only (no data, no prints)
              prepare(model, data, config)    optional: work on the data before fit (a closed-form readout)
              fit_callbacks(model, data, config)  optional: extra Keras callbacks for fit (stateful resets)
              TEACHER_FORCED_INPUTS           names of the inputs that carry the targets shifted by one step
                                              (checked against the data by the smoke test; drawn as y(t-1) -> h(t))
              diagram_spec()                  on a custom cell or recurrent layer: how `recipe diagram` reads it
                                              (protocol in tools/architecture.py); Keras' own layers need none
    data.py   load_data(config) -> {"train", "validation", optional "test"}: (x, y) arrays or PyDatasets
    demo.py   optional: METRICS (names evaluate returns); evaluate(model, data, config) -> {name: float};
              demo(model, data, config, out_dir) -> [written files]; for speech recognizers
              transcribe(load_model, config, paths, beam_width) -> [(path, text)], which checks
              every file before it calls load_model(); text None (with .reason) for no speech
    pretrained/  the shipped checkpoint: a run of the full DEFAULT_CONFIG reduced to model.keras,
              config.json, metrics.json, history.csv and run.json (tools/pretrained.py; every recipe has one)

Recipe code imports keras/keras.ops and recipes/common only, never tools/, so it runs on every
Keras backend (tensorflow, jax, torch; the smoke check of tools/smoke.py runs on each). A backend a
recipe cannot use is named in its catalog entry with the reason (`backends:`), and `resolve` refuses
it. A run reads resolve -> train -> evaluate -> report:

- `resolve`: the config (DEFAULT_CONFIG < brief overrides < --set) checked against
  CONFIG_RULES and check_config before any data is made; a bad value is a ConfigError.
- `train`: `model.fit` with a `RunMonitor` that stops on a non-finite loss, keeps the best
  epoch (by validation loss) in model.keras and a backup of the last completed epoch
  (weights and optimizer) for `--resume`. Ctrl-C and SIGTERM stop training and keep what
  was trained (status "interrupted"); a SIGKILL loses at most the epoch in progress.
- `evaluate`: Keras' metrics and the demo's on the test split (validation when there is none).
- `report`: metrics.json, loss.png, the catalog expectation, run.json (with the backend, the
  training steps and seconds, and the distribution of a `--distribute` run).

run.json is written first with status "running" and last with "complete", "interrupted",
"diverged" or "failed"; readers (`read_run`) accept only complete or interrupted runs, and
every file is written to a temporary name and renamed, so nothing half-written looks done.
A run holds an exclusive lock on its directory, so a second run into it is refused.
"""

import contextlib
import csv
import functools
import importlib
import importlib.util
import json
import logging
import math
import os
import platform
import signal
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tools import ctc_beam, distribute, errors, torch_rnn
from tools.catalog import RECIPES_DIR, check_backend, get_entry, load_catalog, read_default_config, same_type
from tools.config import resolve_config

RUN_FILE = "run.json"
MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"
BACKUP_DIR = "backup"  # the last completed epoch, for --resume
BACKUP_WEIGHTS = "latest.weights.h5"
BACKUP_STATE = "state.json"
READABLE = ("complete", "interrupted")


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


@dataclass
class Plan:
    """A resolved run: the recipe's modules and its checked config."""

    recipe_id: str
    entry: dict
    config: dict
    changes: list
    model_module: object
    data_module: object
    demo_module: object


def import_recipe(recipe_id):
    """The recipe's modules: (model, data, demo or None). Import errors propagate: a broken recipe is never hidden."""
    model = importlib.import_module(f"recipes.{recipe_id}.model")
    data = importlib.import_module(f"recipes.{recipe_id}.data")
    demo_name = f"recipes.{recipe_id}.demo"
    demo = importlib.import_module(demo_name) if importlib.util.find_spec(demo_name) else None
    torch_rnn.install()  # on the torch backend: Keras' LSTM/GRU loop without its per-step full-size gradients
    ctc_beam.install()  # on jax and torch: a CTC beam search much faster than Keras' port (bench/ctc_decode.py)
    return model, data, demo


def check_config(recipe_id, config, model_module):
    """Apply the recipe's CONFIG_RULES and check_config to a resolved config (ConfigError on the first problem)."""
    from recipes.common.config import check_rules

    if not hasattr(model_module, "CONFIG_RULES"):
        raise errors.UsageError(f"Recipe '{recipe_id}' declares no CONFIG_RULES in its model.py. Add one rule per DEFAULT_CONFIG key.")
    check_rules(config, model_module.CONFIG_RULES, read_default_config(RECIPES_DIR / recipe_id), recipe_id)
    if hasattr(model_module, "check_config"):
        model_module.check_config(config)


def check_same_keys(recipe_id, config):
    """Raise a UsageError unless a stored config (a run's config.json) has exactly DEFAULT_CONFIG's keys and types."""
    default = read_default_config(RECIPES_DIR / recipe_id)
    missing, extra = sorted(set(default) - set(config)), sorted(set(config) - set(default))
    wrong = [key for key in default if key in config and not same_type(default[key], config[key])]
    if missing or extra or wrong:
        what = f"lacks {missing[0]}" if missing else (f"has an unknown key {extra[0]}" if extra else f"has a {wrong[0]} of the wrong type")
        raise errors.UsageError(
            f"This run's config.json {what}; it was written by another version of {recipe_id}. Start a new run with 'recipe run {recipe_id}'."
        )


def resolve(recipe_id, brief=False, sets=(), epochs=None, seed=None, config=None):
    """A Plan whose config is checked, before any data is generated or model built.

    Args:
        recipe_id: catalog id.
        brief, sets, epochs, seed: as for `run`.
        config: a complete config to use instead (a resumed run's config.json).

    Raises:
        UsageError, CatalogError, ConfigError: nothing is trained.
    """
    entry = get_entry(load_catalog(), recipe_id)
    if config is None:
        config, changes = resolve_config(recipe_id, entry, brief=brief, sets=sets, epochs=epochs, seed=seed)
    else:
        check_same_keys(recipe_id, config)
        changes = []
    modules = import_recipe(recipe_id)
    check_config(recipe_id, config, modules[0])
    check_backend(recipe_id, entry, active_backend())
    return Plan(recipe_id, entry, config, changes, *modules)


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
    ((kind, bound),) = brief["expect"].items()
    op = ">=" if kind == "min" else "<="
    if metric not in metrics:
        return f"expect {metric} {op} {bound:g}: the run reported no '{metric}' (got {', '.join(metrics)}) MISSED", False
    value = metrics[metric]
    met = math.isfinite(value) and (value >= bound if kind == "min" else value <= bound)
    return f"expect {metric} {op} {bound:g}: got {value:.4g} {'ok' if met else 'MISSED'}", met


def metric_names(model, demo_module):
    """The names a run of `model` reports: loss, the compiled metrics and the demo's METRICS (which may be patterns)."""
    compiled = getattr(getattr(model, "_compile_metrics", None), "_user_metrics", None) or []
    flat = [m for group in compiled for m in (group if isinstance(group, (list, tuple)) else [group])]
    names = ["loss", *(m if isinstance(m, str) else m.name for m in flat)]
    return [*names, *getattr(demo_module, "METRICS", ())]


def reports(names, metric):
    """True when `metric` is one of `names` (from metric_names), patterns included."""
    import fnmatch

    return any(fnmatch.fnmatchcase(metric, name) for name in names)


def active_backend():
    """The Keras backend of this process (KERAS_BACKEND, or `recipe run --backend`): tensorflow, jax or torch."""
    import keras

    return keras.backend.backend()


def provenance():
    """Backend, library versions and machine, for run.json."""
    import keras
    import numpy

    backend = active_backend()
    engine = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    versions = {"python": platform.python_version(), "keras": keras.__version__, "numpy": numpy.__version__}
    if engine:
        versions[engine] = importlib.import_module(engine).__version__
    machine = {"platform": platform.platform(), "processor": platform.machine(), "cpu_count": os.cpu_count()}
    return {"backend": backend, "versions": versions, "machine": machine}


def replace_atomically(path, write):
    """Call write(temporary_path), then rename it onto `path`: a reader sees the old file or the new one."""
    path = Path(path)
    temporary = path.with_name(f".partial-{path.name}")  # same suffix: Keras checks it
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:  # Ctrl-C or SIGTERM mid-write included: leave no partial file behind
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_json(path, payload):
    text = json.dumps(payload, indent=2, sort_keys=False, default=float) + "\n"
    return replace_atomically(path, lambda p: p.write_text(text, encoding="utf-8"))


def read_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


class RunLock:
    """An exclusive lock on a run directory for as long as a run writes it (released when the process ends).

    The lock is taken on the directory itself (flock on its descriptor), so it adds no file to it.
    """

    def __init__(self, run_dir):
        self.path = Path(run_dir)
        self.descriptor = None

    def acquire(self):
        """True when this process now holds the lock, False when another process does."""
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform: one run at a time is up to the user
            return True
        self.descriptor = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(self.descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.release()
            return False
        return True

    def release(self):
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None


def locked(run_dir):
    """True when a run in another process holds run_dir's lock."""
    lock = RunLock(run_dir)
    try:
        free = lock.acquire()
    except OSError:  # unreadable: nobody can be writing it through us
        return False
    lock.release()
    return not free


def new_run_dir(recipe_id, out=None):
    """(path, lock) of the run directory to write: `out`, or runs/<id>-<UTC time>; new or empty, and not in use.

    Raises:
        UsageError: it holds files, is in use by another run, is a file, or cannot be created.
    """
    path = Path(out) if out else Path("runs") / f"{recipe_id}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    if path.exists() and not path.is_dir():
        raise errors.UsageError(f"--out '{path}' is a file, not a directory. Choose another --out.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise errors.unwritable(path, error) from None
    lock = RunLock(path)
    try:
        if not lock.acquire():
            raise errors.run_dir_in_use(path)
    except OSError as error:
        raise errors.unwritable(path, error) from None
    if any(path.iterdir()):
        lock.release()
        raise errors.UsageError(
            f"Output directory '{path}' already exists and is not empty. Choose another --out, remove it, "
            f"or continue an interrupted run with 'recipe run --resume {path}'."
        )
    return path, lock


def RunMonitor(run_dir, initial_epoch=0, best=math.inf):  # noqa: N802 (a class, made on first use)
    """The Keras callback that watches one run: a non-finite loss, the best epoch, the resumable backup.

    Attributes of the callback:
        epochs_done: epochs completed (counting those of a resumed run).
        diverged_at: 'epoch E, batch B' where the loss stopped being finite, or None.
        steps: training batches run by this call of fit.
        interrupted: training was stopped by Ctrl-C or SIGTERM.
        best: the best validation loss so far (its epoch is in model.keras).
    """
    return _monitor_class()(Path(run_dir), initial_epoch, best)


@functools.cache
def _monitor_class():
    import keras  # here, so that importing the runner never imports Keras

    class Monitor(keras.callbacks.Callback):
        def __init__(self, run_dir, initial_epoch, best):
            super().__init__()
            self.run_dir = run_dir
            self.epochs_done = initial_epoch
            self.diverged_at = None
            self.steps = 0  # training batches run by this process (for steps/s in run.json)
            self.interrupted = False
            self.stop_requested = False  # set by SIGTERM (see `interruptible`)
            self.best = best

        def on_train_batch_end(self, batch, logs=None):
            if self.stop_requested:
                raise KeyboardInterrupt
            self.steps += 1
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.diverged_at = f"epoch {self.epochs_done + 1}, batch {batch + 1}"
                self.model.stop_training = True

        def on_test_batch_end(self, batch, logs=None):
            if self.stop_requested:
                raise KeyboardInterrupt

        def on_epoch_end(self, epoch, logs=None):
            if self.stop_requested:
                raise KeyboardInterrupt
            if self.diverged_at:
                return
            logs = logs or {}
            score = float(logs.get("val_loss", logs.get("loss", math.nan)))
            if math.isfinite(score) and score < self.best:
                self.best = score
                replace_atomically(self.run_dir / MODEL_FILE, self.model.save)
            # The weights (with the optimizer's state) first, then the epoch count that points to them.
            backup = self.run_dir / BACKUP_DIR
            backup.mkdir(exist_ok=True)
            replace_atomically(backup / BACKUP_WEIGHTS, self.model.save_weights)
            write_json(backup / BACKUP_STATE, {"epochs_done": epoch + 1, "best": self.best})
            self.epochs_done = epoch + 1

    return Monitor


@contextlib.contextmanager
def interruptible(monitor):
    """SIGTERM stops training like Ctrl-C (KeyboardInterrupt), so a killed job keeps what it trained.

    The signal is also noted on the monitor, which raises at the next batch: a KeyboardInterrupt
    raised while Python runs a finalizer is printed and swallowed, and training would go on.
    """

    def stop(signum, frame):
        monitor.stop_requested = True
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop) if _main_thread() else None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread():
    import threading

    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def recipe_log(log):
    """Route the recipes' `logging` INFO lines (parameter counts, receptive fields) to `log`."""

    class Handler(logging.Handler):
        def emit(self, record):
            log(record.getMessage())

    logger, handler = logging.getLogger("recipes"), Handler(logging.INFO)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def trim_history(history_csv, epochs):
    """Keep the first `epochs` rows of history.csv (a killed run may have logged an epoch its backup lacks)."""
    if not Path(history_csv).is_file():
        return []
    with open(history_csv, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))

    def write(path):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows[: epochs + 1])

    replace_atomically(history_csv, write)
    return rows[1 : epochs + 1]


def train(plan, model, data, run_dir, verbose=None, initial_epoch=0, best=math.inf, recorded=()):
    """Fit `model` from `initial_epoch` to the config's epochs; returns (the RunMonitor, seconds).

    `recorded` may name "weights": gate-block weight quantiles after every epoch (tools/history.py).
    """
    import keras

    monitor = RunMonitor(run_dir, initial_epoch=initial_epoch, best=best)
    # The history row of an epoch is written before its backup: a kill between the two leaves one
    # row too many, which `trim_history` drops on resume, never a row too few.
    callbacks = [keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE), append=initial_epoch > 0), monitor]
    if "weights" in recorded:
        from tools import history

        callbacks.insert(1, history.recorder(run_dir, initial_epoch))
    if hasattr(plan.model_module, "fit_callbacks"):
        # The recipe's own callbacks (e.g. resetting a stateful model's carried state each epoch).
        callbacks.extend(plan.model_module.fit_callbacks(model, data, plan.config))
    started = time.perf_counter()
    if initial_epoch < plan.config["epochs"]:
        try:
            with interruptible(monitor), warnings.catch_warnings():
                # A model whose weights were all fitted in `prepare` has nothing left for Adam.
                warnings.filterwarnings("ignore", message="The model does not have any trainable weights")
                model.fit(
                    **fit_arguments(data["train"], plan.config),
                    validation_data=validation_data(data["validation"]),
                    epochs=plan.config["epochs"],
                    initial_epoch=initial_epoch,
                    callbacks=callbacks,
                    verbose=verbose if verbose is not None else (1 if sys.stdout.isatty() else 2),
                )
        except KeyboardInterrupt:
            monitor.interrupted = True
    return monitor, time.perf_counter() - started


def evaluate(plan, model, data, run_dir, figures=True):
    """(split name, metrics, demo files) of the trained model on the test split (else validation);
    figures=False skips the demo's files (metrics only)."""
    split_name, metrics = keras_evaluate(plan, model, data)
    return split_name, metrics, demo_evaluate(plan, model, data, run_dir, metrics, figures)


def keras_evaluate(plan, model, data):
    """(split name, Keras' metrics) of the trained model on the test split (else validation)."""
    split_name, split = evaluation_split(data)
    metrics = model.evaluate(**fit_arguments(split, plan.config), verbose=0, return_dict=True)
    return split_name, {key: float(value) for key, value in metrics.items()}


def demo_evaluate(plan, model, data, run_dir, metrics, figures=True):
    """Add the demo's task metrics to `metrics`; returns the demo's files (none with figures=False)."""
    files = []
    demo = plan.demo_module
    if demo is not None and hasattr(demo, "evaluate"):
        metrics.update({key: float(value) for key, value in demo.evaluate(model, data, plan.config).items()})
    if figures and demo is not None and hasattr(demo, "demo"):
        files.extend(str(path) for path in demo.demo(model, data, plan.config, run_dir) or ())
    return files


def plot_history(history_csv, path, title):
    """Loss curves (train and validation) from history.csv; returns the path or None when empty."""
    from recipes.common import style

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


def report(plan, run_dir, record, split_name, metrics, files):
    """Write metrics.json, loss.png and the final run.json; returns (expectation line, met, files)."""
    write_json(run_dir / "metrics.json", {"split": split_name, **metrics})
    loss_plot = plot_history(run_dir / HISTORY_FILE, run_dir / "loss.png", f"{plan.recipe_id}: loss per epoch")
    line, met = expectation_line(plan.entry, metrics)
    record.update(metrics=metrics, expectation=line, expectation_met=met)
    write_json(run_dir / RUN_FILE, record)
    return line, met, [str(run_dir / MODEL_FILE), *([str(loss_plot)] if loss_plot else []), *files]


def load_data(plan, log=print):
    """The plan's data, generated from its seed: the same splits for one config, except that synthesized
    speech is rendered anew when its cache is cold (espeak-ng is not bit-reproducible across processes)."""
    import keras

    with recipe_log(log):
        keras.utils.set_random_seed(plan.config["seed"])
        return plan.data_module.load_data(plan.config)


def build(plan, log=print):
    """(data, model) of a plan: seeded data, the built model, and the recipe's `prepare` hook applied."""
    data = load_data(plan, log)
    with recipe_log(log):
        model = plan.model_module.build_model(plan.config)
        if hasattr(plan.model_module, "prepare"):
            plan.model_module.prepare(model, data, plan.config)
    return data, model


def execute(plan, run_dir, record, verbose, log, resuming=False, distribution=None):
    """Train, evaluate and report one planned run into a locked run directory; returns a RunResult.

    With a `distribution` (tools/distribute.py), build, fit and Keras' evaluation run over its devices;
    the demo's own predictions (often a handful of examples) run after, as without it.
    """
    started = time.perf_counter()
    config = plan.config
    initial_epoch, best = 0, math.inf
    try:
        with distribute.scope(distribution):
            data, model = build(plan, log)
            distribute.check_splits(distribution, data, config["batch_size"])
            if resuming:
                initial_epoch, best = restore_backup(model, run_dir)
                trim_history(run_dir / HISTORY_FILE, initial_epoch)
                log(f"resuming {plan.recipe_id} after epoch {initial_epoch} of {config['epochs']}")
                record.update(status="running", resumed_after_epoch=initial_epoch)
                write_json(run_dir / RUN_FILE, record)

            monitor, train_seconds = train(plan, model, data, run_dir, verbose, initial_epoch, best, record.get("recorded", ()))
            status = "interrupted" if monitor.interrupted else "complete"
            if monitor.interrupted:
                log("interrupted: keeping what was trained so far (Ctrl-C again to abort)")
            record.update(
                train_seconds=round(record.get("train_seconds", 0) + train_seconds, 2),
                train_steps=record.get("train_steps", 0) + monitor.steps,
                epochs_run=monitor.epochs_done,
            )
            if monitor.diverged_at:
                record.update(status="diverged", diverged_at=monitor.diverged_at, wall_seconds=round(time.perf_counter() - started, 2))
                write_json(run_dir / RUN_FILE, record)
                raise errors.RunFailed(
                    f"Training diverged: the loss became NaN at {monitor.diverged_at}. "
                    f"Try a lower learning rate (--set learning_rate={config['learning_rate'] / 10:g})."
                )
            write_json(run_dir / RUN_FILE, record)  # still "running": a run killed while evaluating shows what it trained
            checkpoint = run_dir / MODEL_FILE
            if checkpoint.exists():
                model.load_weights(checkpoint)  # the best epoch by validation loss
            replace_atomically(checkpoint, model.save)
            with recipe_log(log):
                split_name, metrics = keras_evaluate(plan, model, data)

        with recipe_log(log):
            files = demo_evaluate(plan, model, data, run_dir, metrics)
        seconds = time.perf_counter() - started
        record.update(status=status, wall_seconds=round(record.get("wall_seconds", 0) + seconds, 2))
        line, met, files = report(plan, run_dir, record, split_name, metrics, files)
    except (errors.RunFailed, KeyboardInterrupt):
        raise
    except errors.UsageError:  # data the distribution cannot split (distribute.check_splits): refused before training
        raise
    except BaseException as error:
        # A bug or a failed demo: never leave "running" behind, which would read as a killed run.
        record.update(status="failed", error=f"{type(error).__name__}: {error}"[:500])
        write_json(run_dir / RUN_FILE, record)
        raise
    if status == "complete":
        remove_backup(run_dir)
    for key, value in metrics.items():
        log(f"{split_name} {key}: {value:.4g}")
    return RunResult(run_dir, config, metrics, status, line, met, files, seconds)


def restore_backup(model, run_dir):
    """Load the backup of the last completed epoch into `model`; returns (epochs done, best validation loss)."""
    state_path = Path(run_dir) / BACKUP_DIR / BACKUP_STATE
    if not state_path.is_file():
        return 0, math.inf  # killed before its first epoch ended: start again
    state = read_json(state_path)
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(Path(run_dir) / BACKUP_DIR / BACKUP_WEIGHTS)
    return int(state["epochs_done"]), float(state["best"])


def remove_backup(run_dir):
    backup = Path(run_dir) / BACKUP_DIR
    for path in backup.glob("*") if backup.is_dir() else ():
        path.unlink()
    if backup.is_dir():
        backup.rmdir()


RECORDABLE = ("weights",)


def run(recipe_id, brief=False, sets=(), epochs=None, seed=None, out=None, verbose=None, log=print, recorded=(), distribution=None):
    """Train, evaluate and demo one recipe, writing a run directory.

    Args:
        recipe_id: catalog id.
        brief: apply the catalog's brief overrides (the checked, few-minute run).
        sets: 'key=value' config overrides.
        epochs, seed: shortcuts for the config keys of the same name.
        out: run directory to create (default runs/<id>-<time>).
        verbose: Keras fit verbosity (default: progress bar on a terminal, one line per epoch otherwise).
        log: where progress lines go.
        recorded: what to keep during training besides the history (RECORDABLE: "weights").
        distribution: a tools.distribute.Setup, made by `distribute.prepare` before Keras was imported
            (`recipe run --distribute`): build, fit and evaluate run over its devices.

    Returns:
        A RunResult.

    Raises:
        UsageError, ConfigError: bad recipe id, config or --out (nothing is trained, nothing written).
        RunFailed: the loss became NaN.
    """
    unknown = [item for item in recorded if item not in RECORDABLE]
    if unknown:
        raise errors.UsageError(f"--record takes {', '.join(RECORDABLE)}, got '{unknown[0]}'. Use e.g. --record weights.")
    plan = resolve(recipe_id, brief=brief, sets=sets, epochs=epochs, seed=seed)
    if distribution is not None:
        distribute.check_batch(plan.config["batch_size"], distribution.replicas)
    run_dir, lock = new_run_dir(recipe_id, out)
    try:
        for key, old, new, source in plan.changes:
            log(f"config {key} = {new!r} (default {old!r}; from {source})")
        log(f"run directory: {run_dir}")
        if distribution is not None:
            log(distribute.summary(distribution, plan.config["batch_size"]))
        write_json(run_dir / CONFIG_FILE, plan.config)
        record = {
            "recipe": recipe_id,
            "status": "running",
            "brief": brief,
            "overrides": {key: new for key, _, new, _ in plan.changes},
            "seed": plan.config["seed"],
            "recorded": list(dict.fromkeys(recorded)),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **provenance(),
        }
        if distribution is not None:
            record["distribution"] = distribute.describe(distribution, plan.config["batch_size"])
        write_json(run_dir / RUN_FILE, record)
        try:
            return execute(plan, run_dir, record, verbose, log, distribution=distribution)
        except errors.UsageError:  # refused before training: leave no run behind
            for name in (RUN_FILE, CONFIG_FILE):
                (run_dir / name).unlink(missing_ok=True)
            raise
    finally:
        lock.release()


def resume(run_dir, verbose=None, log=print, distribution=None):
    """Continue an interrupted or killed run from its last completed epoch, in place.

    `distribution` must match the run's recorded one (the CLI prepares it from run.json).

    Raises:
        UsageError: not a run directory, in use by another run, already complete, diverged,
            or a distribution other than the run's.
    """
    run_dir = Path(run_dir)
    record, config = _read_record(run_dir)
    status = record.get("status")
    if status not in ("running", "interrupted", "failed"):
        why = "it is complete" if status == "complete" else f"its status is '{status}'"
        raise errors.UsageError(f"Cannot resume '{run_dir}': {why}. Start a new run with 'recipe run {record.get('recipe')} --out DIR'.")
    lock = RunLock(run_dir)
    if not lock.acquire():
        raise errors.run_dir_in_use(run_dir)
    try:
        plan = resolve(record.get("recipe"), config=config)
        distribute.check_resume(run_dir, record.get("distribution"), distribution)
        if distribution is not None:  # the same number of devices; their names may differ on another machine
            record["distribution"] = distribute.describe(distribution, config["batch_size"])
            log(distribute.summary(distribution, config["batch_size"]))
        record.setdefault("resumes", 0)
        record["resumes"] += 1
        return execute(plan, run_dir, record, verbose, log, resuming=True, distribution=distribution)
    finally:
        lock.release()


def _read_record(run_dir):
    """(run.json record, config) of a run directory, whatever its status; UsageError when unreadable."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise errors.not_a_run_dir(run_dir, "not a directory" if run_dir.exists() else "no such directory")
    try:
        record, config = read_json(run_dir / RUN_FILE), read_json(run_dir / CONFIG_FILE)
    except (OSError, ValueError):
        raise errors.not_a_run_dir(run_dir, "no readable run.json and config.json") from None
    if not isinstance(record, dict) or not isinstance(config, dict) or not isinstance(record.get("recipe"), str):
        raise errors.not_a_run_dir(run_dir, "run.json or config.json is not a run's record")
    return record, config


def read_run(run_dir):
    """A finished run's (run.json record, config) without loading the model or Keras.

    Raises:
        UsageError: not a run directory, a run still in progress, or one that did not finish.
    """
    record, config = _read_record(run_dir)
    status = record.get("status")
    if status not in READABLE:
        if status == "running" and locked(run_dir):
            raise errors.run_dir_in_use(run_dir)
        hint = f"; continue it with 'recipe run --resume {run_dir}'" if status == "running" else ""
        raise errors.not_a_run_dir(run_dir, f"its run status is '{status}'{hint}")
    if not (Path(run_dir) / MODEL_FILE).is_file():
        raise errors.not_a_run_dir(run_dir, f"{MODEL_FILE} is missing")
    return record, config


def load_model(path):
    """keras.saving.load_model in safe mode, with a refusal or a corrupt file as one UsageError line."""
    import keras

    try:
        with warnings.catch_warnings():
            # A shipped checkpoint keeps no optimizer moments (tools/pretrained.py): nothing is lost.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            return keras.saving.load_model(path, safe_mode=True)
    except ValueError as error:
        if "safe_mode" in str(error) or "unsafe" in str(error).lower():
            raise errors.UsageError(
                f"'{path}' holds code (a Lambda layer or a custom function) that safe mode refuses to load. Load only models you trust."
            ) from None
        raise errors.corrupt_model(path, error) from None
    except Exception as error:  # a truncated or foreign file fails deep inside zip/h5/json readers
        raise errors.corrupt_model(path, error) from None


def load_run(run_dir):
    """A finished run's (recipe_id, config, model); imports the recipe so its custom layers load.

    Raises:
        UsageError: not a run directory, a run that did not finish, or a model file that cannot be loaded.
    """
    record, config = read_run(run_dir)
    if record["recipe"] not in load_catalog():
        raise errors.not_a_run_dir(run_dir, f"its recipe '{record['recipe']}' is not in the catalog")
    import_recipe(record["recipe"])
    return record["recipe"], config, load_model(Path(run_dir) / MODEL_FILE)


def model_of(target, sets=(), untrained=False, log=None):
    """(recipe id, config, model, run directory or None) for an ID|RUN_DIR argument: a finished run's model;
    for an id, the recipe's pretrained checkpoint (a run directory too), or its untrained build (DEFAULT_CONFIG
    + --set) with --untrained, with --set, or when it has no checkpoint. `log` is told which one.

    Raises:
        UsageError: --set with a run directory, a path that is not a run directory, an unknown recipe.
    """
    from tools import pretrained

    if not sets:
        target, note = pretrained.resolve_target(target, untrained)
        if note and log:
            log(note)
    path = Path(target)
    if path.is_dir():
        if sets:
            raise errors.UsageError("--set applies to a recipe id (an untrained model); a run directory keeps its own config. Drop --set.")
        recipe_id, config, model = load_run(path)
        return recipe_id, config, model, path
    if "/" in target or os.sep in target or path.exists():
        raise errors.not_a_run_dir(target, "no such directory" if not path.exists() else "not a directory")
    config, model = build_untrained(target, sets=sets)
    if sets and log:
        log(f"untrained {target} (DEFAULT_CONFIG with --set)")
    return target, config, model, None


def output_base(run_dir):
    """Where a verb's figures go by default: into a run directory, never into a shipped checkpoint (None: the cwd)."""
    from tools import pretrained

    return None if run_dir is None or pretrained.is_checkpoint(run_dir) else Path(run_dir)


def build_untrained(recipe_id, sets=()):
    """(config, model) built from DEFAULT_CONFIG (+ --set) without data or training: for plots and weights."""
    import keras

    plan = resolve(recipe_id, sets=sets)
    # A fresh session: Keras' generated names (not_equal_1) then match a new process's, so graphs are stable.
    keras.backend.clear_session()
    keras.utils.set_random_seed(plan.config["seed"])
    return plan.config, plan.model_module.build_model(plan.config)
