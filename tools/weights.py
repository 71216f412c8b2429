"""Weight figures: one per recurrent layer split per gate, plain heatmaps for other layers.

LSTM kernels split into i f c o and GRU kernels into z r h (Keras' gate order), for
Keras' cells and for ours (which expose `gate_names` and `weight_blocks()`). Each
figure has one symmetric colour scale around zero, the input kernel, the recurrent
kernel and the bias as its own row, and gate titles in the shared gate colours.
"""

import re
from pathlib import Path

import numpy as np

_KERAS_GATES = {"LSTMCell": ("i", "f", "c", "o"), "GRUCell": ("z", "r", "h"), "SimpleRNNCell": ("h",)}


def cell_gates(cell):
    """Gate letters of a recurrent cell, or None when it is not one we can split."""
    return getattr(cell, "gate_names", None) or _KERAS_GATES.get(type(cell).__name__)


def cell_blocks(cell):
    """{'kernel': (in, n*u), 'recurrent_kernel': (u, n*u), 'bias': (n*u,) or (2, n*u)} as NumPy arrays."""
    if hasattr(cell, "weight_blocks"):
        return cell.weight_blocks()
    from keras import ops

    blocks = {"kernel": ops.convert_to_numpy(cell.kernel), "recurrent_kernel": ops.convert_to_numpy(cell.recurrent_kernel)}
    if getattr(cell, "bias", None) is not None:
        blocks["bias"] = ops.convert_to_numpy(cell.bias)
    return blocks


def recurrent_cells(layer, name=None):
    """(name, cell) for every splittable cell inside `layer` (RNN layers, Bidirectional, stacked cells)."""
    name = name or layer.name
    if hasattr(layer, "forward_layer"):  # Bidirectional: its inner layers have generated names
        yield from recurrent_cells(layer.forward_layer, f"{name}/forward")
        yield from recurrent_cells(layer.backward_layer, f"{name}/backward")
        return
    cell = getattr(layer, "cell", None)
    if cell is None:
        return
    cells = getattr(cell, "cells", None)  # StackedRNNCells
    if cells:
        for index, inner in enumerate(cells):
            if cell_gates(inner):
                yield f"{name}/cell_{index}", inner
    elif cell_gates(cell):
        yield name, cell


def _walk(model, prefix=""):
    """(path, layer) for every layer, descending into nested models."""
    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        if hasattr(layer, "layers") and hasattr(layer, "inputs"):
            yield from _walk(layer, f"{path}/")
        else:
            yield path, layer


def _file_name(path):
    return "weights_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", path) + ".png"


