"""CTC beam search in NumPy, for Keras' JAX and torch backends, whose own is one to two orders of magnitude slower than TensorFlow's.

`keras.ops.ctc_decode(..., strategy="beam_search")` is TensorFlow's C++ decoder on the tensorflow
backend. On jax and torch, Keras ships a port that carries every hypothesis as a full-length path
and calls `unique` over all of them (2 x beam x classes rows of T labels) at every frame, so a
frame costs O(beam x classes x T log) and an utterance O(T^2) (jax.jit does not help).
bench/ctc_decode.py measures it against this module on every backend (its table is in the README).
A brief wav2letter run on JAX with Keras' port took 321 s, of which 55 s were training.

`beam_search` is the CTC prefix beam search (Graves 2012, Hannun et al. 2014): a hypothesis is a
collapsed label sequence with the probability of its paths that end in a blank and of those that
end in its last label; each frame extends every hypothesis by every label (a repeat of the last
label only from paths ending in blank), merges the extensions that equal a kept hypothesis, and
keeps the `beam_width` most probable. Its cost is O(beam x classes) per frame.
tests/test_ctc_beam.py checks it against exhaustive search over every path on small inputs and
against TensorFlow's decoder on a trained recognizer's outputs.

`install()` puts it in place of the jax and torch backends' `_ctc_beam_search_decode` (same
arguments, same outputs: paths (top_paths, batch, time) padded with -1, and their log
probabilities (batch, top_paths)); the runner calls it when it loads a recipe. It patches only a
Keras whose function has the expected signature (checked), so another version runs unpatched.
"""

import importlib
import inspect

import numpy as np

from recipes.common.probability import log_softmax

KERAS_MODULES = {"jax": "keras.src.backend.jax.nn", "torch": "keras.src.backend.torch.nn"}
PARAMETERS = ["inputs", "sequence_lengths", "beam_width", "top_paths", "mask_index"]


def decode_one(log_probs, beam_width, top_paths, blank):
    """The `top_paths` best label sequences of one utterance's (time, classes) log probabilities.

    Returns:
        [(labels tuple, log probability)], best first (fewer when fewer hypotheses exist).
    """
    num_classes = log_probs.shape[1]
    prefixes = [()]
    p_blank, p_label = np.zeros(1), np.full(1, -np.inf)  # log P(paths ending in blank / in the last label)
    for row in log_probs:
        total = np.logaddexp(p_blank, p_label)
        last = np.array([p[-1] if p else -1 for p in prefixes])
        has_last = last >= 0
        stay_blank = total + row[blank]
        stay_label = np.where(has_last, p_label + row[np.maximum(last, 0)], -np.inf)
        extend = total[:, None] + row[None, :]  # extend[i, c]: prefixes[i] + (c,)
        rows = np.flatnonzero(has_last)
        extend[rows, last[rows]] = p_blank[rows] + row[last[rows]]  # a repeat needs a blank in between
        extend[:, blank] = -np.inf
        index = {p: i for i, p in enumerate(prefixes)}
        for j, prefix in enumerate(prefixes):  # an extension that is already a hypothesis joins it
            parent = index.get(prefix[:-1]) if prefix else None
            if parent is not None:
                stay_label[j] = np.logaddexp(stay_label[j], extend[parent, prefix[-1]])
                extend[parent, prefix[-1]] = -np.inf
        scores = np.concatenate([np.logaddexp(stay_blank, stay_label), extend.ravel()])
        keep = np.argsort(-scores, kind="stable")[:beam_width]
        keep = keep[np.isfinite(scores[keep])]
        new_prefixes, new_blank, new_label = [], [], []
        for k in keep:
            if k < len(prefixes):
                new_prefixes.append(prefixes[k])
                new_blank.append(stay_blank[k])
                new_label.append(stay_label[k])
            else:
                i, c = divmod(k - len(prefixes), num_classes)
                new_prefixes.append(prefixes[i] + (c,))
                new_blank.append(-np.inf)
                new_label.append(extend[i, c])
        prefixes, p_blank, p_label = new_prefixes, np.array(new_blank), np.array(new_label)
    total = np.logaddexp(p_blank, p_label)
    order = np.argsort(-total, kind="stable")[:top_paths]
    return [(prefixes[k], float(total[k])) for k in order]


def beam_search(logits, lengths, beam_width, top_paths=1, blank=0):
    """Keras' ctc_decode beam search outputs for (batch, time, classes) logits, in NumPy.

    Returns:
        (paths int32 (top_paths, batch, time), -1 after each path's end and for a missing path;
        log probabilities float32 (batch, top_paths), -inf for a missing path).
    """
    logits = np.asarray(logits, dtype=np.float64)
    batch, steps, num_classes = logits.shape
    blank = num_classes - 1 if blank is None else blank % num_classes
    paths = np.full((top_paths, batch, steps), -1, dtype=np.int32)
    scores = np.full((batch, top_paths), -np.inf, dtype=np.float32)
    log_probs = log_softmax(logits)
    for b in range(batch):
        length = int(min(max(int(lengths[b]), 0), steps))
        for rank, (labels, score) in enumerate(decode_one(log_probs[b, :length], beam_width, top_paths, blank)):
            paths[rank, b, : len(labels)] = labels
            scores[b, rank] = score
    return paths, scores


def _keras_beam_search(inputs, sequence_lengths, beam_width=100, top_paths=1, mask_index=None):
    import keras

    paths, scores = beam_search(keras.ops.convert_to_numpy(inputs), keras.ops.convert_to_numpy(sequence_lengths), beam_width, top_paths, mask_index)
    return keras.ops.convert_to_tensor(paths), keras.ops.convert_to_tensor(scores)


def install():
    """Use `beam_search` for keras.ops.ctc_decode's beam search on the jax and torch backends; True when installed.

    Does nothing (False) on tensorflow (its C++ decoder is fast), or on a Keras whose function
    has other arguments than the one this replaces.
    """
    import keras

    name = KERAS_MODULES.get(keras.backend.backend())
    if name is None:
        return False
    module = importlib.import_module(name)
    current = getattr(module, "_ctc_beam_search_decode", None)
    if current is _keras_beam_search:
        return True
    if current is None or list(inspect.signature(current).parameters) != PARAMETERS:
        return False
    module._ctc_beam_search_decode = _keras_beam_search
    return True
