"""`recipe demo ID|RUN_DIR [--out DIR]`: evaluate a trained model on its test split and write its demo figures.

An id means the recipe's pretrained checkpoint (recipes/<id>/pretrained), so a reader sees what
a trained model does without training one. The data is regenerated from the checkpoint's own
config and seed, so the test split is the one its metrics.json was measured on (for synthesized
speech, a new rendering of the same utterances when the speech cache is cold).
"""

from pathlib import Path

from tools import errors, pretrained, runner


def demo(target, out=None, force=False, log=print):
    """(out dir, split name, metrics, demo files, the checkpoint's recorded metrics) of one evaluation.

    Raises:
        UsageError: not a finished run or a recipe without a checkpoint, or an --out that holds files (unless force).
    """
    run_dir = pretrained.run_dir_of(target, log)
    record, config = runner.read_run(run_dir)
    out = Path(out or f"{record['recipe']}_demo")
    if out.exists() and not out.is_dir():
        raise errors.UsageError(f"--out '{out}' is a file, not a folder. Choose another --out.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise errors.UsageError(f"--out '{out}' already holds files. Choose another --out, or pass --force to write into it.")
    plan = runner.resolve(record["recipe"], config=config)
    model = runner.load_run(run_dir)[2]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise errors.unwritable(out, error) from None
    data = runner.load_data(plan, log)
    with runner.recipe_log(log):
        split_name, metrics, files = runner.evaluate(plan, model, data, out)
    runner.write_json(out / "metrics.json", {"split": split_name, "checkpoint": str(run_dir), **metrics})
    return out, split_name, metrics, files, record.get("metrics") or {}
