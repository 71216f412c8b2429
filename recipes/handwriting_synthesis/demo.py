"""NLL per pen point against a single-Gaussian baseline; sampled handwriting, the soft window and the predicted densities.

Metrics (on the test split, nats per pen point, offsets in units of pen_step):
- nll_per_point: the network's mean negative log-likelihood of each true pen triple
  (dx, dy, e) given the previous ones (and the word, when conditional).
- single_gaussian_nll: the baseline, one bivariate Gaussian over (dx, dy) (maximum-
  likelihood mean and full covariance) times one Bernoulli over e, fitted in closed form to
  every training point and scored on the same test points: what a model that ignores the
  history and the text can do.

Sampling runs the trained layers step by step inside one compiled `keras.ops.fori_loop`
(one `predict_on_batch` per batch of samples), drawing each triple from the mixture and
feeding it back. Random numbers come from NumPy (seeded) and enter the loop as inputs.
"""

import math

import keras
import numpy as np
from keras import ops
from matplotlib.collections import LineCollection

from recipes.common import style
from recipes.handwriting_synthesis.data import decode_word, encode_word
from recipes.handwriting_synthesis.model import SoftWindowLSTM, mixture_parameters, point_nll

METRICS = ("nll_per_point", "single_gaussian_nll")
# Graves' sampling biases shown: 0 samples the trained distribution, larger values sharpen it.
BIASES = (0.0, 2.0)
# Words written in the sample figures (all in the default word list).
SAMPLE_WORDS = ("king", "night", "sweet", "you")
# Pen points generated per letter at most, and always at least this many more.
STEPS_PER_LETTER, EXTRA_STEPS = 30, 20


def num_components(model):
    """M, from the output layer's size 1 + 6M."""
    return (model.output.shape[-1] - 1) // 6


def nll_per_point(model, split, config):
    """Mean NLL (nats) per real pen point of a split (x, y), padding excluded."""
    x, y = split
    outputs = np.asarray(model.predict(x, batch_size=config["batch_size"], verbose=0))
    nll = np.asarray(point_nll(y, outputs, num_components(model)))
    return float(np.sum(nll * y[..., 3]) / np.sum(y[..., 3]))


def single_gaussian(train_targets):
    """(mean (2,), covariance (2, 2), end-of-stroke probability) fitted by maximum likelihood to the real training points."""
    points = train_targets[train_targets[..., 3] > 0]
    offsets = points[:, :2].astype(np.float64)
    mean = offsets.mean(axis=0)
    covariance = np.cov(offsets, rowvar=False, bias=True)
    return mean, covariance, float(points[:, 2].mean())


def single_gaussian_nll(fit, targets):
    """Mean NLL (nats) per real point of `targets` (n, T, 4) under one bivariate Gaussian and one Bernoulli."""
    mean, covariance, p_eos = fit
    points = targets[targets[..., 3] > 0].astype(np.float64)
    centred = points[:, :2] - mean
    mahalanobis = np.einsum("ni,ij,nj->n", centred, np.linalg.inv(covariance), centred)
    log_normal = -math.log(2 * math.pi) - 0.5 * math.log(np.linalg.det(covariance)) - 0.5 * mahalanobis
    log_eos = np.where(points[:, 2] > 0, math.log(p_eos), math.log(1.0 - p_eos))
    return float(-np.mean(log_normal + log_eos))


def evaluate(model, data, config):
    """nll_per_point of the network and single_gaussian_nll of the closed-form baseline, on the test split."""
    return {
        "nll_per_point": nll_per_point(model, data["test"], config),
        "single_gaussian_nll": single_gaussian_nll(single_gaussian(data["train"][1]), data["test"][1]),
    }


