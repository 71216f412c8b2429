"""Pretrained checkpoints: every recipe trained with its full DEFAULT_CONFIG, shipped in recipes/<id>/pretrained/.

A checkpoint is a run directory reduced to what a reader needs: model.keras, config.json,
metrics.json, history.csv and run.json. run.json keeps the run's provenance (backend, library
versions, seed, machine, wall time) and adds the code version (git commit) and `code_hash`: a
SHA-256 of the recipe's model.py and data.py and of the recipes/common modules they import,
directly or through one another.
When those files change, the checkpoint is stale: `recipe validate` says so and
`recipe train-pretrained ID` (or `make pretrained`) trains it again.

An id given where a run directory is expected (weights, diagram, inspect, transcribe, demo)
means this checkpoint (see `resolve_target`).
"""

import ast
import hashlib
import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from tools import errors
from tools.catalog import RECIPES_DIR, get_entry, load_catalog

FOLDER = "pretrained"
KEPT = ("model.keras", "config.json", "metrics.json", "history.csv", "run.json")
HASHED = ("model.py", "data.py")


def folder(recipe_id):
    return RECIPES_DIR / recipe_id / FOLDER


def exists(recipe_id):
    return (folder(recipe_id) / "run.json").is_file() and (folder(recipe_id) / "model.keras").is_file()


def is_checkpoint(run_dir):
    """True when run_dir is a recipe's shipped checkpoint folder (figures go elsewhere by default)."""
    return run_dir is not None and Path(run_dir).resolve().parent.parent == RECIPES_DIR.resolve() and Path(run_dir).name == FOLDER


