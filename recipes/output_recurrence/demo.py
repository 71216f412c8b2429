"""Teacher-forced and free-running accuracy, the output-recurrence bound, training speed, and a figure.

Two accuracies per output level prediction (every step counts):
- teacher-forced: the network reads the TRUE previous output y_{t-1} at every step, as in
  training; one batched forward pass over whole sequences;
- free-running: the network reads the level it chose itself one step before (greedy),
  as it must at test time; errors can compound.
The hidden-recurrence model reads no outputs, so for it the two are the same number.

`teacher_forced_bound` is the best accuracy ANY function of (x_t, y_{t-1}) can reach on the
test sequences: for each pair, the most frequent true y_t. It depends on the task only
(1.0 when the output shows the whole counter; about 1 - p / g for a tick probability p
and g counts per level, 0.75 for M = 4, K = 2, p = 0.5).
"""

import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

from recipes.common.teacher_forcing import free_running

# Sequences drawn in the demo figure.
DEMO_SEQUENCES = 2


def run_free(model, ticks, levels):
    """Run the output-recurrent model free: each step reads the level it chose one step before.

    The trained model is per-step (no recurrent layer), so calling it on a one-step sequence
    is exactly one step of figure 10.4.

    Args:
        model: the trained output_recurrence model.
        ticks: float32 (batch, T, 1).
        levels: K.

    Returns:
        (chosen, probabilities): int32 (batch, T) greedy levels and float32 (batch, T, K).
    """
    one_hot = np.eye(levels, dtype=np.float32)

    def step(tick, previous, states):
        # (batch, 1, 1) and (batch, 1, K): a sequence of length one.
        inputs = {"ticks": tick[:, None], "previous_output": one_hot[previous][:, None]}
        return ops.convert_to_numpy(model(inputs, training=False))[:, 0], states

    # Step 0 reads the level of the counter's start value 0, as in training (data.model_inputs).
    return free_running(step, ticks, first_output=0)


def teacher_forced_bound(ticks, outputs):
    """Best accuracy of any predictor of y_t from (x_t, y_{t-1}) alone (teacher forced).

    Args:
        ticks: int (batch, T).
        outputs: int (batch, T) true levels.

    Returns:
        float: for each (x_t, y_{t-1}) pair, the count of its most frequent y_t, summed, over
        all steps; y_{-1} is the start level 0.
    """
    previous = np.concatenate([np.zeros_like(outputs[:, :1]), outputs[:, :-1]], axis=1)
    levels = int(outputs.max()) + 1
    # counts[x, y_prev, y]: how often each triple occurs.
    counts = np.zeros((2, levels, levels), dtype=np.int64)
    np.add.at(counts, (ticks.ravel(), previous.ravel(), outputs.ravel()), 1)
    return float(counts.max(axis=-1).sum() / outputs.size)


def train_ms_per_batch(model, data, config, warmup=3, blocks=5, repeats=5):
    """Milliseconds per training step (forward + backward + update) on one training batch.

    Timed on a fresh clone, so the trained weights are not touched. The output-recurrence
    model trains all T steps as one batched Dense computation; the hidden-recurrence model
    must run its T steps one after another. Like `timeit`, the best of several blocks is
    reported: other work on the machine only ever adds time.

    Args:
        model: the trained model (its architecture is cloned, not its weights).
        data: load_data's dict.
        config: uses batch_size, learning_rate.
        warmup: untimed steps first (tracing and compilation).
        blocks, repeats: timed blocks of `repeats` steps each.

    Returns:
        float, milliseconds of one `train_on_batch` (mean within the fastest block).
    """
    x, y = data["train"]
    size = config["batch_size"]
    x_batch, y_batch = {key: value[:size] for key, value in x.items()}, y[:size]
    clone = keras.models.clone_model(model)
    clone.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]), loss="sparse_categorical_crossentropy")
    for _ in range(warmup):
        clone.train_on_batch(x_batch, y_batch)
    timings = []
    for _ in range(blocks):
        started = time.perf_counter()
        for _ in range(repeats):
            clone.train_on_batch(x_batch, y_batch)
        timings.append((time.perf_counter() - started) / repeats)
    return 1000.0 * min(timings)


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "teacher_forced_accuracy",
    "free_running_accuracy",
    "teacher_forced_bound",
    "train_ms_per_batch",
)


