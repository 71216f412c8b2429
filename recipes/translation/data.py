"""Number words and dates in two real languages, rendered by grammar libraries, as character strings.

Each example is one expression written in the source and the target language:

    cardinal numbers   num2words (LGPL-2.1), e.g. 297 in English and German:
                       "two hundred and ninety-seven" -> "zweihundertsiebenundneunzig"
    dates              babel (BSD-3-Clause, CLDR data under the Unicode licence), full format:
                       "Friday, December 5, 1997" -> "Freitag, 5. Dezember 1997"

The libraries carry the languages' real rules: German writes the units before the tens
("sieben-und-neunzig" for ninety-seven) and joins a number into one word; French counts
ninety-seven as "quatre-vingt-dix-sept" (four-twenty-ten-seven); English puts the month
before the day, German and French after it. These are the reorderings attention has to
find. Both sides are characters: German and French numbers are single words, so a word
vocabulary would have one token per number and nothing to generalise from.

Splits ("unseen means unseen"):
- a pool of numbers 1..max_number and num_dates random dates (1900-2099) is shuffled
  (seeded) and cut into test (num_test), validation (num_validation) and train (the rest):
  the random held-out split, expressions of the same kinds as in training.
- `unseen`: every number whose last two digits are held_out_ending (97: 97, 197, 297, ...)
  or whose hundreds digit is held_out_hundreds (7: 700-799, 1700-1799, ...) is removed from
  the pool before the cut. Training never shows "ninety-seven" or "seven hundred" (nor
  "siebenundneunzig", "siebenhundert"), only their parts in other combinations
  ("ninety-eight", "seventy-seven", "six hundred"). At most num_unseen of them are tested.

Token ids (one vocabulary for both languages):
    0 = padding (masked), 1 = <start>, 2 = <end>, 3.. = the characters of ALPHABET.

Model inputs and targets, for "one" -> "eins":
    source         o n e                    right-padded with 0 to the longest source
    decoder_input  <start> e i n s          right-padded with 0 to the longest target + 1
    target         e i n s <end>            right-padded with 0 (masked in the loss)
"""

import datetime

import numpy as np

from recipes.common.decoding import ids_to_text

LANGUAGES = ("en", "de", "fr")
PAD, START, END = 0, 1, 2
# Every character num2words and babel write for these languages (numbers and full dates).
ALPHABET = " ',-." + "0123456789" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz" + "ßäöüàâçéèêëîïôùûœ"
TOKEN_TEXT = ["", "^", "$", *ALPHABET]
VOCABULARY_SIZE = len(TOKEN_TEXT)
_CHAR_ID = {c: i for i, c in enumerate(TOKEN_TEXT) if i > END}
FIRST_DATE = datetime.date(1900, 1, 1)
NUM_DAYS = (datetime.date(2099, 12, 31) - FIRST_DATE).days + 1
# Random streams of the generator, seeded [seed, stream] (fixed, so resizing one split keeps the others' draws).
_DATES_STREAM, _SPLIT_STREAM, _UNSEEN_STREAM = 10, 11, 12


def render(expression, language):
    """One expression as text: ("number", 297) or ("date", days since 1900-01-01).

    Args:
        expression: (kind, value) with kind "number" or "date".
        language: one of LANGUAGES.

    Returns:
        The text num2words (numbers) or babel's full date format (dates) writes.
    """
    kind, value = expression
    if kind == "number":
        from num2words import num2words

        return num2words(int(value), lang=language)
    from babel.dates import format_date

    return format_date(FIRST_DATE + datetime.timedelta(days=int(value)), format="full", locale=language)


def encode(text):
    """Text -> int32 character ids.

    Raises:
        ValueError: a character is outside ALPHABET (a language this recipe does not cover).
    """
    unknown = sorted(set(text) - set(_CHAR_ID))
    if unknown:
        raise ValueError(f"Character(s) {''.join(unknown)!r} of {text!r} are not in the translation alphabet; add them to ALPHABET in data.py.")
    return np.array([_CHAR_ID[c] for c in text], dtype=np.int32)


