"""Benchmark: wall time of `recipe inspect` for every figure that applies to every recipe's brief run.

Usage: python bench/inspect_figures.py [RECIPE_ID ...] [--runs DIR]

Each recipe is trained briefly once with `--record weights` into DIR (default runs/bench; a
complete run there is reused), then every figure that applies to its model is drawn by the
CLI in a new process, as a user runs it, and timed from start to exit: loading the model and
the test data is part of the time. A figure that stops with a usage error is listed with the
message. Timings are single measurements on whatever else the machine is doing.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import introspect, runner  # noqa: E402
from tools.catalog import load_catalog  # noqa: E402

LIMIT_SECONDS = 30  # the bound for one figure on 2 cores


def brief_run(recipe_id, runs):
    """A complete brief run of the recipe, recorded with weights, in runs/<id> (trained only when missing)."""
    run_dir = runs / recipe_id
    record = run_dir / "run.json"
    if not (record.exists() and json.loads(record.read_text()).get("status") == "complete"):
        runner.run(recipe_id, brief=True, out=run_dir, verbose=0, log=lambda *_: None, recorded=("weights",))
    return run_dir


def figures(run_dir):
    """The `recipe inspect` argument lists that apply to a run's model."""
    item = introspect.subject(str(run_dir))
    model, found = item.model, []
    if introspect.recurrent_layers(model):
        found += [["states"], ["states", "--saturation"], ["gradients"], ["spectrum"], ["history"]]
        if item.recipe_id == "char_rnn":
            found.append(["states", "--text", "--find", "position_in_line"])
    if introspect.convolution_layers(model):
        found += [["occlusion"], ["maximize"]]
    if introspect.attention_output(model) is not None:
        found.append(["attention"])
    return found


def main(argv):
    runs = Path(argv[argv.index("--runs") + 1]) if "--runs" in argv else Path("runs/bench")
    ids = [a for k, a in enumerate(argv) if not a.startswith("--") and (k == 0 or argv[k - 1] != "--runs")] or list(load_catalog())
    recipe = str(Path(sys.executable).parent / "recipe")
    print(f"{'recipe':<22} {'figure':<44} {'wall s':>7}  result", flush=True)
    slowest = (0.0, "")
    with tempfile.TemporaryDirectory() as out:
        for recipe_id in ids:
            run_dir = brief_run(recipe_id, runs)
            found = figures(run_dir)
            if not found:
                print(f"{recipe_id:<22} {'(no recurrent, convolution or attention layer)':<44}", flush=True)
            for args in found:
                started = time.perf_counter()
                done = subprocess.run(
                    [recipe, "inspect", str(run_dir), *args, "--out", f"{out}/figure.png", "--force"], capture_output=True, text=True
                )
                seconds = time.perf_counter() - started
                lines = (done.stdout + done.stderr).strip().splitlines()
                result = "ok" if done.returncode == 0 else f"exit {done.returncode}: {lines[-1] if lines else ''}"
                flag = "  OVER 30 s" if seconds > LIMIT_SECONDS and done.returncode == 0 else ""
                print(f"{recipe_id:<22} {' '.join(args):<44} {seconds:>7.1f}  {result}{flag}", flush=True)
                if done.returncode == 0 and seconds > slowest[0]:
                    slowest = (seconds, f"{recipe_id} {' '.join(args)}")
    print(f"slowest figure: {slowest[1]} ({slowest[0]:.1f} s); load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
