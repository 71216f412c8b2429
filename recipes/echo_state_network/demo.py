"""Prediction error as NRMSE, free-running generation, and a figure of both on the test tail."""

import keras
import numpy as np


def nrmse(predicted, target):
    """Root mean squared error divided by the standard deviation of the target (0 is perfect, 1 is "predict the mean")."""
    predicted, target = np.ravel(predicted), np.ravel(target)
    return float(np.sqrt(np.mean((predicted - target) ** 2)) / np.std(target))


class FeedbackCell(keras.layers.Layer):
    """The trained cell and readout run on their own predictions (free-running generation).

    Step: h_t, states_t = cell(s_t, states_{t-1}); s_{t+1} = readout([s_t, h_t]); the
    prediction is the next step's input. The step input is ignored: it only sets how many
    steps to run. The carried state is (cell states, s_t).

    Args:
        cell: the trained reservoir or LSTM cell (shared, not copied).
        readout: the trained Dense readout (shared).
    """

    def __init__(self, cell, readout, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.readout = readout
        inner = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
        self.state_size = list(inner) + [1]
        self.output_size = 1
        self.built = True

    def call(self, inputs, states, training=None):
        *cell_states, s = states
        h, new_states = self.cell(s, cell_states)
        new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
        prediction = self.readout(keras.ops.concatenate([s, h], axis=-1))  # (batch, 1)
        return prediction, [*new_states, prediction]


def free_run(model, context, num_steps):
    """Prime the trained model on `context`, then let it generate `num_steps` values on its own.

    Args:
        model: a trained model from build_model with horizon 1.
        context: (length,) standardised series up to and including s_{T-1}.
        num_steps: values to generate (s_T, s_{T+1}, ...).

    Returns:
        (num_steps,) float array.
    """
    recurrent = model.get_layer("reservoir") if "reservoir" in [layer.name for layer in model.layers] else model.get_layer("lstm")
    cell = recurrent.cell
    prime = keras.Input(shape=(None, 1), name="prime")
    steps = keras.Input(shape=(None, 1), name="steps")
    # The teacher-forced pass stops one step short: the feedback loop starts from the last true value.
    head = keras.layers.Lambda(lambda x: x[:, :-1, :], name="prime_head")(prime)
    last = keras.layers.Lambda(lambda x: x[:, -1, :], name="prime_last")(prime)  # (batch, 1)
    states = keras.layers.RNN(cell, return_state=True, name="priming")(head)[1:]
    generated = keras.layers.RNN(FeedbackCell(cell, model.get_layer("readout")), return_sequences=True, name="free_running")(
        steps, initial_state=[*states, last]
    )
    generator = keras.Model([prime, steps], generated)
    values = generator.predict_on_batch([context[None, :, None].astype("float32"), np.zeros((1, num_steps, 1), "float32")])
    return values[0, :, 0]


def free_run_from_test_start(model, data, config):
    """Generated values over the first free_run_steps of the test tail, and the true ones."""
    series, start = data["series"], data["test_start"]
    num_steps = min(config["free_run_steps"], len(series) - start)
    # The same warm-up the model had in training: `washout` true values before s_{T-1}.
    context = series[max(0, start - config["washout"] - 1) : start]
    return free_run(model, context, num_steps), series[start : start + num_steps]


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "nrmse",
    "log10_nrmse",
    "free_run_nrmse",
)


def evaluate(model, data, config):
    """nrmse and log10_nrmse (the ESN literature's scale: Jaeger & Haas 2004 quote 10^-4.2) of the h-step prediction
    on the test tail; for horizon 1, free_run_nrmse of free-running generation."""
    x, y = data["test"]
    error = nrmse(model.predict(x, verbose=0), y)
    metrics = {"nrmse": error, "log10_nrmse": float(np.log10(error))}
    if config["horizon"] == 1 and config["free_run_steps"] > 0:
        metrics["free_run_nrmse"] = nrmse(*free_run_from_test_start(model, data, config))
    return metrics


def demo(model, data, config, out_dir):
    """prediction.png: the test tail's prediction, its error, and (horizon 1) free-running generation."""
    from recipes.common import style

    x, y = data["test"]
    predicted = model.predict(x, verbose=0)[0, :, 0]
    truth = y[0, :, 0]
    # Back to the series' own units for the figure.
    scale, shift = data["std"], data["mean"]
    start = data["test_start"]
    time = data["time"][start : start + len(truth)]
    generate = config["horizon"] == 1 and config["free_run_steps"] > 0
    name = "echo state network" if config["model"] == "esn" else f"LSTM ({config['lstm_units']} units)"
    fig, axes = style.subplots(
        3 if generate else 2,
        1,
        figsize=(8, 7.8 if generate else 5.2),
        sharex=True,
        layout="constrained",
        gridspec_kw={"height_ratios": [2, 1, 2] if generate else [2, 1]},
    )
    ax = axes[0]
    ax.plot(time, truth * scale + shift, color="black", lw=2.2, alpha=0.35, label="true series")
    ax.plot(time, predicted * scale + shift, color=style.SERIES[0], lw=1.1, label=f"{config['horizon']}-step prediction")
    series_name = {"mackey_glass": "Mackey-Glass", "sunspots": "yearly sunspots"}[config["series"]]
    ax.set_title(f"{name}, {series_name}: held-out tail (NRMSE {nrmse(predicted, truth):.2g})", pad=24)
    ax.set_ylabel("value")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2)
    ax = axes[1]
    ax.plot(time, (predicted - truth) * scale, color=style.SERIES[1], lw=1.0)
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_ylabel(f"{config['horizon']}-step error")
    if generate:
        generated, true_values = free_run_from_test_start(model, data, config)
        ax = axes[2]
        ax.plot(time[: len(true_values)], true_values * scale + shift, color="black", lw=2.2, alpha=0.35, label="true series")
        ax.plot(time[: len(generated)], generated * scale + shift, color=style.SERIES[2], lw=1.1, label="free-running (own predictions fed back)")
        ax.set_title(
            f"free-running generation from the start of the tail (NRMSE {nrmse(generated, true_values):.2g} over {len(generated)} steps)", pad=24
        )
        ax.set_ylabel("value")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2)
    axes[-1].set_xlabel(data["time_unit"])
    return [style.save(fig, f"{out_dir}/prediction.png")]
