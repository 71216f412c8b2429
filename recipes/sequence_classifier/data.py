"""Generated film reviews whose sentiment depends on negation and on the clause after "but".

No installed package ships labelled reviews, so reviews are generated from templates.
The sentiment words come from VADER's lexicon (Hutto & Gilbert 2014, the
`vaderSentiment` package, MIT licence): adjectives and verbs picked by hand from it for
a film-review vocabulary (no slang), each with a mean human rating of at least 1.2 in
absolute value; their sign is read from the lexicon. A few film-review words the lexicon lacks ("overlong", "tedious",
"gripping"...) are added with a sign we set by hand (HAND_LABELLED). Every other word
a review uses is checked to have no entry in the lexicon (see the tests).

The label comes from the template, never from VADER's own scorer:

    clause polarity = sign of its sentiment word, flipped when the clause is negated
    review label    = polarity of its only clause, or of the clause after "but"

Each review is one of three constructions, with balanced labels within each; config
`plain_fraction` (default one half) sets the share of plain reviews, and negation and
contrast split the rest evenly:

    plain      one sentiment clause:                "the acting was really good ."
    negation   one negated sentiment clause:        "the plot was not exactly great ."
    contrast   two clauses of opposite polarity     "good but overlong ."
               joined by "but" (either may be       "i expected to hate it but loved it ."
               negated; never the same word twice);
               the second one wins.

Neutral filler sentences ("i watched it on a sunday afternoon .") go before and after,
so reviews run from 4 to 40 tokens and the sentiment can sit anywhere in them. Some
fillers contain a negation of their own ("i had not read the book ."), so "not" alone
does not tell a bag of words what was negated. Punctuation marks are tokens.

A bag of words sees "not" and "great" but not their order, and "good", "but" and
"overlong" but not which came last: at best it can read the plain reviews. Reviews are
post-padded with id 0 and the models mask it.
"""

import functools

import numpy as np

from recipes.common.splits import SPLIT_STREAMS

PAD = 0  # token id of padding; the models mask it
CONSTRUCTIONS = ("plain", "negation", "contrast")

# Sentiment words (VADER mean rating >= 1.2 in absolute value). The grouping is for the
# reader; adjectives() and verbs() take each word's sign from the lexicon.
POSITIVE_ADJECTIVES = (
    "good",
    "great",
    "excellent",
    "wonderful",
    "brilliant",
    "superb",
    "fantastic",
    "amazing",
    "delightful",
    "charming",
    "beautiful",
    "funny",
    "hilarious",
    "clever",
    "enjoyable",
    "entertaining",
    "fun",
    "fascinating",
    "impressive",
    "inspiring",
    "lovely",
    "perfect",
    "stunning",
    "thrilling",
    "elegant",
    "sweet",
    "powerful",
    "exciting",
    "splendid",
    "magnificent",
    "marvelous",
    "outstanding",
    "pleasant",
    "creative",
    "intelligent",
    "smart",
    "nice",
    "awesome",
    "fabulous",
    "terrific",
    "gorgeous",
    "heartwarming",
    "engaging",
    "original",
)
NEGATIVE_ADJECTIVES = (
    "bad",
    "awful",
    "terrible",
    "horrible",
    "boring",
    "dull",
    "stupid",
    "weak",
    "poor",
    "lame",
    "disappointing",
    "annoying",
    "painful",
    "ugly",
    "dreadful",
    "messy",
    "pathetic",
    "ridiculous",
    "worthless",
    "lousy",
    "miserable",
    "irritating",
    "depressing",
    "disgusting",
    "nasty",
    "dumb",
    "idiotic",
)
# (past tense, base form): "i loved it", "i did not love it", "i expected to love it".
POSITIVE_VERBS = (
    ("loved", "love"),
    ("enjoyed", "enjoy"),
    ("liked", "like"),
    ("adored", "adore"),
    ("admired", "admire"),
    ("appreciated", "appreciate"),
)
NEGATIVE_VERBS = (("hated", "hate"), ("disliked", "dislike"), ("despised", "despise"), ("loathed", "loathe"))
# Film-review words that VADER's lexicon lacks, with the sign we give them (a deviation from "VADER only").
HAND_LABELLED = {
    "gripping": 1,
    "witty": 1,
    "moving": 1,
    "memorable": 1,
    "overlong": -1,
    "tedious": -1,
    "predictable": -1,
    "bland": -1,
    "clumsy": -1,
    "forgettable": -1,
    "pointless": -1,
    "mediocre": -1,
}
MIN_LEXICON_RATING = 1.2

