"""`recipe inspect`: what happens inside a trained (or untrained) recurrent network, as figures.

Figures (each one file, labelled to stand alone in a blog post, in the house style and themes):

- states: gate activations, cell and hidden state of a recurrent layer over the steps of a
  real test input (recomputed exactly from the weights, tools/states.py), as units x time
  heatmaps with the units clustered, plus traces of chosen units; `--saturation` draws the
  fraction of steps each gate unit spends below 0.1 and above 0.9; `--text` shades each
  character of a text by one unit (Karpathy, Johnson & Fei-Fei 2015), and `--find FEATURE`
  first searches the units most correlated with a simple feature of the text.
- gradients: gradient flow through time, |dL/dh(t)| and |dh(T)/dx(t)| (tools/gradients.py).
- spectrum: eigenvalues and singular values of the recurrent weight matrices, per gate block.

Every figure works on a run directory (trained) and on a recipe id (the recipe's build,
untrained), so a reader can put initialisation next to training.
"""

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.errors import UsageError, did_you_mean

FIGURES = ("states", "gradients", "spectrum", "history", "occlusion", "maximize", "attention")
# Features of a text that `--find` correlates with every unit (Karpathy et al. 2015's interpretable cells).
TEXT_FEATURES = {
    "position_in_line": "characters since the last newline",
    "inside_quotes": "inside a quotation (after an odd number of quote marks)",
    "after_space": "the previous character is a space",
    "inside_parentheses": "inside ( ) or [ ] brackets",
    "speaker_line": "on a line that names the speaker (ends with ':')",
    "uppercase": "an upper-case letter",
}


@dataclass
class Subject:
    """A model to look into: trained (from a run directory) or as the recipe builds it."""

    recipe_id: str
    config: dict
    model: object
    run_dir: object = None

    @functools.cached_property
    def data(self):
        """The recipe's data for this config (loaded once)."""
        from tools import runner

        plan = runner.resolve(self.recipe_id, config=self.config)
        return plan.data_module.load_data(self.config)

    @property
    def label(self):
        return f"{self.recipe_id}, trained ({Path(self.run_dir).name})" if self.run_dir else f"{self.recipe_id}, untrained"


def subject(target, sets=(), untrained=False, log=None):
    """The Subject of an ID|RUN_DIR argument (see tools.runner.model_of)."""
    from tools import runner

    recipe_id, config, model, run_dir = runner.model_of(target, sets, untrained, log)
    return Subject(recipe_id, config, model, run_dir)


