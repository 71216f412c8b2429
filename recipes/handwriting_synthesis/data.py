"""Handwritten words as pen offsets, drawn from the cursive Hershey font with random handwriting styles.

Strokes: the Hershey "Script simplex" font (`scripts` in the Hershey-Fonts package; its
lower-case letters are the same strokes as the package's `cursive` font; `scriptc`, Script
complex, traces every line twice and is not used). Its lower-case letters enter and leave
on one line, so a word is written like cursive handwriting:

- Within a letter, consecutive strokes that meet or nearly meet (the font splits some
  paths, and lifts the pen between the humps of m, n, u) are one pen-down stroke. Between letters, the last stroke of a letter is joined to the first
  stroke of the next with a pen-down connecting line when their ends are less than
  JOIN_DISTANCE font units apart (a connected letter); otherwise the pen lifts.
- Dots (of i and j) and horizontal bars (the cross of t) are delayed strokes, written
  after the whole word, as people dot i's and cross t's at the end.

Every sample gets its own random style, so no two samples are the same: a slant (shear),
a size, an aspect ratio and a small rotation for the whole word; for every letter a
spacing, a baseline shift and a size; and jitter on every control point of the font.
The pen path is then resampled at a fixed arc length (`pen_step` font units), so a
sample holds about 7 to 20 points per letter at pen_step 3.

One step of a sequence is Graves' (2013) triple (dx, dy, e): the offset from the previous
pen position, divided by pen_step (so a pen-down step has length about 1), and e = 1
when the pen lifts after this point (end of stroke). The pen starts lifted at the origin
(the start of the word's baseline), so the first offset is a pen-up move to the first
point. Model input at step t is the previous triple (the start token (0, 0, 1) at t = 0);
the target is the triple itself, plus a fourth channel that is 1 at real points and 0 at
padding (the loss and NLL read it).

Words: the `num_words` most frequent lower-case words of 2 to max_word_length letters in
the Shakespeare text of recipes/common/text.py, drawn uniformly per sample; all splits
draw from the same words, each sample in its own style.

Data licence: the Hershey-Fonts package is MIT licensed (Copyright (c) 2020 apshu). The
Hershey fonts were originally created by Dr. A. V. Hershey while working at the U. S.
National Bureau of Standards; the format of the font data was originally created by
James Hurt, Cognition, Inc. (the acknowledgement the Hershey font distribution asks for).
"""

import collections
import functools
import re
import string

import numpy as np

from recipes.common.text import shakespeare_text

FONT = "scripts"
ALPHABET = string.ascii_lowercase
# Text ids: 0 pads a word, letters are 1..26.
VOCABULARY_SIZE = len(ALPHABET) + 1
# Letters whose strokes end and start closer than this (font units; a letter is ~15 wide)
# are joined by a pen-down connecting line.
JOIN_DISTANCE = 12.0
# Strokes of one letter whose ends are at most this far apart are one pen-down stroke: the
# font lifts the pen between the humps of m, n, u, y and in the loops of p and s (gaps of
# 3.2 to 4.1 units), which a hand writes without lifting; the crossing stroke of x (4.2) stays apart.
CONTINUE_DISTANCE = 4.15
# One independent random stream per split, so a split's size leaves the others unchanged.
_STREAMS = {"train": 0, "validation": 1, "test": 2}
START = np.array([0.0, 0.0, 1.0], dtype=np.float32)


@functools.lru_cache(maxsize=1)
def letter_strokes():
    """{letter: (body strokes, delayed strokes, advance width)} of the Script simplex font, in y-up font units.

    Body strokes are float arrays (points, 2), shifted so the letter's left side is x = 0;
    consecutive strokes less than CONTINUE_DISTANCE apart are merged into one.
    """
    from HersheyFonts import HersheyFonts

    font = HersheyFonts()
    font.load_default_font(FONT)
    glyphs = font.all_glyphs
    letters = {}
    for letter in ALPHABET:
        glyph = glyphs[letter]
        body, delayed = [], []
        for stroke in glyph.strokes:
            points = np.array(stroke, dtype=np.float64) * [1.0, -1.0] - [glyph.left_offset, 0.0]
            extent = np.ptp(points, axis=0)
            if extent.max() <= 3.0 or (len(points) == 2 and extent[1] == 0 and not body_ends_at(body, points)):
                delayed.append(points)  # a dot, or a horizontal bar drawn apart (the cross of t)
            elif body_ends_at(body, points):
                body[-1] = np.concatenate([body[-1], points])
            else:
                body.append(points)
        letters[letter] = (body, delayed, float(glyph.char_width))
    return letters


def body_ends_at(body, points):
    """True when the last body stroke ends within CONTINUE_DISTANCE of where `points` starts."""
    return bool(body) and np.linalg.norm(body[-1][-1] - points[0]) <= CONTINUE_DISTANCE


@functools.lru_cache(maxsize=4)
def word_list(num_words, max_word_length):
    """The `num_words` most frequent lower-case words of 2..max_word_length letters in the Shakespeare text.

    Ties are broken alphabetically, so the list is the same everywhere.
    """
    counts = collections.Counter(w for w in re.findall(r"[a-z]+", shakespeare_text().lower()) if 2 <= len(w) <= max_word_length)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(word for word, _ in ranked[:num_words])


