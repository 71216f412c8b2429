"""Benchmark: training throughput (samples/s) of one character-level LSTM on every Keras backend and in native PyTorch.

The reference model is char_rnn's shape: Embedding(65, 64) -> LSTM(256, return_sequences=True)
-> Dense(65) logits, sparse categorical cross-entropy from logits, Adam, batch 64, sequences of
100 characters, on random integer data (NumPy, seed 0; speed does not depend on the data).

Configurations, each measured in its own subprocess (Keras fixes its backend per process: the
script re-invokes itself with `--child BACKEND --jit 0|1 --precision P` and KERAS_BACKEND set, and
reads one JSON line back; a child imports only its own framework):

- Keras on tensorflow, jax and torch (torch only where it is installed), with
  `compile(jit_compile=True)` (XLA on tensorflow and jax, torch.compile on torch) and without,
  in float32 and under the mixed precision policy "mixed_bfloat16";
- Keras on torch with tools/torch_rnn.py's LSTM loop installed (as the collection's runner does),
  float32, eager; the plain Keras/torch rows use Keras' own loop;
- native PyTorch (torch.nn.Embedding / LSTM(batch_first=True) / Linear, torch.optim.Adam), eager,
  in float32 and under torch.autocast(device_type="cpu", dtype=torch.bfloat16).

A measurement is `--warmup` untimed training steps (they include tracing and compilation; Keras'
torch.compile recompiles once more in the second step, when the gradients first exist) and
then up to `--steps` timed ones (one `model.fit` call for Keras, a plain loop for native PyTorch),
which stop after the step that ends past `--seconds`: the slowest configurations run at 14
samples/s, where 100 steps would take 8 minutes a round. samples/s counts the steps that ran.
The configurations alternate: round 1 runs each once, round 2 again, and so on, so that load
from other work on the machine spreads over all of them; the table reports the median per
configuration. Each round also measures the float32 matmul peak (NumPy, 2048 x 2048, median of
10), which gives a compute bound: peak / FLOPs per training sample, counting only the matmuls
(forward and backward ~ 3x forward). A configuration that fails (torch.compile on a CPU without a
working compiler, say) gets the reason in its cell instead of a number.

Usage (from the repository root):

    python bench/throughput.py                         # 3 rounds of 100 steps or 20 s each, writes bench/results/throughput.json
    python bench/throughput.py --rounds 1 --steps 10   # a quick try (writes the JSON too)
    python bench/throughput.py --table                 # the README table from the saved JSON, no measuring
    python bench/throughput.py --table --write         # ... written into README.md's throughput block

Timings are wall-clock on whatever else the machine is doing; the load averages at the start and
end, and before each measurement, are kept in the JSON. Children run with OMP_WAIT_POLICY=PASSIVE,
as the collection's own processes do (tools/__init__.py).
"""

import argparse
import datetime
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "throughput.json"

VOCABULARY = 65
EMBEDDING_DIM = 64
UNITS = 256
BATCH_SIZE = 64
SEQUENCE_LENGTH = 100
LEARNING_RATE = 1e-3
PRECISIONS = ("float32", "mixed_bfloat16")
KERAS_BACKENDS = ("tensorflow", "jax", "torch")
NATIVE = "native_torch"
# Keras on torch with tools/torch_rnn.py's LSTM loop, as the collection runs it (Keras' own loop is "torch").
PATCHED = "torch_rnn"
# What jit_compile=True and False mean on each backend, for the table's labels.
JIT_NAMES = {
    "tensorflow": ("tf.function", "XLA"),
    "jax": ("eager", "jax.jit (XLA)"),
    "torch": ("eager", "torch.compile"),
    PATCHED: ("eager",),
    NATIVE: ("eager",),
}
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")
PEAK_SIZE = 2048
PEAK_REPEATS = 10


