"""Killing a real run: its directory is locked while it trains, never reads as finished, and
`recipe run --resume` continues it from its last completed epoch."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RECIPE = Path(sys.executable).parent / "recipe"
EPOCHS = 10
# memory_task's brief run in batches of 16: about 2 s an epoch here, long enough to kill one mid-way.
ARGS = ["run", "memory_task", "--brief", "--epochs", str(EPOCHS), "--set", "batch_size=16", "--set", "num_test=200"]


def recipe(*args):
    return subprocess.run([str(RECIPE), *map(str, args)], capture_output=True, text=True, timeout=600)


def history_epochs(run_dir):
    path = run_dir / "history.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def start_and_wait(run_dir, epochs_done):
    """Start a run and return its process once history.csv has `epochs_done` epochs."""
    process = subprocess.Popen([str(RECIPE), *ARGS, "--out", str(run_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while len(history_epochs(run_dir)) < epochs_done:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never logged its epochs"
        time.sleep(0.05)
    return process


def one_line(result, code=2):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code and len(lines) == 1 and "Traceback" not in result.stderr, (result.returncode, result.stderr)
    return lines[0]


def test_sigkill_mid_epoch_then_resume_loses_at_most_one_epoch(tmp_path):
    run_dir = tmp_path / "run"
    process = start_and_wait(run_dir, epochs_done=2)
    # While it trains, the directory is in use: another run or a resume into it is refused.
    assert "in use by another run" in one_line(recipe(*ARGS, "--out", run_dir))
    assert "in use by another run" in one_line(recipe("run", "--resume", run_dir))
    assert "in use by another run" in one_line(recipe("weights", run_dir))
    time.sleep(0.4)  # into the next epoch
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    logged = history_epochs(run_dir)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    # A killed run never passes for a finished one: readers refuse it and point to --resume.
    assert "--resume" in one_line(recipe("weights", run_dir))

    resumed = recipe("run", "--resume", run_dir)
    assert resumed.returncode == 0, resumed.stderr
    record = json.loads((run_dir / "run.json").read_text())
    lost = len(logged) - record["resumed_after_epoch"]
    print(f"killed after {len(logged)} logged epochs; resumed after epoch {record['resumed_after_epoch']}: {lost} epoch(s) lost")
    assert 0 <= lost <= 1
    assert record["status"] == "complete" and record["resumes"] == 1 and record["epochs_run"] == EPOCHS
    assert history_epochs(run_dir) == list(range(EPOCHS))  # each epoch once, in order
    assert not (run_dir / "backup").exists()  # a complete run keeps no backup
    assert json.loads((run_dir / "metrics.json").read_text())["recall_accuracy"] >= 0
    assert recipe("weights", run_dir).returncode == 0
    assert "it is complete" in one_line(recipe("run", "--resume", run_dir))


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM")
def test_sigterm_keeps_what_was_trained_and_resume_finishes(tmp_path):
    run_dir = tmp_path / "run"
    process = start_and_wait(run_dir, epochs_done=1)
    time.sleep(0.5)  # past the end of epoch 1, whose backup follows its history row
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0 and "Traceback" not in err, err
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "interrupted" and 1 <= record["epochs_run"] < EPOCHS, {
        k: record.get(k) for k in ("epochs_run", "train_seconds", "status")
    }
    assert (run_dir / "metrics.json").is_file() and (run_dir / "model.keras").is_file()
    resumed = recipe("run", "--resume", run_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert f"after epoch {record['epochs_run']}" in resumed.stdout
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
    assert history_epochs(run_dir) == list(range(EPOCHS))