def resample(stroke, step):
    """Points along a polyline every `step` units of arc length, both ends included: (n, 2), n >= 1."""
    lengths = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(lengths)])
    if arc[-1] < step / 2:
        return stroke[-1:]  # a dot: one point
    count = max(int(round(arc[-1] / step)), 1)
    positions = np.linspace(0.0, arc[-1], count + 1)
    return np.stack([np.interp(positions, arc, stroke[:, 0]), np.interp(positions, arc, stroke[:, 1])], axis=1)


def write_word(word, rng, pen_step):
    """One handwritten sample of `word` in a random style.

    Args:
        word: lower-case a-z text.
        rng: numpy.random.Generator drawing the style.
        pen_step: arc length between resampled points (font units).

    Returns:
        float32 (points, 3): (dx, dy, e) per point, offsets divided by pen_step, e = 1
        where the pen lifts after the point; the pen starts lifted at the origin.
    """
    letters = letter_strokes()
    strokes, delayed, x = [], [], 0.0
    for index, letter in enumerate(word):
        body, dots, width = letters[letter]
        size = rng.uniform(0.92, 1.08)
        shift = np.array([x, rng.normal(0.0, 0.6)])
        for part, stroke in enumerate(body):
            points = stroke * size + shift + rng.normal(0.0, 0.25, size=stroke.shape)
            # Join the first stroke of a letter to the previous letter's last one when close.
            if part == 0 and index > 0 and strokes and np.linalg.norm(strokes[-1][-1] - points[0]) < JOIN_DISTANCE:
                strokes[-1] = np.concatenate([strokes[-1], points])
            else:
                strokes.append(points)
        delayed += [stroke * size + shift + rng.normal(0.0, 0.15, size=stroke.shape) for stroke in dots]
        x += width * size + rng.uniform(-1.0, 1.5)
    # The word's style: slant (shear), size and aspect, a small rotation.
    slant, scale, aspect, angle = rng.uniform(-0.35, 0.35), rng.uniform(0.8, 1.2), rng.uniform(0.9, 1.1), rng.normal(0.0, 0.05)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    transform = rotation @ np.array([[1.0, slant], [0.0, 1.0]]) @ np.diag([scale, scale * aspect])
    pieces, ends = [], []
    for stroke in strokes + delayed:
        points = resample(stroke @ transform.T, pen_step)
        pieces.append(points)
        ends.append(np.arange(len(points)) == len(points) - 1)
    points, ends = np.concatenate(pieces), np.concatenate(ends)
    offsets = np.diff(np.concatenate([[[0.0, 0.0]], points]), axis=0) / pen_step
    return np.concatenate([offsets, ends[:, None]], axis=1).astype(np.float32)


def encode_word(word, length):
    """int32 (length,) letter ids 1..26 of `word`, padded with 0."""
    ids = np.zeros(length, dtype=np.int32)
    ids[: len(word)] = [ALPHABET.index(c) + 1 for c in word]
    return ids


def decode_word(ids):
    """The letters of nonzero ids."""
    return "".join(ALPHABET[i - 1] for i in np.asarray(ids) if i > 0)


def make_split(words, rng, pen_step, max_word_length):
    """Inputs, targets, texts of one split: (strokes (n, T, 3), text (n, L)), targets (n, T, 4).

    T is the longest sample of the split; shorter ones are padded with zeros (mask 0).
    """
    samples = [write_word(word, rng, pen_step) for word in words]
    steps = max(len(sample) for sample in samples)
    targets = np.zeros((len(samples), steps, 4), dtype=np.float32)
    for row, sample in enumerate(samples):
        targets[row, : len(sample), :3] = sample
        targets[row, : len(sample), 3] = 1.0
    # Teacher forcing: the input at t is the target at t - 1, the start token at t = 0.
    strokes = np.concatenate([np.broadcast_to(START, (len(samples), 1, 3)), targets[:, :-1, :3]], axis=1)
    text = np.stack([encode_word(word, max_word_length) for word in words])
    return strokes, text, targets


def load_data(config):
    """Generate the train, validation and test samples for a config.

    Args:
        config: dict with seed, conditional, num_words, max_word_length, pen_step,
            num_train, num_validation, num_test.

    Returns:
        dict with "train", "validation", "test": (x, y) where x = {"strokes": (n, T, 3)
        float32, "text": (n, max_word_length) int32} ("strokes" only when not conditional)
        and y = (n, T, 4) float32 targets (dx, dy, e, mask); and "words": the word list.
    """
    words = word_list(config["num_words"], config["max_word_length"])
    data = {"words": words}
    for name in ("train", "validation", "test"):
        rng = np.random.default_rng([config["seed"], _STREAMS[name]])
        chosen = [words[i] for i in rng.integers(0, len(words), size=config[f"num_{name}"])]
        strokes, text, targets = make_split(chosen, rng, config["pen_step"], config["max_word_length"])
        x = {"strokes": strokes, "text": text} if config["conditional"] else {"strokes": strokes}
        data[name] = (x, targets)
    return data