class _SamplingLoop(keras.Model):
    """The trained network stepped in one fori_loop: sample a triple from the mixture, feed it back.

    Inputs: {"text": (batch, U) int ids, "bias": (batch,), "uniform": (batch, S, 2), "normal": (batch, S, 2)}.
    Outputs: [triples (batch, S, 3), phi (batch, S, U), kappa (batch, S, K)] (phi and kappa
    are zeros without a window).
    """

    def __init__(self, model, **kwargs):
        super().__init__(**kwargs)
        self.window = next((layer for layer in model.layers if isinstance(layer, SoftWindowLSTM)), None)
        self.lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
        self.readout = model.get_layer("mixture_parameters")
        self.num_components = num_components(model)
        self.num_window_components = self.window.num_window_components if self.window else 1

    def call(self, inputs):
        text = ops.cast(inputs["text"], "int32")
        bias, uniform, normal = inputs["bias"], inputs["uniform"], inputs["normal"]
        batch, length, steps = ops.shape(text)[0], ops.shape(text)[1], ops.shape(uniform)[1]
        zeros = lambda size: ops.zeros((batch, size))  # noqa: E731
        window_states = [zeros(size) for size in self.window.state_sizes] if self.window else []
        lstm_states = [[zeros(layer.cell.units), zeros(layer.cell.units)] for layer in self.lstms]
        if self.window:
            letters, positions = self.window.letters(text)

        def step(t, loop):
            x, window_states, lstm_states, triples, phis, kappas = loop
            hidden, window = [], None
            if self.window:
                window_states, phi = self.window.step(x, list(window_states), letters, positions)
                hidden.append(window_states[0])
                window = window_states[3]
                phis = ops.slice_update(phis, (0, t, 0), phi[:, None, :])
                kappas = ops.slice_update(kappas, (0, t, 0), window_states[2][:, None, :])
            new_lstm_states = []
            for layer, states in zip(self.lstms, lstm_states):
                parts = [x] + hidden[-1:] + ([window] if window is not None else [])
                h, states = layer.cell(ops.concatenate(parts, axis=-1), list(states))
                hidden.append(h)
                new_lstm_states.append(list(states))
            outputs = self.readout(ops.concatenate(hidden, axis=-1))
            x = sample_triple(outputs, self.num_components, bias, uniform[:, t], normal[:, t])
            triples = ops.slice_update(triples, (0, t, 0), x[:, None, :])
            return x, window_states, new_lstm_states, triples, phis, kappas

        start = ops.concatenate([zeros(2), ops.ones((batch, 1))], axis=-1)  # the pen starts lifted
        initial = (
            start,
            window_states,
            lstm_states,
            ops.zeros((batch, steps, 3)),
            ops.zeros((batch, steps, length)),
            ops.zeros((batch, steps, self.num_window_components)),
        )
        _, _, _, triples, phis, kappas = ops.fori_loop(0, steps, step, initial)
        return triples, phis, kappas


def sample_triple(outputs, num_components, bias, uniform, normal):
    """One (dx, dy, e) per row from the mixture with bias b.

    The component is picked by inverting the cumulative mixture weights with uniform[:, 0];
    the offset is mu + L z for the component's Cholesky factor L and normal z; e = 1 when
    uniform[:, 1] < sigmoid(e_hat).

    Args:
        outputs: (batch, 1 + 6M) raw outputs; bias: (batch,); uniform, normal: (batch, 2).

    Returns:
        (batch, 3) float triples.
    """
    eos_logit, log_pi, mu_x, mu_y, log_sigma_x, log_sigma_y, rho = mixture_parameters(outputs, num_components, bias[:, None])
    cdf = ops.cumsum(ops.exp(log_pi), axis=-1)
    index = ops.minimum(ops.sum(ops.cast(cdf < uniform[:, :1] * cdf[:, -1:], "int32"), axis=-1), num_components - 1)
    pick = lambda values: ops.sum(values * ops.one_hot(index, num_components), axis=-1)  # noqa: E731
    sigma_x, sigma_y, r = ops.exp(pick(log_sigma_x)), ops.exp(pick(log_sigma_y)), pick(rho)
    dx = pick(mu_x) + sigma_x * normal[:, 0]
    dy = pick(mu_y) + sigma_y * (r * normal[:, 0] + ops.sqrt(1.0 - r * r) * normal[:, 1])
    eos = ops.cast(uniform[:, 1] < ops.sigmoid(eos_logit), dx.dtype)
    return ops.stack([dx, dy, eos], axis=-1)


def generate(model, words, biases, config, seed=0):
    """Sample handwriting: one sample per (word, bias) pair.

    Args:
        model: the trained model; words: texts to write (ignored without a window);
        biases: one sampling bias per word; config: the run's config; seed: NumPy seed.

    Returns:
        list of dicts with "word", "bias", "triples" (n, 3), "phi" (n, U), "kappa" (n, K):
        with a window, each sample is cut where the word is written (`word_end`); without
        one, after STEPS_PER_LETTER * max_word_length + EXTRA_STEPS steps.
    """
    loop = _SamplingLoop(model, name=f"{model.name}_sampler")
    loop.compile(jit_compile=keras.backend.backend() in ("tensorflow", "jax"))
    length = config["max_word_length"]
    steps = STEPS_PER_LETTER * length + EXTRA_STEPS
    rng = np.random.default_rng(seed)
    text = np.stack([encode_word(word, length) for word in words])
    inputs = {
        "text": text,
        "bias": np.asarray(biases, dtype="float32"),
        "uniform": rng.random((len(words), steps, 2), dtype="float32"),
        "normal": rng.standard_normal((len(words), steps, 2), dtype="float32"),
    }
    triples, phis, kappas = (np.asarray(value) for value in loop.predict_on_batch(inputs))
    samples = []
    for row, word in enumerate(words):
        end = word_end(triples[row], kappas[row].mean(axis=1), len(word)) if loop.window is not None else steps
        samples.append({"word": word, "bias": float(biases[row]), "triples": triples[row, :end], "phi": phis[row, :end], "kappa": kappas[row, :end]})
    return samples


