"""Whole-sequence accuracy and parameter count, and a figure of where in the depth each sub-result lives.

The figure's right panel reads each recurrent layer with a linear probe: a ridge
regression from the layer's states to one-hot targets, fitted on half of the test
sequences and scored on the other half. If depth is used the way section 10.5 of the
book suggests, lower layers make the product p_t = a_t * b_t mod m linearly readable
and higher layers the running value y_t.
"""

import keras
import numpy as np

# Ridge penalty of the linear probes: small, only there to keep the solve well posed.
PROBE_PENALTY = 1e-2


def recurrent_layer_names(model):
    """Names of the model's recurrent layers, bottom to top."""
    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.RNN)]


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "sequence_accuracy",
    "parameters",
)


def evaluate(model, data, config):
    """sequence_accuracy (test sequences with every step right) and the trainable parameter count."""
    x, y = data["test"]
    predicted = np.argmax(model.predict(x, batch_size=config["batch_size"], verbose=0), axis=-1)
    parameters = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return {"sequence_accuracy": float(np.mean(np.all(predicted == y, axis=1))), "parameters": float(parameters)}


def probe_accuracy(states, labels, num_classes):
    """Accuracy of a linear probe from `states` to `labels`, fitted on the first half, scored on the second.

    Args:
        states: (sequences, time, features) layer outputs.
        labels: (sequences, time) int labels.
        num_classes: number of label values.

    Returns:
        The float held-out accuracy (chance is about 1 / num_classes).
    """
    half = len(states) // 2
    features = states.reshape(len(states), -1, states.shape[-1])

    def design(part):
        flat = part.reshape(-1, part.shape[-1]).astype("float64")
        return np.hstack([np.ones((len(flat), 1)), flat])

    train, test = design(features[:half]), design(features[half:])
    targets = np.eye(num_classes)[labels[:half].reshape(-1)]
    weights = np.linalg.solve(train.T @ train + PROBE_PENALTY * np.eye(train.shape[1]), train.T @ targets)
    return float(np.mean(np.argmax(test @ weights, axis=-1) == labels[half:].reshape(-1)))


def layer_probes(model, x, y, modulus):
    """Probe accuracy of each recurrent layer for the product p_t and the running value y_t.

    Returns:
        (layer names, {"product": [...], "running": [...]}) with one accuracy per layer.
    """
    names = recurrent_layer_names(model)
    reader = keras.Model(model.inputs, [model.get_layer(name).output for name in names])
    outputs = reader.predict(x, verbose=0)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    a, b = np.argmax(x[..., :modulus], axis=-1), np.argmax(x[..., modulus:], axis=-1)  # inputs are [a one-hot, b one-hot]
    product = (a * b) % modulus
    scores = {"product": [], "running": []}
    for states in outputs:
        scores["product"].append(probe_accuracy(states, product, modulus))
        scores["running"].append(probe_accuracy(states, y, modulus))
    return names, scores


def demo(model, data, config, out_dir):
    """depth.png: accuracy at each time step, and linear-probe accuracy per layer."""
    from recipes.common import style

    x, y = data["test"]
    modulus = config["modulus"]
    predicted = np.argmax(model.predict(x, batch_size=config["batch_size"], verbose=0), axis=-1)
    per_step = np.mean(predicted == y, axis=0)  # (time,)
    names, scores = layer_probes(model, x, y, modulus)

    if config["architecture"] == "stacked":
        label = f"{config['num_layers']} stacked {config['cell']} layer{'s' if config['num_layers'] > 1 else ''}"
    else:
        label = f"deep transition, {config['num_layers']} layer{'s' if config['num_layers'] > 1 else ''} per step"
    label += ", skip connections" if config["skip_connections"] else ""
    fig, (left, right) = style.subplots(1, 2, figsize=(10, 3.8), layout="constrained", gridspec_kw={"width_ratios": [3, 2]})
    steps = np.arange(1, len(per_step) + 1)
    left.plot(steps, per_step, marker="o", ms=3.5, color=style.SERIES[0], label="model")
    left.axhline(1.0 / modulus, color="black", lw=0.8, ls="--", label=f"chance (1/{modulus})")
    left.set_ylim(0, 1.05)
    left.xaxis.get_major_locator().set_params(integer=True)
    left.set_xlabel("time step t")
    left.set_ylabel("accuracy of y_t")
    left.set_title("test accuracy at each step")
    left.legend(loc="lower left")
    positions = np.arange(len(names))
    width = 0.38
    right.bar(positions - width / 2, scores["product"], width, color=style.SERIES[1], label="p_t = a_t b_t mod m")
    right.bar(positions + width / 2, scores["running"], width, color=style.SERIES[2], label="y_t (running sum)")
    right.axhline(1.0 / modulus, color="black", lw=0.8, ls="--")
    right.set_xticks(positions, [name.replace("recurrent_", "layer ").replace("_", " ") for name in names])
    right.set_ylim(0, 1.32)
    right.set_yticks(np.linspace(0, 1, 6))
    right.set_ylabel("linear probe accuracy")
    right.set_title("what each layer makes linearly readable")
    right.legend(loc="upper center", ncol=2, fontsize=8)
    fig.suptitle(f"deep_rnn: {label}")
    return [style.save(fig, f"{out_dir}/depth.png")]
