"""Benchmark: every recipe's brief run on each Keras backend: wall time, training steps/s, brief metric.

Usage (from the repository root):

    python bench/backends.py                          # every recipe, tensorflow, jax and torch (if installed)
    python bench/backends.py memory_task char_rnn     # some recipes
    python bench/backends.py --backends jax,torch --cap 2
    python bench/backends.py --table [--write]        # the README table from the saved results

Each brief run is its own `recipe run ID --brief --backend B` process (a Keras backend is fixed
per process). A recipe's backends run one after another before the next recipe starts, so a change
in the machine's load falls on every backend alike; the load average is kept with each run.
A run still going after `--cap` times its catalog budget is stopped with SIGTERM: the runner
keeps what it trained and writes run.json (status "interrupted", its training steps and seconds),
so the row still has steps/s, and says that the run was stopped. steps/s is training batches
over training seconds, compilation and validation included, as a user waits for them.

Results: bench/results/backends/<id>.json, one run.json-like record per backend.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tables import markdown_table, write_block  # noqa: E402
from tools.catalog import BACKENDS, load_catalog  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "backends"
KEPT = ("status", "backend", "versions", "started_at", "wall_seconds", "train_seconds", "train_steps", "epochs_run", "metrics", "expectation_met")


def brief_run(recipe_id, backend, cap_seconds):
    """One brief run in its own process; its run.json with the load average around it, and whether it was stopped."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as out:
        command = [
            sys.executable,
            "-m",
            "tools.cli",
            "run",
            recipe_id,
            "--brief",
            "--backend",
            backend,
            "--out",
            f"{out}/run",
        ]  # this checkout's code
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            _, stderr = process.communicate(timeout=cap_seconds)
            stopped = False
        except subprocess.TimeoutExpired:
            process.terminate()  # the runner's SIGTERM handler stops training and reports what it has
            _, stderr = process.communicate()
            stopped = True
        seconds = time.perf_counter() - started
        try:
            record = json.loads(Path(f"{out}/run/run.json").read_text())
        except (OSError, ValueError):
            record = {"status": "failed", "backend": backend, "error": stderr.strip().splitlines()[-1:]}
    kept = {key: record[key] for key in (*KEPT, "error") if key in record}
    return {
        **kept,
        "process_seconds": round(seconds, 1),
        "stopped_after": round(cap_seconds) if stopped else None,
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def installed(backend):
    return importlib.util.find_spec(backend) is not None


def measure(ids, backends, cap):
    catalog = load_catalog()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for recipe_id in ids or catalog:
        path = RESULTS / f"{recipe_id}.json"
        for backend in backends:
            run = brief_run(recipe_id, backend, cap * catalog[recipe_id]["brief"]["budget_seconds"])
            saved = {**(json.loads(path.read_text()) if path.exists() else {}), backend: run}  # read again: another run may have added a backend
            path.write_text(json.dumps(saved, indent=2) + "\n")
            print(f"{recipe_id:<22} {backend:<10} {cell(saved[backend], catalog[recipe_id]['brief']['metric'])}", flush=True)


def cell(run, metric):
    """'27 s · 105 steps/s · 0.997' (the metric, or why there is none)."""
    if not run:
        return "not measured"
    if run.get("status") == "failed" and not run.get("train_steps"):
        return "failed" + (f": {run['error'][0][:80]}" if run.get("error") else "")
    rate = _rate(run) if run.get("train_seconds") else 0
    if run.get("stopped_after"):
        return f"stopped at {run['stopped_after']} s · " + (f"{rate:.3g} steps/s · —" if rate else "before its first training step ended")
    value = (run.get("metrics") or {}).get(metric)
    shown = "—" if value is None else f"{value:.4g}" + ("" if run.get("expectation_met") else " ✗")
    return f"{run['wall_seconds']:.0f} s · {rate:.3g} steps/s · {shown}"


def table(catalog=None):
    """The README table from bench/results/backends: a row per recipe, a cell per backend, then the
    geometric means, against TensorFlow, of the wall time and the steps/s of the recipes measured on both."""
    catalog = catalog or load_catalog()
    rows, ratios = [], {backend: {"wall": [], "rate": []} for backend in BACKENDS}
    for recipe_id, entry in catalog.items():
        path = RESULTS / f"{recipe_id}.json"
        runs = json.loads(path.read_text()) if path.exists() else {}
        if not runs:
            continue
        brief = entry["brief"]
        ((kind, bound),) = brief["expect"].items()
        rows.append(
            [recipe_id, f"{brief['metric']} {'≥' if kind == 'min' else '≤'} {bound:g}", *(cell(runs.get(b), brief["metric"]) for b in BACKENDS)]
        )
        reference = runs.get("tensorflow")
        for backend in BACKENDS:
            run = runs.get(backend)
            if reference and run and reference.get("train_steps") and run.get("train_steps"):
                ratios[backend]["rate"].append(_rate(run) / _rate(reference))
                if not run.get("stopped_after") and not reference.get("stopped_after"):
                    ratios[backend]["wall"].append(run["wall_seconds"] / reference["wall_seconds"])
    for label, key in (("wall time", "wall"), ("steps/s", "rate")):
        means = [f"{_geometric_mean(ratios[b][key]):.2f}× ({len(ratios[b][key])} recipes)" if ratios[b][key] else "—" for b in BACKENDS]
        rows.append([f"**{label}, against TensorFlow**", "geometric mean", *means])
    return markdown_table(["recipe", "brief check", *BACKENDS], rows)


def _rate(run):
    return run["train_steps"] / run["train_seconds"]


def _geometric_mean(values):
    import math

    return math.exp(sum(math.log(v) for v in values) / len(values))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", metavar="ID")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated (default: all installed)")
    parser.add_argument("--cap", type=float, default=3.0, help="stop a run after this many times its budget (default 3)")
    parser.add_argument("--table", action="store_true", help="print the README table from the saved results; measure nothing")
    parser.add_argument("--write", action="store_true", help="with --table: write it into README.md")
    args = parser.parse_args(argv)
    if args.table:
        table_text = table()
        print(write_block(None, "backends", table_text, "python bench/backends.py --table --write") if args.write else table_text)
        return
    backends = [b for b in args.backends.split(",") if b]
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        parser.error(f"unknown backend {unknown[0]}; use {', '.join(BACKENDS)}")
    missing = [b for b in backends if not installed(b)]
    if missing:
        print(f"skipping {', '.join(missing)}: not installed", file=sys.stderr)
    measure(args.ids, [b for b in backends if b not in missing], args.cap)


if __name__ == "__main__":
    main()