def word_end(triples, kappa, letters, max_delayed_points=6):
    """Number of sampled steps that write the word: up to the first pen lift with the window on its
    last letter (mean kappa >= letters - 0.35), then any short delayed strokes (dots, bars: at most
    `max_delayed_points` points each) written while the window is still near the end (kappa < letters + 0.8).
    In the training data a word ends with kappa between letters - 0.2 and letters + 0.7; the
    network was never shown what follows, so later steps are cut."""
    lifts = np.nonzero(triples[:, 2] > 0)[0]
    done = lifts[kappa[lifts] >= letters - 0.35]
    if not len(done):
        return len(triples)
    end = int(done[0])
    for lift in lifts[lifts > end]:
        if lift - end > max_delayed_points or kappa[lift] >= letters + 0.8:
            break
        end = int(lift)
    return end + 1


def pen_path(triples):
    """(points (n, 2), drawn (n,) bool): absolute positions and whether the segment into each point is pen-down."""
    points = np.cumsum(triples[:, :2], axis=0)
    lifted_before = np.concatenate([[1.0], triples[:-1, 2]])
    return points, lifted_before == 0


def draw(ax, triples, color="black", linewidth=1.4):
    """Draw the pen-down segments of a sample on `ax` (equal aspect, no axes)."""
    points, drawn = pen_path(triples)
    segments = [points[i - 1 : i + 1] for i in np.nonzero(drawn)[0] if i > 0]
    ax.add_collection(LineCollection(segments, colors=color, linewidths=linewidth, capstyle="round"))
    if len(points):
        lo, hi = points.min(axis=0), points.max(axis=0)
        pad = 1.0
        ax.set_xlim(lo[0] - pad, hi[0] + pad)
        ax.set_ylim(lo[1] - pad, hi[1] + pad)
    ax.set_aspect("equal")
    ax.axis("off")


def demo(model, data, config, out_dir):
    """samples.png (sampled words at two biases), window.png (phi over letters x pen steps),
    density.png (the predicted next-point densities summed along a test word) and
    training_words.png (test samples as the data generator writes them)."""
    conditional = config["conditional"]
    words = list(SAMPLE_WORDS)
    pairs = [(word, bias) for bias in BIASES for word in words]
    samples = generate(model, [w for w, _ in pairs], [b for _, b in pairs], config, seed=config["seed"])
    files = [samples_figure(samples, words, conditional, f"{out_dir}/samples.png")]
    if conditional:
        files.append(window_figure(samples[len(words) : len(words) + 2], f"{out_dir}/window.png"))
    files.append(density_figure(model, data, config, f"{out_dir}/density.png"))
    files.append(training_words_figure(data, f"{out_dir}/training_words.png"))
    return files


def training_words_figure(data, path, count=12):
    """The first `count` test samples as written by data.py (each word in its own random style)."""
    x, y = data["test"]
    fig, axes = style.subplots(3, count // 3, figsize=(2.6 * (count // 3), 4.6), squeeze=False)
    for index, ax in enumerate(axes.flat):
        real = int(y[index, :, 3].sum())
        draw(ax, y[index, :real, :3], linewidth=1.1)
        if "text" in x:
            ax.set_title(f"'{decode_word(x['text'][index])}', {real} points", fontsize=9)
        else:
            ax.set_title(f"{real} points", fontsize=9)
    fig.suptitle("Test words from the Hershey Script simplex font, each in its own random style", fontsize=10)
    return style.save(fig, path)


def samples_figure(samples, words, conditional, path):
    """One row per bias, one column per word."""
    rows = len(samples) // len(words)
    fig, axes = style.subplots(rows, len(words), figsize=(2.6 * len(words), 1.5 * rows + 0.6), squeeze=False)
    for ax, sample in zip(axes.flat, samples):
        draw(ax, sample["triples"])
        title = f"'{sample['word']}', bias {sample['bias']:g}" if conditional else f"bias {sample['bias']:g}"
        ax.set_title(title, fontsize=9)
    what = "written from the text through the soft window" if conditional else "unconditional (no text input)"
    fig.suptitle(f"Sampled handwriting, {what}; bias 0 samples the model, bias 2 sharpens it", fontsize=10)
    return style.save(fig, path)


def window_figure(samples, path):
    """For each sample: the handwriting above the window weights (letters x pen steps), as in Graves' fig. 13.

    Each column shows phi(t, u) / sum_u phi(t, u): the share of the window on each letter at step t.
    """
    fig, axes = style.subplots(
        2, len(samples), figsize=(5.4 * len(samples), 4.6), squeeze=False, gridspec_kw={"height_ratios": [1, 1.1], "wspace": 0.35}
    )
    for column, sample in enumerate(samples):
        draw(axes[0, column], sample["triples"])
        axes[0, column].set_title(f"'{sample['word']}' sampled at bias {sample['bias']:g}", fontsize=9)
        letters = len(sample["word"])
        phi = sample["phi"][:, :letters].T  # (letters, steps)
        share = phi / np.maximum(phi.sum(axis=0, keepdims=True), 1e-9)
        ax = axes[1, column]
        image = ax.imshow(share, aspect="auto", origin="upper", cmap="Greys", interpolation="nearest", vmin=0.0, vmax=1.0)
        ax.set_yticks(range(letters), list(sample["word"]))
        ax.set_xlabel("pen step t")
        ax.set_ylabel("letter u")
        ax.grid(False)
        fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="share of the window")
    fig.suptitle("Soft window: which letter the network reads at each pen step (kappa only moves forwards)", fontsize=10)
    return style.save(fig, path)