def decode(ids):
    """Character ids -> text, stopping at the first <end> or padding; <start> is dropped."""
    return ids_to_text(ids, TOKEN_TEXT, START, END, PAD)


def is_unseen(number, config):
    """True for a number of the held-out patterns (last two digits held_out_ending, or hundreds digit held_out_hundreds)."""
    return number % 100 == config["held_out_ending"] or (number // 100) % 10 == config["held_out_hundreds"]


def expressions(config):
    """The expressions of every split, before rendering.

    Returns:
        dict split -> list of (kind, value): "train", "validation", "test" cut from the
        shuffled pool, and "unseen" (numbers of the held-out patterns, in increasing order).
    """
    numbers = np.arange(1, config["max_number"] + 1)
    held_out = np.array([is_unseen(int(n), config) for n in numbers], dtype=bool)
    days = np.random.default_rng([config["seed"], _DATES_STREAM]).choice(NUM_DAYS, size=config["num_dates"], replace=False)
    pool = [("number", int(n)) for n in numbers[~held_out]] + [("date", int(d)) for d in days]
    order = np.random.default_rng([config["seed"], _SPLIT_STREAM]).permutation(len(pool))
    pool = [pool[i] for i in order]
    num_test, num_validation = config["num_test"], config["num_validation"]
    unseen = numbers[held_out]
    if len(unseen) > config["num_unseen"]:
        unseen = np.sort(np.random.default_rng([config["seed"], _UNSEEN_STREAM]).choice(unseen, size=config["num_unseen"], replace=False))
    return {
        "test": pool[:num_test],
        "validation": pool[num_test : num_test + num_validation],
        "train": pool[num_test + num_validation :],
        "unseen": [("number", int(n)) for n in unseen],
    }


def encode_pairs(pairs, source_length, target_length):
    """(source text, target text) pairs -> ({"source", "decoder_input"}, target) padded int32 arrays.

    Args:
        pairs: list of (source text, target text).
        source_length: padded source length.
        target_length: padded length of decoder_input and target (longest target + 1 for <end>).
    """
    n = len(pairs)
    source = np.zeros((n, source_length), dtype=np.int32)
    decoder_input = np.zeros((n, target_length), dtype=np.int32)
    target = np.zeros((n, target_length), dtype=np.int32)
    for i, (source_text, target_text) in enumerate(pairs):
        s, t = encode(source_text), encode(target_text)
        source[i, : len(s)] = s
        decoder_input[i, 0] = START
        decoder_input[i, 1 : len(t) + 1] = t
        target[i, : len(t)] = t
        target[i, len(t)] = END
    return {"source": source, "decoder_input": decoder_input}, target


def load_data(config):
    """Render and encode every split.

    Args:
        config: uses seed, source_language, target_language, max_number, num_dates,
            held_out_ending, held_out_hundreds, num_validation, num_test, num_unseen.

    Returns:
        dict with "train", "validation", "test", "unseen": ({"source", "decoder_input"},
        target); "<split>_pairs": the (source text, target text) of every example;
        "<split>_kinds": "number" or "date" per example; "<split>_values": the number, or
        the date as days since 1900-01-01; "vocabulary": the text of every
        token id. All splits share one padded source and one padded target length.
    """
    splits = expressions(config)
    data = {}
    for split, items in splits.items():
        data[f"{split}_pairs"] = [(render(e, config["source_language"]), render(e, config["target_language"])) for e in items]
        data[f"{split}_kinds"] = np.array([kind for kind, _ in items])
        data[f"{split}_values"] = np.array([value for _, value in items], dtype=np.int64)
    every = [pair for split in splits for pair in data[f"{split}_pairs"]]
    source_length = max(len(s) for s, _ in every)
    target_length = max(len(t) for _, t in every) + 1
    for split in splits:
        data[split] = encode_pairs(data[f"{split}_pairs"], source_length, target_length)
    data["vocabulary"] = TOKEN_TEXT
    return data
