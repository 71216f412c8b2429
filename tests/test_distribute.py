"""`recipe run --distribute data_parallel`: each batch really is split over two (virtual CPU) devices on
JAX and on TensorFlow, the brief run still meets its bound, and what cannot work is refused in one line.

A backend and its devices are fixed per process, so the training runs go through `probed_run` in a
subprocess: the CLI as a user calls it, with the model's train step wrapped to note what each device
gets. Only two virtual CPU devices are tested here: no GPU, no several hosts.
"""

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tools import cli, distribute, errors

ROOT = Path(__file__).resolve().parent.parent
PROBE_FILE = "RECIPE_TEST_PROBE_FILE"  # where probed_run writes what the train steps saw


def watch_batches(model, seen):
    """Wrap `model.train_step` so that every compiled training step notes how its batch is split.

    JAX: the sharding of the input batch inside the jitted step (jax.debug.inspect_array_sharding,
    told at compile time: once per batch shape). TensorFlow: in each replica's step, the replica
    context's replica count, its id, and the rows of the batch it got (tf.py_function, every step).
    """
    import keras

    step = model.train_step
    if keras.backend.backend() == "jax":
        import jax

        def train_step(state, data):
            x = data[0]  # (batch, time, symbols)

            def note(sharding):
                seen[(x.shape[0], len(sharding.device_set), sharding.shard_shape(x.shape)[0])] += 1

            jax.debug.inspect_array_sharding(x, callback=note)
            return step(state, data)

    else:
        import tensorflow as tf

        def train_step(data):
            context = tf.distribute.get_replica_context()
            replicas = context.num_replicas_in_sync

            def note(replica, rows):
                seen[(replicas, int(replica), int(rows))] += 1
                return 0

            tf.py_function(note, [context.replica_id_in_sync_group, tf.shape(data[0])[0]], tf.int32)
            return step(data)

    model.train_step = train_step


def probed_run(argv):
    """`recipe ARGV` with every model the runner builds watched by `watch_batches`; writes what was
    seen to $RECIPE_TEST_PROBE_FILE and returns the exit code. Run in a subprocess."""
    from tools import runner

    seen = collections.Counter()
    build = runner.build

    def watched_build(plan, log=print):
        data, model = build(plan, log)
        watch_batches(model, seen)
        return data, model

    runner.build = watched_build
    code = cli.main(argv)
    Path(os.environ[PROBE_FILE]).write_text(json.dumps([[*key, count] for key, count in seen.items()]))
    return code


def brief_run(backend, tmp_path):
    """(run.json, what the train steps saw) of the probed brief memory_task run on 2 virtual CPU devices."""
    out, probe = tmp_path / "run", tmp_path / "seen.json"
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_distribute; sys.exit(test_distribute.probed_run(sys.argv[1:]))"
    )
    argv = ["run", "memory_task", "--brief", "--backend", backend, "--distribute", "data_parallel", "--devices", "2", "--out", str(out)]
    env = {**os.environ, PROBE_FILE: str(probe)}
    env.pop("KERAS_BACKEND", None)
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-2000:]
    assert "data_parallel: each batch of 32 split over 2 devices (16 each)" in done.stdout
    return json.loads((out / "run.json").read_text()), json.loads(probe.read_text())


def check_record(record, backend, devices):
    assert record["status"] == "complete" and record["backend"] == backend
    assert record["expectation_met"] is True, record["expectation"]
    assert record["distribution"] == {
        "kind": "data_parallel",
        "backend": backend,
        "mechanism": distribute.MECHANISMS[backend],
        "devices": devices,
        "virtual_cpu_devices": True,
        "replicas": 2,
        "global_batch_size": 32,
        "per_device_batch_size": 16,
    }


@pytest.mark.brief
def test_data_parallel_on_jax_shards_each_batch(tmp_path):
    """keras.distribution.DataParallel: the compiled train step's batch is sharded over both devices, half each."""
    record, seen = brief_run("jax", tmp_path)
    check_record(record, "jax", ["cpu:0", "cpu:1"])
    shapes = {(batch, devices, per_device) for batch, devices, per_device, _ in seen}
    # 5000 training sequences in batches of 32: full batches, and a last one of 8.
    assert shapes == {(32, 2, 16), (8, 2, 4)}, shapes


@pytest.mark.brief
def test_data_parallel_on_tensorflow_splits_each_batch(tmp_path):
    """tf.distribute.MirroredStrategy: both replicas run every step, each on half of the global batch."""
    record, seen = brief_run("tensorflow", tmp_path)
    check_record(record, "tensorflow", ["/cpu:0", "/cpu:1"])
    steps = collections.Counter()
    for replicas, replica, rows, count in seen:
        assert replicas == 2
        steps[(replica, rows)] += count
    epochs, full, last = 18, 5000 // 32, (5000 % 32) // 2
    assert steps == {(0, 16): epochs * full, (1, 16): epochs * full, (0, last): epochs, (1, last): epochs}, steps


def refusal(cli_error, *flags):
    """The one stderr line of a refused `recipe run memory_task --brief FLAGS`."""
    code, err = cli_error(["run", "memory_task", "--brief", *flags])
    assert code == 2 and len(err) == 1, err
    return err[0]


def test_torch_is_refused(cli_error):
    line = refusal(cli_error, "--backend", "torch", "--distribute", "data_parallel", "--devices", "2")
    assert "--distribute data_parallel cannot run on the torch backend: Keras' distribution API has no data parallelism for torch." in line
    assert line.endswith("Use --backend jax or --backend tensorflow.")


@pytest.mark.parametrize("devices", ["0", "-1"])
def test_devices_below_one_are_refused(cli_error, devices):
    line = refusal(cli_error, "--backend", "tensorflow", "--distribute", "data_parallel", "--devices", devices)
    assert f"--devices takes a number of devices, 1 or more, got {devices}. Use e.g. --devices 2." in line