def density_figure(model, data, config, path, index=0, resolution=0.1):
    """The predicted density of each next pen position, summed over a test word's steps (Graves' fig. 10)."""
    x, y = data["test"]
    single = {key: value[index : index + 1] for key, value in x.items()}
    real = int(y[index, :, 3].sum())
    outputs = np.asarray(model.predict_on_batch(single))[0, :real]
    triples = y[index, :real, :3]
    eos_logit, log_pi, mu_x, mu_y, log_sigma_x, log_sigma_y, rho = (np.asarray(v) for v in mixture_parameters(outputs, num_components(model)))
    points, _ = pen_path(triples)
    previous = np.concatenate([[[0.0, 0.0]], points[:-1]])  # where the pen is when each prediction is made
    lo, hi = points.min(axis=0) - 3.0, points.max(axis=0) + 3.0
    gx, gy = np.arange(lo[0], hi[0], resolution), np.arange(lo[1], hi[1], resolution)
    grid_x, grid_y = np.meshgrid(gx, gy)
    density = np.zeros_like(grid_x)
    for t in range(real):
        # Each step's mixture, centred on the pen position it predicts from.
        zx = (grid_x[..., None] - previous[t, 0] - mu_x[t]) / np.exp(log_sigma_x[t])
        zy = (grid_y[..., None] - previous[t, 1] - mu_y[t]) / np.exp(log_sigma_y[t])
        one_minus = 1.0 - rho[t] ** 2
        z = zx**2 + zy**2 - 2 * rho[t] * zx * zy
        normal = np.exp(-z / (2 * one_minus)) / (2 * np.pi * np.exp(log_sigma_x[t] + log_sigma_y[t]) * np.sqrt(one_minus))
        density += np.sum(np.exp(log_pi[t]) * normal, axis=-1)
    word = decode_word(x["text"][index]) if "text" in x else None
    fig, axes = style.subplots(2, 1, figsize=(9, 6.2))
    # Four decades of density below the peak, on a log scale, so the broad pen-up predictions show too.
    log_density = np.log10(np.maximum(density, density.max() * 1e-4))
    axes[0].imshow(log_density, origin="lower", extent=(gx[0], gx[-1], gy[0], gy[-1]), cmap="magma_r", interpolation="bilinear")
    points_drawn, drawn = pen_path(triples)
    axes[0].add_collection(LineCollection([points_drawn[i - 1 : i + 1] for i in np.nonzero(drawn)[0] if i > 0], colors="0.55", linewidths=0.5))
    axes[0].set_aspect("equal")
    axes[0].axis("off")
    axes[0].set_title("predicted density of each next pen position, summed over the steps (log scale; grey: the pen path)", fontsize=9)
    draw(axes[1], triples)
    axes[1].set_xlim(axes[0].get_xlim())
    axes[1].set_ylim(axes[0].get_ylim())
    axes[1].set_title("the test sample it was predicting (teacher forced)", fontsize=9)
    nll = float(np.mean(np.asarray(point_nll(triples, outputs, num_components(model)))))
    label = f"'{word}'" if word else "a test word"
    fig.suptitle(f"Mixture density outputs along {label}: NLL {nll:.2f} nats per point", fontsize=10)
    return style.save(fig, path)