def flops_per_sample():
    """Matmul FLOPs of one training sample (one sequence): 3x the forward pass.

    Per time step the LSTM multiplies its input (64) and its state (256) by the four gates'
    kernels, 2 * 4 * 256 * (64 + 256) FLOPs, and the Dense layer 2 * 256 * 65. The backward pass
    costs about twice the forward one (gradients for inputs and for weights). The embedding is a
    gather and element-wise work is left out, so the bound is optimistic.

    Returns:
        int FLOPs per sample of SEQUENCE_LENGTH steps.
    """
    per_step = 2 * 4 * UNITS * (EMBEDDING_DIM + UNITS) + 2 * UNITS * VOCABULARY
    return 3 * per_step * SEQUENCE_LENGTH


def make_data(num_batches):
    """Random character ids, the same in every child.

    Args:
        num_batches: batches of BATCH_SIZE sequences.

    Returns:
        (inputs, targets): int32 arrays of shape (num_batches * BATCH_SIZE, SEQUENCE_LENGTH).
    """
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCABULARY, size=(num_batches * BATCH_SIZE, SEQUENCE_LENGTH + 1), dtype=np.int32)
    # Next-character targets, as in a language model.
    return ids[:, :-1], ids[:, 1:]


def configurations():
    """Every (framework, jit, precision) to measure, in table order; torch ones only where torch is installed."""
    has_torch = importlib.util.find_spec("torch") is not None
    backends = [b for b in KERAS_BACKENDS if b != "torch" or has_torch]
    configs = [(b, jit, p) for b in backends for jit in (1, 0) for p in PRECISIONS]
    if has_torch:
        configs += [(PATCHED, 0, "float32")]
        configs += [(NATIVE, 0, p) for p in PRECISIONS]
    return configs


def config_key(framework, jit, precision):
    """The JSON key of a configuration, e.g. 'keras-jax-jit1-float32' or 'native_torch-jit0-float32'."""
    prefix = framework if framework == NATIVE else f"keras-{framework}"
    return f"{prefix}-jit{jit}-{precision}"


def config_label(framework, jit, precision):
    """The table's name of a configuration, e.g. 'Keras/jax, jax.jit (XLA), float32'."""
    if framework == NATIVE:
        precision = "autocast bfloat16" if precision == "mixed_bfloat16" else precision
        return f"native PyTorch, {JIT_NAMES[framework][jit]}, {precision}"
    if framework == PATCHED:
        return f"Keras/torch + tools/torch_rnn.py, {JIT_NAMES[framework][jit]}, {precision}"
    return f"Keras/{framework}, {JIT_NAMES[framework][jit]}, {precision}"


def thread_counts(framework):
    """The threads each framework uses here (0 from TensorFlow means its default: one per core)."""
    counts = {"cpus_available": len(os.sched_getaffinity(0))}
    if framework in ("torch", PATCHED, NATIVE):
        import torch

        counts.update(torch_intra_op=torch.get_num_threads(), torch_inter_op=torch.get_num_interop_threads())
    elif framework == "tensorflow":
        import tensorflow as tf

        counts.update(
            tf_intra_op=tf.config.threading.get_intra_op_parallelism_threads(),
            tf_inter_op=tf.config.threading.get_inter_op_parallelism_threads(),
        )
    else:
        # XLA's CPU client has no thread-count API; it uses one thread per available core.
        counts.update(xla_flags=os.environ.get("XLA_FLAGS", ""))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if name in os.environ:
            counts[name] = os.environ[name]
    return counts


