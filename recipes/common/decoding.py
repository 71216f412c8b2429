"""Free-running decoding for encoder-decoder models: greedy and beam search, on any Keras backend.

A decoder trained with teacher forcing sees the true previous token at every step. At
test time there is no true token: the decoder must feed back its own output, one step at
a time. Both decoders here run a *step function* with explicit states, batched over all
sequences (and, for beam search, over all beams of all sequences), so one Keras call
advances every hypothesis by one token:

    step(tokens, states, context) -> (probabilities, new_states)

    tokens         (batch,) int previous tokens
    states         list of (batch, ...) arrays (the recurrent state), reordered by beam search
    context        list of (batch, ...) arrays that stay fixed while decoding (encoder
                   outputs, their mask), tiled once per beam and never reordered
    probabilities  (batch, vocabulary) next-token distribution

`keras_step(step_model)` makes such a function from a one-step decoder keras.Model (built
once, called with `predict_on_batch`, so it is traced once per batch shape). The loop
itself is NumPy: a handful of steps per answer, so Python overhead is small next to one
Keras call per step.
"""

import numpy as np


def state_sizes(cell):
    """A recurrent cell's state sizes as a list, e.g. [units, units] for an LSTM, [units] for a GRU.

    A one-step decoder model needs one keras.Input per state; Keras' own cells give an int
    for a single state and a list for several.
    """
    size = cell.state_size
    return list(size) if isinstance(size, (list, tuple)) else [size]


def keras_step(step_model, num_states):
    """A step function over a one-step decoder model.

    Args:
        step_model: keras.Model taking [tokens (batch, 1), *states, *context] and returning
            [probabilities (batch, 1, vocabulary) or (batch, vocabulary), *new states].
        num_states: how many of the model's outputs after the first are states.

    Returns:
        step(tokens, states, context) -> (probabilities (batch, vocabulary), new_states).
    """

    def step(tokens, states, context):
        outputs = step_model.predict_on_batch([np.asarray(tokens, dtype=np.int32)[:, None], *states, *context])
        probabilities = np.asarray(outputs[0])
        return probabilities.reshape(len(tokens), -1), [np.asarray(s) for s in outputs[1 : 1 + num_states]]

    return step


def greedy_decode(step, states, start_id, end_id, max_length, context=(), pad_id=0):
    """Decode by taking the most probable token at every step.

    Args:
        step: step function (see the module docstring).
        states: list of (batch, ...) initial decoder states.
        start_id: token fed at the first step.
        end_id: token that ends a sequence (not included in the result).
        max_length: the most tokens to write per sequence (<end> included).
        context: list of fixed (batch, ...) arrays passed to every step.
        pad_id: filler after a sequence's end.

    Returns:
        int32 array (batch, max_length): the decoded tokens, then pad_id from <end> on.
    """
    batch = len(states[0])
    tokens = np.full(batch, start_id, dtype=np.int32)
    result = np.full((batch, max_length), pad_id, dtype=np.int32)
    finished = np.zeros(batch, dtype=bool)
    states = list(states)
    for t in range(max_length):
        probabilities, states = step(tokens, states, list(context))
        tokens = np.argmax(probabilities, axis=-1).astype(np.int32)
        finished |= tokens == end_id
        result[~finished, t] = tokens[~finished]
        if finished.all():
            break
        # A finished sequence keeps being fed <end>; its later outputs are ignored.
        tokens = np.where(finished, end_id, tokens).astype(np.int32)
    return result


def beam_search_decode(step, states, start_id, end_id, max_length, beam_width, context=(), pad_id=0, length_penalty=0.0):
    """Decode keeping the `beam_width` most probable partial sequences of each input.

    All beams of all inputs advance in one step call of batch * beam_width rows. A beam
    that writes <end> is finished: it stays in the beam with its score frozen, competing
    with the unfinished ones, until every beam of every input is finished or
    `max_length` is reached. With beam_width 1 this is greedy decoding.

    Args:
        step: step function (see the module docstring).
        states: list of (batch, ...) initial decoder states.
        start_id, end_id, max_length, context, pad_id: as in greedy_decode.
        beam_width: hypotheses kept per input.
        length_penalty: alpha of the final ranking score log p / length**alpha (0: plain
            log-probability, which favours short outputs; 1: per-token average).

    Returns:
        (tokens, log_probabilities): int32 (batch, max_length) best sequence per input,
        padded with pad_id from <end> on, and float64 (batch,) its log-probability.

    Raises:
        ValueError: beam_width is not a positive int.
    """
    if not isinstance(beam_width, (int, np.integer)) or beam_width < 1:
        raise ValueError(f"beam_search_decode: beam_width must be a positive int, got {beam_width!r}.")
    batch, k = len(states[0]), int(beam_width)
    # Every array gets one row per (input, beam), beams of an input adjacent: row = b * k + j.
    states = [np.repeat(s, k, axis=0) for s in states]
    context = [np.repeat(c, k, axis=0) for c in context]
    scores = np.full((batch, k), -np.inf)
    scores[:, 0] = 0.0  # all beams start equal: expand only the first, or we would get k copies
    sequences = np.full((batch, k, max_length), pad_id, dtype=np.int32)
    lengths = np.zeros((batch, k), dtype=np.int64)
    finished = np.zeros((batch, k), dtype=bool)
    tokens = np.full(batch * k, start_id, dtype=np.int32)
    rows = np.arange(batch)[:, None]
    for t in range(max_length):
        probabilities, new_states = step(tokens, states, context)
        vocabulary = probabilities.shape[-1]
        with np.errstate(divide="ignore"):
            log_p = np.log(probabilities.astype(np.float64)).reshape(batch, k, vocabulary)
        # A finished beam has exactly one continuation (<end> again) that adds nothing.
        log_p[finished] = -np.inf
        log_p[finished, end_id] = 0.0
        candidates = (scores[:, :, None] + log_p).reshape(batch, k * vocabulary)
        # The k best (beam, token) pairs per input, best first.
        best = np.argsort(-candidates, axis=-1, kind="stable")[:, :k]
        parent, token = best // vocabulary, best % vocabulary  # (batch, k)
        scores = candidates[rows, best]
        was_finished = finished[rows, parent]
        sequences = sequences[rows, parent]
        lengths = lengths[rows, parent]
        writes = ~was_finished & (token != end_id)
        sequences[writes, t] = token[writes]
        lengths += ~was_finished  # <end> counts in the length used by the penalty
        finished = was_finished | (token == end_id)
        flat_parent = (rows * k + parent).reshape(-1)
        states = [s[flat_parent] for s in new_states]
        tokens = np.where(finished, end_id, token).reshape(-1).astype(np.int32)
        if finished.all():
            break
    ranking = scores / np.maximum(lengths, 1) ** length_penalty if length_penalty else scores
    choice = np.argmax(ranking, axis=-1)
    return sequences[np.arange(batch), choice], scores[np.arange(batch), choice]


def ids_to_text(ids, token_text, start, end, pad):
    """Token ids -> text, stopping at the first `end` or `pad` id; `start` ids are dropped.

    Args:
        ids: iterable of int token ids (one decoded sequence).
        token_text: id -> text of that token.
        start, end, pad: the special ids.

    Returns:
        The decoded string.
    """
    chars = []
    for i in ids:
        if i in (end, pad):
            break
        if i != start:
            chars.append(token_text[i])
    return "".join(chars)
