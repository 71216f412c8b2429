"""word2vec: skip-gram vectors (brief run, shipped checkpoint) against PPMI + truncated SVD count vectors,
random vectors and the training plays' own PMI, on the held-out word-similarity check and the analogies.

Every row is scored by recipes/word2vec/demo.py on DEFAULT_CONFIG's data: the held-out
context-prediction AUC (the test plays' pairs: true context vs noise words, scored v_word . u_context),
the Spearman correlation of cosine similarity with the PMI measured on the three test plays, over the pairs of the 500 most
frequent words seen together at least 5 times there, and 3CosAdd analogy accuracy. The count
vectors are built from the full training plays (window 5, rank 100). "training-plays PMI" is
no embedding: it correlates the training plays' PMI of each pair with the test plays' PMI, the
most a model of first-order co-occurrence could reach from this training text. Trains one brief
run (~1 minute on 2 cores) unless --brief-run reuses one; --write puts the table into
recipes/word2vec/README.md.

    python bench/compare_word2vec.py [--write] [--brief-run DIR]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tables import markdown_table, write_block  # noqa: E402

RECIPE = "word2vec"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the table into the recipe README")
    parser.add_argument("--brief-run", type=Path, help="reuse this finished brief run directory")
    args = parser.parse_args()

    import keras
    import numpy as np

    from recipes.word2vec import demo
    from recipes.word2vec.counts import cooccurrence, pmi, spearman
    from recipes.word2vec.data import in_vocabulary, load_data

    brief_dir = args.brief_run or Path(f"/tmp/{RECIPE}_bench_brief")
    if not args.brief_run:
        subprocess.run([str(ROOT / ".venv" / "bin" / "recipe"), "run", RECIPE, "--brief", "--out", str(brief_dir)], check=True, cwd=ROOT)
    pretrained = ROOT / "recipes" / RECIPE / "pretrained"
    config = json.loads((pretrained / "config.json").read_text())
    data = load_data(config)
    pairs = demo.heldout_pairs(data, config)
    words = data["vocabulary"]

    def scored(vectors, contexts):
        results = demo.analogies(vectors, words)
        correct = sum(answer == d for *_, d, answer in results)
        auc = demo.context_auc(vectors, contexts, data["test"])
        return f"{auc:.3f}", f"{demo.similarity_score(vectors, pairs):.3f}", f"{correct} / {len(results)}"

    def trained(run_dir):
        record = json.loads((run_dir / "run.json").read_text())
        c = json.loads((run_dir / "config.json").read_text())
        share = "" if c["train_fraction"] == 1 else f" on {c['train_fraction']:.0%} of the training words"
        label = f"skip-gram, negative sampling ({c['embedding_dim']} dims, {c['epochs']} epoch(s){share})"
        model = keras.saving.load_model(run_dir / "model.keras")
        return [label, f"{record['train_seconds']:.0f} s", *scored(demo.word_vectors(model), demo.word_vectors(model, "context_embedding"))]

    started = time.perf_counter()
    counted, counted_contexts = demo.count_vectors(data, config, contexts=True)
    count_seconds = time.perf_counter() - started
    train_pmi = pmi(cooccurrence(in_vocabulary(data["streams"]["train"]), len(words), config["window"]))
    rows, cols, target = pairs
    reference = np.where(np.isfinite(train_pmi[rows, cols]), train_pmi[rows, cols], 0.0)

    header = ["vectors", "training (2 CPU cores)", "held-out context AUC", "held-out PMI Spearman (cosine)", "analogies right"]
    random = np.random.default_rng(config["seed"]).standard_normal(counted.shape)
    table_rows = [
        [f"random Gaussian ({config['embedding_dim']} dims)", "none", *scored(random, random)],
        [
            f"PPMI + truncated SVD ({config['embedding_dim']} dims, window {config['window']})",
            f"{count_seconds:.0f} s (counting)",
            *scored(counted, counted_contexts),
        ],
        trained(brief_dir),
        trained(pretrained),
        ["training-plays PMI of each pair (reference, not vectors)", "counting", "n/a", f"{spearman(reference, target):.3f}", "n/a"],
    ]
    table = markdown_table(header, table_rows)
    print(table)
    print(f"{len(rows)} held-out pairs")
    if args.write:
        write_block(RECIPE, "comparison", table)


if __name__ == "__main__":
    main()