def train_keras(jit, precision, steps, seconds, warmup, patch=False):
    """Warm-up and timed training of the reference model in Keras (the backend comes from KERAS_BACKEND).

    Args:
        jit: 1 for compile(jit_compile=True), 0 for False.
        precision: "float32" or "mixed_bfloat16" (the global dtype policy).
        steps: timed training steps at most.
        seconds: stop the timed steps after the one that ends past this many seconds.
        warmup: untimed steps before them (the first one traces and compiles).
        patch: on torch, install tools/torch_rnn.py's LSTM loop first, as the collection's runner does.

    Returns:
        dict with seconds, timed_steps, warmup_seconds, loss (the timed run's mean) and versions.
    """
    import keras

    class StopAfter(keras.callbacks.Callback):
        """Counts the timed steps and ends fit() after the one that ends past `seconds`."""

        def on_train_begin(self, logs=None):
            self.started, self.steps = time.perf_counter(), 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps = batch + 1
            if time.perf_counter() - self.started >= seconds:
                self.model.stop_training = True

    if patch:
        sys.path.insert(0, str(ROOT))
        from tools import torch_rnn

        if not torch_rnn.install():
            raise RuntimeError("tools/torch_rnn.py did not install on this Keras")

    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(SEQUENCE_LENGTH,), dtype="int32"),
            keras.layers.Embedding(VOCABULARY, EMBEDDING_DIM, name="embedding"),
            keras.layers.LSTM(UNITS, return_sequences=True, name="lstm"),  # (batch, time, units)
            keras.layers.Dense(VOCABULARY, name="logits"),  # (batch, time, vocabulary)
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=bool(jit),
    )
    inputs, targets = make_data(warmup + steps)
    split = warmup * BATCH_SIZE
    started = time.perf_counter()
    model.fit(inputs[:split], targets[:split], batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
    warmup_seconds = time.perf_counter() - started
    # The second fit reuses the compiled train function; it returns once the last step's loss is read back.
    started = time.perf_counter()
    timer = StopAfter()
    history = model.fit(inputs[split:], targets[split:], batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0, callbacks=[timer])
    elapsed = time.perf_counter() - started
    backend = keras.backend.backend()
    return {
        "seconds": elapsed,
        "timed_steps": timer.steps,
        "warmup_seconds": warmup_seconds,
        "loss": float(history.history["loss"][-1]),
        "versions": {"keras": keras.__version__, backend: __import__(backend).__version__},
    }


def train_native_torch(precision, steps, seconds, warmup):
    """Warm-up and timed training of the reference model in plain PyTorch (same shapes and steps as Keras).

    Args:
        precision: "float32", or "mixed_bfloat16" for torch.autocast(device_type="cpu", dtype=torch.bfloat16)
            around the forward pass and the loss (weights and optimizer stay float32, as in Keras' policy).
        steps: timed training steps at most.
        seconds: stop the timed steps after the one that ends past this many seconds.
        warmup: untimed steps before them.

    Returns:
        dict with seconds, timed_steps, warmup_seconds, loss (the timed run's mean) and versions.
    """
    import torch

    torch.manual_seed(0)

    class CharLSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(VOCABULARY, EMBEDDING_DIM)
            self.lstm = torch.nn.LSTM(EMBEDDING_DIM, UNITS, batch_first=True)
            self.logits = torch.nn.Linear(UNITS, VOCABULARY)

        def forward(self, ids):
            outputs, _ = self.lstm(self.embedding(ids))  # (batch, time, units)
            return self.logits(outputs)  # (batch, time, vocabulary)

    model = CharLSTM()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    inputs, targets = (torch.from_numpy(a.astype(np.int64)) for a in make_data(warmup + steps))
    autocast = precision == "mixed_bfloat16"

    def run(first, count, limit=float("inf")):
        losses, started = [], time.perf_counter()
        for index in range(first, first + count):
            if time.perf_counter() - started >= limit:
                break
            rows = slice(index * BATCH_SIZE, (index + 1) * BATCH_SIZE)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=autocast):
                logits = model(inputs[rows])
                loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCABULARY), targets[rows].reshape(-1))
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
        # Reading the losses back waits for the last step, like Keras' fit does.
        return float(torch.stack(losses).float().mean()), len(losses)

    started = time.perf_counter()
    run(0, warmup)
    warmup_seconds = time.perf_counter() - started
    started = time.perf_counter()
    loss, timed_steps = run(warmup, steps, seconds)
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "timed_steps": timed_steps, "warmup_seconds": warmup_seconds, "loss": loss, "versions": {"torch": torch.__version__}}


