"""Accuracy on seen and unseen speakers, the first layer's filters as a filterbank, and a confusion matrix."""

from pathlib import Path

import numpy as np

FFT_LENGTH = 1024  # zero-padded FFT of each 80-tap kernel: a smooth frequency response
FLOOR_DB = -30.0  # the heatmaps' colour range below each filter's peak


def per_word_accuracy(probabilities, labels, num_words):
    """(num_words,) accuracy of each true word."""
    predicted = np.argmax(probabilities, axis=-1)
    return np.array([np.mean(predicted[labels == w] == w) for w in range(num_words)])


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "seen_speaker_accuracy",
    "worst_word_accuracy",
)


def evaluate(model, data, config):
    """seen_speaker_accuracy (validation: training voices) and worst_word_accuracy (test); Keras' "accuracy" is on the
    test split's unseen voices, so the gap is what they cost."""
    x_val, y_val = data["validation"]
    seen = np.mean(np.argmax(model.predict(x_val, batch_size=256, verbose=0), axis=-1) == y_val)
    x, y = data["test"]
    words = per_word_accuracy(model.predict(x, batch_size=256, verbose=0), y, len(data["words"]))
    return {"seen_speaker_accuracy": float(seen), "worst_word_accuracy": float(words.min())}


def frequency_responses(kernel, sample_rate, fft_length=FFT_LENGTH):
    """Magnitude responses of 1-D convolution filters, sorted by their peak frequency.

    Args:
        kernel: (taps, 1, filters) Conv1D kernel on a one-channel waveform.
        sample_rate: Hz.
        fft_length: FFT size (>= taps); the kernel is zero-padded to it.

    Returns:
        (frequencies, responses_db, peaks, order): (F,) Hz from 0 to Nyquist; (filters, F)
        |FFT| in dB relative to each filter's own maximum (so every row peaks at 0 dB),
        rows sorted by peak frequency; (filters,) sorted peak frequencies in Hz; the sort
        order as indices into the kernel's filters.
    """
    taps = np.asarray(kernel)[:, 0, :].T  # (filters, taps)
    magnitude = np.abs(np.fft.rfft(taps, n=fft_length, axis=-1))
    frequencies = np.fft.rfftfreq(fft_length, d=1.0 / sample_rate)
    peaks = frequencies[np.argmax(magnitude, axis=-1)]
    order = np.argsort(peaks, kind="stable")
    db = 20 * np.log10(magnitude / magnitude.max(axis=-1, keepdims=True) + 1e-12)
    return frequencies, db[order], peaks[order], order


def mel_centres(count, sample_rate, min_freq=20.0):
    """Centre frequencies (Hz) of `count` mel bands spaced evenly on the HTK mel scale up to Nyquist."""
    to_mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)
    mels = np.linspace(to_mel(min_freq), to_mel(sample_rate / 2), count + 2)[1:-1]
    return 700.0 * (10 ** (mels / 2595.0) - 1.0)


def first_layer_kernel(model):
    """The (taps, 1, filters) kernel of the layer `waveform_filters`."""
    return model.get_layer("waveform_filters").get_weights()[0]


