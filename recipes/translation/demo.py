"""Translate the held-out expressions (greedy and beam search), score them against a translation memory, draw the attention.

Scores (sacrebleu, offline): exact match (the whole expression right), corpus BLEU (word
4-grams, 13a tokenisation, 0-100) and chrF (character 6-gram F-score, 0-100). BLEU is
reported on the random test split only: a German or French-joined number is one word, so
on numbers alone BLEU has no 4-grams to count and says 0 for any output; chrF was made for
such languages.

The baseline is a translation memory, the non-neural way translators reuse past work:
for each test source, the training example whose source is most similar (cosine of
character-trigram counts) and its stored translation.
"""

from pathlib import Path

import numpy as np

from recipes.common.decoding import beam_search_decode, greedy_decode, keras_step
from recipes.translation.data import END, START, decode, encode
from recipes.translation.model import inference_models

METRICS = (
    "exact_match",
    "bleu",
    "chrf",
    "exact_match_numbers",
    "exact_match_dates",
    "unseen_exact_match",
    "unseen_chrf",
    "unseen_exact_match_ending",
    "unseen_exact_match_hundreds",
    "exact_match_beam",
    "bleu_beam",
    "chrf_beam",
    "unseen_exact_match_beam",
    "unseen_chrf_beam",
    "baseline_exact_match",
    "baseline_bleu",
    "baseline_chrf",
    "baseline_unseen_exact_match",
    "baseline_unseen_chrf",
)


def translate(models, source_ids, max_steps, beam_width=1):
    """Free-running translation of encoded sources.

    Args:
        models: (encoder, decoder_step, num_states) from model.inference_models.
        source_ids: (n, Te) int source character ids.
        max_steps: the most characters to write, <end> included.
        beam_width: 1 for greedy decoding, more for beam search.

    Returns:
        list of n translations (text).
    """
    encoder, decoder_step, num_states = models
    annotations, summary, *states = (np.asarray(a) for a in encoder.predict_on_batch(source_ids))
    context = [annotations, source_ids != 0, summary]  # fixed while decoding; tiled per beam
    step = keras_step(decoder_step, num_states)
    if beam_width == 1:
        tokens = greedy_decode(step, states, START, END, max_steps, context=context)
    else:
        tokens, _ = beam_search_decode(step, states, START, END, max_steps, beam_width, context=context)
    return [decode(row) for row in tokens]


def scores(hypotheses, references):
    """exact match (fraction), corpus BLEU and chrF (0-100, sacrebleu defaults) of hypotheses against one reference each."""
    import sacrebleu

    exact = float(np.mean([h == r for h, r in zip(hypotheses, references)]))
    bleu = sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score
    chrf = sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score
    return {"exact_match": exact, "bleu": float(bleu), "chrf": float(chrf)}


def trigram_counts(texts, index):
    """Sparse (len(texts), len(index)) counts of each text's character trigrams (padded with spaces); unknown trigrams dropped."""
    from scipy.sparse import csr_matrix

    rows, cols = [], []
    for row, text in enumerate(texts):
        padded = f"  {text} "
        for k in range(len(padded) - 2):
            column = index.get(padded[k : k + 3])
            if column is not None:
                rows.append(row)
                cols.append(column)
    return csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(texts), len(index)))


def translation_memory(train_pairs, sources):
    """The baseline: each source's translation is the stored translation of the most similar training source.

    Similarity is the cosine of character-trigram count vectors; ties go to the earlier
    training example, so the result is deterministic.

    Args:
        train_pairs: list of (source text, target text) the memory holds.
        sources: texts to translate.

    Returns:
        list of translations (training targets).
    """
    index = {}
    for source, _ in train_pairs:
        padded = f"  {source} "
        for k in range(len(padded) - 2):
            index.setdefault(padded[k : k + 3], len(index))
    memory = trigram_counts([s for s, _ in train_pairs], index)
    queries = trigram_counts(sources, index)

    def normalised(matrix):
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
        return matrix.multiply(1.0 / np.maximum(norms, 1e-12)[:, None]).tocsr()

    similarity = (normalised(queries) @ normalised(memory).T).toarray()  # (len(sources), len(train_pairs))
    return [train_pairs[i][1] for i in np.argmax(similarity, axis=1)]


