"""Accuracy per input length of free-running decoding, and an attention heatmap for a test string."""

from pathlib import Path

import numpy as np

from recipes.common.decoding import beam_search_decode, greedy_decode, keras_step
from recipes.seq2seq_attention.data import END, START, TOKEN_TEXT, decode
from recipes.seq2seq_attention.model import inference_models

# Inputs are grouped in buckets of this many lengths: 1-10, 11-20, ...; a bucket is named
# by its upper end (exact_match_len_10 covers lengths 1..10).
BUCKET_WIDTH = 10


def decode_outputs(models, source_ids, config, beam_width=1):
    """Free-running decoding of source strings.

    Args:
        models: (encoder, decoder_step, num_states) from model.inference_models, built
            once per trained model.
        source_ids: (n, Te) int source ids.
        config: uses max_length.
        beam_width: 1 for greedy decoding, more for beam search.

    Returns:
        list of n output digit strings.
    """
    encoder, decoder_step, num_states = models
    annotations, summary, *states = (np.asarray(a) for a in encoder.predict_on_batch(source_ids))
    # Fixed for the whole decoding: tiled per beam, never reordered.
    context = [annotations, source_ids != 0, summary]
    step = keras_step(decoder_step, num_states)
    if beam_width == 1:
        tokens = greedy_decode(step, states, START, END, config["max_length"] + 1, context=context)
    else:
        tokens, _ = beam_search_decode(step, states, START, END, config["max_length"] + 1, beam_width, context=context)
    return [decode(row) for row in tokens]


def bucket_names(config):
    """(upper length, metric name) for every length bucket that min_length..max_length touches."""
    first = -(-config["min_length"] // BUCKET_WIDTH) * BUCKET_WIDTH
    last = -(-config["max_length"] // BUCKET_WIDTH) * BUCKET_WIDTH
    return [(upper, f"exact_match_len_{upper}") for upper in range(first, last + 1, BUCKET_WIDTH)]


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "exact_match",
    "exact_match_len_*",
    "exact_match_beam",
)


def evaluate(model, data, config):
    """exact_match of greedy decoding on the test strings, exact_match_len_<N> per length bucket, and exact_match_beam
    when beam_width > 1."""
    (x, y), lengths = data["test"], data["test_lengths"]
    expected = np.array([decode(row) for row in y])
    models = inference_models(model)
    correct = np.array(decode_outputs(models, x["source"], config)) == expected
    metrics = {"exact_match": float(correct.mean())}
    for upper, name in bucket_names(config):
        in_bucket = (lengths > upper - BUCKET_WIDTH) & (lengths <= upper)
        metrics[name] = float(correct[in_bucket].mean())
    if config["beam_width"] > 1:
        beam = np.array(decode_outputs(models, x["source"], config, beam_width=config["beam_width"]))
        metrics["exact_match_beam"] = float(np.mean(beam == expected))
    return metrics


def attention_weights(models, source_ids, output_ids):
    """The attention weights the decoder used while writing `output_ids`.

    The one-step decoder is run again along `output_ids` (fed back as its previous
    outputs, as in free-running decoding), keeping each step's weights.

    Args:
        models: (encoder, decoder_step, num_states) from model.inference_models.
        source_ids: (Te,) source ids of one example.
        output_ids: (Td,) the decoded output ids (digits, then <end>).

    Returns:
        (Td, Te) weights: row i is where output step i looked.
    """
    encoder, decoder_step, num_states = models
    annotations, summary, *states = encoder.predict_on_batch(source_ids[None])
    tokens = np.concatenate([[START], output_ids[:-1]]).astype(np.int32)[None]  # <start> + outputs, shifted
    rows = []
    for t in range(tokens.shape[1]):
        outputs = decoder_step.predict_on_batch([tokens[:, t : t + 1], *states, annotations, source_ids[None] != 0, summary])
        states, weights = outputs[1 : 1 + num_states], outputs[-1]
        rows.append(np.asarray(weights)[0, 0])
    return np.stack(rows)


def plot_attention(weights, source_text, output_text, path, title):
    """Heatmap of attention weights: output steps down, input digits across, labelled with the characters."""
    from recipes.common import style

    rows, cols = weights.shape
    fig, ax = style.subplots(figsize=(0.26 * cols + 2.2, 0.26 * rows + 1.6))
    image = ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0, aspect="equal", interpolation="nearest")
    ax.grid(False)
    ax.set_xticks(range(cols), list(source_text), fontsize=8)
    ax.set_yticks(range(rows), list(output_text), fontsize=8)
    ax.tick_params(length=0)
    ax.set_xlabel("input digit (reading order)")
    ax.set_ylabel("output, first step at the top ($ = <end>)")
    colorbar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
    colorbar.set_label("attention weight")
    ax.set_title(title, fontsize=10)
    return style.save(fig, path)


def demo(model, data, config, out_dir, per_bucket=3):
    """examples.txt (the first `per_bucket` test strings per length bucket) and, with attention, attention.png
    (reversing the longest test string of at most 20 digits)."""
    (x, y), lengths = data["test"], data["test_lengths"]
    paths = []
    picks = [int(i) for upper, _ in bucket_names(config) for i in np.flatnonzero((lengths > upper - BUCKET_WIDTH) & (lengths <= upper))[:per_bucket]]
    models = inference_models(model)
    outputs = decode_outputs(models, x["source"][picks], config)
    lines = [f"{'input':>{config['max_length']}}  {'output':>{config['max_length']}}  right"]
    for i, out in zip(picks, outputs):
        lines.append(f"{decode(x['source'][i]):>{config['max_length']}}  {out:>{config['max_length']}}  {'yes' if out == decode(y[i]) else 'no'}")
    text_path = Path(out_dir) / "examples.txt"
    text_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths.append(str(text_path))
    if config["attention"]:
        # The longest test string that is at most 20 digits long keeps the figure legible.
        i = int(np.argmax(np.where(lengths <= 20, lengths, 0)))
        source_text = decode(x["source"][i])
        output_text = decode_outputs(models, x["source"][i : i + 1], config)[0]
        output_ids = np.array([TOKEN_TEXT.index(c) for c in output_text] + [END], dtype=np.int32)
        weights = attention_weights(models, x["source"][i, : len(source_text)], output_ids)
        verdict = "right" if output_text == decode(y[i]) else "wrong"
        title = f"Bahdanau attention while reversing a {len(source_text)}-digit test string ({verdict})"
        paths.append(plot_attention(weights, source_text, output_text + "$", Path(out_dir) / "attention.png", title))
    return paths
