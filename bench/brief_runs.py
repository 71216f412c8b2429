"""Benchmark: `recipe list` latency, and every recipe's brief run (wall time against its budget, metric).

Usage: python bench/brief_runs.py [RECIPE_ID ...]
Timings are single measurements on whatever else the machine is doing; run it on a quiet machine.
Each brief run's run.json (metrics and provenance) is kept in bench/results/brief/<id>.json, which
the README's results table and the gallery read (tools/results.py).
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import pretrained, results, runner  # noqa: E402
from tools.catalog import load_catalog  # noqa: E402


def keep_record(recipe_id, run_dir):
    """Copy a brief run's run.json, with the code version, to bench/results/brief/<id>.json."""
    record = runner.read_json(Path(run_dir) / runner.RUN_FILE)
    record.pop("command", None)
    record["code_version"] = pretrained.code_version()
    results.BRIEF_DIR.mkdir(parents=True, exist_ok=True)
    runner.write_json(results.BRIEF_DIR / f"{recipe_id}.json", record)


def list_latency(repeats=10):
    """Median wall seconds of `recipe list` as a user runs it (a new process each time)."""
    command = [str(Path(sys.executable).parent / "recipe"), "list"]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(ids):
    catalog = load_catalog()
    print(f"recipe list: median {list_latency():.3f} s over 10 runs")
    print(f"{'recipe':<22} {'wall s':>7} {'budget s':>9}  expectation")
    for rid in ids or catalog:
        with tempfile.TemporaryDirectory() as out:
            result = runner.run(rid, brief=True, out=Path(out) / "run", verbose=0, log=lambda *_: None)
            keep_record(rid, result.run_dir)
        budget = catalog[rid]["brief"]["budget_seconds"]
        flag = "" if result.seconds <= budget else "  OVER BUDGET"
        print(f"{rid:<22} {result.seconds:>7.1f} {budget:>9}  {result.expectation}{flag}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