def gate_figure(title, gates, blocks, path):
    """Per-gate heatmaps of one recurrent cell.

    Args:
        title: figure title (the layer path and cell class).
        gates: gate letters, in block order.
        blocks: cell_blocks() of the cell.
        path: PNG to write.

    Returns:
        The path written.
    """
    from recipes.common import style

    n = len(gates)
    kernel, recurrent = blocks["kernel"], blocks["recurrent_kernel"]
    bias = blocks.get("bias")
    bias_rows = [] if bias is None else ([("bias", bias)] if bias.ndim == 1 else [("input bias", bias[0]), ("recurrent bias", bias[1])])
    rows = [("input → gate\n(kernel)", kernel), ("hidden → gate\n(recurrent kernel)", recurrent)]
    rows += [(label, value.reshape(1, -1)) for label, value in bias_rows]
    if "peephole" in blocks:
        rows.append(("peephole\n(cell → gate)", blocks["peephole"].reshape(1, -1)))
    limit = max(float(np.max(np.abs(value))) for _, value in rows) or 1.0
    # Row heights follow the matrices, with a floor so thin rows (bias, 1-d input) stay visible.
    heights = [max(value.shape[0], 3 if value.shape[0] == 1 else 8) for _, value in rows]
    fig, axes = style.subplots(
        len(rows),
        n,
        figsize=(min(2.6 * n + 1.6, 14), 1.2 + 0.9 * len(rows) + 0.035 * sum(heights)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for r, (label, value) in enumerate(rows):
        for g, gate in enumerate(gates):
            ax = axes[r][g]
            part = np.split(value, n, axis=1)[g]
            image = ax.imshow(part, cmap=style.WEIGHT_CMAP, vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
            ax.grid(False)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_color(style.GATE_COLORS[gate])
                spine.set_linewidth(1.5)
            if r == 0:
                ax.set_title(style.GATE_TITLES[gate], color=style.GATE_COLORS[gate], fontweight="bold")
            if g == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(f"{title}: {kernel.shape[0]} inputs, {recurrent.shape[0]} units", fontsize=12)
    bar = fig.colorbar(image, ax=axes, shrink=0.8, pad=0.02)
    bar.set_label("weight (one symmetric scale)")
    return style.save(fig, path)


def plain_figure(title, weights, path):
    """A heatmap per weight tensor of a non-recurrent layer (kernels as 2-D, bias as a strip)."""
    from recipes.common import style

    arrays = [np.asarray(w) for w in weights]
    limit = max(float(np.max(np.abs(a))) for a in arrays) or 1.0
    shaped = [a.reshape(-1, a.shape[-1]) if a.ndim > 1 else a.reshape(1, -1) for a in arrays]
    heights = [max(min(a.shape[0], 40), 3) for a in shaped]
    fig, axes = style.subplots(len(shaped), 1, figsize=(7, 1.2 + 0.08 * sum(heights)), gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, original, value in zip(axes[:, 0], arrays, shaped):
        image = ax.imshow(value, cmap=style.WEIGHT_CMAP, vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
        ax.grid(False)
        ax.set_yticks([])
        ax.set_xticks([])
        ax.set_ylabel(
            "bias" if original.ndim == 1 else f"kernel\n{' × '.join(map(str, original.shape))}", rotation=0, ha="right", va="center", fontsize=9
        )
    fig.suptitle(title, fontsize=12)
    fig.colorbar(image, ax=axes, shrink=0.8, pad=0.02).set_label("weight")
    return style.save(fig, path)


def planned_files(model, out_dir):
    """The figure files `weight_figures` will write for `model` into out_dir."""
    names = []
    for path, layer in _walk(model):
        cells = list(recurrent_cells(layer, path))
        names += [name for name, _ in cells] if cells else ([path] if layer.weights else [])
    return [Path(out_dir) / _file_name(name) for name in names]


def weight_figures(model, out_dir, force=False):
    """Write a figure per layer with weights; returns [(path, one-line summary)].

    Raises:
        UsageError: a figure file exists already (unless force), or out_dir cannot be written.
    """
    from tools.paths import output_dir

    out_dir = output_dir(out_dir, planned_files(model, out_dir), force=force)
    written = []
    for path, layer in _walk(model):
        cells = list(recurrent_cells(layer, path))
        if cells:
            for name, cell in cells:
                gates = cell_gates(cell)
                blocks = cell_blocks(cell)
                file = gate_figure(f"{name} ({type(cell).__name__})", gates, blocks, out_dir / _file_name(name))
                parts = np.split(np.concatenate([blocks["kernel"], blocks["recurrent_kernel"]]), len(gates), axis=1)
                stats = "  ".join(f"{gate}: mean|w| {np.mean(np.abs(p)):.3f}" for gate, p in zip(gates, parts))
                written.append((file, f"{name} ({type(cell).__name__}) {stats}"))
        elif layer.weights:
            from keras import ops

            weights = [ops.convert_to_numpy(w) for w in layer.weights]
            file = plain_figure(f"{path} ({type(layer).__name__})", weights, out_dir / _file_name(path))
            written.append((file, f"{path} ({type(layer).__name__}) {sum(w.size for w in weights)} weights"))
    return written
