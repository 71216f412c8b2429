"""Weights over training: what `recipe run --record weights` keeps, and the figures `recipe inspect RUN_DIR history` draws.

The record is cheap: at the start and after every epoch, 21 quantiles (0%, 5%, ..., 100%) of
each gate block's input kernel, recurrent kernel and bias, per recurrent cell (the same
blocks `recipe weights` draws), in RUN_DIR/weights_history.json, rewritten atomically.
The ridge view draws one distribution per epoch, stacked, per gate and weight kind; the
Hinton view draws a small layer's trained recurrent weights as squares (area: magnitude,
colour: sign).
"""

import numpy as np

HISTORY_FILE = "weights_history.json"
QUANTILES = np.linspace(0, 100, 21)
KINDS = ("kernel", "recurrent_kernel", "bias")
KIND_TITLES = {"kernel": "input → gate", "recurrent_kernel": "hidden → gate", "bias": "bias"}


def snapshot(model):
    """{cell path: {gate: {kind: [quantiles]}}} of every recurrent cell's gate blocks now."""
    from tools.weights import _walk, cell_blocks, cell_gates, recurrent_cells

    found = {}
    for path, layer in _walk(model):
        for name, cell in recurrent_cells(layer, path):
            gates = cell_gates(cell)
            blocks = cell_blocks(cell)
            found[name] = {}
            for index, gate in enumerate(gates):
                found[name][gate] = {}
                for kind in KINDS:
                    if kind not in blocks:
                        continue
                    value = np.asarray(blocks[kind])
                    part = np.split(value, len(gates), axis=-1)[index]
                    found[name][gate][kind] = [round(float(q), 6) for q in np.percentile(part, QUANTILES)]
    return found


def recorder(run_dir, initial_epoch):
    """A Keras callback appending a snapshot to RUN_DIR/weights_history.json at the start (epoch 0) and after each epoch."""
    import keras

    from tools.runner import read_json, write_json

    path = run_dir / HISTORY_FILE

    class WeightHistory(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            kept = read_json(path)["epochs"] if path.exists() else []
            self.epochs = [entry for entry in kept if entry["epoch"] <= initial_epoch]  # a resumed run drops what it redoes

        def save(self, epoch):
            self.epochs.append({"epoch": epoch, "cells": snapshot(self.model)})
            write_json(path, {"quantiles": QUANTILES.tolist(), "epochs": self.epochs})

        def on_train_begin(self, logs=None):
            if not self.epochs:
                self.save(0)

        def on_epoch_end(self, epoch, logs=None):
            self.save(epoch + 1)

    return WeightHistory()


def density(quantiles, grid):
    """A density on `grid` from equally spaced quantiles: mass 1/(n-1) spread evenly between neighbours."""
    q = np.asarray(quantiles)
    values = np.zeros_like(grid)
    share, step = 1.0 / (len(q) - 1), grid[1] - grid[0]
    for low, high in zip(q[:-1], q[1:]):
        if high - low < step:  # narrower than a grid cell (all biases equal at the start): a spike at its place
            values[np.argmin(np.abs(grid - (low + high) / 2))] += share / step
        else:
            values += np.where((grid >= low) & (grid <= high), share / (high - low), 0.0)
    return values


def ridge_figure(title, record, cell, path, theme="light", max_epochs=12):
    """One ridge panel per gate (columns) and weight kind (rows): a distribution per recorded epoch, stacked."""
    from recipes.common import style
    from tools.introspect import figure

    epochs = record["epochs"]
    if len(epochs) > max_epochs:  # at most `max_epochs` rows, evenly spread, always the first and last
        keep = np.unique(np.linspace(0, len(epochs) - 1, max_epochs).round().astype(int))
        epochs = [epochs[i] for i in keep]
    gates = list(epochs[-1]["cells"][cell])
    kinds = [kind for kind in KINDS if kind in epochs[-1]["cells"][cell][gates[0]]]
    fig, axes = figure(theme, len(kinds), len(gates), figsize=(2.9 * len(gates) + 1.2, 2.9 * len(kinds) + 0.9), squeeze=False)
    for row, kind in enumerate(kinds):
        every = np.concatenate([entry["cells"][cell][g][kind] for entry in epochs for g in gates])
        low, high = np.percentile(every, 0.5), np.percentile(every, 99.5)
        grid = np.linspace(low, high, 400)
        for column, gate in enumerate(gates):
            ax = axes[row][column]
            colour = style.GATE_COLORS.get(gate, "#444444")
            curves = [density(entry["cells"][cell][gate][kind], grid) for entry in epochs]
            # Heights relative to the tallest curve after the first snapshot (a spike at the start would flatten the rest).
            scale = 2.0 / max(max(c.max() for c in curves[1:] or curves), 1e-9)
            for offset, curve in enumerate(curves):
                base = len(epochs) - 1 - offset  # the first epoch on top, training reads downwards
                curve = np.minimum(curve * scale, 2.6)  # a spike stays inside its band and the one above
                ax.fill_between(grid, base, base + curve, color=colour, alpha=0.35 + 0.4 * offset / max(1, len(epochs) - 1), linewidth=0)
                ax.plot(grid, base + curve, color=colour, linewidth=0.8)
            ax.set_yticks(range(len(epochs)))
            ax.set_yticklabels([f"epoch {entry['epoch']}" for entry in reversed(epochs)] if column == 0 else [], fontsize=7.5)
            ax.set_ylim(-0.2, len(epochs) + 1.2)
            ax.grid(False)
            ax.axvline(0, color="#999999", linewidth=0.6)
            if row == 0:
                ax.set_title(style.GATE_TITLES.get(gate, gate), color=colour, fontweight="bold")
            if column == 0:
                ax.set_ylabel(KIND_TITLES[kind], fontsize=10)
            ax.set_xlabel("weight" if row == len(kinds) - 1 else "")
    fig.suptitle(title, fontsize=11.5)
    return style.save(fig, path)


def hinton_figure(title, blocks, gates, path, theme="light"):
    """Hinton diagrams of a small cell's recurrent weights per gate: square area |w|, red positive, blue negative."""
    import matplotlib

    from recipes.common import style
    from tools.introspect import figure

    recurrent = np.asarray(blocks["recurrent_kernel"])
    parts = np.split(recurrent, len(gates), axis=1)
    largest = max(float(np.abs(recurrent).max()), 1e-9)
    units = recurrent.shape[0]
    fig, axes = figure(theme, 1, len(gates), figsize=(3.2 * len(gates) + 0.6, 3.7), squeeze=False)
    for ax, gate, part in zip(axes[0], gates, parts):
        for (row, column), value in np.ndenumerate(part):
            size = np.sqrt(abs(value) / largest)
            colour = "#b2182b" if value > 0 else "#2166ac"
            ax.add_patch(matplotlib.patches.Rectangle((column - size / 2, row - size / 2), size, size, facecolor=colour, edgecolor="none"))
        ax.set_xlim(-0.6, units - 0.4)
        ax.set_ylim(units - 0.4, -0.6)
        ax.set_aspect("equal")
        ax.grid(False)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(style.GATE_TITLES.get(gate, gate), color=style.GATE_COLORS.get(gate), fontweight="bold")
        ax.set_xlabel("to unit")
    axes[0][0].set_ylabel("from unit (h(t-1))")
    fig.suptitle(f"{title}\nsquare area ∝ |w| (largest {largest:.2f}); red positive, blue negative", fontsize=11)
    return style.save(fig, path)
