"""NumPy helpers for probabilities computed outside a model (metrics, decoding)."""

import numpy as np


def log_softmax(logits):
    """log softmax over the last axis, stable for large logits (the maximum is subtracted first)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
