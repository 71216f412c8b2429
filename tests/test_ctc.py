"""recipes/common/ctc.py: encoding, CTC decoding (greedy and beam), error rates, output lengths."""

import keras
import numpy as np
import pytest

from recipes.common import ctc


def logits_for(path, length=None):
    """Logits (1, T, classes) that put almost all probability on `path`, a list of class ids per frame."""
    logits = np.full((1, length or len(path), ctc.NUM_CLASSES), -8.0, dtype=np.float32)
    for t, c in enumerate(path):
        logits[0, t, c] = 8.0
    return logits


def ids(text):
    return [ctc.ALPHABET.index(c) + 1 for c in text]


def test_encode_round_trip_and_padding():
    encoded = ctc.encode(["one two", "six"])
    assert encoded.shape == (2, 7) and encoded.dtype == np.int32
    assert encoded[1, 3:].tolist() == [0] * 4 and ctc.BLANK == 0
    assert [ctc.ids_to_text(row) for row in encoded] == ["one two", "six"]
    assert ctc.ids_to_text([-1, 15, -1]) == "n"


def test_decoding_merges_repeats_and_needs_a_blank_between_double_letters():
    o, n, e, t, h, r = ids("onethr")
    # "three": the double e needs a blank between its two runs.
    path = [t, t, h, 0, r, e, e, 0, e, 0]
    logits = logits_for(path)
    assert ctc.decode(logits, [len(path)]) == ["three"]
    assert ctc.decode(logits, [len(path)], beam_width=8) == ["three"]
    # Without the blank, the two runs of e merge.
    assert ctc.decode(logits_for([t, h, r, e, e, e]), [6]) == ["thre"]
    # Frames past the valid length are ignored.
    assert ctc.decode(logits_for(path + [o, n, e]), [len(path)]) == ["three"]
    # Spaces emitted at the ends or twice in a row are not words.
    space = ids(" ")[0]
    assert ctc.decode(logits_for([space, o, n, e, space, 0, space, t, h, r, e, 0, e, space]), [14]) == ["one three"]


def test_beam_search_finds_the_likelier_labelling_that_greedy_misses():
    # Per frame: blank 0.6, "a" 0.4. Greedy reads blank, blank -> "" (p 0.36); the labelling
    # "a" sums three paths (a-, -a, aa): 0.24 + 0.24 + 0.16 = 0.64.
    a = ids("a")[0]
    probs = np.full((1, 2, ctc.NUM_CLASSES), 1e-9, dtype=np.float32)
    probs[0, :, 0], probs[0, :, a] = 0.6, 0.4
    logits = np.log(probs)
    assert ctc.decode(logits, [2]) == [""]
    assert ctc.decode(logits, [2], beam_width=16) == ["a"]


@pytest.mark.parametrize(
    "reference, hypothesis, distance",
    [("kitten", "sitting", 3), ("abc", "", 3), ("flaw", "lawn", 2), ("same", "same", 0), ("one", "one two", 4)],
)
def test_character_error_rate_is_levenshtein_distance_over_reference_length(reference, hypothesis, distance):
    cer, _ = ctc.error_rates([reference], [hypothesis])
    assert cer == pytest.approx(distance / len(reference))


def test_error_rates_are_totals_over_the_references():
    cer, wer = ctc.error_rates(["one two", "three"], ["one to", "tree"])
    assert cer == pytest.approx(2 / 12)
    assert wer == pytest.approx(2 / 3)
    assert ctc.error_rates(["six"], ["six"]) == (0.0, 0.0)


def test_output_lengths_follow_the_model_stride():
    assert ctc.output_lengths([100, 37, 1], 100, 50).tolist() == [50, 19, 1]
    assert ctc.output_lengths([100], 100, 100).tolist() == [100]


def test_ctc_loss_prefers_the_right_transcript():
    labels = ctc.encode(["one two"])
    right = [int(i) for i in labels[0]]
    blanks = [ctc.BLANK] * (20 - len(right))
    loss = keras.losses.CTC()
    good = float(loss(labels, logits_for(right + blanks)))
    wrong = float(loss(labels, logits_for(right[::-1] + blanks)))
    assert good < 1e-2 < wrong
