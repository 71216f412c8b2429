"""`recipe run --distribute data_parallel [--devices N]`: Keras' own data parallelism, set up once per process.

Each batch of `batch_size` examples (the global batch) is split evenly over N devices; every
device holds a full copy of the weights and the gradients are averaged. Nothing here is
home-made: on JAX it is `keras.distribution.DataParallel` (made current with
`set_distribution` before the model is built), on TensorFlow `tf.distribute.MirroredStrategy`
(the model built, compiled, fitted and evaluated inside `strategy.scope()`, which is what
Keras 3's TensorFlow trainer reads). Keras' distribution API has no data parallelism for torch.

The devices: the first N accelerators (GPUs, TPUs) when the machine has them; without
accelerators, `--devices N` splits the CPU into N virtual devices (for trying the mechanism
out: one CPU is no faster split). Both must be set before the backend starts, so `prepare`
runs in the CLI right after the backend is chosen and before Keras is imported; `scope` is
what the runner wraps around build, fit and evaluate.
"""

import contextlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.errors import UsageError

KINDS = ("data_parallel",)
BACKENDS = ("jax", "tensorflow")
MECHANISMS = {"jax": "keras.distribution.DataParallel", "tensorflow": "tf.distribute.MirroredStrategy"}
_HOST_DEVICES_FLAG = "--xla_force_host_platform_device_count"


@dataclass
class Setup:
    """The devices one process trains on: kind, backend, device names as the framework spells them,
    and whether they are virtual devices split from the CPU."""

    kind: str
    backend: str
    devices: list
    virtual: bool

    @property
    def replicas(self):
        return len(self.devices)


def intended_backend():
    """The backend Keras will load (or has loaded), read without importing it: KERAS_BACKEND, else keras.json."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        return json.loads(Path(home, "keras.json").read_text()).get("backend") or "tensorflow"
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def check_request(backend, kind, devices):
    """Refuse, before anything is imported, a request that cannot work whatever the machine.

    Args:
        backend: the Keras backend the run will use.
        kind: --distribute (None when not given).
        devices: --devices (None when not given).
    """
    if kind is None:
        if devices is not None:
            raise UsageError(f"--devices {devices} sets how many devices --distribute uses. Add --distribute data_parallel, or drop --devices.")
        return
    if backend not in BACKENDS:
        raise UsageError(
            f"--distribute {kind} cannot run on the {backend} backend: Keras' distribution API has no data parallelism for {backend}. "
            "Use --backend jax or --backend tensorflow."
        )
    if devices is not None and devices < 1:
        raise UsageError(f"--devices takes a number of devices, 1 or more, got {devices}. Use e.g. --devices 2.")


def check_batch(batch_size, replicas):
    """Refuse a global batch that does not split evenly over the devices."""
    if batch_size % replicas:
        fit = max(replicas, batch_size - batch_size % replicas)
        raise UsageError(
            f"--distribute data_parallel splits each batch of batch_size={batch_size} over {replicas} devices, which does not go evenly. "
            f"Use a multiple of {replicas}, e.g. --set batch_size={fit}."
        )


def prepare(backend, kind, devices=None):
    """Set the process up for `kind` over `devices` devices, before Keras is imported; returns a Setup (None without `kind`).

    Args:
        backend: "jax" or "tensorflow" (anything else is refused).
        kind: "data_parallel", or None for a run without distribution.
        devices: how many devices; None means all the accelerators the backend lists.

    Raises:
        UsageError: a backend without data parallelism, too few or too many devices, or a backend
            already started in this process with other devices.
    """
    check_request(backend, kind, devices)
    if kind is None:
        return None
    if backend == "jax" and devices is not None:
        # Read when JAX starts its CPU client; on a machine with GPUs it only adds CPU devices nobody uses.
        flags = re.sub(rf"{_HOST_DEVICES_FLAG}=\S*", "", os.environ.get("XLA_FLAGS", "")).split()
        os.environ["XLA_FLAGS"] = " ".join([*flags, f"{_HOST_DEVICES_FLAG}={devices}"])
    found = accelerators(backend)
    if found:
        if devices is not None and devices > len(found):
            raise UsageError(
                f"--devices {devices} asks for more devices than this machine has ({len(found)}: {', '.join(found)}). Use --devices {len(found)} or fewer."
            )
        chosen = found[: devices or len(found)]
        if len(chosen) < 2 and devices is None:
            raise UsageError(
                f"--distribute {kind} found one device ({chosen[0]}), so it would run exactly as without it. "
                "Drop --distribute, or add --devices 1 to go through the distribution machinery anyway."
            )
        return Setup(kind, backend, chosen, virtual=False)
    if devices is None:
        raise UsageError(
            f"--distribute {kind} found no accelerator, only the CPU, so it would run exactly as without it. "
            "Add --devices N to split the CPU into N virtual devices (to try it out; it is not faster), or drop --distribute."
        )
    return Setup(kind, backend, split_cpu(backend, devices), virtual=True)


def accelerators(backend):
    """Names of the GPUs or TPUs `backend` sees, in its own spelling ([] on a CPU-only machine). Starts JAX."""
    if backend == "jax":
        import jax

        return [f"{device.platform}:{device.id}" for device in jax.devices() if device.platform != "cpu"]
    import tensorflow as tf

    return [f"/gpu:{index}" for index, _ in enumerate(tf.config.list_physical_devices("GPU"))]


def split_cpu(backend, count):
    """Names of `count` virtual CPU devices: set up now for TensorFlow, checked for JAX (XLA_FLAGS, set by `prepare`)."""
    already = UsageError(
        f"{backend} has already started in this process with another number of CPU devices; "
        f"run 'recipe run ... --distribute data_parallel --devices {count}' as its own command."
    )
    if backend == "jax":
        import jax

        names = [f"cpu:{device.id}" for device in jax.devices("cpu")]
        if len(names) != count:
            raise already
        return names
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:  # the runtime has started: fine only if it already has these devices
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise already from None
    return [f"/cpu:{index}" for index in range(count)]


@contextlib.contextmanager
def scope(setup):
    """Build, fit and evaluate inside this to run them over `setup`'s devices (nothing changes for None)."""
    if setup is None:
        yield
        return
    if setup.backend == "jax":
        import keras

        # The devices Keras lists (accelerators first, else the CPU devices), as `prepare` counted them.
        distribution = keras.distribution.DataParallel(devices=keras.distribution.list_devices()[: setup.replicas])
        with distribution.scope():  # set_distribution(distribution), and the previous one back afterwards
            yield
    else:
        import tensorflow as tf

        with tf.distribute.MirroredStrategy(devices=setup.devices).scope():
            yield


