"""8x8 digit images from scikit-learn's bundled `load_digits`, paired with their names spelled letter by letter.

Source: the UCI "Optical Recognition of Handwritten Digits" test set (E. Alpaydin and
C. Kaynak, 1998; 1,797 images of 8x8 pixels with values 0..16), shipped inside
scikit-learn (BSD-3-Clause), so nothing is downloaded.

Each image is the fixed vector x of the Deep Learning book's figure 10.9; the target is
the sequence of letters of its English name followed by <end>:

    token ids   0 = padding, 1 = <start>, 2 = <end>, 3.. = the letters e f g h i n o r s t u v w x z
    decoder input (teacher forcing)   <start> s e v e n
    target                            s e v e n <end>

Both are post-padded with 0 to MAX_STEPS = 6 ("three", "seven", "eight" + <end>);
the decoder masks padded steps, so they count in neither loss nor accuracy.

Split: a stratified, seeded split into test (20 %), validation (10 %) and train (the
rest). Only the training images are augmented: `num_augmented_copies` extra copies of
each, shifted by up to one pixel in each direction and with Gaussian pixel noise
(`noise_std`, in units of the 0..1 pixel range), since 1,257 training images are few.
"""

import numpy as np

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
PAD, START, END = 0, 1, 2
LETTERS = tuple(sorted(set("".join(DIGIT_NAMES))))
VOCABULARY = ("<pad>", "<start>", "<end>") + LETTERS  # token id = index
LETTER_IDS = {letter: index for index, letter in enumerate(VOCABULARY) if index > END}
MAX_STEPS = max(len(name) for name in DIGIT_NAMES) + 1  # the longest name plus <end>
IMAGE_SIZE = 8
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE
TEST_FRACTION, VALIDATION_FRACTION = 0.2, 0.1


def spell(digit):
    """(decoder_input, target): int32 (MAX_STEPS,) token ids of one digit's name, post-padded.

    decoder_input is <start> then the letters; target is the letters then <end>.
    """
    letters = [LETTER_IDS[c] for c in DIGIT_NAMES[digit]]
    decoder_input = np.full(MAX_STEPS, PAD, dtype=np.int32)
    target = np.full(MAX_STEPS, PAD, dtype=np.int32)
    decoder_input[: len(letters) + 1] = [START] + letters
    target[: len(letters) + 1] = letters + [END]
    return decoder_input, target


def tokens_to_name(tokens):
    """Token ids -> the word they spell, up to the first <end> (padding and <start> skipped)."""
    letters = []
    for token in tokens:
        if token == END:
            break
        if token > END:
            letters.append(VOCABULARY[token])
    return "".join(letters)


def stratified_split(digits, rng):
    """Indices (train, validation, test), stratified by digit, shuffled with `rng`."""
    parts = {"train": [], "validation": [], "test": []}
    for digit in range(len(DIGIT_NAMES)):
        members = rng.permutation(np.flatnonzero(digits == digit))
        num_test = int(round(TEST_FRACTION * len(members)))
        num_validation = int(round(VALIDATION_FRACTION * len(members)))
        parts["test"].append(members[:num_test])
        parts["validation"].append(members[num_test : num_test + num_validation])
        parts["train"].append(members[num_test + num_validation :])
    return tuple(rng.permutation(np.concatenate(parts[name])) for name in ("train", "validation", "test"))


def augment(images, num_copies, noise_std, rng):
    """`num_copies` shifted, noisy copies of each image, after the originals.

    Args:
        images: float32 (N, 8, 8) in 0..1.
        num_copies: copies per image.
        noise_std: standard deviation of the added Gaussian pixel noise.
        rng: a numpy.random.Generator.

    Returns:
        (images, source): float32 (N * (1 + num_copies), 8, 8) clipped to 0..1, and the
        int index of the original image of each row.
    """
    out, source = [images], [np.arange(len(images))]
    for _ in range(num_copies):
        shifted = np.zeros_like(images)
        for i, (dy, dx) in enumerate(rng.integers(-1, 2, size=(len(images), 2))):
            # Shift with zero fill: the pixel at (r, c) moves to (r + dy, c + dx).
            src = images[i, max(0, -dy) : IMAGE_SIZE - max(0, dy), max(0, -dx) : IMAGE_SIZE - max(0, dx)]
            shifted[i, max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
        noisy = shifted + rng.normal(0.0, noise_std, size=shifted.shape).astype(np.float32)
        out.append(np.clip(noisy, 0.0, 1.0))
        source.append(np.arange(len(images)))
    return np.concatenate(out).astype(np.float32), np.concatenate(source)


def make_split(images, digits):
    """(x, y) for the model: x = {"image": (N, 64), "previous_letters": (N, MAX_STEPS)}, y = (N, MAX_STEPS)."""
    decoder_inputs, targets = zip(*(spell(d) for d in digits))
    x = {"image": images.reshape(len(images), NUM_PIXELS).astype(np.float32), "previous_letters": np.stack(decoder_inputs)}
    return x, np.stack(targets)


def load_data(config):
    """Split the digits, augment the training images, and spell every name.

    Args:
        config: dict with seed, num_augmented_copies, noise_std.

    Returns:
        dict with "train", "validation", "test": (x, y) as make_split returns them;
        "train_digits", "test_digits": the int digit of each row (for the plain
        classifier and the demo); "num_train_originals": how many training rows, at
        the start, are unaugmented; "test_images": float32 (N, 8, 8) test images in 0..1.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)  # (1797, 8, 8) in 0..1
    labels = digits.target.astype(np.int32)
    rng = np.random.default_rng(config["seed"])
    train, validation, test = stratified_split(labels, rng)
    train_images, source = augment(images[train], config["num_augmented_copies"], config["noise_std"], rng)
    train_digits = labels[train][source]
    return {
        "train": make_split(train_images, train_digits),
        "validation": make_split(images[validation], labels[validation]),
        "test": make_split(images[test], labels[test]),
        "train_digits": train_digits,
        "num_train_originals": len(train),
        "test_digits": labels[test],
        "test_images": images[test],
    }
