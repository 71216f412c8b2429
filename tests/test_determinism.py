"""Same recipe, config and seed give the same metrics; two runs at once into different
directories both complete (here: the same run twice at once, so both checks in one go)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

RECIPE = Path(sys.executable).parent / "recipe"
TIMINGS = {"train_ms_per_batch"}  # a measured speed, not a result


@pytest.mark.parametrize("recipe_id", ["output_recurrence", "bidirectional_tagger"])
def test_two_concurrent_runs_complete_with_identical_metrics(recipe_id, tmp_path):
    runs = [tmp_path / "a", tmp_path / "b"]
    processes = [
        subprocess.Popen(
            [str(RECIPE), "run", recipe_id, "--brief", "--seed", "7", "--out", str(run)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for run in runs
    ]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    records = [json.loads((run / "run.json").read_text()) for run in runs]
    assert [r["status"] for r in records] == ["complete", "complete"]
    first, second = ({k: v for k, v in json.loads((run / "metrics.json").read_text()).items() if k not in TIMINGS} for run in runs)
    assert first == second
    assert (runs[0] / "history.csv").read_text() == (runs[1] / "history.csv").read_text()
