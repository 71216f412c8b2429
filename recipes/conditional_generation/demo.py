"""Sample words for test patterns, count how many are real words, and show the letter distributions.

With output feedback the network runs free (recipes.common.teacher_forcing.free_running):
at every step it reads the class input and the letter it chose one step before, so a
sampled word is one draw from the joint distribution of its letters. Without feedback,
the per-step distributions p(y_t | x_1..x_t) come from one forward pass and every letter
is sampled on its own: each is plausible, together they rarely spell a word.

Metrics on the test patterns (one sample per pattern, at config["temperature"]):
- valid_fraction: sampled words that occur in the plays (the consistency metric);
- greedy_valid_fraction: the same for greedy decoding (argmax at every step);
- pattern_fraction: sampled words whose consonant/vowel pattern is the one asked for;
- distinct_fraction: distinct sampled words / patterns (greedy decoding would give one
  word per pattern; sampling should give variety);
- letter_accuracy: teacher-forced, the fraction of letters of the test words that are
  the most probable letter given the true previous letters (padding left out).
"""

from pathlib import Path

import numpy as np
from keras import ops

from recipes.common.teacher_forcing import choose, free_running
from recipes.conditional_generation.data import LETTER_OFFSET, START_OUTPUT, decode_letters, pattern

# Test patterns shown in samples.txt and in the figure.
DEMO_PATTERNS = 8
FIGURE_PATTERNS = 2


def _one_step(model):
    """The trained feedback model's one-step function for `free_running`, and its zero states.

    Uses the model's own layers: both embeddings, the recurrent layer's cell and the readout.

    Returns:
        (step, initial_states): step(x_t, previous_ids, states) -> (probabilities, states);
        initial_states(batch_size) -> list of zero arrays.
    """
    class_embedding = model.get_layer("letter_class_embedding")
    letter_embedding = model.get_layer("previous_letter_embedding")
    cell = model.get_layer("generator_rnn").cell
    readout = model.get_layer("letter_probabilities")

    def step(x_t, previous, states):
        # (batch, class_dim + letter_dim), as the Concatenate layer builds it in training.
        features = ops.concatenate([class_embedding(x_t["letter_classes"]), letter_embedding(previous + LETTER_OFFSET)], axis=-1)
        hidden, states = cell(features, states, training=False)
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        return ops.convert_to_numpy(readout(hidden)), states

    def initial_states(batch_size):
        sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
        return [np.zeros((batch_size, size), dtype=np.float32) for size in sizes]

    return step, initial_states


def generate(model, classes, feed_previous_output, temperature, seed):
    """One word per row of `classes`: free-running with feedback, independent letters without.

    Args:
        model: the trained model.
        classes: int32 (batch, T) letter-class ids (the pattern, padded with 0).
        feed_previous_output: whether the model reads its previous letter.
        temperature: 0 for greedy decoding, > 0 to sample.
        seed: seed of the sampling.

    Returns:
        (letters, probabilities): int32 (batch, T) letter indices and float32 (batch, T, 26)
        the distributions they were drawn from.
    """
    if feed_previous_output:
        step, initial_states = _one_step(model)
        return free_running(step, {"letter_classes": classes}, START_OUTPUT, initial_states(len(classes)), temperature, seed)
    probabilities = np.asarray(model.predict({"letter_classes": classes}, batch_size=512, verbose=0))
    # Conditionally independent given x: every step sampled on its own.
    uniform = np.random.default_rng(seed).random(probabilities.shape[:-1]) if temperature > 0 else None
    return choose(probabilities, temperature, uniform), probabilities


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "valid_fraction",
    "greedy_valid_fraction",
    "pattern_fraction",
    "distinct_fraction",
    "letter_accuracy",
)


def evaluate(model, data, config):
    """valid_fraction, greedy_valid_fraction, pattern_fraction, distinct_fraction and letter_accuracy of the words
    generated for the test patterns."""
    x, targets = data["test"]
    classes = x["letter_classes"]
    teacher_forced = np.argmax(model.predict(x, batch_size=512, verbose=0), axis=-1)
    lengths = np.sum(classes > 0, axis=1)
    asked = [pattern(word) for word in data["test_words"]]
    feed = config["feed_previous_output"]
    sampled = decode_letters(generate(model, classes, feed, config["temperature"], config["seed"])[0], lengths)
    greedy = decode_letters(generate(model, classes, feed, 0.0, config["seed"])[0], lengths)
    lexicon = data["lexicon"]
    return {
        "valid_fraction": float(np.mean([word in lexicon for word in sampled])),
        "greedy_valid_fraction": float(np.mean([word in lexicon for word in greedy])),
        "pattern_fraction": float(np.mean([pattern(word) == p for word, p in zip(sampled, asked)])),
        "distinct_fraction": len(set(sampled)) / len(sampled),
        "letter_accuracy": float(np.mean(teacher_forced[classes > 0] == targets[classes > 0])),
    }


