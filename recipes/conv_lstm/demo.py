"""Next-frame and rollout error against copying the last frame, and the frames themselves side by side."""

from pathlib import Path

import numpy as np

METRICS = ("next_frame_mse", "copy_last_mse", "rollout_mse", "copy_last_rollout_mse", "parameters")
EXAMPLE = 0  # the test sequence drawn in the figures


def rollout(model, frames, context_frames, rollout_frames, batch_size=64):
    """Closed-loop prediction: the model continues from `context_frames` true frames on its own output.

    Args:
        model: a next-frame model of this recipe (any number of input frames).
        frames: (N, T, S, S, 1) true frames; only the first context_frames are read.
        context_frames: true frames given.
        rollout_frames: frames to predict, each from the true context and the earlier predictions.
        batch_size: prediction batch size.

    Returns:
        (N, rollout_frames, S, S, 1) predictions of frames context_frames .. context_frames + rollout_frames - 1.
    """
    sequence = np.asarray(frames[:, :context_frames], dtype=np.float32)
    predicted = []
    for _ in range(rollout_frames):
        # The last output is the prediction of the frame after the last one read.
        following = model.predict(sequence, batch_size=batch_size, verbose=0)[:, -1:]
        predicted.append(following)
        sequence = np.concatenate([sequence, following], axis=1)
    return np.concatenate(predicted, axis=1)


def rollout_targets(x, y, context_frames, rollout_frames):
    """(truth, copy): the true frames a rollout predicts, and the last context frame repeated in their place."""
    truth = y[:, context_frames - 1 : context_frames - 1 + rollout_frames]
    copy = np.repeat(x[:, context_frames - 1 : context_frames], rollout_frames, axis=1)
    return truth, copy


def evaluate(model, data, config):
    """Test next-frame MSE of the model (teacher forced) and of copying the last frame, the same for a
    rollout of rollout_frames frames after context_frames true ones (mean over the rolled-out frames),
    and the model's parameter count."""
    x, y = data["test"]
    predicted = model.predict(x, batch_size=64, verbose=0)
    future = rollout(model, x, config["context_frames"], config["rollout_frames"])
    truth, copy = rollout_targets(x, y, config["context_frames"], config["rollout_frames"])
    return {
        "next_frame_mse": float(np.mean((predicted - y) ** 2)),
        "copy_last_mse": float(np.mean((x - y) ** 2)),
        "rollout_mse": float(np.mean((future - truth) ** 2)),
        "copy_last_rollout_mse": float(np.mean((copy - truth) ** 2)),
        "parameters": float(model.count_params()),
    }


def plot_grid(rows, labels, column_titles, title, path):
    """A grid of frames: one row per entry of `rows` ((T, S, S, 1) arrays or None for a blank cell).

    Args:
        rows: list of lists of frames, one list per row; None leaves the cell empty.
        labels: a label per row.
        column_titles: a title per column.
        title: the figure title.
        path: PNG file to write.

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    num_rows, num_columns = len(rows), len(column_titles)
    fig, axes = style.subplots(num_rows, num_columns, figsize=(1.05 * num_columns + 1.2, 1.15 * num_rows + 0.9), squeeze=False)
    for r, (frames, label) in enumerate(zip(rows, labels)):
        for c in range(num_columns):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_color("#bbbbbb")
            frame = frames[c]
            if frame is None:  # nothing predicted here: no frame, no border
                for spine in ax.spines.values():
                    spine.set_visible(False)
                continue
            ax.imshow(frame[..., 0], cmap="Greys", vmin=0, vmax=1)
            if r == 0:
                ax.set_title(column_titles[c], fontsize=10)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    fig.suptitle(title, x=0.02, ha="left", fontsize=11)
    fig.subplots_adjust(wspace=0.05, hspace=0.08)
    return style.save(fig, path)


def plot_rollout_error(errors, copy_errors, context_frames, name, path):
    """Mean test MSE of each rolled-out frame, model against copying the last true frame."""
    from recipes.common import style

    steps = np.arange(1, len(errors) + 1)
    fig, ax = style.subplots(figsize=(6, 3.4))
    ax.plot(steps, errors, "o-", label=f"{name} (its own predictions fed back)")
    ax.plot(steps, copy_errors, "s--", label=f"copy frame {context_frames} (the last true one)")
    ax.set_xticks(steps)
    ax.set_xlabel(f"frames predicted after the {context_frames} true ones")
    ax.set_ylabel("mean squared error per pixel")
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower right")
    ax.set_title("conv_lstm: rollout error on unseen digits (test split)", loc="left")
    return style.save(fig, path)


def demo(model, data, config, out_dir):
    """next_frame.png (one test sequence, teacher forced), rollout.png (the same sequence continued
    from context_frames true frames) and rollout_error.png (mean error per rolled-out frame)."""
    out_dir = Path(out_dir)
    name = "ConvLSTM" if config["model"] == "conv_lstm" else "LSTM"
    x, y = data["test"]
    sequence_x, sequence_y = x[EXAMPLE : EXAMPLE + 1], y[EXAMPLE : EXAMPLE + 1]
    predicted = model.predict(sequence_x, verbose=0)[0]
    steps = len(sequence_y[0])
    files = [
        plot_grid(
            [list(sequence_y[0]), list(predicted), list(sequence_x[0])],
            ["true", name, "copy last"],
            [f"t={t + 2}" for t in range(steps)],
            f"conv_lstm ({config['model']}): next frame from the true frames up to the one before\n"
            "(rows: true frame, prediction, the previous frame copied; a test sequence of unseen digits)",
            out_dir / "next_frame.png",
        )
    ]
    context, ahead = config["context_frames"], config["rollout_frames"]
    future = rollout(model, sequence_x, context, ahead)[0]
    truth, copy = rollout_targets(sequence_x, sequence_y, context, ahead)
    given = list(sequence_x[0, :context])
    files.append(
        plot_grid(
            [given + list(truth[0]), [None] * context + list(future), [None] * context + list(copy[0])],
            ["true", name, "copy last"],
            [f"t={t + 1}" + (" in" if t < context else "") for t in range(context + ahead)],
            f"conv_lstm ({config['model']}): rollout: {context} true frames in, then {ahead} predicted from its own output\n"
            "(rows: true frames, prediction, the last true frame copied)",
            out_dir / "rollout.png",
        )
    )
    all_future = rollout(model, x, context, ahead)
    all_truth, all_copy = rollout_targets(x, y, context, ahead)
    errors = np.mean((all_future - all_truth) ** 2, axis=(0, 2, 3, 4))
    copy_errors = np.mean((all_copy - all_truth) ** 2, axis=(0, 2, 3, 4))
    files.append(plot_rollout_error(errors, copy_errors, context, name, out_dir / "rollout_error.png"))
    return files
