"""Continuation error and figure: the trained network runs free after priming on a test curve.

The test inputs (data.py) give the true samples for the first `prime_steps` steps and
mark the rest as not given, so one `predict` call primes the state and then feeds each
prediction back (the loop runs inside the compiled RNN layer, not in Python).
"""

import numpy as np

from recipes.common import style


def continuation(model, data, config):
    """Free-running predictions of the test curves' continuation.

    Returns:
        (num_test, continuation_steps) float32: the predictions of samples
        prime_steps .. prime_steps + continuation_steps - 1. The first is a one-step
        prediction from the last true sample; every later one reads the previous prediction.
    """
    x, _ = data["test"]
    # (num_test, prime_steps + continuation_steps - 1, 1): output t predicts sample t + 1.
    predictions = np.asarray(model.predict_on_batch(x))[..., 0]
    return predictions[:, config["prime_steps"] - 1 :]


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "continuation_mse",
    "next_sample_mse",
)


def evaluate(model, data, config):
    """continuation_mse of the free-running continuation of the held-out curves, and next_sample_mse of teacher-forced
    one-step predictions of the same samples."""
    curves, prime = data["test_curves"], config["prime_steps"]
    truth = curves[:, prime:]
    generated = continuation(model, data, config)
    # Teacher forced: every sample given, so each prediction is one step ahead of the truth.
    given = np.stack([curves[:, :-1], np.ones_like(curves[:, :-1])], axis=-1)
    one_step = np.asarray(model.predict_on_batch(given))[:, prime - 1 :, 0]
    return {
        "continuation_mse": float(np.mean((generated - truth) ** 2)),
        "next_sample_mse": float(np.mean((one_step - truth) ** 2)),
    }


def demo(model, data, config, out_dir, num_curves=4):
    """continuation.png: true and generated curves of `num_curves` test curves spread over the period range."""
    curves, periods = data["test_curves"], data["test_periods"]
    prime = config["prime_steps"]
    generated = continuation(model, data, config)
    # Rows from the longest to the shortest period, evenly spaced through the sorted test set.
    order = np.argsort(periods)[::-1]
    rows = order[np.linspace(0, len(order) - 1, num_curves).round().astype(int)]
    t = np.arange(curves.shape[1])
    fig, axes = style.subplots(num_curves, 1, figsize=(10, 1.6 * num_curves + 0.6), sharex=True, sharey=True)
    for row, (ax, index) in enumerate(zip(np.atleast_1d(axes), rows)):
        ax.axvspan(0, prime - 1, color="0.92", lw=0)
        ax.plot(t, curves[index], color="0.45", lw=1.2, label="true curve")
        ax.plot(t[prime:], generated[index], color=style.SERIES[0], lw=1.2, ls="--", label="generated (free running)")
        ax.axvline(prime - 1, color=style.SERIES[1], lw=1.0, label="priming ends")
        mse = float(np.mean((generated[index] - curves[index, prime:]) ** 2))
        ax.set_title(f"period {periods[index]:.1f} samples: continuation MSE {mse:.3f}", loc="left", fontsize=9)
        ax.set_ylabel("sample x_t")
        ax.set_ylim(-1.6, 1.6)
        if row == 0:
            # Above the first panel, right-aligned, clear of the curves and of the row title.
            ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, fontsize=8)
    ax.set_xlabel("time step t")
    fig.suptitle(
        f"Sine continuation, {config['cell']} cell: primed on {prime} true samples (grey band), "
        f"then fed its own predictions for {config['continuation_steps']} steps"
    )
    return [style.save(fig, f"{out_dir}/continuation.png")]
