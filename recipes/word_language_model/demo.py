"""Score the word LM in perplexity against Kneser-Ney and unigram baselines; show what the carried state buys; write samples."""

import math
import pathlib

import numpy as np

from recipes.common import style
from recipes.common.sampling import Sampler
from recipes.common.words import UNK, decode_words, encode_words, tokenize_line
from recipes.word_language_model.ngram import KneserNey

# Sampled besides config["temperature"].
DEMO_TEMPERATURES = (0.7,)

METRICS = (
    "validation_perplexity",
    "test_perplexity",
    "test_perplexity_reset_each_window",
    "kneser_ney_validation_perplexity",
    "kneser_ney_test_perplexity",
    "unigram_test_perplexity",
)


def _baseline_perplexities(data, config):
    """Trigram Kneser-Ney (D = 0.75) and add-one unigram perplexities on exactly the words the model scores."""
    vocabulary_size = len(data["vocabulary"])
    train = data["streams"]["train"]
    kneser_ney = KneserNey(train, vocabulary_size, order=3)
    counts = np.bincount(train, minlength=vocabulary_size) + 1.0
    unigram = counts / counts.sum()
    scores = {}
    for split in ("validation", "test"):
        ids, positions = data["streams"][split], data[split].target_positions()
        scores[f"kneser_ney_{split}_perplexity"] = kneser_ney.perplexity(ids, positions)
        if split == "test":
            scores["unigram_test_perplexity"] = float(np.exp(-np.log(unigram[ids[positions.reshape(-1)]]).mean()))
    return scores


def window_losses(model, batches, reset_each_window):
    """Mean NLL (nats) at each step of the window over all batches: (sequence_length,) float.

    The state starts at zero; with reset_each_window it is zeroed before every batch (a model
    that forgets at each window boundary), else carried as in training.
    """
    model.reset_carried_states()
    total = np.zeros(batches.sequence_length)
    for index in range(len(batches)):
        if reset_each_window:
            model.reset_carried_states()
        x, y = batches[index]
        logits = np.asarray(model.predict_on_batch(x), dtype="float64")  # (batch, time, vocabulary)
        logits -= logits.max(axis=-1, keepdims=True)
        log_z = np.log(np.exp(logits).sum(axis=-1))
        picked = np.take_along_axis(logits, y[..., None], axis=-1)[..., 0]
        total += (log_z - picked).mean(axis=0)
    model.reset_carried_states()
    return total / len(batches)


def _test_window_losses(model, data):
    """(carried, reset) window_losses of the test split, computed once per model and kept in `data`
    (evaluate and demo both need them; each pass over the test plays costs seconds)."""
    cached = data.get("_window_losses")
    if cached is None or cached[0] is not model:
        cached = (model, window_losses(model, data["test"], False), window_losses(model, data["test"], True))
        data["_window_losses"] = cached
    return cached[1], cached[2]


def evaluate(model, data, config):
    """Stateful perplexities (from a zero state, carried over the whole split), the test perplexity with the
    state reset at every window, and the Kneser-Ney trigram and unigram baselines on the same words."""
    nats = model.evaluate(data["validation"], verbose=0, return_dict=True)["loss"]  # resets the state first
    carried, reset = _test_window_losses(model, data)
    metrics = {
        "validation_perplexity": math.exp(nats),
        # Every window has the same number of words: the mean over positions is the mean over words.
        "test_perplexity": float(np.exp(carried.mean())),
        "test_perplexity_reset_each_window": float(np.exp(reset.mean())),
    }
    metrics.update(_baseline_perplexities(data, config))
    return metrics


def _plot_window_losses(model, data, path):
    carried, reset = _test_window_losses(model, data)
    steps = np.arange(1, len(carried) + 1)
    fig, ax = style.subplots(figsize=(6.4, 3.8))
    ax.plot(steps, np.exp(reset), marker="o", markersize=3, color=style.SERIES[1], label="state reset at every window")
    ax.plot(steps, np.exp(carried), marker="o", markersize=3, color=style.SERIES[0], label="state carried across windows")
    ax.set_xlabel("position in the truncated-BPTT window (words)")
    ax.set_ylabel("test perplexity at that position")
    ax.set_title("What the carried state buys (test plays)")
    ax.legend()
    return style.save(fig, path)


def demo(model, data, config, out_dir):
    """samples.txt: continuations of prime_text; window_positions.png: perplexity by position in the window."""
    words = data["vocabulary"]
    prime = encode_words(tokenize_line(config["prime_text"]) or [UNK], words)
    temperatures = sorted({*DEMO_TEMPERATURES, float(config["temperature"])})
    rows = [t for t in temperatures for _ in range(config["num_samples"])]
    tokens = Sampler(model).sample(prime, rows, length=config["sample_length"], seed=config["seed"])
    sections = []
    for row, temperature in enumerate(rows):
        header = f"=== temperature {temperature:g}, sample {row % config['num_samples'] + 1} of {config['num_samples']} ==="
        sections.append(f"{header}\n[{decode_words(prime, words)}] {decode_words(tokens[row], words)}")
    out_dir = pathlib.Path(out_dir)
    samples = out_dir / "samples.txt"
    samples.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    return [str(samples), str(_plot_window_losses(model, data, out_dir / "window_positions.png"))]