class FrameworkBlocker(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """An import hook that makes the named top-level packages fail to import (ModuleNotFoundError).

    Keras imports some frameworks whenever they are installed (keras/src/callbacks/orbax_checkpoint.py
    imports jax, guarded by `except ImportError`), which costs start-up time and memory in a child
    that measures another one. The hook finds a spec without an origin and fails when the module is
    created, because libraries probe in two ways that must both keep working: SciPy looks the
    package up in sys.modules (so no None entry there), and torch._dynamo calls
    importlib.util.find_spec and skips specs without an origin (so no exception from find_spec).
    """

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.names:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        raise ModuleNotFoundError(f"{spec.name} is blocked in this benchmark child", name=spec.name)

    def exec_module(self, module):
        raise ModuleNotFoundError(f"{module.__name__} is blocked in this benchmark child", name=module.__name__)


def block_other_frameworks(framework):
    """Keep this child to its own framework: the other Keras backends become unimportable.

    Args:
        framework: the child's backend, or NATIVE.
    """
    needed = "torch" if framework in (NATIVE, PATCHED) else framework
    sys.meta_path.insert(0, FrameworkBlocker(name for name in KERAS_BACKENDS if name != needed))


def child(framework, jit, precision, steps, seconds, warmup):
    """One measurement in this process; prints one JSON line (with "error" instead of a speed when training fails)."""
    block_other_frameworks(framework)
    record = {"key": config_key(framework, jit, precision), "load_1min": os.getloadavg()[0]}
    try:
        if framework == NATIVE:
            record.update(train_native_torch(precision, steps, seconds, warmup))
        else:
            record.update(train_keras(jit, precision, steps, seconds, warmup, patch=framework == PATCHED))
        record["samples_per_second"] = record["timed_steps"] * BATCH_SIZE / record["seconds"]
        record["threads"] = thread_counts(framework)
    except Exception as error:  # any failure is this configuration's result, reported in its cell
        record["error"] = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"[:300]
    # Which frameworks this child ended up importing: each should load only its own.
    record["imported"] = sorted(name for name in KERAS_BACKENDS if name in sys.modules)
    print(json.dumps(record), flush=True)


def run_child(framework, jit, precision, steps, seconds, warmup, timeout):
    """Run one configuration in a fresh Python process and return its record."""
    # OpenMP threads that spin while they wait starve the working thread on a busy machine (Keras'
    # torch step ran 5-20x slower under load); the collection sets the same in tools/__init__.py.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", OMP_WAIT_POLICY="PASSIVE")
    if framework != NATIVE:
        env["KERAS_BACKEND"] = "torch" if framework == PATCHED else framework
    command = [sys.executable, __file__, "--child", framework, "--jit", str(jit), "--precision", precision]
    command += ["--steps", str(steps), "--seconds", str(seconds), "--warmup", str(warmup)]
    key = config_key(framework, jit, precision)
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"key": key, "error": f"timed out after {timeout} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"key": key, "error": f"exit code {done.returncode}: {last}"[:300]}
    return json.loads(lines[-1])


def matmul_peak():
    """float32 matmul GFLOP/s with NumPy's BLAS: median of PEAK_REPEATS products of two 2048 x 2048 matrices."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((PEAK_SIZE, PEAK_SIZE), dtype=np.float32) for _ in range(2))
    a @ b  # noqa: B018 - warm-up: thread pool start and page faults
    times = []
    for _ in range(PEAK_REPEATS):
        started = time.perf_counter()
        a @ b  # noqa: B018
        times.append(time.perf_counter() - started)
    return 2 * PEAK_SIZE**3 / statistics.median(times) / 1e9


def cpu_description():
    """The CPU's model name, core count and the flags that matter for float32/bfloat16 matmuls."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {name.strip(): value.strip() for name, value in fields.items()}
    flags = set(fields.get("flags", "").split())
    return {
        "model": fields.get("model name", platform.processor()),
        "cores": os.cpu_count(),
        "flags": {flag: flag in flags for flag in CPU_FLAGS},
    }


def blas_description():
    """NumPy's BLAS library and thread count, where threadpoolctl is installed (else None)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{k: info.get(k) for k in ("internal_api", "version", "num_threads", "architecture")} for info in threadpool_info()]


def summarize(results):
    """Add each configuration's median samples/s and the median peak to `results` (in place)."""
    for entry in results["configurations"].values():
        speeds = [run["samples_per_second"] for run in entry["rounds"] if "samples_per_second" in run]
        errors = [run["error"] for run in entry["rounds"] if "error" in run]
        entry["median_samples_per_second"] = statistics.median(speeds) if speeds else None
        entry["error"] = errors[0] if errors else None
    results["peak_gflops"] = statistics.median(results["peak_gflops_per_round"])
    results["bound_samples_per_second"] = results["peak_gflops"] * 1e9 / results["flops_per_sample"]
    return results


def markdown(results):
    """The README table (and a line on how it was measured) from a results dict as saved in throughput.json.

    Args:
        results: the dict `measure` returns.

    Returns:
        str: markdown with columns configuration | samples/s (median) | vs native PyTorch | vs fp32 bound.
    """
    from bench.tables import markdown_table

    configs = results["configurations"]
    native = configs.get(config_key(NATIVE, 0, "float32"), {}).get("median_samples_per_second")
    bound = results["bound_samples_per_second"]
    rows = []
    for entry in configs.values():
        speed = entry["median_samples_per_second"]
        if speed is None:
            # The error's first sentence; the JSON keeps all of it.
            rows.append((entry["label"], f"failed: {entry['error'].split('. ')[0]}", "", ""))
            continue
        versus_native = f"{speed / native:.2f}x" if native else ""
        rows.append((entry["label"], f"{speed:,.0f}", versus_native, f"{speed / bound:.0%}"))
    table = markdown_table(["configuration", "samples/s (median)", "vs native PyTorch", "vs fp32 bound"], rows)
    cpu = results["cpu"]
    flags = ", ".join(f"{flag} {'yes' if present else 'no'}" for flag, present in cpu["flags"].items())
    start, end = results["load_average"]["start"][0], results["load_average"]["end"][0]
    note = (
        f"Training samples (sequences of {SEQUENCE_LENGTH} characters) per second, batch {BATCH_SIZE}: median of "
        f"{results['rounds']} alternating rounds of {results['steps']} steps or {results['seconds']:g} s, whichever ended first, "
        f"after {results['warmup']} untimed ones, "
        f"on {cpu['model']} ({cpu['cores']} cores; {flags}), 1-minute load {start:.1f} at the start and {end:.1f} at "
        f"the end, {results['date'][:10]}. fp32 bound: {results['peak_gflops']:.0f} GFLOP/s (float32 "
        f"{PEAK_SIZE} x {PEAK_SIZE} matmul, NumPy) / {results['flops_per_sample'] / 1e6:.1f} MFLOP per sample "
        f"(matmuls, forward and backward) = {bound:,.0f} samples/s."
    )
    return f"{table}\n\n{note}"


def table():
    """The README's throughput block: `markdown` of the saved results."""
    return markdown(json.loads(RESULTS.read_text()))


def measure(rounds, steps, seconds, warmup, timeout):
    """Run every configuration `rounds` times, alternating; save the results after each round and return them."""
    configs = configurations()
    results = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "model": (
            f"Embedding({VOCABULARY}, {EMBEDDING_DIM}) -> LSTM({UNITS}, return_sequences=True) -> Dense({VOCABULARY}); "
            f"Adam, sparse categorical cross-entropy from logits, batch {BATCH_SIZE}, sequence length {SEQUENCE_LENGTH}"
        ),
        "rounds": rounds,
        "steps": steps,
        "seconds": seconds,
        "warmup": warmup,
        "cpu": cpu_description(),
        "blas": blas_description(),
        "versions": {"python": platform.python_version(), "numpy": np.__version__},
        "load_average": {"start": os.getloadavg()},
        "flops_per_sample": flops_per_sample(),
        "peak_gflops_per_round": [],
        "configurations": {config_key(*c): {"label": config_label(*c), "rounds": []} for c in configs},
    }
    cpu = results["cpu"]
    flags = ", ".join(f"{flag} {'yes' if present else 'no'}" for flag, present in cpu["flags"].items())
    print(f"CPU: {cpu['model']}, {cpu['cores']} cores; {flags}")
    print(f"1-minute load average at the start: {results['load_average']['start'][0]:.1f}", flush=True)
    for number in range(1, rounds + 1):
        peak = matmul_peak()
        results["peak_gflops_per_round"].append(peak)
        print(f"round {number}/{rounds}: float32 matmul peak {peak:.0f} GFLOP/s", flush=True)
        for config in configs:
            record = run_child(*config, steps, seconds, warmup, timeout)
            results["versions"].update(record.pop("versions", {}))
            results["configurations"][config_key(*config)]["rounds"].append(record)
            outcome = f"{record['samples_per_second']:8,.0f} samples/s" if "error" not in record else record["error"]
            print(f"  {config_label(*config):<50} {outcome}  (load {os.getloadavg()[0]:.1f})", flush=True)
        # Saved after every round, so that a stopped run keeps its complete rounds.
        results["rounds"], results["load_average"]["end"] = number, os.getloadavg()
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(summarize(results), indent=2) + "\n")
    print(f"1-minute load average at the end: {results['load_average']['end'][0]:.1f}")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds over all configurations (default 3)")
    parser.add_argument("--steps", type=int, default=100, help="timed training steps per measurement (default 100)")
    parser.add_argument("--seconds", type=float, default=20, help="end the timed steps after the one that ends past this (default 20)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before them, compilation included (default 5)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds before a measurement is abandoned (default 1800)")
    parser.add_argument("--table", action="store_true", help="print the markdown table from the saved JSON and exit")
    parser.add_argument("--write", action="store_true", help="with --table: write it into README.md's throughput block")
    parser.add_argument("--child", choices=[*KERAS_BACKENDS, PATCHED, NATIVE], help=argparse.SUPPRESS)
    parser.add_argument("--jit", type=int, choices=(0, 1), default=0, help=argparse.SUPPRESS)
    parser.add_argument("--precision", choices=PRECISIONS, default="float32", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.jit, args.precision, args.steps, args.seconds, args.warmup)
        return
    sys.path.insert(0, str(ROOT))
    if args.write and not args.table:
        parser.error("--write goes with --table: python bench/throughput.py --table --write")
    if args.table:
        if not RESULTS.exists():
            raise SystemExit(f"{RESULTS.relative_to(ROOT)} does not exist: run 'python bench/throughput.py' first.")
        text = table()
        print(text)
        if args.write:
            from bench.tables import write_block

            print(f"wrote {write_block(None, 'throughput', text, 'python bench/throughput.py --table --write')}")
        return
    if min(args.rounds, args.steps, args.seconds) <= 0 or args.warmup < 1:
        parser.error(f"--rounds, --steps, --seconds and --warmup must be positive, got {args.rounds}, {args.steps}, {args.seconds}, {args.warmup}.")
    results = measure(args.rounds, args.steps, args.seconds, args.warmup, args.timeout)
    print()
    print(markdown(results))
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
