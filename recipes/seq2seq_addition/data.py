"""Addition questions as text: "535+61" -> "596", with variable-length questions and answers.

Questions are drawn as in keras-io's addition_rnn example (so its LSTM peer in
bench/addition_peer.py trains on exactly the same questions): each operand has a
uniformly drawn number of digits (1..num_digits), each digit uniform in 0..9 (a leading
0 shortens the number: "07" is 7), and a question is kept only the first time its
unordered pair {a, b} appears. One stream of unique questions is cut in order into
train, validation and test, so every test question is fresh: neither it nor its
mirror a+b / b+a was seen in training or validation.

Token ids (one vocabulary for questions and answers):
    0 = padding (masked), 1..10 = digits 0..9, 11 = "+", 12 = <start>, 13 = <end>.

Model inputs and targets, for "535+61" -> "596" with reverse_question on:
    question       "16+535"  as ids, right-padded with 0 to 2 * num_digits + 1
    decoder_input  <start> 5 9 6        right-padded with 0 to num_digits + 2
    target         5 9 6 <end>          right-padded with 0 (masked in the loss)
The decoder input is the target shifted right by one step (teacher forcing).
"""

import numpy as np

from recipes.common.decoding import ids_to_text

PAD = 0
PLUS = 11
START = 12
END = 13
VOCABULARY_SIZE = 14
# Printable form of each id (padding prints as nothing; <start>/<end> as ^ and $).
TOKEN_TEXT = ["", *"0123456789", "+", "^", "$"]
_CHAR_TO_ID = {c: i for i, c in enumerate(TOKEN_TEXT) if c}


def possible_questions(num_digits):
    """Unique unordered pairs of operands below 10**num_digits."""
    return 10**num_digits * (10**num_digits + 1) // 2


def question_length(num_digits):
    """Longest question: two operands of num_digits digits and a "+"."""
    return 2 * num_digits + 1


def answer_length(num_digits):
    """Decoder steps: the longest sum has num_digits + 1 digits, then <end>."""
    return num_digits + 2


def encode(text, length):
    """Characters -> int32 ids right-padded with PAD to `length`."""
    ids = np.zeros(length, dtype=np.int32)
    ids[: len(text)] = [_CHAR_TO_ID[c] for c in text]
    return ids


def decode(ids):
    """Token ids -> text, stopping at the first <end> or padding; <start> is dropped."""
    return ids_to_text(ids, TOKEN_TEXT, START, END, PAD)


def unique_operand_pairs(count, num_digits, rng):
    """The first `count` unique unordered operand pairs of a keras-io-style question stream.

    Args:
        count: how many questions.
        num_digits: the most digits an operand may have.
        rng: numpy.random.Generator.

    Returns:
        int64 array (count, 2) of operands (a, b), in stream order.
    """
    seen = set()
    pairs = []
    powers = 10 ** np.arange(num_digits)[::-1]  # (num_digits,) place values, most significant first
    while len(pairs) < count:
        batch = max(2 * (count - len(pairs)), 1024)
        lengths = rng.integers(1, num_digits + 1, size=(batch, 2))
        digits = rng.integers(0, 10, size=(batch, 2, num_digits))
        # Keep the first `length` digits of each draw: shift them to the low places.
        values = (digits * powers).sum(-1) // 10 ** (num_digits - lengths)  # (batch, 2)
        for a, b in values.tolist():
            key = (a, b) if a <= b else (b, a)
            if key not in seen:
                seen.add(key)
                pairs.append((a, b))
                if len(pairs) == count:
                    break
    return np.array(pairs, dtype=np.int64)


def make_examples(pairs, num_digits, reverse_question):
    """Encode operand pairs as (question, decoder_input, target) id arrays and their texts.

    Args:
        pairs: (n, 2) operands.
        num_digits: sets the padded lengths.
        reverse_question: feed the question reversed ("16+535"), as keras-io does and as
            Sutskever et al. 2014 reverse the source sentence.

    Returns:
        dict with "question" (n, 2 * num_digits + 1), "decoder_input" and "target"
        (n, num_digits + 2) int32 arrays, and "question_text", "answer_text" (lists of
        str, the question as a person reads it, unreversed).
    """
    q_len, a_len = question_length(num_digits), answer_length(num_digits)
    question_text = [f"{a}+{b}" for a, b in pairs.tolist()]
    answer_text = [str(a + b) for a, b in pairs.tolist()]
    question = np.stack([encode(q[::-1] if reverse_question else q, q_len) for q in question_text])
    answers = np.stack([encode(a, a_len - 1) for a in answer_text])  # (n, a_len - 1) digits, then padding
    n = len(pairs)
    target = np.zeros((n, a_len), dtype=np.int32)
    target[:, :-1] = answers
    # <end> goes right after the last digit of each answer.
    target[np.arange(n), [len(a) for a in answer_text]] = END
    decoder_input = np.zeros((n, a_len), dtype=np.int32)
    decoder_input[:, 0] = START
    decoder_input[:, 1:] = answers
    return {"question": question, "decoder_input": decoder_input, "target": target, "question_text": question_text, "answer_text": answer_text}


def load_data(config):
    """Generate the addition questions: train, validation and fresh test questions.

    Args:
        config: uses seed, num_digits, num_train, num_validation, num_test, reverse_question.

    Returns:
        dict with "train", "validation", "test": ({"question", "decoder_input"}, target)
        and, per split, "<split>_text": {"question": [...], "answer": [...]} for the demo
        and the exact-match metric.

    The sizes must fit the operand range (the model's check_config: at most half of the
    possible_questions(num_digits)).
    """
    sizes = {"train": config["num_train"], "validation": config["num_validation"], "test": config["num_test"]}
    pairs = unique_operand_pairs(sum(sizes.values()), config["num_digits"], np.random.default_rng(config["seed"]))
    data, start = {}, 0
    for split, size in sizes.items():
        examples = make_examples(pairs[start : start + size], config["num_digits"], config["reverse_question"])
        start += size
        data[split] = ({"question": examples["question"], "decoder_input": examples["decoder_input"]}, examples["target"])
        data[f"{split}_text"] = {"question": examples["question_text"], "answer": examples["answer_text"]}
    return data
