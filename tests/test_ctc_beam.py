"""tools/ctc_beam.py: the NumPy CTC beam search finds the most probable transcripts (exhaustive
search on small inputs), agrees with TensorFlow's decoder on a trained recognizer, and is what
keras.ops.ctc_decode runs on jax and torch once the runner has loaded a recipe."""

import importlib.util
import itertools
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from recipes.common import ctc
from recipes.common.probability import log_softmax
from tools import ctc_beam

ROOT = Path(__file__).resolve().parent.parent


def exhaustive(log_probs, blank=0):
    """{collapsed labels: log probability} over every path of a small (time, classes) input."""
    totals = {}
    for path in itertools.product(range(log_probs.shape[1]), repeat=log_probs.shape[0]):
        labels = tuple(label for label, _ in itertools.groupby(path) if label != blank)
        score = sum(log_probs[t, label] for t, label in enumerate(path))
        totals[labels] = np.logaddexp(totals.get(labels, -np.inf), score)
    return totals


@pytest.mark.parametrize("seed", range(6))
def test_a_wide_beam_is_exhaustive_search(seed):
    """With a beam as wide as the number of paths nothing is pruned: the top transcripts and their
    probabilities are those of summing every path (the repeat rule and the merging included)."""
    rng = np.random.default_rng(seed)
    for _ in range(10):
        steps, classes = int(rng.integers(1, 6)), int(rng.integers(2, 4))
        logits = rng.standard_normal((1, steps, classes)) * 2
        best = sorted(exhaustive(log_softmax(logits[0])).values(), reverse=True)[:3]
        paths, scores = ctc_beam.beam_search(logits, [steps], beam_width=classes**steps, top_paths=3)
        np.testing.assert_allclose(scores[0, : len(best)], best, rtol=1e-5)
        top = tuple(int(label) for label in paths[0, 0] if label >= 0)
        assert np.isclose(exhaustive(log_softmax(logits[0]))[top], best[0])


def test_lengths_padding_and_a_missing_path():
    logits = np.log(np.array([[[0.1, 0.9], [0.9, 0.1], [0.1, 0.9]]] * 2))  # classes: blank, "a"
    paths, scores = ctc_beam.beam_search(logits, [3, 1], beam_width=4, top_paths=3)
    assert paths.shape == (3, 2, 3) and paths.dtype == np.int32 and scores.shape == (2, 3)
    assert paths[0, 0].tolist() == [1, 1, -1]  # "a", blank, "a": two labels
    assert paths[0, 1].tolist() == [1, -1, -1] and paths[1, 1].tolist() == [-1, -1, -1]  # one frame: "a" or nothing
    assert np.isclose(scores[1, 0], np.log(0.9)) and np.isclose(scores[1, 1], np.log(0.1)) and scores[1, 2] == -np.inf
    assert (paths[2, 1] == -1).all()  # no third hypothesis for one frame of two classes


def test_agrees_with_tensorflows_decoder_on_a_trained_recognizer(tmp_path):
    """The pretrained wav2letter on bench/ctc_decode.py's 64 digit strings by held-out voices: the same best
    transcript as TensorFlow's decoder (the test process' backend) for all but at most two, and as readable."""
    spec = importlib.util.spec_from_file_location("bench_ctc_decode", ROOT / "bench" / "ctc_decode.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.make_inputs(tmp_path / "logits.npz")
    stored = np.load(tmp_path / "logits.npz")
    logits, lengths, texts = stored["logits"], stored["lengths"], [str(t) for t in stored["texts"]]
    tensorflow = ctc.decode(logits, lengths, beam_width=8)
    ours = [" ".join(ctc.ids_to_text(row).split()) for row in ctc_beam.beam_search(logits, lengths, 8)[0][0]]
    assert sum(a != b for a, b in zip(tensorflow, ours)) <= 2, [(a, b) for a, b in zip(tensorflow, ours) if a != b]
    assert ctc.error_rates(texts, ours)[0] <= ctc.error_rates(texts, tensorflow)[0] + 0.01


def test_not_installed_on_tensorflow_or_on_another_keras(monkeypatch):
    assert ctc_beam.install() is False  # the tests' backend: TensorFlow's own decoder stays
    other = types.SimpleNamespace(_ctc_beam_search_decode=lambda inputs, sequence_lengths, beam_width, top_paths: None)
    monkeypatch.setattr("keras.backend.backend", lambda: "jax")
    monkeypatch.setattr(ctc_beam.importlib, "import_module", lambda name: other)
    before = other._ctc_beam_search_decode
    assert ctc_beam.install() is False and other._ctc_beam_search_decode is before


INSTALLED = """
import json, keras, numpy as np
from tools import ctc_beam, runner
runner.import_recipe("wav2letter")
rng = np.random.default_rng(0)
logits = (rng.standard_normal((4, 30, 29)) * 3).astype("float32")
lengths = np.array([30, 12, 1, 25], dtype="int32")
paths, scores = keras.ops.ctc_decode(logits, lengths, strategy="beam_search", beam_width=6, top_paths=2, mask_index=0)
expected = ctc_beam.beam_search(logits, lengths, 6, 2, 0)
print(json.dumps([np.array_equal(keras.ops.convert_to_numpy(paths), expected[0]),
                  np.allclose(keras.ops.convert_to_numpy(scores), expected[1])]))
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_ctc_decode_runs_it_on_jax_and_torch(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (optional)")
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", INSTALLED], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [True, True]
