"""Whole-answer accuracy of free-running decoding (greedy and beam search), a page of answers, and a
figure of the decoder's step-by-step choices."""

from pathlib import Path

import keras
import numpy as np

from recipes.common.decoding import beam_search_decode, greedy_decode, keras_step
from recipes.seq2seq_addition.data import END, START, TOKEN_TEXT, answer_length, decode, encode
from recipes.seq2seq_addition.model import inference_models


def decode_answers(models, question_ids, config, beam_width=1):
    """Answer questions by free-running decoding.

    Args:
        models: (encoder, decoder_step, num_states) from model.inference_models, built once
            per trained model.
        question_ids: (n, Tq) int question ids.
        config: uses num_digits (the answer length bound).
        beam_width: 1 for greedy decoding, more for beam search.

    Returns:
        list of n answer strings.
    """
    encoder, decoder_step, num_states = models
    states = [np.asarray(s) for s in keras.tree.flatten(encoder.predict_on_batch(question_ids))]
    step = keras_step(decoder_step, num_states)
    max_length = answer_length(config["num_digits"])
    if beam_width == 1:
        tokens = greedy_decode(step, states, START, END, max_length)
    else:
        tokens, _ = beam_search_decode(step, states, START, END, max_length, beam_width)
    return [decode(row) for row in tokens]


def exact_match(predicted, expected):
    """Fraction of answers that are right as a whole (every digit, and the length)."""
    return float(np.mean([p == e for p, e in zip(predicted, expected)]))


METRICS = (  # what evaluate returns; shell-style patterns where a name depends on the config
    "exact_match",
    "exact_match_beam",
)


def evaluate(model, data, config):
    """exact_match (greedy) and exact_match_beam: whole-answer accuracy on the fresh test questions."""
    questions = data["test"][0]["question"]
    expected = data["test_text"]["answer"]
    models = inference_models(model)
    greedy = decode_answers(models, questions, config)
    beam = decode_answers(models, questions, config, beam_width=config["beam_width"])
    return {"exact_match": exact_match(greedy, expected), "exact_match_beam": exact_match(beam, expected)}


def step_probabilities(models, question_ids, answer):
    """The decoder's next-character distribution at each step while writing `answer` (then <end>).

    Args:
        models: (encoder, decoder_step, num_states) from model.inference_models.
        question_ids: (Tq,) ids of one question.
        answer: the answer text the decoder is fed back, e.g. its own greedy answer.

    Returns:
        (len(answer) + 1, vocabulary) probabilities; row i is the distribution the decoder
        wrote character i from (the last row is where it should write <end>).
    """
    encoder, decoder_step, _ = models
    states = [np.asarray(s) for s in keras.tree.flatten(encoder.predict_on_batch(question_ids[None]))]
    rows = []
    for token in [START, *(encode(answer, len(answer)).tolist())]:
        outputs = decoder_step.predict_on_batch([np.array([[token]], dtype=np.int32), *states])
        rows.append(np.asarray(outputs[0])[0, 0])
        states = list(outputs[1:])
    return np.stack(rows)


def plot_decoding(panels, path, title):
    """One heatmap per question: the decoder's probability of each digit and <end>, step by step.

    Args:
        panels: list of (question text, greedy answer, true answer, (steps, vocabulary) probabilities).
        path: PNG file to write.
        title: figure title.

    Returns:
        The path written, as a str.
    """
    from recipes.common import style

    shown = list(range(1, 11)) + [END]  # digits 0..9, then <end>; other tokens stay near 0
    labels = [TOKEN_TEXT[i] for i in shown[:-1]] + ["<end>"]
    fig, axes = style.subplots(1, len(panels), figsize=(2.0 * len(panels) + 1.2, 3.6), squeeze=False, sharey=True)
    for ax, (question, answer, truth, probabilities) in zip(axes[0], panels):
        image = ax.imshow(probabilities[:, shown].T, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
        ax.grid(False)
        steps = len(probabilities)
        ax.set_xticks(range(steps), [f"{i + 1}" for i in range(steps)], fontsize=8)
        ax.set_yticks(range(len(shown)), labels, fontsize=8)
        ax.tick_params(length=0)
        ax.set_xlabel("decoder step")
        verdict = "right" if answer == truth else f"wrong, true {truth}"
        ax.set_title(f"{question} → {answer}\n({verdict})", fontsize=9)
    axes[0, 0].set_ylabel("next character")
    colorbar = fig.colorbar(image, ax=axes[0].tolist(), fraction=0.03, pad=0.02)
    colorbar.set_label("probability")
    fig.suptitle(title, x=0.02, y=1.04, ha="left", fontsize=10)
    return style.save(fig, path)


def demo(model, data, config, out_dir, num_examples=20):
    """answers.txt: the first `num_examples` test questions, then up to 40 either decoder got wrong; decoding.png: the
    next-character distribution along greedy decoding of one question per answer length and of its first mistake."""
    questions = data["test"][0]["question"]
    text, expected = data["test_text"]["question"], data["test_text"]["answer"]
    models = inference_models(model)
    greedy = decode_answers(models, questions, config)
    beam = decode_answers(models, questions, config, beam_width=config["beam_width"])
    wrong = [i for i in range(len(expected)) if greedy[i] != expected[i] or beam[i] != expected[i]]
    lines = [
        f"seq2seq_addition: {len(expected)} fresh test questions; greedy {exact_match(greedy, expected):.4f}, "
        f"beam (width {config['beam_width']}) {exact_match(beam, expected):.4f} whole-answer accuracy",
        "",
        f"{'question':>9}  {'true':>5}  {'greedy':>6}  {'beam':>5}",
    ]
    row = "{:>9}  {:>5}  {:>6}  {:>5}  {}"
    for i in range(min(num_examples, len(expected))):
        lines.append(row.format(text[i], expected[i], greedy[i], beam[i], "x" if i in wrong else ""))
    lines += ["", f"wrong answers ({len(wrong)}, first 40):"]
    lines += [row.format(text[i], expected[i], greedy[i], beam[i], "x") for i in wrong[:40]]
    path = Path(out_dir) / "answers.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # The first question of each answer length that occurs, then the first greedy error if any.
    picks = [next((i for i, a in enumerate(expected) if len(a) == n), None) for n in range(1, config["num_digits"] + 2)]
    picks = [i for i in picks if i is not None] + [i for i in wrong if greedy[i] != expected[i]][:1]
    panels = [(text[i], greedy[i], expected[i], step_probabilities(models, questions[i], greedy[i])) for i in picks]
    figure = plot_decoding(
        panels, Path(out_dir) / "decoding.png", "Greedy decoding of fresh test questions: the decoder's next-character distribution"
    )
    return [str(path), figure]