def check_splits(setup, data, batch_size):
    """On JAX, refuse data with a batch that does not split evenly over the devices (JAX cannot shard it).

    TensorFlow's MirroredStrategy splits an uneven batch itself. Array splits are checked exactly
    (their last batch); a PyDataset by its first and last batch.
    """
    if setup is None or setup.backend != "jax":
        return
    for name in ("train", "validation", "test"):
        split = data.get(name)
        if split is None:
            continue
        if isinstance(split, (tuple, list)):
            size = _length(split[0])
            sizes = [size % batch_size or min(size, batch_size)]
            what = f"its last batch holds {sizes[0]} of its {size} examples (batch_size={batch_size})"
        else:
            sizes = [_length(split[index][0]) for index in (0, len(split) - 1)]
            what = f"its batches hold {' and '.join(map(str, sizes))} examples"
        if any(size % setup.replicas for size in sizes):
            raise UsageError(
                f"With --distribute data_parallel on jax every batch must split evenly over {setup.replicas} devices, but the {name} split "
                f"does not: {what}. Use --backend tensorflow, whose MirroredStrategy splits an uneven batch, "
                f"or split sizes that are multiples of {setup.replicas}."
            )


def _length(x):
    """Examples in an input given as an array, a list/tuple of arrays or a dict of arrays."""
    while isinstance(x, (dict, list, tuple)):
        x = next(iter(x.values())) if isinstance(x, dict) else x[0]
    return len(x)


def describe(setup, batch_size):
    """The run.json record of a Setup (None without one)."""
    if setup is None:
        return None
    return {
        "kind": setup.kind,
        "backend": setup.backend,
        "mechanism": MECHANISMS[setup.backend],
        "devices": list(setup.devices),
        "virtual_cpu_devices": setup.virtual,
        "replicas": setup.replicas,
        "global_batch_size": batch_size,
        "per_device_batch_size": batch_size // setup.replicas,
    }


def summary(setup, batch_size):
    """One log line: 'data_parallel: each batch of 32 split over 2 devices (16 each): cpu:0, cpu:1 (virtual CPU devices)'."""
    virtual = " (virtual CPU devices)" if setup.virtual else ""
    return f"{setup.kind}: each batch of {batch_size} split over {setup.replicas} devices ({batch_size // setup.replicas} each): {', '.join(setup.devices)}{virtual}"


def recorded(run_dir):
    """(kind, devices) a run directory's run.json records, or (None, None) (also when it cannot be read: the runner says why)."""
    try:
        record = json.loads((Path(run_dir) / "run.json").read_text()).get("distribution") or {}
        return record.get("kind"), record.get("replicas")
    except (OSError, ValueError, AttributeError):
        return None, None


def check_resume(run_dir, record, setup):
    """Refuse to resume a run on other devices than it trained on (runner.resume called without the CLI's set-up)."""
    kind, replicas = (record or {}).get("kind"), (record or {}).get("replicas")
    if (kind, replicas) != ((setup.kind, setup.replicas) if setup else (None, None)):
        trained = f"{kind} over {replicas} devices" if kind else "without --distribute"
        raise UsageError(f"'{run_dir}' trained {trained}; resume it the same way with 'recipe run --resume {run_dir}', which sets that up again.")
