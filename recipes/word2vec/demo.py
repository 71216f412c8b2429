"""Judge word vectors on held-out plays against count-based (PPMI + SVD) and random vectors; neighbours, analogies, a map.

The held-out context-prediction check (the brief metric): for every (word, context) pair of the
TEST plays' skip-gram pairs, with its num_negatives noise words, how often the true context
word scores above a noise word (v_word . u_context; ties count half): an AUC, 0.5 for random
vectors. For PPMI + SVD the word and context vectors are U sqrt(S) and V sqrt(S).

The held-out word-similarity check: for the num_eval_words most frequent training words, take
every pair seen together (within `window` words) at least min_pair_count times in the TEST plays,
and rank-correlate (Spearman) the cosine of the two words' vectors with the pair's PMI measured
on those test plays only. Vectors that put words which keep each other's company in unseen
text close together score high; random vectors score about 0.
"""

import pathlib

import numpy as np

from recipes.common import style
from recipes.word2vec.counts import cooccurrence, cosine_matrix, pmi, ppmi, spearman, truncated_svd_embeddings
from recipes.word2vec.data import in_vocabulary

METRICS = (
    "heldout_context_auc",
    "ppmi_svd_heldout_context_auc",
    "random_heldout_context_auc",
    "heldout_pmi_spearman",
    "ppmi_svd_heldout_pmi_spearman",
    "random_heldout_pmi_spearman",
    "analogy_accuracy",
    "ppmi_svd_analogy_accuracy",
    "num_heldout_pairs",
    "num_analogies",
)

# a : b :: c : d, kept where all four words are in the vocabulary. Chosen for Shakespeare's
# English (pronoun cases, thou/you forms, family and rank); the demo measures them, none is assumed.
ANALOGIES = (
    ("king", "queen", "lord", "lady"),
    ("king", "queen", "prince", "princess"),
    ("king", "queen", "man", "woman"),
    ("man", "woman", "lord", "lady"),
    ("father", "mother", "son", "daughter"),
    ("brother", "sister", "son", "daughter"),
    ("husband", "wife", "king", "queen"),
    ("sir", "madam", "lord", "lady"),
    ("he", "she", "his", "her"),
    ("he", "she", "him", "her"),
    ("he", "she", "man", "woman"),
    ("i", "my", "he", "his"),
    ("i", "me", "he", "him"),
    ("i", "me", "we", "us"),
    ("we", "us", "they", "them"),
    ("i", "my", "thou", "thy"),
    ("thou", "thee", "ye", "you"),
    ("thou", "thy", "you", "your"),
    ("thou", "art", "you", "are"),
    ("thou", "hast", "you", "have"),
    ("is", "was", "are", "were"),
    ("day", "night", "sun", "moon"),
    ("good", "bad", "better", "worse"),
    ("go", "went", "come", "came"),
)


def word_vectors(model, layer="word_embedding"):
    """The trained word vectors (vocabulary, dim): the word_embedding matrix (or context_embedding's)."""
    return np.asarray(model.get_layer(layer).embeddings, dtype="float64")


def count_vectors(data, config, contexts=False):
    """PPMI + truncated SVD word vectors (vocabulary, embedding_dim) from the training stream, same window;
    with contexts=True, (word vectors, context vectors)."""
    counts = cooccurrence(in_vocabulary(data["streams"]["train"]), len(data["vocabulary"]), config["window"])
    words, context = truncated_svd_embeddings(ppmi(counts), config["embedding_dim"], seed=config["seed"])
    return (words, context) if contexts else words


def context_auc(words, contexts, pairs):
    """How often a held-out pair's true context outscores one of its noise words (ties half): an AUC.

    Args:
        words, contexts: (vocabulary, dim) word and context vectors.
        pairs: (x, y) as data["test"]: x["word"] (n, 1), x["contexts"] (n, 1 + k), true context first.
    """
    x, _ = pairs
    scores = np.einsum("nd,nkd->nk", words[x["word"][:, 0]], contexts[x["contexts"]])  # (n, 1 + k)
    true, noise = scores[:, :1], scores[:, 1:]
    return float((true > noise).mean() + 0.5 * (true == noise).mean())