def plot_filterbank(initial, trained, config, path):
    """Frequency responses of the first layer's filters before and after training, and their peaks.

    Args:
        initial: (taps, 1, filters) kernel of the untrained model.
        trained: the same after training.
        config: the run's config (sample_rate, filter_ms, num_filters).
        path: PNG file to write.

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    rate = config["sample_rate"]
    fig, axes = style.subplots(1, 3, figsize=(14.5, 4.6), gridspec_kw={"wspace": 0.62})
    panels = (("before training (random init)", initial), ("after training", trained))
    peaks = {}
    for ax, (title, kernel) in zip(axes, panels):
        frequencies, db, peaks[title], _ = frequency_responses(kernel, rate)
        image = ax.imshow(
            db.T,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=FLOOR_DB,
            vmax=0.0,
            extent=(0.5, db.shape[0] + 0.5, 0, frequencies[-1]),
            interpolation="nearest",
        )
        ax.grid(False)
        ax.set_title(title)
        ax.set_xlabel("filter (sorted by peak frequency)")
        ax.set_ylabel("frequency (Hz)")
    # The colour bar sits in the gap right of the second heatmap, so both heatmaps keep one width.
    colorbar = fig.colorbar(image, cax=axes[1].inset_axes([1.04, 0.0, 0.045, 1.0]))
    colorbar.set_label("|H(f)| below the filter's peak (dB)")
    ax = axes[2]
    ranks = np.arange(1, len(peaks["after training"]) + 1)
    ax.plot(ranks, peaks["after training"], "o", ms=3.5, color=style.SERIES[0], label="learned filters")
    ax.plot(ranks, peaks["before training (random init)"], "o", ms=3.0, color=style.SERIES[1], alpha=0.6, label="random init")
    ax.plot(ranks, mel_centres(len(ranks), rate), "-", color="0.3", lw=1.2, label=f"mel scale ({len(ranks)} bands)")
    ax.set_ylim(0, rate / 2)
    ax.set_xlim(0.5, len(ranks) + 0.5)
    ax.set_xlabel("filter (sorted by peak frequency)")
    ax.set_ylabel("peak frequency (Hz)")
    ax.set_title("where the filters peak")
    ax.legend(loc="upper left")
    fig.suptitle(
        f"raw_waveform_cnn: frequency responses of the {trained.shape[-1]} first-layer filters "
        f"({config['filter_ms']:g} ms, {trained.shape[0]} taps at {rate / 1000:g} kHz)",
        x=0.02,
        ha="left",
        y=1.02,
    )
    return style.save(fig, path)


def plot_filter_examples(trained, config, path, count=6):
    """A few learned filters: impulse response (top) and frequency response (bottom).

    Args:
        trained: (taps, 1, filters) kernel after training.
        config: the run's config (sample_rate).
        path: PNG file to write.
        count: filters shown, spread evenly over the peak-frequency order.

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    rate = config["sample_rate"]
    frequencies, db, peaks, order = frequency_responses(trained, rate)
    # Spread over the distinct peak frequencies (many filters can share the 0 Hz peak).
    distinct = np.unique(peaks, return_index=True)[1]
    picks = distinct[np.linspace(0, len(distinct) - 1, min(count, len(distinct))).round().astype(int)]
    count = len(picks)
    fig, axes = style.subplots(2, count, figsize=(2.3 * count, 4.6), sharey="row", squeeze=False, gridspec_kw={"hspace": 0.45})
    taps = trained.shape[0]
    time_ms = np.arange(taps) / rate * 1000
    for column, pick in enumerate(picks):
        weights = trained[:, 0, order[pick]]
        top, bottom = axes[0, column], axes[1, column]
        top.plot(time_ms, weights / np.abs(weights).max(), color=style.SERIES[0], lw=1.1)
        top.set_title(f"peak {peaks[pick]:.0f} Hz", fontsize=10)
        top.set_xlabel("time (ms)")
        bottom.plot(frequencies, db[pick], color=style.SERIES[1], lw=1.1)
        bottom.set_ylim(FLOOR_DB - 5, 2)
        bottom.set_xlim(0, rate / 2)
        bottom.set_xticks([0, rate / 4, rate / 2], [f"{v / 1000:g}k" for v in (0, rate / 4, rate / 2)])
        bottom.set_xlabel("frequency (Hz)")
    axes[0, 0].set_ylabel("weight (scaled)")
    axes[1, 0].set_ylabel("|H(f)| (dB)")
    fig.suptitle(f"raw_waveform_cnn: {count} learned first-layer filters, in time (top) and in frequency (bottom)", x=0.02, ha="left")
    return style.save(fig, path)


def plot_confusion(probabilities, labels, words, path, title):
    """Row-normalized confusion matrix of the test words, counts written in the non-empty cells.

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    n = len(words)
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (labels, np.argmax(probabilities, axis=-1)), 1)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = style.subplots(figsize=(8.2, 7.2))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.grid(False)
    for i in range(n):
        for j in range(n):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=6.5, color="white" if share[i, j] > 0.55 else "0.15")
    ax.set_xticks(range(n), words, rotation=60, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(n), words)
    ax.set_xlabel("predicted word")
    ax.set_ylabel("spoken word")
    ax.set_title(title, loc="left")
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02).set_label("share of the spoken word's clips")
    return style.save(fig, path)


def demo(model, data, config, out_dir):
    """confusion.png (test words), and for the raw front end filters.png and filter_examples.png (the learned filterbank)."""
    from recipes.raw_waveform_cnn.model import build_model

    out_dir = Path(out_dir)
    written = []
    if config["front_end"] == "raw":
        trained = first_layer_kernel(model)
        # The first layer's initializer is seeded with config["seed"]: the rebuilt kernel is the one training started from.
        initial = first_layer_kernel(build_model(config))
        written.append(plot_filterbank(initial, trained, config, out_dir / "filters.png"))
        written.append(plot_filter_examples(trained, config, out_dir / "filter_examples.png"))
    x, y = data["test"]
    probabilities = model.predict(x, batch_size=256, verbose=0)
    accuracy = np.mean(np.argmax(probabilities, axis=-1) == y)
    name = "learned filters on the raw waveform" if config["front_end"] == "raw" else "fixed log-mel front end"
    title = f"raw_waveform_cnn ({name}): test words, unseen voices\naccuracy {accuracy:.3f} on {len(y)} clips"
    written.append(plot_confusion(probabilities, y, list(data["words"]), out_dir / "confusion.png", title))
    return written