def write_samples(model, data, config, path):
    """samples.txt: for the first test patterns, several sampled words and the greedy one, marked valid or not.

    Returns:
        The path written, as a str.
    """
    classes = data["test"][0]["letter_classes"][:DEMO_PATTERNS]
    words = data["test_words"][:DEMO_PATTERNS]
    count, feed, lexicon = config["num_samples"], config["feed_previous_output"], data["lexicon"]
    lengths = np.sum(classes > 0, axis=1)
    # All samples in one batch: row i * count + j is sample j of pattern i.
    sampled = decode_letters(
        generate(model, np.repeat(classes, count, axis=0), feed, config["temperature"], config["seed"])[0], np.repeat(lengths, count)
    )
    greedy = decode_letters(generate(model, classes, feed, 0.0, config["seed"])[0], lengths)
    mark = lambda word: f"{word}{'' if word in lexicon else '*'}"
    kind = "with the previous letter fed back" if feed else "without output feedback (letters independent given the pattern)"
    lines = [
        f"Words generated {kind}; temperature {config['temperature']:g}.",
        "A * marks a word that never occurs in the plays. c = consonant, v = vowel.",
        "",
    ]
    for i, word in enumerate(words):
        lines.append(f"pattern {pattern(word):<8}  (test word: {word})")
        lines.append("  sampled: " + "  ".join(mark(w) for w in sampled[i * count : (i + 1) * count]))
        lines.append(f"  greedy:  {mark(greedy[i])}")
        lines.append("")
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def plot_distributions(letters, probabilities, lengths, words, lexicon, path, title):
    """Heatmaps of the letter distribution at every step of a generated word, chosen letters boxed.

    Args:
        letters: int (n, T) generated letter indices.
        probabilities: float (n, T, 26) the distributions they were drawn from.
        lengths: int (n,) word lengths.
        words: list of the n test words whose patterns were used.
        lexicon: set of valid words.
        path: PNG to write.
        title: figure title.

    Returns:
        The path written, as a str.
    """
    from matplotlib.patches import Rectangle

    from recipes.common import style

    num_words = len(words)
    generated = decode_letters(letters, lengths)
    fig, axes = style.subplots(1, num_words, figsize=(3.0 * num_words + 1.6, 6.2), squeeze=False, layout="constrained")
    for n, ax in enumerate(axes[0]):
        length = lengths[n]
        # (26, steps): one row per letter, time left to right.
        image = ax.imshow(probabilities[n, :length].T, aspect="auto", cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.grid(False)
        ax.set_yticks(range(26), [chr(ord("a") + k) for k in range(26)], fontsize=7)
        ax.set_xticks(range(length), list(pattern(words[n])))
        ax.set_xlabel("step (class asked for: c / v)")
        for t in range(length):
            ax.add_patch(Rectangle((t - 0.5, letters[n, t] - 0.5), 1.0, 1.0, fill=False, edgecolor=style.SERIES[1], linewidth=1.6))
        verdict = "a real word" if generated[n] in lexicon else "not a word"
        ax.set_title(f"'{generated[n]}': {verdict}", fontsize=10)
    axes[0, 0].set_ylabel("letter (orange box: the one sampled)")
    colorbar = fig.colorbar(image, ax=axes[0].tolist(), fraction=0.04, pad=0.02)
    colorbar.set_label("probability the network gave the letter")
    fig.suptitle(title, x=0.02, ha="left")
    return style.save(fig, path)


def demo(model, data, config, out_dir):
    """samples.txt, and letters.png: the letter distributions along sampled words."""
    out_dir = Path(out_dir)
    samples = write_samples(model, data, config, out_dir / "samples.txt")
    classes = data["test"][0]["letter_classes"][:FIGURE_PATTERNS]
    lengths = np.sum(classes > 0, axis=1)
    letters, probabilities = generate(model, classes, config["feed_previous_output"], config["temperature"], config["seed"])
    kind = "previous letter fed back (fig. 10.10)" if config["feed_previous_output"] else "no output feedback (fig. 10.3)"
    title = f"Sampling a word for a consonant/vowel pattern: {kind}"
    figure = plot_distributions(
        letters, probabilities, lengths, data["test_words"][:FIGURE_PATTERNS], data["lexicon"], out_dir / "letters.png", title
    )
    return [samples, figure]