def heldout_pairs(data, config):
    """(rows, cols, held-out PMI) of the word pairs the similarity check uses (ids 2..num_eval_words+1)."""
    counts = cooccurrence(in_vocabulary(data["streams"]["test"]), len(data["vocabulary"]), config["window"])
    values = pmi(counts)
    words = np.arange(2, 2 + config["num_eval_words"])
    rows, cols = np.triu_indices(len(words), k=1)
    rows, cols = words[rows], words[cols]
    keep = counts[rows, cols] >= config["min_pair_count"]
    return rows[keep], cols[keep], values[rows[keep], cols[keep]]


def similarity_score(vectors, pairs):
    """Spearman correlation of cosine(vectors) with held-out PMI over the pairs."""
    rows, cols, target = pairs
    return spearman(cosine_matrix(vectors)[rows, cols], target)


def analogies(vectors, words):
    """[(a, b, c, d, answer)] for ANALOGIES in the vocabulary: answer = nearest word to b - a + c by cosine,
    a, b and c excluded (3CosAdd, Mikolov et al. 2013)."""
    index = {word: i for i, word in enumerate(words)}
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    results = []
    for a, b, c, d in ANALOGIES:
        if not all(word in index for word in (a, b, c, d)):
            continue
        scores = unit @ (unit[index[b]] - unit[index[a]] + unit[index[c]])
        scores[[index[a], index[b], index[c], 0, 1]] = -np.inf  # never the question words, <eos> or <unk>
        results.append((a, b, c, d, words[int(np.argmax(scores))]))
    return results


def _accuracy(results):
    return float(np.mean([answer == d for *_, d, answer in results])) if results else 0.0


def evaluate(model, data, config):
    """Held-out context prediction and PMI correlation of the trained, the PPMI + SVD and random vectors;
    analogy accuracy of the trained and the count vectors."""
    pairs = heldout_pairs(data, config)
    trained, trained_contexts = word_vectors(model), word_vectors(model, "context_embedding")
    counted, counted_contexts = count_vectors(data, config, contexts=True)
    random = np.random.default_rng(config["seed"]).standard_normal(trained.shape)
    trained_analogies = analogies(trained, data["vocabulary"])
    return {
        "heldout_context_auc": context_auc(trained, trained_contexts, data["test"]),
        "ppmi_svd_heldout_context_auc": context_auc(counted, counted_contexts, data["test"]),
        "random_heldout_context_auc": context_auc(random, random, data["test"]),
        "heldout_pmi_spearman": similarity_score(trained, pairs),
        "ppmi_svd_heldout_pmi_spearman": similarity_score(counted, pairs),
        "random_heldout_pmi_spearman": similarity_score(random, pairs),
        "analogy_accuracy": _accuracy(trained_analogies),
        "ppmi_svd_analogy_accuracy": _accuracy(analogies(counted, data["vocabulary"])),
        "num_heldout_pairs": float(len(pairs[0])),
        "num_analogies": float(len(trained_analogies)),
    }


def neighbours(vectors, words, queries, count=8):
    """{query: [(word, cosine)] of its `count` nearest words}, for queries in the vocabulary."""
    similarity = cosine_matrix(vectors)
    index = {word: i for i, word in enumerate(words)}
    found = {}
    for query in queries:
        if query in index:
            scores = similarity[index[query]].copy()
            scores[[index[query], 0, 1]] = -np.inf
            best = np.argsort(-scores, kind="stable")[:count]
            found[query] = [(words[i], float(scores[i])) for i in best]
    return found


# The projection's words, by theme (words outside the vocabulary are skipped).
PROJECTION_GROUPS = {
    "ranks": ("king", "queen", "lord", "lady", "duke", "prince", "sir", "madam"),
    "family": ("father", "mother", "son", "daughter", "brother", "wife", "husband"),
    "time": ("day", "night", "morning", "hour", "time", "year"),
    "body": ("eye", "eyes", "hand", "heart", "head", "face", "blood"),
    "feeling": ("love", "hate", "fear", "joy", "grief", "sorrow"),
}


# Candidate label offsets (points) from a dot, tried in order: right, left, above, below, farther out.
_LABEL_OFFSETS = ((5, -4), (-5, -4), (0, 6), (0, -15), (5, 8), (-5, 8), (5, -16), (-5, -16), (0, 18), (0, -27))