def evaluate(model, data, config):
    """teacher_forced_accuracy and free_running_accuracy on the test split, the teacher_forced_bound of output
    recurrence, and train_ms_per_batch."""
    x, y = data["test"]
    teacher_forced = np.argmax(model.predict(x, batch_size=config["batch_size"], verbose=0), axis=-1)
    if config["model"] == "output_recurrence":
        free, _ = run_free(model, x["ticks"], config["output_levels"])
    else:
        free = teacher_forced  # no output feedback: nothing changes when running free
    return {
        "teacher_forced_accuracy": float(np.mean(teacher_forced == y)),
        "free_running_accuracy": float(np.mean(free == y)),
        "teacher_forced_bound": teacher_forced_bound(data["test_ticks"], y),
        "train_ms_per_batch": train_ms_per_batch(model, data, config),
    }


def plot_sequences(ticks, counter, outputs, teacher_forced, free, levels, path, title):
    """One panel per sequence: the true output level, and the levels the network chose.

    Args:
        ticks, counter, outputs: int (n, T) inputs, hidden counter and true levels.
        teacher_forced: int (n, T) levels predicted reading the true previous output.
        free: int (n, T) levels chosen running free, or None (no output feedback).
        levels: K.
        path: PNG to write.
        title: figure title.

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    num_sequences, length = outputs.shape
    steps = np.arange(length)
    fig, axes = style.subplots(
        num_sequences, 1, figsize=(max(7.5, 0.2 * length + 2.5), 2.6 * num_sequences + 0.6), squeeze=False, sharex=True, layout="constrained"
    )
    for n, ax in enumerate(axes[:, 0]):
        ax.step(steps, outputs[n], where="mid", color=style.SERIES[7], linewidth=4, alpha=0.45, label="true level")
        label = "teacher-forced prediction" if free is not None else "predicted level (reads no outputs)"
        ax.plot(steps, teacher_forced[n] + 0.08, "o", markersize=3.5, color=style.SERIES[0], label=label)
        if free is not None:
            ax.step(steps, free[n] - 0.08, where="mid", color=style.SERIES[1], linewidth=1.4, label="free-running output")
            wrong = free[n] != outputs[n]
            ax.plot(steps[wrong], free[n][wrong] - 0.08, "x", color=style.SERIES[3], markersize=5, label="free-running error")
        ax.set_yticks(range(levels))
        ax.set_ylim(-0.5, levels - 0.5)
        ax.set_ylabel("output level")
        # Ticks (inputs) along the top edge, the hidden counter value under each as "1|3".
        top = ax.secondary_xaxis("top")
        top.set_xticks(steps, [f"{t}\n{c}" for t, c in zip(ticks[n], counter[n])], fontsize=6)
        top.tick_params(length=0, pad=1)
        ax.text(-0.01, 1.01, "tick x_t\ncount s_t", transform=ax.transAxes, ha="right", va="bottom", fontsize=6)
        parts = [f"{'teacher-forced' if free is not None else 'predicted'} {np.mean(teacher_forced[n] == outputs[n]):.0%}"]
        if free is not None:
            parts.append(f"free-running {np.mean(free[n] == outputs[n]):.0%}")
        ax.set_title(f"test sequence {n + 1}: " + ", ".join(parts) + " right", loc="left", fontsize=9, pad=22)
    axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    axes[-1, 0].set_xlabel("time step")
    fig.suptitle(title, x=0.02, ha="left")
    return style.save(fig, path)


def demo(model, data, config, out_dir):
    """sequences.png: the first test sequences with the levels chosen teacher-forced and free-running."""
    x, y = data["test"]
    x = {key: value[:DEMO_SEQUENCES] for key, value in x.items()}
    teacher_forced = np.argmax(model.predict(x, verbose=0), axis=-1)
    free = run_free(model, x["ticks"], config["output_levels"])[0] if config["model"] == "output_recurrence" else None
    levels, modulus = config["output_levels"], config["counter_modulus"]
    shows = "the whole count" if levels == modulus else f"count // {modulus // levels}"
    title = f"{config['model'].replace('_', ' ')}: ticks counted mod {modulus}, output = {shows} ({levels} levels)"
    path = Path(out_dir) / "sequences.png"
    return [
        plot_sequences(
            data["test_ticks"][:DEMO_SEQUENCES], data["test_counter"][:DEMO_SEQUENCES], y[:DEMO_SEQUENCES], teacher_forced, free, levels, path, title
        )
    ]