SUBJECTS = (
    "the movie",
    "the film",
    "this film",
    "the acting",
    "the plot",
    "the script",
    "the ending",
    "the soundtrack",
    "the dialogue",
    "the pacing",
    "the cast",
    "the story",
    "the camera work",
    "the lead actor",
    "the photography",
)
COPULAS = ("was", "is")
INTENSIFIERS = ("", "", "really", "very", "quite", "so", "absolutely", "totally")
# Negators of an adjective, "*" marking where it goes when not last ("not bad at all").
ADJECTIVE_NEGATORS = (
    "not",
    "never",
    "not exactly",
    "not particularly",
    "not really",
    "not at all",
    "not * at all",
    "by no means",
)
# Neutral sentences; the last five contain a negation that negates no sentiment.
FILLERS = (
    "i watched it on a sunday afternoon",
    "i saw it at the local cinema with my brother",
    "the story follows a young teacher in a small town",
    "it runs for about two hours",
    "the film is based on a book",
    "most of it takes place on a train",
    "the director also wrote the script",
    "it was released last year",
    "there are three main characters",
    "the lead actor is a detective",
    "my sister picked it for movie night",
    "it is the second part of a series",
    "the music is by an orchestra from prague",
    "we watched it at home",
    "it is set in the seventies",
    "the trailer came out in march",
    "i had not read the book",
    "i did not know the director",
    "i had never heard of the cast",
    "we did not see the first part",
    "it is not a sequel",
)