def evaluate(model, data, config):
    """Greedy and beam-search translations of the random test split and of the unseen-pattern numbers, and the translation memory's."""
    models = inference_models(model)
    max_steps = data["test"][1].shape[1]
    metrics = {}
    outputs = {}
    for split, prefix in (("test", ""), ("unseen", "unseen_")):
        references = [target for _, target in data[f"{split}_pairs"]]
        sources = [source for source, _ in data[f"{split}_pairs"]]
        runs = {"": translate(models, data[split][0]["source"], max_steps)}
        if config["beam_width"] > 1:
            runs["_beam"] = translate(models, data[split][0]["source"], max_steps, beam_width=config["beam_width"])
        runs["baseline"] = translation_memory(data["train_pairs"], sources)
        for suffix, hypotheses in runs.items():
            result = scores(hypotheses, references)
            if split == "unseen":
                result.pop("bleu")  # numbers only: one word each in German, so no 4-grams (see the module docstring)
            for name, value in result.items():
                key = f"baseline_{prefix}{name}" if suffix == "baseline" else f"{prefix}{name}{suffix}"
                metrics[key] = value
        outputs[split] = runs
    correct = np.array([h == r for h, (_, r) in zip(outputs["test"][""], data["test_pairs"])])
    for kind in ("number", "date"):
        chosen = data["test_kinds"] == kind
        if chosen.any():  # a split without one kind (num_dates=0) has no score for it
            metrics[f"exact_match_{kind}s"] = float(correct[chosen].mean())
    # The two held-out patterns apart: a held-out ending (97, 197, ...) outside the held-out hundreds, and the hundreds block.
    values = data["unseen_values"]
    unseen_correct = np.array([h == r for h, (_, r) in zip(outputs["unseen"][""], data["unseen_pairs"])])
    in_block = (values // 100) % 10 == config["held_out_hundreds"]
    for name, chosen in (("ending", ~in_block), ("hundreds", in_block)):
        if chosen.any():
            metrics[f"unseen_exact_match_{name}"] = float(unseen_correct[chosen].mean())
    return metrics


def attention_weights(models, source_ids, output_ids):
    """The attention weights the decoder used while writing `output_ids` (fed back as its previous outputs).

    Args:
        models: (encoder, decoder_step, num_states) from model.inference_models.
        source_ids: (Te,) source ids of one example, no padding.
        output_ids: (Td,) the written character ids, <end> last.

    Returns:
        (Td, Te) weights: row i is where output character i looked.
    """
    encoder, decoder_step, num_states = models
    annotations, summary, *states = encoder.predict_on_batch(source_ids[None])
    tokens = np.concatenate([[START], output_ids[:-1]]).astype(np.int32)[None]
    rows = []
    for t in range(tokens.shape[1]):
        outputs = decoder_step.predict_on_batch([tokens[:, t : t + 1], *states, annotations, source_ids[None] != 0, summary])
        states, weights = outputs[1 : 1 + num_states], outputs[-1]
        rows.append(np.asarray(weights)[0, 0])
    return np.stack(rows)


def plot_attention(panels, path, title):
    """Heatmaps of attention weights, one panel per example: characters written down, characters read across.

    Args:
        panels: list of (weights (Td, Te), source text, written text with "$" for <end>, panel title).
        path: file to write.
        title: figure title.
    """
    from recipes.common import style

    widths = [len(source) for _, source, _, _ in panels]
    heights = [len(written) for _, _, written, _ in panels]
    fig, axes = style.subplots(
        len(panels),
        1,
        figsize=(0.22 * max(widths) + 2.0, 0.22 * sum(heights) + 1.3 * len(panels) + 0.4),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
        layout="constrained",
    )
    shown = lambda text: [c if c != " " else "␣" for c in text]  # noqa: E731 (spaces as ␣: every tick gets a visible label)
    for ax, (weights, source, written, panel_title) in zip(axes[:, 0], panels):
        image = ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0, aspect="equal", interpolation="nearest")
        ax.grid(False)
        ax.set_xticks(range(len(source)), shown(source), fontsize=9)
        ax.set_yticks(range(len(written)), shown(written), fontsize=9)
        ax.tick_params(length=0)
        ax.set_xlabel("source character, in reading order (␣ = space)", fontsize=9)
        ax.set_ylabel("character written, first at the top ($ = <end>)", fontsize=9)
        ax.set_title(panel_title, fontsize=10)
        fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02).set_label("attention weight", fontsize=9)
    fig.suptitle(title, fontsize=10.5)
    return style.save(fig, path)


def pick_examples(data, config):
    """Indices of the figure's examples: the first unseen number above 100 that ends in held_out_ending (else the first
    unseen number), and the first test date (None where a split has none)."""
    values = data["unseen_values"]
    ending = np.flatnonzero((values % 100 == config["held_out_ending"]) & (values > 100))
    number = int(ending[0]) if len(ending) else (0 if len(values) else None)
    dates = np.flatnonzero(data["test_kinds"] == "date")
    return number, (int(dates[0]) if len(dates) else None)


def demo(model, data, config, out_dir, per_split=12):
    """examples.txt (the first `per_split` test and unseen expressions: greedy, beam, memory) and attention.png."""
    models = inference_models(model)
    max_steps = data["test"][1].shape[1]
    paths = []
    lines = []
    for split in ("test", "unseen"):
        pairs = data[f"{split}_pairs"][:per_split]
        source_ids = data[split][0]["source"][:per_split]
        greedy = translate(models, source_ids, max_steps)
        beam = translate(models, source_ids, max_steps, beam_width=config["beam_width"])
        memory = translation_memory(data["train_pairs"], [s for s, _ in pairs])
        lines.append(f"== {split} ({'random held-out' if split == 'test' else 'numbers of held-out patterns'}) ==")
        for (source, reference), g, b, m in zip(pairs, greedy, beam, memory):
            lines.append(f"source     {source}")
            lines.append(f"reference  {reference}")
            for label, text in (("greedy", g), (f"beam {config['beam_width']}", b), ("memory", m)):
                lines.append(f"{label:<10} {text}{'' if text == reference else '   (wrong)'}")
            lines.append("")
    text_path = Path(out_dir) / "examples.txt"
    text_path.write_text("\n".join(lines), encoding="utf-8")
    paths.append(str(text_path))
    if config["attention"]:
        panels = []
        for split, i in zip(("unseen", "test"), pick_examples(data, config)):
            if i is None:
                continue
            source, reference = data[f"{split}_pairs"][i]
            source_ids = encode(source)
            written = translate(models, source_ids[None], max_steps)[0]
            output_ids = np.concatenate([encode(written), [END]]).astype(np.int32)
            weights = attention_weights(models, source_ids, output_ids)
            verdict = "right" if written == reference else f"wrong; reference {reference!r}"
            kind = "number of a held-out pattern" if split == "unseen" else "held-out test date"
            panels.append((weights, source, written + "$", f"{kind} ({verdict})"))
        pair = f"{config['source_language']} -> {config['target_language']}"
        paths.append(plot_attention(panels, Path(out_dir) / "attention.png", f"Bahdanau attention, {pair}, greedy decoding"))
    return paths