def test_devices_without_distribute_is_refused(cli_error):
    line = refusal(cli_error, "--devices", "2")
    assert "--devices 2 sets how many devices --distribute uses. Add --distribute data_parallel, or drop --devices." in line


def test_more_devices_than_gpus_are_refused(cli_error, monkeypatch):
    monkeypatch.setattr(distribute, "accelerators", lambda backend: ["/gpu:0", "/gpu:1"])
    line = refusal(cli_error, "--backend", "tensorflow", "--distribute", "data_parallel", "--devices", "4")
    assert "--devices 4 asks for more devices than this machine has (2: /gpu:0, /gpu:1). Use --devices 2 or fewer." in line


def test_the_cpu_alone_needs_devices(cli_error, monkeypatch):
    """Without accelerators and without --devices, data parallelism would be a no-op: refused, naming --devices."""
    monkeypatch.setattr(distribute, "accelerators", lambda backend: [])
    line = refusal(cli_error, "--backend", "tensorflow", "--distribute", "data_parallel")
    assert "found no accelerator, only the CPU, so it would run exactly as without it. Add --devices N" in line


def test_the_first_gpus_are_chosen(monkeypatch):
    monkeypatch.setattr(distribute, "accelerators", lambda backend: ["/gpu:0", "/gpu:1", "/gpu:2"])
    assert distribute.prepare("tensorflow", "data_parallel", 2) == distribute.Setup("data_parallel", "tensorflow", ["/gpu:0", "/gpu:1"], False)
    assert distribute.prepare("tensorflow", "data_parallel").replicas == 3
    monkeypatch.setattr(distribute, "accelerators", lambda backend: ["/gpu:0"])
    with pytest.raises(errors.UsageError, match="found one device"):
        distribute.prepare("tensorflow", "data_parallel")


def test_an_indivisible_batch_is_refused(cli_error):
    line = refusal(cli_error, "--backend", "tensorflow", "--distribute", "data_parallel", "--devices", "2", "--set", "batch_size=33")
    assert "splits each batch of batch_size=33 over 2 devices, which does not go evenly. Use a multiple of 2, e.g. --set batch_size=32." in line


def test_jax_refuses_an_uneven_last_batch():
    """JAX cannot shard 3 rows over 2 devices; TensorFlow's MirroredStrategy splits them itself."""
    data = {"train": (np.zeros((67, 5)), np.zeros(67)), "validation": (np.zeros((64, 5)), np.zeros(64))}
    on_jax = distribute.Setup("data_parallel", "jax", ["cpu:0", "cpu:1"], True)
    with pytest.raises(errors.UsageError) as refused:
        distribute.check_splits(on_jax, data, batch_size=32)
    assert "the train split does not: its last batch holds 3 of its 67 examples (batch_size=32). Use --backend tensorflow" in str(refused.value)
    distribute.check_splits(on_jax, {**data, "train": data["validation"]}, batch_size=32)
    distribute.check_splits(distribute.Setup("data_parallel", "tensorflow", ["/cpu:0", "/cpu:1"], True), data, batch_size=32)


def test_jax_refusal_leaves_no_run_behind(tmp_path):
    """The uneven split is found once the data exists, still before training: one line, exit 2, an empty --out."""
    out = tmp_path / "run"
    argv = ["run", "memory_task", "--brief", "--backend", "jax", "--distribute", "data_parallel", "--devices", "2", "--set", "num_train=5003"]
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    done = subprocess.run(
        [sys.executable, "-m", "tools.cli", *argv, "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "the train split does not: its last batch holds 11 of its 5003 examples (batch_size=32)" in done.stderr
    assert out.is_dir() and not list(out.iterdir())


def fake_run(folder, distribution):
    """An interrupted memory_task run directory (no training needed to resume-check it)."""
    from tools.catalog import RECIPES_DIR, read_default_config

    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(read_default_config(RECIPES_DIR / "memory_task")))
    record = {"recipe": "memory_task", "status": "interrupted", "backend": "tensorflow", "distribution": distribution}
    (folder / "run.json").write_text(json.dumps(record))
    return folder


def test_resume_sets_up_the_runs_distribution(cli_error, monkeypatch, tmp_path_factory):
    """`recipe run --resume` prepares the devices the run trained on, and refuses new --distribute flags."""
    run_dir = fake_run(tmp_path_factory.mktemp("runs") / "run", {"kind": "data_parallel", "replicas": 2})
    asked = []

    def prepare(backend, kind, devices=None):
        asked.append((kind, devices))
        raise errors.UsageError("stop here")

    monkeypatch.setattr(distribute, "prepare", prepare)
    code, err = cli_error(["run", "--resume", str(run_dir)])
    assert (code, err, asked) == (2, ["recipe: error: stop here"], [("data_parallel", 2)])
    code, err = cli_error(["run", "--resume", str(run_dir), "--distribute", "data_parallel", "--devices", "2"])
    assert code == 2 and "drop --distribute, --devices." in err[0]


def test_resume_refuses_other_devices(tmp_path):
    """runner.resume without the run's distribution (or with another) refuses before any work."""
    from tools import runner

    run_dir = fake_run(tmp_path / "run", {"kind": "data_parallel", "replicas": 2})
    with pytest.raises(errors.UsageError, match=r"trained data_parallel over 2 devices; resume it the same way with 'recipe run --resume"):
        runner.resume(run_dir)
    plain = fake_run(tmp_path / "plain", None)
    with pytest.raises(errors.UsageError, match="trained without --distribute"):
        runner.resume(plain, distribution=distribute.Setup("data_parallel", "tensorflow", ["/cpu:0", "/cpu:1"], True))