def _place_labels(ax, points, words, fontsize):
    """Per word, the (dx, dy) offset in points whose label box (about 0.6 em per letter) overlaps
    the dots and the labels already placed least: legible labels in dense clusters."""
    scale = ax.figure.dpi / 72  # points -> pixels
    dots = ax.transData.transform(points)
    boxes, chosen = [], []

    def box(anchor, offset, word):
        width, height = 0.6 * fontsize * len(word) * scale, fontsize * scale
        x = anchor[0] + offset[0] * scale - (width if offset[0] < 0 else width / 2 if offset[0] == 0 else 0)
        y = anchor[1] + offset[1] * scale
        return x, y, x + width, y + height

    def overlap(a, b):
        return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))

    radius = 3 * scale
    dot_boxes = [(x - radius, y - radius, x + radius, y + radius) for x, y in dots]
    for anchor, word in zip(dots, words):
        costs = [sum(overlap(box(anchor, offset, word), other) for other in boxes + dot_boxes) for offset in _LABEL_OFFSETS]
        best = _LABEL_OFFSETS[int(np.argmin(costs))]
        boxes.append(box(anchor, best, word))
        chosen.append(best)
    return chosen


def _projection_figure(vectors, words, path):
    """PCA (NumPy SVD of the centred vectors) of PROJECTION_GROUPS' words, one colour per group."""
    index = {word: i for i, word in enumerate(words)}
    groups = {name: [word for word in group if word in index] for name, group in PROJECTION_GROUPS.items()}
    chosen = [word for group in groups.values() for word in group]
    points = vectors[[index[word] for word in chosen]]
    points = points - points.mean(axis=0)
    _, _, components = np.linalg.svd(points, full_matrices=False)
    xy = dict(zip(chosen, points @ components[:2].T))
    fig, ax = style.subplots(figsize=(8, 6.5))
    for colour, (name, group) in zip(style.SERIES, groups.items()):
        coordinates = np.array([xy[word] for word in group])
        ax.scatter(coordinates[:, 0], coordinates[:, 1], s=16, color=colour, label=name)
    ax.margins(0.08)
    ax.autoscale_view()
    colours = {word: colour for colour, group in zip(style.SERIES, groups.values()) for word in group}
    offsets = _place_labels(ax, np.array([xy[word] for word in chosen]), chosen, fontsize=10)
    for word, (dx, dy) in zip(chosen, offsets):
        ha = "right" if dx < 0 else "center" if dx == 0 else "left"
        ax.annotate(word, xy[word], xytext=(dx, dy), textcoords="offset points", fontsize=10, color=colours[word], ha=ha, va="bottom")
    ax.set_xlabel("first principal component")
    ax.set_ylabel("second principal component")
    ax.set_title(f"Skip-gram vectors of {len(chosen)} frequent words (PCA to 2-D)")
    ax.legend(loc="best", fontsize=9)
    return style.save(fig, path)


def demo(model, data, config, out_dir):
    """neighbours.txt (skip-gram and PPMI + SVD), analogies.txt, projection.png."""
    out_dir = pathlib.Path(out_dir)
    words = data["vocabulary"]
    trained, counted = word_vectors(model), count_vectors(data, config)
    queries = [word.strip() for word in config["query_words"].split(",") if word.strip()]
    lines = []
    for name, vectors in (("skip-gram (SGNS)", trained), ("PPMI + SVD", counted)):
        lines.append(f"=== {name}: nearest words by cosine ===")
        for query, found in neighbours(vectors, words, queries).items():
            lines.append(f"{query:>10}: " + ", ".join(f"{word} {score:.2f}" for word, score in found))
        missing = [query for query in queries if query not in words]
        if missing:
            lines.append(f"(not in the vocabulary: {', '.join(missing)})")
        lines.append("")
    (out_dir / "neighbours.txt").write_text("\n".join(lines), encoding="utf-8")
    lines = []
    for name, vectors in (("skip-gram (SGNS)", trained), ("PPMI + SVD", counted)):
        results = analogies(vectors, words)
        lines.append(f"=== {name}: {sum(answer == d for *_, d, answer in results)} of {len(results)} ===")
        lines += [f"{a}:{b} :: {c}:{d:<10} got {answer}{'' if answer == d else '  (wrong)'}" for a, b, c, d, answer in results]
        lines.append("")
    (out_dir / "analogies.txt").write_text("\n".join(lines), encoding="utf-8")
    figure = _projection_figure(trained, words, out_dir / "projection.png")
    return [str(out_dir / "neighbours.txt"), str(out_dir / "analogies.txt"), str(figure)]