def _common_imports(path):
    """recipes/common/*.py files that the module at `path` imports (directly)."""
    common = RECIPES_DIR / "common"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            names = [f"{module}.{alias.name}" for alias in node.names] + [module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["recipes", "common"] and len(parts) > 2 and (common / f"{parts[2]}.py").is_file():
                found.add(common / f"{parts[2]}.py")
    return found


def code_files(recipe_id):
    """The files whose change makes a checkpoint stale: model.py, data.py and the common modules they
    import, directly or through other common modules."""
    own = [RECIPES_DIR / recipe_id / name for name in HASHED]
    common, pending = set(), set().union(*(_common_imports(path) for path in own))
    while pending:
        path = pending.pop()
        common.add(path)
        pending |= _common_imports(path) - common
    return own + sorted(common)


def code_hash(recipe_id):
    digest = hashlib.sha256()
    for path in code_files(recipe_id):
        digest.update(path.relative_to(RECIPES_DIR).as_posix().encode() + b"\0" + path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def code_version():
    """The git commit the code came from ('+changes' when recipes/ differs from it), or 'unknown'."""
    root = RECIPES_DIR.parent

    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "recipes")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+changes" if dirty else "")


def record(recipe_id):
    """The checkpoint's run.json (None when the recipe has none)."""
    from tools.runner import read_json

    return read_json(folder(recipe_id) / "run.json") if exists(recipe_id) else None


def stale_reason(recipe_id):
    """Why the recipe's checkpoint no longer matches its code, or None when it matches (or there is none)."""
    saved = record(recipe_id)
    if saved is None:
        return None
    if saved.get("code_hash") != code_hash(recipe_id):
        names = ", ".join(path.relative_to(RECIPES_DIR).as_posix() for path in code_files(recipe_id))
        return f"{recipe_id}: its pretrained checkpoint is stale ({names} changed since it was trained). Retrain it with 'recipe train-pretrained {recipe_id}'."
    return None


def problem(recipe_id):
    """What `recipe validate` reports about a recipe's checkpoint: None when it exists and matches its code."""
    if not exists(recipe_id):
        return f"{recipe_id}: no pretrained checkpoint in {folder(recipe_id).relative_to(RECIPES_DIR.parent).as_posix()}. Train one with 'recipe train-pretrained {recipe_id}'."
    return stale_reason(recipe_id)


def describe(recipe_id):
    """'using the pretrained checkpoint recipes/<id>/pretrained (trained ..., metric value)', with a warning when stale."""
    saved = record(recipe_id) or {}
    entry = load_catalog()[recipe_id]
    metric = entry["brief"]["metric"]
    value = (saved.get("metrics") or {}).get(metric)
    shown = f", test {metric} {value:.4g}" if isinstance(value, (int, float)) else ""
    where = folder(recipe_id).relative_to(RECIPES_DIR.parent).as_posix()
    stale = stale_reason(recipe_id)
    warning = f"\n  warning: {stale}" if stale else ""
    return f"using the pretrained checkpoint {where} (trained {saved.get('trained_at', '?')[:10]} on {saved.get('backend', '?')}{shown}){warning}"


def resolve_target(target, untrained=False):
    """(path or id, note) for an ID|RUN_DIR argument: a run directory is itself; an id means its checkpoint.

    With untrained=True, or when a recipe has no checkpoint, an id stays an id (the untrained build).
    """
    path = Path(target)
    if path.exists() or "/" in target or not isinstance(load_catalog().get(target), dict):
        return target, None
    if untrained:
        return target, f"untrained {target} (DEFAULT_CONFIG initialisation)"
    if not exists(target):
        return target, f"{target} has no pretrained checkpoint: untrained {target} (DEFAULT_CONFIG initialisation)"
    return str(folder(target)), describe(target)


def _save_without_optimizer(recipe_id, config, source, target):
    """Save the trained weights of `source` in a freshly built (compiled, optimizer not yet built) model.

    The optimizer's moments are two more copies of every weight; a reader who evaluates,
    inspects or fine-tunes the checkpoint does not need them, and they would triple its size.
    """
    import keras

    from tools import runner

    plan = runner.resolve(recipe_id, config=config)  # imports the recipe: its custom layers load
    trained = runner.load_model(source)
    keras.utils.set_random_seed(config["seed"])
    fresh = plan.model_module.build_model(config)
    fresh.set_weights(trained.get_weights())
    fresh.save(target)


def run_dir_of(target, log=None):
    """The run directory an ID|RUN_DIR names for verbs that need a trained model (demo, transcribe):
    a run directory is itself; an id is its checkpoint, which `log` is told.

    Raises:
        UsageError, CatalogError: an unknown recipe, or one without a checkpoint.
    """
    if Path(target).exists() or "/" in str(target) or os.sep in str(target):
        return Path(target)
    get_entry(load_catalog(), target)  # an unknown id: "did you mean"
    if not exists(target):
        raise errors.UsageError(f"{target} has no pretrained checkpoint. Train one with 'recipe train-pretrained {target}', or pass a run directory.")
    if log:
        log(describe(target))
    return folder(target)


def train(recipe_id, log=print, work_dir=Path("runs")):
    """Train `recipe_id` with its full DEFAULT_CONFIG and replace its checkpoint with the result.

    The run is written under work_dir first; only a complete run replaces the shipped checkpoint,
    and the swap is a rename, so an interrupted training leaves the old checkpoint in place.
    """
    from tools import runner

    get_entry(load_catalog(), recipe_id)
    stamp = datetime.now(timezone.utc)
    run_dir = Path(work_dir) / f"pretrained-{recipe_id}-{stamp:%Y%m%d-%H%M%S}"
    version, digest = code_version(), code_hash(recipe_id)  # of the code that trains, before anyone edits it
    result = runner.run(recipe_id, out=run_dir, log=log)
    if result.status != "complete":
        raise errors.RunFailed(f"{recipe_id}: training was {result.status}; the shipped checkpoint is unchanged.")
    saved = runner.read_json(run_dir / runner.RUN_FILE)
    saved.update(trained_at=saved.get("started_at"), code_version=version, code_hash=digest)
    saved.pop("command", None)
    staging = folder(recipe_id).with_name(f".{FOLDER}-new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for name in KEPT:
        if name not in ("run.json", "model.keras") and (run_dir / name).is_file():
            shutil.copy2(run_dir / name, staging / name)
    saved["optimizer_state"] = "dropped: the shipped model.keras holds the weights and the compile config, not Adam's moments"
    _save_without_optimizer(recipe_id, runner.read_json(run_dir / "config.json"), run_dir / "model.keras", staging / "model.keras")
    runner.write_json(staging / "run.json", saved)
    old = folder(recipe_id).with_name(f".{FOLDER}-old")
    shutil.rmtree(old, ignore_errors=True)
    if folder(recipe_id).exists():
        folder(recipe_id).rename(old)
    staging.rename(folder(recipe_id))
    shutil.rmtree(old, ignore_errors=True)
    return folder(recipe_id), saved
