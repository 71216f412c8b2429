"""Score the character model in nats and bits per character; write the Shakespeare it makes up."""

import math
import pathlib

import numpy as np

from recipes.common.sampling import Sampler
from recipes.common.text import decode, encode

# Sampled besides config["temperature"]: conservative, and the model's own distribution.
DEMO_TEMPERATURES = (0.5, 1.0)


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "validation_nats_per_character",
    "bits_per_character",
    "unigram_bits_per_character",
)


def evaluate(model, data, config):
    """validation_nats_per_character, bits_per_character and the unigram_bits_per_character baseline, over every
    validation character (each window starts from a zero state)."""
    x_val, y_val = data["validation"]
    # Keras weights each batch's mean by its size: a true per-character mean.
    nats = model.evaluate(x_val, y_val, batch_size=config["batch_size"], verbose=0, return_dict=True)["loss"]
    # Unigram: training-set frequencies, add-one smoothed so no character costs infinity.
    counts = np.bincount(data["train"][1].reshape(-1), minlength=len(data["vocabulary"])) + 1.0
    unigram_bits = -np.log2(counts / counts.sum())[y_val.reshape(-1)].mean()
    return {
        "validation_nats_per_character": float(nats),
        "bits_per_character": float(nats / math.log(2)),
        "unigram_bits_per_character": float(unigram_bits),
    }


def demo(model, data, config, out_dir):
    """samples.txt: num_samples continuations of prime_text per temperature."""
    alphabet = data["vocabulary"]
    prime = encode(config["prime_text"], alphabet, key="prime_text")
    temperatures = sorted({*DEMO_TEMPERATURES, float(config["temperature"])})
    rows = [t for t in temperatures for _ in range(config["num_samples"])]  # temperature-major
    # All sequences in one compiled call: (rows, sample_length) ids.
    tokens = Sampler(model).sample(prime, rows, length=config["sample_length"], seed=config["seed"])

    sections = []
    for row, temperature in enumerate(rows):
        number = f"{row % config['num_samples'] + 1} of {config['num_samples']}"
        header = f"=== temperature {temperature:g}, sample {number} ==="
        sections.append(header + "\n" + config["prime_text"] + decode(tokens[row], alphabet))
    path = pathlib.Path(out_dir) / "samples.txt"
    path.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    return [str(path)]