@functools.lru_cache(maxsize=1)
def vader_lexicon():
    """VADER's lexicon: {word: mean human rating in -4..4} (7,500 entries)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return dict(SentimentIntensityAnalyzer().lexicon)


def word_polarity(word):
    """+1 or -1 for a sentiment word: the sign of its VADER rating, or of HAND_LABELLED."""
    if word in HAND_LABELLED:
        return HAND_LABELLED[word]
    return 1 if vader_lexicon()[word] > 0 else -1


@functools.lru_cache(maxsize=2)
def adjectives(polarity):
    """The adjectives whose polarity (by word_polarity) is `polarity` (+1/-1)."""
    candidates = POSITIVE_ADJECTIVES + NEGATIVE_ADJECTIVES + tuple(HAND_LABELLED)
    return tuple(w for w in candidates if word_polarity(w) == polarity)


@functools.lru_cache(maxsize=2)
def verbs(polarity):
    """The (past, base) verb pairs whose polarity (by word_polarity of the past form) is `polarity`."""
    return tuple(pair for pair in POSITIVE_VERBS + NEGATIVE_VERBS if word_polarity(pair[0]) == polarity)


# Every adjective and verb form that carries sentiment.
SENTIMENT_WORDS = frozenset(
    POSITIVE_ADJECTIVES + NEGATIVE_ADJECTIVES + tuple(HAND_LABELLED) + tuple(w for pair in POSITIVE_VERBS + NEGATIVE_VERBS for w in pair)
)


def _lemmas(tokens):
    """The sentiment words of `tokens`, verbs in their base form ("hated" -> "hate")."""
    base_of = {past: base for past, base in POSITIVE_VERBS + NEGATIVE_VERBS}
    return {base_of.get(w, w) for w in tokens if w in SENTIMENT_WORDS}


def vocabulary():
    """Every token a review can contain, sorted; token id = index + 1 (0 is padding)."""
    words = {".", ",", "but", "i", "it", "did", "expected", "to", "be", "didn't", "wasn't", "isn't"}
    for polarity in (1, -1):
        words.update(adjectives(polarity))
        for past, base in verbs(polarity):
            words.update((past, base))
    for phrase in SUBJECTS + COPULAS + INTENSIFIERS + ADJECTIVE_NEGATORS + FILLERS:
        words.update(phrase.split())
    words.difference_update({"", "*"})
    return sorted(words)


def _pick(rng, options):
    return options[int(rng.integers(len(options)))]


def sentiment_clause(polarity, negated, rng, fragment_ok=True):
    """Tokens of one clause whose meaning has `polarity`, negated or not.

    The sentiment word carries `polarity` when the clause is plain and the opposite
    when it is negated, so the clause always means `polarity`.

    Args:
        polarity: +1 or -1, what the clause means.
        negated: whether the clause negates its sentiment word.
        rng: a numpy.random.Generator.
        fragment_ok: allow verbless fragments ("not exactly great").

    Returns:
        A list of str tokens.
    """
    word_sign = -polarity if negated else polarity
    kind = _pick(rng, ("adjective", "adjective", "verb", "fragment") if fragment_ok else ("adjective", "adjective", "verb"))
    if kind == "verb":
        past, base = _pick(rng, verbs(word_sign))
        if not negated:
            # Present tense half the time, so base forms are not a give-away of negation
            # ("i did not love it") or of the expectation clause ("i expected to love it").
            return ["i", past if rng.random() < 0.5 else base, "it"]
        return _pick(rng, (["i", "did", "not", base, "it"], ["i", "didn't", base, "it"], ["i", "never", past, "it"]))
    adjective = _pick(rng, adjectives(word_sign))
    if negated:
        negator = _pick(rng, ADJECTIVE_NEGATORS).split()
        head = [adjective if w == "*" else w for w in negator] if "*" in negator else negator + [adjective]
    else:
        head = [w for w in [_pick(rng, INTENSIFIERS), adjective] if w]
    if kind == "fragment":
        return head
    subject = _pick(rng, SUBJECTS).split()
    copula = _pick(rng, COPULAS)
    if negated and head[0] == "not" and rng.random() < 0.3:
        # The contracted form: "the plot wasn't great".
        return subject + [{"was": "wasn't", "is": "isn't"}[copula]] + head[1:]
    return subject + [copula] + head


def sentiment_part(construction, label, rng):
    """The sentiment-bearing sentence of a review of `construction` meaning `label` (+1/-1)."""
    if construction == "plain":
        return sentiment_clause(label, False, rng)
    if construction == "negation":
        return sentiment_clause(label, True, rng)
    # Contrast: the first clause means the opposite, the clause after "but" wins.
    if rng.random() < 0.25:
        # "i expected to hate it but loved it" / "i expected it to be dull but ..."
        if rng.random() < 0.5:
            first = ["i", "expected", "to", _pick(rng, verbs(-label))[1], "it"]
        else:
            first = ["i", "expected", "it", "to", "be", _pick(rng, adjectives(-label))]
        second = ["i", _pick(rng, verbs(label))[0], "it"] if rng.random() < 0.5 else sentiment_clause(label, False, rng)
        if second[0] == "i" and rng.random() < 0.5:
            second = second[1:]  # "... but loved it"
        return first + ["but"] + second
    fragment = rng.random() < 0.3  # "good but overlong"
    first = sentiment_clause(-label, rng.random() < 0.25, rng, fragment_ok=fragment)
    second = first
    while _lemmas(second) & _lemmas(first):
        # Not the same word twice ("i hated it , but i didn't hate it").
        second = sentiment_clause(label, rng.random() < 0.25, rng, fragment_ok=fragment)
    joiner = ["but"] if fragment or rng.random() < 0.5 else [",", "but"]
    return first + joiner + second


def generate_review(construction, label, min_words, max_words, rng):
    """One review: filler sentences around the sentiment sentence, from min_words to max_words tokens.

    Returns:
        A list of str tokens.
    """
    core = sentiment_part(construction, label, rng) + ["."]
    # Draw a target length uniformly, then add filler sentences (before or after) up to it,
    # so short and long reviews are equally common.
    target = int(rng.integers(max(min_words, len(core)), max_words + 1))
    before, after = [], []
    for _ in range(8):
        filler = _pick(rng, FILLERS).split() + ["."]
        if len(core) + len(before) + len(after) + len(filler) > target:
            break
        if rng.random() < 0.5:
            before += filler
        else:
            after += filler
    while len(core) + len(before) + len(after) < min_words:
        after += _pick(rng, FILLERS).split() + ["."]  # a core as short as "good ." needs a filler
    return before + core + after


def construction_counts(num_reviews, plain_fraction):
    """Reviews per construction: `plain_fraction` plain, the rest split evenly between negation and contrast."""
    plain = int(round(num_reviews * plain_fraction))
    negation = (num_reviews - plain) // 2
    return {"plain": plain, "negation": negation, "contrast": num_reviews - plain - negation}


def generate_reviews(num_reviews, plain_fraction, min_words, max_words, rng, exclude=frozenset()):
    """`num_reviews` reviews, labels balanced within each construction, none of them in `exclude`.

    Args:
        num_reviews: how many reviews.
        plain_fraction: share of plain reviews (the rest: negation and contrast, half each).
        min_words, max_words: the length range in tokens.
        rng: a numpy.random.Generator.
        exclude: review texts (tokens joined by spaces) not to generate.

    Returns:
        (reviews, labels, constructions) in random order: a list of token lists, an int32
        array of 0/1 (1 = positive), and a list of construction names.
    """
    reviews, labels, constructions = [], [], []
    for construction, count in construction_counts(num_reviews, plain_fraction).items():
        made = 0
        while made < count:
            label = 1 if made % 2 == 0 else -1
            review = generate_review(construction, label, min_words, max_words, rng)
            if " ".join(review) in exclude:
                continue  # keep validation and test reviews unseen in training
            reviews.append(review)
            labels.append(1 if label > 0 else 0)
            constructions.append(construction)
            made += 1
    order = rng.permutation(num_reviews)
    return [reviews[i] for i in order], np.asarray(labels, dtype=np.int32)[order], [constructions[i] for i in order]


def encode(reviews, max_words, word_index):
    """Token lists -> int32 (N, max_words) ids, post-padded with PAD."""
    ids = np.full((len(reviews), max_words), PAD, dtype=np.int32)
    for row, review in enumerate(reviews):
        ids[row, : len(review)] = [word_index[w] for w in review]
    return ids


# The longest sentiment sentence ("the camera work was not at all good , but the lead
# actor was by no means bad .") has 19 tokens; a filler sentence has at most 12. So
# max_words must be at least 20 and min_words at most 8 (the model's CONFIG_RULES).
LONGEST_CORE = 19


def load_data(config):
    """Generate the train, validation and test reviews for a config.

    Args:
        config: dict with seed, num_train, num_validation, num_test, plain_fraction,
            min_words, max_words.

    Returns:
        dict with "train", "validation", "test": (x, y), x int32 (N, max_words) token ids
        post-padded with 0, y float32 (N,) labels (1 = positive); "vocabulary": the token
        list (id = index + 1); "word_index": {token: id}; "test_reviews": the test token
        lists; "test_constructions": the construction of each test review.
    """
    words = vocabulary()
    word_index = {w: i + 1 for i, w in enumerate(words)}
    splits, texts = {}, set()
    for name in ("train", "validation", "test"):
        rng = np.random.default_rng([config["seed"], SPLIT_STREAMS[name]])
        reviews, labels, constructions = generate_reviews(
            config[f"num_{name}"], config["plain_fraction"], config["min_words"], config["max_words"], rng, exclude=frozenset(texts)
        )
        if name == "train":
            texts = {" ".join(r) for r in reviews}
        splits[name] = (reviews, labels, constructions)
    data = {name: (encode(reviews, config["max_words"], word_index), labels.astype(np.float32)) for name, (reviews, labels, _) in splits.items()}
    data.update(
        vocabulary=words,
        word_index=word_index,
        test_reviews=splits["test"][0],
        test_constructions=splits["test"][2],
    )
    return data