def test_batch(item, size):
    """(x, y): the first `size` examples of the subject's test split (validation when it has none), with its config."""
    from tools import runner

    _, split = runner.evaluation_split(item.data)
    if not isinstance(split, (tuple, list)):  # a PyDataset: its first batches
        xs, ys = zip(*(split[index][:2] for index in range(min(len(split), 1 + size // max(1, split[0][1].shape[0])))))
        return _take(_concat(xs), size), _take(np.concatenate(ys), size)
    return _take(split[0], size), _take(split[1], size)


def _take(value, size):
    if isinstance(value, dict):
        return {key: np.asarray(v)[:size] for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [np.asarray(v)[:size] for v in value]
    return np.asarray(value)[:size]


def _concat(parts):
    if isinstance(parts[0], dict):
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return np.concatenate(parts)


# --- Which layer. ---


def recurrent_layers(model):
    """{name: (layer, cell, backwards)} of every recurrent chain in a model: a layer, or each half of a Bidirectional."""
    import keras

    found = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            found[f"{layer.name}/forward"] = (layer, layer.forward_layer.cell, False)
            found[f"{layer.name}/backward"] = (layer, layer.backward_layer.cell, True)
        elif isinstance(layer, keras.layers.RNN):
            found[layer.name] = (layer, layer.cell, bool(layer.go_backwards))
    return found


def choose_layer(item, name=None, need=None):
    """(name, layer, cell, backwards) of the recurrent chain `name` (default the first `need` accepts).

    Raises:
        UsageError: the model has no such layer; the message names those it has.
    """
    layers = recurrent_layers(item.model)
    usable = {key: value for key, value in layers.items() if need is None or need(value[1])}
    if not usable:
        has = f" (its recurrent layers: {', '.join(layers)})" if layers else ""
        raise UsageError(f"{item.recipe_id} has no recurrent layer this figure can read{has}. Try another figure, e.g. 'spectrum' or 'gradients'.")
    if name is None:
        key = next(iter(usable))
        return (key, *usable[key])
    for key, value in usable.items():
        if name in (key, key.split("/")[0]):
            return (key, *value)
    raise UsageError(
        f"{item.recipe_id} has no recurrent layer '{name}' this figure can read.{did_you_mean(name, usable)} Its layers: {', '.join(usable)}."
    )


# --- states ---

NAMES = {
    "i": "input gate i",
    "f": "forget gate f",
    "o": "output gate o",
    "z": "update gate z",
    "r": "reset gate r",
    "c": "cell state c",
    "h": "hidden state h",
}
GATE_OF = {"i": "i", "f": "f", "o": "o", "z": "z", "r": "r", "candidate": None, "c": "c", "h": "h"}


def layer_reads(item, layer, x, backwards=False):
    """(sequence (batch, time, features), initial states or None, mask (batch, time) or None) that
    `layer` reads for the batch x, as NumPy.

    A backward chain's sequence and mask are returned in the order the chain reads them (last step first).
    """
    from tools import gradients

    sequence, states, mask = gradients.layer_reads(item.model, [layer], x)[id(layer)]
    if backwards:
        sequence, mask = sequence[:, ::-1], None if mask is None else mask[:, ::-1]
    return sequence, states or None, mask


def traced_states(item, name, layer, cell, backwards, x):
    """(traces in input time order, largest |recomputed h - the layer's own output| over the unpadded
    steps, mask (batch, time): False at padding, or None) for one chain."""
    import keras

    from tools import states
    from tools.gradients import call

    sequence, initial, mask = layer_reads(item, layer, x, backwards)
    traces = states.trace(cell, sequence, initial, mask)
    if backwards:
        traces = {key: value[:, ::-1] for key, value in traces.items()}
        mask = None if mask is None else mask[:, ::-1]
    own = call(keras.Model(item.model.inputs, layer.output), x)
    own = keras.ops.convert_to_numpy(own[0] if isinstance(own, (list, tuple)) else own)  # the output, not the returned states
    if isinstance(layer, keras.layers.Bidirectional):
        half = traces["h"].shape[-1]
        own = own[..., half:] if backwards else own[..., :half]
    if own.ndim == 3:
        difference = np.abs(traces["h"] - own)[mask] if mask is not None else np.abs(traces["h"] - own)
    else:
        difference = np.abs(traces["h"][:, 0 if backwards else -1] - own)  # the carried state is the last unpadded step's
    return traces, float(np.max(difference)), mask


def unpadded(traces, mask, example=None):
    """The traces at unpadded steps only: one example's steps (batch 1), or every example's steps as one row."""
    if mask is None:
        return traces
    if example is not None:
        return {key: value[example : example + 1, mask[example]] for key, value in traces.items()}
    return {key: value[mask][None] for key, value in traces.items()}


def unit_order(h):
    """Units ordered so that units with similar trajectories sit together (Ward clustering of h over time)."""
    from scipy.cluster.hierarchy import leaves_list, linkage

    if h.shape[1] < 3:
        return np.arange(h.shape[1])
    standardised = (h - h.mean(axis=0)) / (h.std(axis=0) + 1e-6)
    return leaves_list(linkage(standardised.T, method="ward"))


def busiest_units(h, count=3):
    """The `count` units whose hidden state varies most over the steps (default traces)."""
    return list(np.argsort(-h.std(axis=0), kind="stable")[:count])


def themed(theme):
    """Matplotlib rc settings of a theme for the inspect figures (the light one is the house style as it is)."""
    from recipes.common.style import THEMES

    if theme == "light":
        return {}
    c = THEMES[theme]
    return {
        "figure.facecolor": c["page"],
        "axes.facecolor": c["page"],
        "savefig.facecolor": c["page"],
        "text.color": c["ink"],
        "axes.labelcolor": c["ink"],
        "axes.titlecolor": c["ink"],
        "axes.edgecolor": c["muted"],
        "xtick.color": c["muted"],
        "ytick.color": c["muted"],
        "grid.color": c["muted"],
        "legend.labelcolor": c["ink"],
    }


def themed_figures(theme):
    """A context in which every figure and text drawn takes the theme's colours."""
    import matplotlib.pyplot as plt

    return plt.rc_context(themed(theme))


def figure(theme, *args, **kwargs):
    """`style.subplots` in a theme."""
    import matplotlib.pyplot as plt

    from recipes.common import style

    with plt.rc_context(themed(theme)):
        return style.subplots(*args, **kwargs)


def states_figure(item, traces, layer_name, cell_spec, tokens, units, path, theme="light", error=None):
    """Units x time heatmaps of every gate and state of one example, units clustered, and traces of `units`."""
    from recipes.common.style import GATE_COLORS

    names = [name for name in traces if name != "candidate"] + (["candidate"] if "candidate" in traces else [])
    order = unit_order(traces["h"][0])
    steps = traces["h"].shape[1]
    rows = len(names)
    fig, axes = figure(
        theme, rows + 1, 1, figsize=(min(2.5 + 0.16 * steps, 13.0), 1.35 * rows + 2.6), sharex=True, gridspec_kw={"height_ratios": [1] * rows + [1.6]}
    )
    for ax, name in zip(axes, names):
        values = traces[name][0][:, order].T  # (units, time)
        gate = name in ("i", "f", "o", "z", "r")
        image = ax.imshow(
            values,
            aspect="auto",
            interpolation="nearest",
            cmap="viridis" if gate else "RdBu_r",
            vmin=0 if gate else -max(1e-6, float(np.abs(values).max())),
            vmax=1 if gate else max(1e-6, float(np.abs(values).max())),
        )
        ax.grid(False)
        ax.set_yticks([])
        title = "candidate " + ("c̃" if cell_spec.get("cell") == "lstm" else "h̃") if name == "candidate" else NAMES.get(name, name)
        colour = GATE_COLORS.get(GATE_OF.get(name) or ("c" if cell_spec.get("cell") == "lstm" else "h"))
        ax.set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9.5, color=colour, fontweight="bold")
        bar = ax.figure.colorbar(image, ax=ax, pad=0.01, fraction=0.025)
        bar.ax.tick_params(labelsize=7)
    trace_ax = axes[-1]
    for unit, style_ in zip(units, ("-", "--", ":")):
        trace_ax.plot(traces["h"][0][:, unit], style_, color=GATE_COLORS["h"], label=f"h, unit {unit}")
        for gate in [g for g in ("f", "z") if g in traces]:
            trace_ax.plot(traces[gate][0][:, unit], style_, color=GATE_COLORS[gate], alpha=0.8, label=f"{gate}, unit {unit}")
    trace_ax.set_ylabel("chosen units", rotation=0, ha="right", va="center", fontsize=9.5)
    trace_ax.legend(fontsize=7.5, ncol=min(3, 2 * len(units)), loc="upper left", bbox_to_anchor=(1.01, 1.0))
    trace_ax.set_xlabel("time step")
    if tokens is not None and steps <= 80:
        trace_ax.set_xticks(range(steps))
        trace_ax.set_xticklabels([repr(t)[1:-1] if t.strip() == "" else t for t in tokens[:steps]], fontsize=7)
    units_text = f"{traces['h'].shape[-1]} units, clustered by trajectory"
    check = f"; recomputed h equals the layer's output to {error:.0e}" if error is not None else ""
    fig.suptitle(f"{item.label} · {layer_name}: every gate and state over one test input\n{units_text}{check}", fontsize=11)
    from recipes.common import style

    return style.save(fig, path)


def tokens_of(item, x, data_vocabulary=None):
    """Readable tokens of the first example's main input, when its ids map to a vocabulary (else None)."""
    values = next(iter(x.values())) if isinstance(x, dict) else (x[0] if isinstance(x, list) else x)
    values = np.asarray(values)[0]
    if data_vocabulary is None or values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        return None
    if isinstance(data_vocabulary, dict):  # token -> id
        by_id = {index: token for token, index in data_vocabulary.items()}
        data_vocabulary = [by_id.get(i, "?") for i in range(max(by_id) + 1)]
    return [data_vocabulary[int(i)] if 0 <= int(i) < len(data_vocabulary) else "?" for i in values]


def inspect_states(item, path, layer=None, sample=0, units=None, theme="light"):
    """Write the states figure for one test example; returns (path, summary line)."""
    from tools import states

    name, keras_layer, cell, backwards = choose_layer(item, layer, need=states.traceable)
    x, _ = test_batch(item, sample + 1)
    x = _take_one(x, sample)
    traces, error, mask = traced_states(item, name, keras_layer, cell, backwards, x)
    traces = unpadded(traces, mask, 0)
    from tools.architecture import cell_spec

    chosen = units if units else busiest_units(traces["h"][0])
    if len(chosen) > 3:
        raise UsageError(f"The states figure traces up to three units, got {len(chosen)}. Use e.g. --units 0,5,12.")
    bad = [u for u in chosen if not 0 <= u < traces["h"].shape[-1]]
    if bad:
        raise UsageError(f"--units {bad[0]} is not a unit of {name} (it has {traces['h'].shape[-1]}, numbered from 0). Use e.g. --units 0,1.")
    tokens = tokens_of(item, x, item.data.get("vocabulary"))
    tokens = tokens if tokens is None or mask is None else [token for token, keep in zip(tokens, mask[0]) if keep]
    written = states_figure(item, traces, name, cell_spec(cell), tokens, chosen, path, theme, error)
    return written, f"{name}: {traces['h'].shape[1]} steps, units traced {', '.join(map(str, chosen))}; recomputed h matches the layer to {error:.1e}"


def _take_one(x, index):
    if isinstance(x, dict):
        return {key: value[index : index + 1] for key, value in x.items()}
    if isinstance(x, list):
        return [value[index : index + 1] for value in x]
    return x[index : index + 1]


# --- gradients ---


def untrained_twin(item):
    """The same recipe and config, built and not trained (the run's own initialisation, same seed)."""
    import keras

    from tools import runner

    plan = runner.resolve(item.recipe_id, config=item.config)
    keras.utils.set_random_seed(item.config["seed"])
    return Subject(item.recipe_id, item.config, plan.model_module.build_model(item.config))


def describe_chain(cell):
    """'LSTM, 64 units' for a cell (the legend of curves from different models)."""
    from tools.architecture import cell_spec
    from tools.diagram import _cell_text

    spec = cell_spec(cell)
    return f"{_cell_text(spec)}, {spec.get('units')} units"


def gradient_curves(items, layer=None, samples=64, loss_steps=1):
    """([(label, trained, curves, rows)] for every subject and, for a run, its initialisation;
    the loss steps differentiated, None for a sequence loss such as CTC).

    curves: {chain: {"dL/dh": (T,), "dh_T/dx": (T,)}} of the chosen layer (default the first);
    rows: {chain: (T,) |dL/dh(t)|} of every recurrent layer that does not also return its states, in model order
    (the layer x time heatmap; the chosen layer only where another one cannot be unrolled alone).
    """
    from tools import gradients

    found, notes = [], {}
    for item in items:
        x, y = test_batch(item, samples)
        for subject_, trained in ((item, True), (untrained_twin(item), False)) if item.run_dir else ((item, False),):
            name, keras_layer, cell, _ = choose_layer(subject_, layer)
            every = [
                other
                for other in dict.fromkeys(value[0] for value in recurrent_layers(subject_.model).values())
                if not getattr(other, "return_state", False)
            ]
            try:
                try:
                    flows = gradients.flow(subject_.model, every, x, y, loss_steps, jacobian=[keras_layer], notes=notes)
                except ValueError:  # another layer cannot be unrolled alone (it reads an initial state): this one only
                    flows = gradients.flow(subject_.model, keras_layer, x, y, loss_steps, notes=notes)
            except ValueError as error:
                raise UsageError(f"{item.recipe_id}: {error}") from None
            curves = {chain: values for chain, values in flows.items() if "dh_T/dx" in values}
            rows = {chain: values["dL/dh"] for chain, values in flows.items()}
            found.append((describe_chain(cell), trained, curves, rows))
    return found, notes["loss_steps"]


def first_over_last(curve):
    """curve[0] / curve[-1] as text; '—' where the last step gets no gradient (padding there)."""
    return f"{curve[0] / curve[-1]:.1e}" if curve[-1] > 0 else "— (no gradient at the last step: padding)"


def gradients_figure(title, found, loss_steps, path, theme="light"):
    """Top: |dL/dh(t)| and |dh(T)/dx(t)| against t, log scale, one colour per model, solid trained,
    dashed at initialisation. Bottom: log10 |dL/dh(t)| as a (model, layer) x time heatmap."""
    from recipes.common import style

    models = len({label for label, _, _, _ in found}) > 1
    layered = any(len(chains) > 1 for _, _, _, chains in found)
    rows = [
        (" · ".join([label] * (models or not layered) + [chain] * layered + ["trained" if trained else "init"]), values)
        for label, trained, _, chains in found
        for chain, values in chains.items()
    ]
    legend = sum(len(curves) for _, _, curves, _ in found)
    ratios = [4.6, 0.2 * legend, 1.0 + 0.28 * len(rows)]
    fig, axes = figure(theme, 3, 2, figsize=(12, sum(ratios) + 1.0), gridspec_kw={"height_ratios": ratios})
    colours = {}
    for label, trained, curves, _ in found:
        for chain, values in curves.items():
            colour = colours.setdefault((label, chain), style.SERIES[len(colours) % len(style.SERIES)])
            for ax, key in zip(axes[0], ("dL/dh", "dh_T/dx")):
                curve = values[key]
                ax.semilogy(
                    np.arange(len(curve)),
                    curve,
                    "-" if trained else "--",
                    color=colour,
                    linewidth=2 if trained else 1.4,
                    label=f"{label}{'' if len(curves) == 1 else ' · ' + chain.split('/')[-1]}, {'trained' if trained else 'at initialisation'}: first/last {first_over_last(curve)}",
                )
    what = {None: "the sequence's loss", 0: "every step's loss", 1: "the last step's loss"}.get(loss_steps, f"the last {loss_steps} steps' loss")
    axes[0, 0].set_title(f"|∂L/∂h(t)|: how much of {what}\nreaches step t", fontsize=11)
    axes[0, 1].set_title("|∂h(T)/∂x(t)|: how much the last state\ndepends on the input at step t", fontsize=11)
    for ax in axes[0]:
        ax.set_xlabel("time step t")
        ax.grid(True, which="both", alpha=0.25)
    axes[0, 0].set_ylabel("gradient norm (mean over test inputs, log scale)")
    grid = axes[0, 0].get_gridspec()
    for ax in axes[1:].ravel():
        ax.remove()
    key = fig.add_subplot(grid[1, :])
    key.axis("off")
    key.legend(*axes[0, 0].get_legend_handles_labels(), loc="center", ncol=1, fontsize=8.5, frameon=False)
    heat = fig.add_subplot(grid[2, :])
    steps = max(len(values) for _, values in rows)
    matrix = np.full((len(rows), steps), np.nan)
    for k, (_, values) in enumerate(rows):
        matrix[k, : len(values)] = np.log10(np.where(values > 0, values, np.nan))  # no gradient (padding): left blank
    finite = matrix[np.isfinite(matrix)]
    image = heat.imshow(matrix, aspect="auto", cmap="viridis", vmin=np.percentile(finite, 1), vmax=finite.max(), interpolation="nearest")
    heat.set_yticks(range(len(rows)), [name for name, _ in rows], fontsize=8.5)
    heat.grid(False)
    heat.set_xlabel("time step t")
    heat.set_title("log10 |∂L/∂h(t)| of every recurrent layer (rows), the same colour scale for all", fontsize=10.5)
    fig.colorbar(image, ax=heat, pad=0.01, fraction=0.03).set_label("log10 norm", fontsize=8.5)
    fig.suptitle(title, fontsize=12)
    inches = sum(ratios) + 1.0
    fig.subplots_adjust(
        left=max(0.07, 0.02 + 0.0052 * max(len(name) for name, _ in rows)),
        right=0.95,
        top=1 - 0.9 / inches,
        bottom=0.55 / inches,
        hspace=0.32,
        wspace=0.22,
    )
    return style.save(fig, path)


def inspect_gradients(items, path, layer=None, samples=64, loss_steps=1, theme="light"):
    """Write the gradient-flow figure of one or more subjects; returns (path, summary)."""
    found, loss_steps = gradient_curves(items, layer, samples, loss_steps)
    title = f"Gradient flow through time · {', '.join(dict.fromkeys(item.recipe_id for item in items))}"
    written = gradients_figure(title, found, loss_steps, path, theme)
    lines = [
        f"{label} ({'trained' if trained else 'init'}) {chain}: |dL/dh| first/last {first_over_last(values['dL/dh'])}"
        for label, trained, curves, _ in found
        for chain, values in curves.items()
    ]
    return written, "; ".join(lines)


# --- spectrum ---

GATE_NAMES = {"lstm": ("i", "f", "c", "o"), "gru": ("z", "r", "h"), "basic": ("h",), "leaky": ("h",)}


def recurrent_blocks(cell):
    """{gate letter: (units, units) recurrent matrix} of a cell, split per gate block (Keras' layout)."""
    from keras import ops

    from tools.architecture import cell_spec
    from tools.weights import cell_blocks

    kind = cell_spec(cell).get("cell")
    if kind not in GATE_NAMES:
        raise UsageError(f"No recurrent matrix to read in a {type(cell).__name__} (spectrum reads basic, leaky, LSTM and GRU cells).")
    matrix = ops.convert_to_numpy(cell.recurrent_kernel) if kind == "leaky" else cell_blocks(cell)["recurrent_kernel"]
    return dict(zip(GATE_NAMES[kind], np.split(np.asarray(matrix, dtype=np.float64), len(GATE_NAMES[kind]), axis=1)))


def pascanu_bound(cell, gate):
    """1/γ for a gate's nonlinearity (Pascanu, Mikolov & Bengio 2013): 1 for tanh, 4 for sigmoid."""
    from tools.architecture import cell_spec

    spec = cell_spec(cell)
    name = spec.get("activation", "tanh") if gate in ("h", "c") else spec.get("recurrent_activation", "sigmoid")
    return {"tanh": 1.0, "sigmoid": 4.0, "hard_sigmoid": 6.0, "relu": 1.0}.get(name)


def spectrum_figure(title, rows, path, theme="light", radius=None):
    """Per gate block: eigenvalues in the complex plane with the unit circle, and sorted singular values with the bound.

    rows: [(gate, cell, {"at initialisation": matrix, "trained": matrix})].
    """
    from recipes.common import style

    height = 3.7 * len(rows) + 1.3
    fig, axes = figure(theme, len(rows), 2, figsize=(11, height), squeeze=False, gridspec_kw={"width_ratios": [1, 1.5]})
    fig.subplots_adjust(top=1 - 0.95 / height, bottom=0.7 / height, hspace=0.42, wspace=0.22)
    looks = {"at initialisation": dict(color=style.SERIES[1], alpha=0.55), "trained": dict(color=style.SERIES[0], alpha=0.9)}
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 361))
    for (gate, cell, matrices), (plane, values) in zip(rows, axes):
        colour = style.GATE_COLORS.get(gate, "#444444")
        block = _block_title(cell, gate)
        plane.plot(circle.real, circle.imag, color="#888888", linewidth=1)
        if radius:
            plane.plot(radius * circle.real, radius * circle.imag, ":", color=colour, linewidth=1.2)
        radii = []
        for when, matrix in matrices.items():
            eig = np.linalg.eigvals(matrix)
            singular = np.linalg.svd(matrix, compute_uv=False)
            plane.scatter(eig.real, eig.imag, s=9, **looks[when])
            values.semilogy(
                np.arange(1, len(singular) + 1), singular, "-" if when == "trained" else "--", label=f"{when}: σ₁ {singular[0]:.2f}", **looks[when]
            )
            radii.append(f"{np.abs(eig).max():.2f}")
        bound = pascanu_bound(cell, gate)
        if bound:
            values.axhline(
                bound,
                color=colour,
                linewidth=1.2,
                linestyle=":",
                label=f"1/γ = {bound:g}: σ₁ below it suffices for vanishing gradients\n(Pascanu et al. 2013)",
            )
        plane.set_aspect("equal")
        plane.set_title(f"{block}\neigenvalues, largest |λ| {' → '.join(radii)}", color=colour, fontsize=10)
        plane.set_xlabel("real")
        plane.set_ylabel("imaginary")
        values.set_title(f"{block}: singular values, largest first", color=colour, fontsize=10)
        values.set_xlabel("rank")
        values.legend(fontsize=8, loc="lower left")
    from matplotlib.lines import Line2D

    keys = [Line2D([], [], color="#888888", label="unit circle |λ| = 1")]
    keys += [Line2D([], [], marker="o", linestyle="", label=f"eigenvalues {when}", **looks[when]) for when in rows[0][2]]
    if radius:
        keys.append(Line2D([], [], color="#888888", linestyle=":", label=f"the chosen spectral radius {radius:g}"))
    fig.legend(handles=keys, loc="lower center", ncol=len(keys), fontsize=8.5, frameon=False)
    fig.suptitle(title, fontsize=12, y=1 - 0.2 / height, va="top")
    return style.save(fig, path)


def _block_title(cell, gate):
    """What a recurrent block is called: the gate it feeds, or W itself for a cell with one block."""
    from recipes.common.style import GATE_TITLES

    return "W, hidden to hidden" if _kind(cell) in ("basic", "leaky") else f"W of the {GATE_TITLES.get(gate, gate)}"


def inspect_spectrum(item, path, layer=None, theme="light"):
    """Write the spectrum figure of one recurrent layer, trained against its initialisation; returns (path, summary)."""
    name, _, cell, _ = choose_layer(item, layer)
    cell = weights_of(cell)
    blocks = recurrent_blocks(cell)
    before = {}
    fixed = cell_spec_of(cell).get("trainable") is False  # a reservoir: the matrix training never changes
    if item.run_dir and not fixed:
        twin = untrained_twin(item)
        before = recurrent_blocks(weights_of(choose_layer(twin, name)[2]))
    rows = []
    for gate, matrix in blocks.items():
        matrices = {"at initialisation": before[gate]} if before else {}
        matrices["trained" if item.run_dir and not fixed else "at initialisation"] = matrix
        rows.append((gate, cell, matrices))
    radius = item.config.get("spectral_radius") if _kind(cell) == "leaky" else None
    which = (
        "the recurrent weight matrix"
        + ("" if _kind(cell) in ("basic", "leaky") else " of each gate")
        + (", fixed at initialisation" if fixed else "")
    )
    title = f"{item.label} · {name}\n{describe_chain(cell)}: {which}"
    written = spectrum_figure(title, rows, path, theme, radius)
    summary = "; ".join(
        f"{gate}: "
        + ", ".join(
            f"{when} max|λ| {np.abs(np.linalg.eigvals(m)).max():.3f} σ₁ {np.linalg.svd(m, compute_uv=False)[0]:.3f}" for when, m in matrices.items()
        )
        for gate, _, matrices in rows
    )
    return written, summary


def cell_spec_of(cell):
    from tools.architecture import cell_spec

    return cell_spec(cell)


def weights_of(cell):
    """The cell that holds the recurrent weights: the cell itself, or the one a wrapper (a closed loop) runs."""
    own = getattr(cell, "diagram_spec", None)
    return own().get("wraps", cell) if callable(own) else cell


def _kind(cell):
    return cell_spec_of(cell).get("cell")


def parse_units(text, most=6):
    """[3, 17] for "--units 3,17" (None when not given).

    Raises:
        UsageError: not a comma-separated list of unit numbers.
    """
    if text is None:
        return None
    try:
        units = [int(part) for part in text.split(",")]
    except ValueError:
        raise UsageError(f"--units takes unit numbers separated by commas, got '{text}'. Use e.g. --units 0,5,12.") from None
    if not units or len(units) > most:
        raise UsageError(f"--units takes one to {most} unit numbers, got {len(units)}. Use e.g. --units 0,5,12.")
    return units


def check_counts(sample=0, samples=64, loss_steps=1):
    """Raise a UsageError for a negative --sample, --samples outside 1-1024 or a negative --loss-steps."""
    if sample < 0:
        raise UsageError(f"--sample is the index of a test input, from 0; got {sample}. Use e.g. --sample 0.")
    if not 1 <= samples <= 1024:
        raise UsageError(f"--samples takes 1 to 1,024 test inputs, got {samples}. Use e.g. --samples 64.")
    if loss_steps < 0:
        raise UsageError(f"--loss-steps counts output steps from the end (0 = all), got {loss_steps}. Use e.g. --loss-steps 1.")


# --- states as text (Karpathy, Johnson & Fei-Fei 2015) ---


def text_features(text):
    """{feature: (len(text),) float array} of simple properties of every character (see TEXT_FEATURES)."""
    chars = np.array(list(text))
    position, since = np.zeros(len(text)), 0
    quotes = parentheses = 0
    inside_quotes, inside_parentheses = np.zeros(len(text)), np.zeros(len(text))
    speaker = np.zeros(len(text))
    lines = text.split("\n")
    cursor = 0
    for line in lines:  # a speaker's line ends with ':' (the corpus' "Name:" lines)
        if line.rstrip().endswith(":"):
            speaker[cursor : cursor + len(line)] = 1
        cursor += len(line) + 1
    for index, char in enumerate(text):
        position[index] = since
        since = 0 if char == "\n" else since + 1
        if char == '"':
            quotes += 1
        inside_quotes[index] = quotes % 2
        parentheses += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        inside_parentheses[index] = parentheses > 0
    after_space = np.concatenate([[0.0], (chars[:-1] == " ").astype(float)])
    return {
        "position_in_line": position,
        "inside_quotes": inside_quotes,
        "after_space": after_space,
        "inside_parentheses": inside_parentheses,
        "speaker_line": speaker,
        "uppercase": np.array([c.isupper() for c in text], dtype=float),
    }


def correlated_units(values, feature):
    """[(unit, Pearson r)] of every unit's activation with a feature, strongest |r| first (r = 0 for a constant)."""
    centred = values - values.mean(axis=0)
    target = feature - feature.mean()
    denominator = np.sqrt((centred**2).sum(axis=0) * (target**2).sum())
    r = np.divide(centred.T @ target, denominator, out=np.zeros(values.shape[1]), where=denominator > 0)
    order = np.argsort(-np.abs(r), kind="stable")
    return [(int(unit), float(r[unit])) for unit in order]


def text_states(item, layer=None, length=3000):
    """(chain name, text, activations (length, units), max error): one long stretch of held-out text run through a layer.

    The activation is tanh(c) for an LSTM (the cell Karpathy et al. read), h otherwise.
    """
    from tools import runner, states

    vocabulary = item.data.get("vocabulary")
    _, split = runner.evaluation_split(item.data)
    ids = np.asarray(split[0]) if isinstance(split, (tuple, list)) else None
    if not isinstance(vocabulary, str) or ids is None or ids.ndim != 2:
        raise UsageError(f"{item.recipe_id} does not read text one character at a time, so --text has nothing to shade. Use it with char_rnn.")
    name, keras_layer, cell, backwards = choose_layer(item, layer, need=states.traceable)
    sequence = ids.reshape(1, -1)[:, :length]  # the held-out windows are consecutive: one stretch of text
    traces, error, _ = traced_states(item, name, keras_layer, cell, backwards, sequence)
    values = np.tanh(traces["c"][0]) if "c" in traces else traces["h"][0]
    return name, "".join(vocabulary[i] for i in sequence[0]), values, error


def text_figure(title, text, values, panels, path, theme="light", shown=720, width=90):
    """Each character of `text` on a background shaded by one unit's activation, one panel per (unit, heading)."""
    import matplotlib

    from recipes.common import style

    row, column, places = 0, 0, []
    for char in text[:shown]:  # wrap at `width`, break at newlines (drawn as ↵)
        places.append((row, column))
        column += 1
        if char == "\n" or column >= width:
            row, column = row + 1, 0
    rows, width = row + 1, max(c for _, c in places) + 1
    panel = 0.19 * rows
    inches = panel * len(panels) + 0.75 * (len(panels) - 1) + 1.35
    fig, axes = figure(theme, len(panels), 1, figsize=(max(6.0, 0.094 * width + 0.6), inches), squeeze=False)
    fig.subplots_adjust(left=0.03, right=0.97, top=1 - 1.2 / inches, bottom=0.1 / inches, hspace=0.75 / panel)
    cmap = matplotlib.colormaps["RdBu_r"]
    for ax, (unit, heading) in zip(axes[:, 0], panels):
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(rows - 0.5, -0.5)
        ax.set_axis_off()
        for index, (r, c) in enumerate(places):
            value = float(values[index, unit])  # the shade stops short of the map's darkest ends, so the text stays readable
            ax.add_patch(matplotlib.patches.Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=cmap(0.5 + 0.36 * value), edgecolor="none"))
            char = text[index]
            ax.text(c, r, "↵" if char == "\n" else char, fontsize=8.5, family="DejaVu Sans Mono", ha="center", va="center", color="#111111")
        ax.set_title(heading, fontsize=10, loc="left")
    fig.suptitle(title, fontsize=11)
    return style.save(fig, path)


def inspect_text(item, path, layer=None, units=None, find=None, theme="light"):
    """Shade held-out text by chosen units, or by the units most correlated with a feature (`find`); returns (path, summary)."""
    if find is not None and find not in TEXT_FEATURES:
        raise UsageError(f"Unknown --find feature '{find}'.{did_you_mean(find, TEXT_FEATURES)} Use one of: {', '.join(TEXT_FEATURES)}.")
    name, text, values, error = text_states(item, layer)
    bad = [u for u in units or [] if not 0 <= u < values.shape[1]]
    if bad:
        raise UsageError(f"--units {bad[0]} is not a unit of {name} (it has {values.shape[1]}, numbered from 0). Use e.g. --units 0,1.")
    what = "tanh(c)" if "LSTM" in describe_chain(choose_layer(item, name)[2]) else "h"
    if find is not None:
        feature = text_features(text)[find]
        if feature.std() == 0:
            others = ", ".join(key for key in TEXT_FEATURES if key != find)
            raise UsageError(f"'{find}' ({TEXT_FEATURES[find]}) never changes in these {len(text)} held-out characters. Try one of: {others}.")
        ranked = correlated_units(values, feature)
        chosen = units or [unit for unit, _ in ranked[:2]]
        r = dict(ranked)
        panels = [(u, f"unit {u} of {name}: correlation r = {r[u]:+.2f} with\n“{TEXT_FEATURES[find]}”") for u in chosen]
        summary = f"{find}: strongest units " + ", ".join(f"{u} (r {v:+.2f})" for u, v in ranked[:5])
    else:
        chosen = units or busiest_units(values, 2)
        panels = [(u, f"unit {u} of {name}") for u in chosen]
        summary = f"units {', '.join(map(str, chosen))}"
    title = f"{item.label}\nheld-out text, each character shaded by {what} of one unit (blue −1, white 0, red +1)"
    return text_figure(
        title, text, values, panels, path, theme
    ), f"{summary}; {len(text)} characters; recomputed states match the layer to {error:.1e}"


def saturation_figure(title, traces, path, theme="light"):
    """Karpathy et al.'s saturation plot: per gate unit, the fraction of steps below 0.1 against above 0.9."""
    from recipes.common import style

    gates = [g for g in ("i", "f", "o", "z", "r") if g in traces]
    fig, ax = figure(theme, 1, 1, figsize=(6.2, 6.0))
    ax.plot([0, 1], [1, 0], color="#999999", linewidth=0.8)
    for gate in gates:
        values = traces[gate].reshape(-1, traces[gate].shape[-1])
        left, right = (values < 0.1).mean(axis=0), (values > 0.9).mean(axis=0)
        ax.scatter(left, right, s=16, alpha=0.75, color=style.GATE_COLORS[gate], label=style.GATE_TITLES[gate])
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("fraction of steps left-saturated (below 0.1)")
    ax.set_ylabel("fraction of steps right-saturated (above 0.9)")
    ax.legend(loc="upper right")
    ax.set_title(title, fontsize=10.5)
    return style.save(fig, path)


def inspect_saturation(item, path, layer=None, samples=64, theme="light"):
    """Write the gate saturation scatter over `samples` test inputs; returns (path, summary)."""
    from tools import states

    name, keras_layer, cell, backwards = choose_layer(item, layer, need=lambda c: states.traceable(c) and _kind(c) in ("lstm", "gru"))
    x, _ = test_batch(item, samples)
    traces, error, mask = traced_states(item, name, keras_layer, cell, backwards, x)
    title = f"{item.label} · {name} ({describe_chain(cell)})\ngate saturation over {traces['h'].shape[0]} test inputs"
    traces = unpadded(traces, mask)
    summary = "; ".join(
        f"{gate}: {int(((traces[gate] > 0.9).mean(axis=(0, 1)) > 0.5).sum())} units open more than half the time"
        for gate in ("i", "f", "o", "z", "r")
        if gate in traces
    )
    return saturation_figure(title, traces, path, theme), summary


def inspect_history(item, path, layer=None, hinton=False, theme="light"):
    """The ridge view of a run's recorded weights per gate (or, with `hinton`, a small cell's recurrent weights); returns (path, summary)."""
    from tools import history, runner
    from tools.weights import cell_blocks, cell_gates

    name, _, cell, _ = choose_layer(item, layer, need=lambda c: cell_gates(weights_of(c)))
    cell = weights_of(cell)
    if hinton:
        units = np.asarray(cell_blocks(cell)["recurrent_kernel"]).shape[0]
        if units > 32:
            raise UsageError(f"Hinton diagrams are for small layers (32 units at most); {name} has {units}. Drop --hinton for the ridge view.")
        title = f"{item.label} · {name} ({describe_chain(cell)}): recurrent weights per gate"
        return history.hinton_figure(title, cell_blocks(cell), cell_gates(cell), path, theme), f"{name}: {units} x {units} per gate"
    record_path = Path(item.run_dir or ".") / history.HISTORY_FILE
    if item.run_dir is None or not record_path.exists():
        raise UsageError(
            f"No weight history to draw: train with 'recipe run {item.recipe_id} --record weights' and pass its run directory (or use --hinton)."
        )
    record = runner.read_json(record_path)
    cells = list(record["epochs"][-1]["cells"])
    cell_name = next((c for c in cells if c == name or c.startswith(f"{name}/") or c.split("/")[0] == name.split("/")[0]), cells[0])
    title = f"{item.label} · {cell_name} ({describe_chain(cell)}): weight distributions per gate, epoch by epoch"
    written = history.ridge_figure(title, record, cell_name, path, theme)
    return written, f"{cell_name}: {len(record['epochs'])} snapshots (epochs {record['epochs'][0]['epoch']} to {record['epochs'][-1]['epoch']})"


# --- occlusion (Zeiler & Fergus 2013) ---


def convolution_layers(model):
    """{name: layer} of the model's convolution layers (keras Conv*), in graph order."""
    from tools.architecture import _is_convolution

    return {layer.name: layer for layer in model.layers if _is_convolution(layer) and "Pool" not in type(layer).__name__}


def needs_convolutions(item):
    """Occlusion and maximization cover or synthesize a real-valued signal (time x features) read by convolutions.

    Raises:
        UsageError: no convolution, or an input that is not a float signal (token ids, μ-law codes).
    """
    if not convolution_layers(item.model):
        raise UsageError(f"{item.recipe_id} has no convolution, so occlusion and activation maximization do not apply. Try 'states' or 'gradients'.")
    signal = item.model.inputs[0]
    if len(item.model.inputs) != 1 or len(signal.shape) != 3 or "int" in str(signal.dtype):
        raise UsageError(
            f"{item.recipe_id} reads {tuple(signal.shape)} {signal.dtype} values, not one real-valued signal (time x features), "
            "so occlusion and activation maximization do not apply. Try raw_waveform_cnn or deepspeech2_ctc."
        )


def per_example_loss(model, x, y):
    """The model's own loss for each example of a batch (classification: -log p(correct); CTC: the CTC loss).

    One compiled forward pass (predict_on_batch) and one unreduced loss over the whole batch.
    """
    import keras

    prediction = model.predict_on_batch(x)
    loss = model.loss
    function = keras.losses.get(loss) if isinstance(loss, str) else loss.call  # .call: no reduction over the batch
    values = np.asarray(keras.ops.convert_to_numpy(function(keras.ops.convert_to_tensor(y), keras.ops.convert_to_tensor(prediction))))
    return values.reshape(values.shape[0], -1).mean(axis=1)


def signal_end(x):
    """The length of one input (1, time, features) without its trailing padding (repeats of its last frame)."""
    frames = x[0].reshape(x.shape[1], -1)
    same = np.all(frames == frames[-1], axis=1)
    end = len(same)
    while end > 1 and same[end - 1]:
        end -= 1
    return min(len(same), end + 1)


def occlusion_map(model, x, y, patch, stride, fill, length=None):
    """Rise of the model's loss when a patch of `fill` covers each place of one input x (1, time, features).

    Args:
        patch: (time, features) size of the patch; features = all of them for a waveform.
        stride: (time, features) step between patches.
        fill: the value the patch holds (0 for silence, the input's mean for a grey spectrogram).
        length: cover only the first `length` steps (the signal before its padding); default all.

    Returns:
        (rise (rows, columns), starts in time, starts in features, the unoccluded loss).
    """
    base = per_example_loss(model, x, y)[0]
    length, width = length or x.shape[1], x.shape[2]
    times = list(range(0, max(1, length - patch[0] + 1), stride[0]))
    bands = list(range(0, max(1, width - patch[1] + 1), stride[1]))
    places = [(t, f) for t in times for f in bands]
    rise = np.zeros(len(places))
    for start in range(0, len(places), 64):  # 64 occluded copies per forward pass
        chunk = places[start : start + 64]
        batch = np.repeat(x, len(chunk), axis=0)
        for k, (t, f) in enumerate(chunk):
            batch[k, t : t + patch[0], f : f + patch[1]] = fill
        rise[start : start + len(chunk)] = per_example_loss(model, batch, np.repeat(y, len(chunk), axis=0)) - base
    return rise.reshape(len(times), len(bands)), times, bands, base


def occlusion_figure(title, x, rise, times, bands, patch, loss_name, base, path, theme="light"):
    """The input (waveform or spectrogram) above the rise of the loss when each of its regions is covered, on one time axis."""
    from recipes.common import style

    spectrogram = x.shape[2] > 1
    fig, (top, bottom) = figure(theme, 2, 1, figsize=(11, 6.4), sharex=True, gridspec_kw={"height_ratios": [1, 1.15]})
    if spectrogram:
        top.imshow(x[0].T, aspect="auto", origin="lower", cmap="magma", interpolation="nearest", extent=(0, x.shape[1], 0, x.shape[2]))
        top.set_ylabel("feature (mel band)")
        limit = max(float(np.abs(rise).max()), 1e-9)
        image = bottom.imshow(
            rise.T,
            aspect="auto",
            origin="lower",
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
            interpolation="nearest",
            extent=(times[0], times[-1] + (times[1] - times[0] if len(times) > 1 else patch[0]), 0, x.shape[2]),
        )
        bottom.set_ylabel("feature (mel band)")
        fig.colorbar(image, ax=[top, bottom], pad=0.01, fraction=0.03).set_label(f"rise of the {loss_name} when covered")
    else:
        top.plot(np.arange(x.shape[1]), x[0, :, 0], color=style.SERIES[0], linewidth=0.6)
        top.set_ylabel("waveform")
        centres = np.asarray(times) + patch[0] / 2
        bottom.plot(centres, rise[:, 0], color=style.SERIES[1], linewidth=1.6)
        bottom.axhline(0, color="#999999", linewidth=0.8)
        bottom.set_ylabel(f"rise of the {loss_name}\nwhen covered")
    for ax in (top, bottom):
        ax.grid(False)
    bottom.set_xlabel(f"input step (a patch of {patch[0]} steps" + (f" x {patch[1]} bands)" if spectrogram else ")"))
    fig.suptitle(f"{title}\nloss of the whole input {base:.3f}; red: covering it hurts, blue: covering it helps", fontsize=11)
    return style.save(fig, path)


def inspect_occlusion(item, path, sample=0, theme="light"):
    """Write the occlusion figure for one test input; returns (path, summary)."""
    needs_convolutions(item)
    x, y = test_batch(item, sample + 1)
    if isinstance(x, (dict, list)):
        raise UsageError(f"{item.recipe_id} reads several inputs; occlusion covers a single input sequence.")
    x, y = np.array(x[sample : sample + 1], dtype=np.float32), np.asarray(y[sample : sample + 1])
    end = signal_end(x)  # the model reads the padding as it was trained to; only the signal is covered and shown
    spectrogram = x.shape[2] > 1
    # About 32 x 8 patches over a spectrogram (time x bands), 80 half-overlapping ones along a waveform: a few hundred passes.
    patch = (max(2, end // 32), max(1, x.shape[2] // 8)) if spectrogram else (max(2, end // 40), 1)
    stride = patch if spectrogram else (max(1, patch[0] // 2), 1)
    fill = float(x[:, :end].mean()) if spectrogram else 0.0
    rise, times, bands, base = occlusion_map(item.model, x, y, patch, stride, fill, end)
    loss_name = "CTC loss" if "ctc" in str(item.model.loss).lower() else "loss"
    title = f"Occlusion · {item.label} · test input {sample}"
    written = occlusion_figure(title, x[:, :end], rise, times, bands, patch, loss_name, base, path, theme)
    peak = np.unravel_index(np.argmax(rise), rise.shape)
    return written, f"{len(times) * len(bands)} patches; largest rise {rise.max():.3f} at step {times[peak[0]]}" + (
        f", band {bands[peak[1]]}" if spectrogram else ""
    )


# --- activation maximization (Yosinski, Clune, Nguyen, Fuchs & Lipson 2015) ---


def unit_activation(sub, x, units):
    """Each example's own unit at the middle output position: x[i] drives units[i]; keras tensors in and out."""
    from keras import ops

    from tools.gradients import call

    activation = call(sub, x)
    middle = activation.shape[1] // 2
    picked = activation[:, middle]  # (batch, channels) or (batch, bands, channels)
    if len(picked.shape) == 3:
        picked = ops.mean(picked, axis=1)
    return ops.sum(picked * ops.one_hot(ops.convert_to_tensor(units), picked.shape[-1], dtype=picked.dtype), axis=-1)


def maximize(model, layer, shape, units, steps=160, rate=0.05, decay=0.02, blur_every=4, sigma=0.6, clip=0.1, seed=0):
    """Inputs that excite each of `units` of a convolution layer at the middle position, by regularized gradient ascent.

    The regularizers of Yosinski et al. (2015): L2 decay after every step, a Gaussian blur every
    `blur_every` steps, and clipping of the components smaller than `clip` of the largest to 0.
    The unit's value is taken before the layer's own activation (a ReLU at 0 passes no gradient).

    Returns:
        (inputs (len(units), *shape), activation at the start, activation at the end).
    """
    import keras

    activation = getattr(layer, "activation", None)
    if activation is None or activation is keras.activations.linear:
        return _ascend(model, layer, shape, units, steps, rate, decay, blur_every, sigma, clip, seed)
    # A unit switched off by its ReLU has no gradient: ascend its input before the activation.
    layer.activation = keras.activations.linear
    try:
        return _ascend(model, layer, shape, units, steps, rate, decay, blur_every, sigma, clip, seed)
    finally:
        layer.activation = activation


def _ascend(model, layer, shape, units, steps, rate, decay, blur_every, sigma, clip, seed):
    import keras
    from scipy.ndimage import gaussian_filter

    from tools.gradients import gradients

    sub = keras.Model(model.inputs, layer.output)
    rng = np.random.default_rng(seed)
    x = (0.01 * rng.standard_normal((len(units), *shape))).astype(np.float32)
    units = np.asarray(units)

    def objective(batch):
        return keras.ops.sum(unit_activation(sub, batch, units))

    start = keras.ops.convert_to_numpy(unit_activation(sub, x, units))
    for step in range(steps):
        (gradient,) = gradients(objective, [x])
        x = x + rate * gradient / (np.std(gradient, axis=tuple(range(1, x.ndim)), keepdims=True) + 1e-8)
        x = x * (1 - decay)
        if blur_every and step % blur_every == 0:
            x = gaussian_filter(x, sigma=(0, *[sigma] * (x.ndim - 1))).astype(np.float32)
        largest = np.abs(x).max(axis=tuple(range(1, x.ndim)), keepdims=True)
        x = np.where(np.abs(x) < clip * largest, 0.0, x).astype(np.float32)
    return x, start, keras.ops.convert_to_numpy(unit_activation(sub, x, units))


def top_examples(activation, units, count=3):
    """[(example, output position, activation)] of the test inputs that excite each unit most, per unit.

    Args:
        activation: the layer's output on the test inputs, (examples, positions, [bands,] channels).
    """
    if activation.ndim == 4:
        activation = activation.mean(axis=2)
    found = []
    for unit in units:
        values = activation[..., unit]  # (examples, positions)
        order = np.argsort(-values, axis=None, kind="stable")[:count]
        found.append([(int(i), int(p), float(values[i, p])) for i, p in zip(*np.unravel_index(order, values.shape))])
    return found


def receptive_window(model, layer, position, length):
    """(first, last) input steps read by `layer`'s output at `position`: the time axis of every convolution and
    pooling layer up to it (kernel, dilation, stride; 'same' or 'causal' padding), clipped to the input."""
    from tools.architecture import _convolution_config, _is_convolution

    field, jump, causal = 1, 1, True
    for each in model.layers:
        if _is_convolution(each):
            config = _convolution_config(each)
            field += (config["kernel_size"] - 1) * config["dilation_rate"] * jump
            jump *= config["strides"]
            causal = causal and config["padding"] == "causal"
        if each is layer:
            break
    centre = position * jump + (jump - 1) // 2
    first = centre - (field - 1) if causal else centre - (field - 1) // 2
    first = min(max(0, first), max(0, length - field))
    return first, min(length - 1, first + field - 1)


def choose_convolution(item, layer=None):
    """(name, layer) of a convolution layer: `layer`, else the first.

    Raises:
        UsageError: no convolution, or none called `layer` (the message lists them).
    """
    needs_convolutions(item)
    layers = convolution_layers(item.model)
    name = layer or next(iter(layers))
    if name not in layers:
        raise UsageError(f"{item.recipe_id} has no convolution layer '{name}'.{did_you_mean(name, layers)} Its convolutions: {', '.join(layers)}.")
    return name, layers[name]


def maximize_figure(title, columns, rows, path, theme="light"):
    """rows: [(row label, [(panel title, array (time, features))...])]: spectrogram crops as images, waveforms as lines."""
    from recipes.common import style

    fig, axes = figure(theme, len(rows), len(columns), figsize=(2.55 * len(columns) + 1.2, 1.55 * len(rows) + 1.0), squeeze=False)
    for r, (label, panels) in enumerate(rows):
        for c, (heading, crop) in enumerate(panels):
            ax = axes[r][c]
            if crop.shape[1] > 1:
                ax.imshow(crop.T, aspect="auto", origin="lower", cmap="magma", interpolation="nearest")
            else:
                ax.plot(crop[:, 0], color=style.SERIES[0 if c == 0 else 2], linewidth=0.8)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            ax.set_title(heading, fontsize=8.5)
            if c == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    for c, heading in enumerate(columns):
        axes[0][c].set_title(f"{heading}\n{axes[0][c].get_title()}", fontsize=8.5)
    fig.suptitle(title, fontsize=11)
    return style.save(fig, path)


def inspect_maximize(item, path, layer=None, units=None, theme="light"):
    """Synthesized inputs that excite units of a convolution layer, next to the test inputs that excite them most; returns (path, summary)."""
    import keras

    name, conv = choose_convolution(item, layer)
    channels = conv.output.shape[-1]
    bad = [u for u in units or [] if not 0 <= u < channels]
    if bad:
        raise UsageError(f"--units {bad[0]} is not a unit of {name} (it has {channels} channels, numbered from 0). Use e.g. --units 0,1.")
    x, _ = test_batch(item, 64)
    if isinstance(x, (dict, list)):
        raise UsageError(f"{item.recipe_id} reads several inputs; activation maximization synthesizes a single input sequence.")
    x = np.asarray(x, dtype=np.float32)
    activation = np.asarray(keras.Model(item.model.inputs, conv.output).predict_on_batch(x))
    if not units:  # the six units most active on the test inputs
        units = [int(u) for u in np.argsort(-activation.reshape(-1, channels).mean(axis=0), kind="stable")[:6]]
    synthesized, start, end = maximize(item.model, conv, x.shape[1:], units)
    tops = top_examples(activation, units)
    rows = []
    for k, unit in enumerate(units):
        first, last = receptive_window(item.model, conv, activation.shape[1] // 2, x.shape[1])
        panels = [(f"activation {start[k]:.2f} → {end[k]:.2f}", synthesized[k, first : last + 1])]
        for example, place, value in tops[k]:
            a, b = receptive_window(item.model, conv, place, x.shape[1])
            panels.append((f"test input {example}: {value:.2f}", x[example, a : b + 1]))
        rows.append((f"unit {unit}", panels))
    columns = ["synthesized from noise", "most exciting test input", "second", "third"][: 1 + len(tops[0])]
    title = f"Activation maximization · {item.label} · {name}: what excites single units (Yosinski et al. 2015)"
    written = maximize_figure(title, columns, rows, path, theme)
    gains = ", ".join(f"unit {u}: {s:.2f} → {e:.2f}" for u, s, e in zip(units, start, end))
    return written, f"activation at the middle position, from noise to the end of the ascent: {gains}"


# --- attention ---


def attention_output(model):
    """(layer, index of its attention-weights output) of the model's attending decoder, or None."""
    for layer in model.layers:
        spec = getattr(layer, "diagram_spec", None)
        spec = spec() if callable(spec) else None
        if spec and "attention" in (spec.get("arguments") or {}).values() and "attention_weights" in spec.get("outputs", ()):
            return layer, list(spec["outputs"]).index("attention_weights")
    return None


def inspect_attention(item, path, sample=0, theme="light"):
    """The attention weights of one test input: a heatmap, and as edges from every encoder step to every decoder step; returns (path, summary)."""
    import keras

    from tools.gradients import call

    found = attention_output(item.model)
    if found is None:
        raise UsageError(f"{item.recipe_id} has no attention layer, so there are no attention weights to draw. Try seq2seq_attention.")
    layer, index = found
    x, _ = test_batch(item, sample + 1)
    x = _take_one(x, sample)
    weights = keras.ops.convert_to_numpy(call(keras.Model(item.model.inputs, layer.output[index]), x))[0]  # (Td, Te)
    vocabulary = item.data.get("vocabulary")
    values = list(x.values()) if isinstance(x, dict) else x
    source, target = (np.asarray(v)[0] for v in values[:2]) if isinstance(x, dict) else (None, None)
    source_length = int(np.count_nonzero(source)) if source is not None else weights.shape[1]
    target_length = int(np.count_nonzero(target)) if target is not None else weights.shape[0]
    weights = weights[:target_length, :source_length]
    token = (lambda ids, k: vocabulary[int(ids[k])]) if vocabulary is not None else (lambda ids, k: str(k))
    source_tokens = [token(source, k) for k in range(source_length)] if source is not None else list(map(str, range(source_length)))
    # The decoder reads y(t-1) at step t: the token it writes at step t is the next input (or <end>).
    written = (
        [token(target, k + 1) if k + 1 < target_length else "$" for k in range(target_length)]
        if target is not None
        else list(map(str, range(target_length)))
    )
    title = f"Attention · {item.label} · test input {sample}: the decoder's weights over the encoder's steps (teacher-forced)"
    return attention_figure(
        title, weights, source_tokens, written, path, theme
    ), f"{target_length} decoder steps x {source_length} encoder steps; mean largest weight {weights.max(axis=1).mean():.2f}"


def attention_figure(title, weights, source_tokens, output_tokens, path, theme="light"):
    """Left: the classic heatmap. Right: encoder steps h(i) below, decoder steps s(j) above, edges with opacity = weight."""
    from recipes.common import style
    from recipes.common.style import THEMES

    fig, (heat, graph) = figure(theme, 1, 2, figsize=(14, 5.8), gridspec_kw={"width_ratios": [1, 1.6]})
    image = heat.imshow(weights, cmap="viridis", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    heat.set_xticks(range(len(source_tokens)))
    heat.set_xticklabels(source_tokens, fontsize=8)
    heat.set_yticks(range(len(output_tokens)))
    heat.set_yticklabels(output_tokens, fontsize=8)
    heat.set_xlabel("encoder step (input token)")
    heat.set_ylabel("decoder step (token written)")
    heat.grid(False)
    fig.colorbar(image, ax=heat, fraction=0.04, pad=0.02).set_label("attention weight α")
    colours = THEMES[theme]
    te, td = weights.shape[1], weights.shape[0]
    span = max(te, td) - 1 or 1
    xs_enc = np.linspace(0, span, te)
    xs_dec = np.linspace(0, span, td)
    for j in range(td):
        for i in range(te):
            if weights[j, i] > 0.01:
                graph.plot(
                    [xs_enc[i], xs_dec[j]],
                    [0, 1],
                    color=colours["weights"]["U"],
                    alpha=float(min(1.0, weights[j, i])),
                    linewidth=0.6 + 2.4 * weights[j, i],
                )
    graph.scatter(xs_enc, np.zeros(te), s=180, color=colours["fill"]["hidden"], edgecolor=colours["ink"], zorder=3)
    graph.scatter(xs_dec, np.ones(td), s=180, color=colours["fill"]["hidden"], edgecolor=colours["ink"], zorder=3)
    for x, tokenised in zip(xs_enc, source_tokens):
        graph.text(x, -0.09, tokenised, ha="center", va="top", fontsize=8.5)
    for x, tokenised in zip(xs_dec, output_tokens):
        graph.text(x, 1.09, tokenised, ha="center", va="bottom", fontsize=8.5)
    graph.text(-0.04 * span, 0, "encoder $\\boldsymbol{h}^{(i)}$", ha="right", va="center", fontsize=10)
    graph.text(-0.04 * span, 1, "decoder $\\boldsymbol{s}^{(j)}$", ha="right", va="center", fontsize=10)
    graph.set_xlim(-0.2 * span, 1.03 * span)
    graph.set_ylim(-0.35, 1.35)
    graph.set_axis_off()
    graph.set_title("the same weights as edges: opacity and width ∝ α(j, i)", fontsize=10)
    fig.suptitle(title, fontsize=11)
    return style.save(fig, path)
