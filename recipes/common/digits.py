"""scikit-learn's bundled 8x8 handwritten digits, scaled to [0, 1], and a seeded split of the images.

Data: the test part of the UCI "Optical Recognition of Handwritten Digits" data set (E. Alpaydin
and C. Kaynak, 1998, CC BY 4.0), 1,797 images of 8x8 pixels with 17 grey levels, bundled with
scikit-learn (BSD-3-Clause) as `sklearn.datasets.load_digits`: no download. The images carry
no writer ids, so a split can only be by image, not by writer.
"""

import functools

import numpy as np

from recipes.common.splits import SPLIT_STREAMS

NUM_CLASSES = 10
IMAGE_SIZE = 8
GREY_LEVELS = 16.0  # pixel values run from 0 to 16


@functools.lru_cache(maxsize=1)
def digit_images():
    """(images, labels): float32 (1797, 8, 8) in [0, 1] (ink = 1) and int32 (1797,) digits 0-9."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / GREY_LEVELS).astype(np.float32)
    return images, bunch.target.astype(np.int32)


def split_indices(seed, validation_fraction, test_fraction):
    """Indices of the train, validation and test images, stratified by digit and seeded.

    Each digit's images are shuffled with their own seeded generator and cut by the fractions,
    so every split holds every digit in about the same proportion and no image is in two splits.

    Args:
        seed: int, config["seed"].
        validation_fraction: share of each digit's images in the validation split.
        test_fraction: share in the test split; the rest is training.

    Returns:
        {"train": int array, "validation": ..., "test": ...}, each sorted.
    """
    _, labels = digit_images()
    parts = {name: [] for name in SPLIT_STREAMS}
    for digit in range(NUM_CLASSES):
        members = np.flatnonzero(labels == digit)
        members = np.random.default_rng([seed, 100 + digit]).permutation(members)
        num_validation = int(round(validation_fraction * len(members)))
        num_test = int(round(test_fraction * len(members)))
        parts["validation"].append(members[:num_validation])
        parts["test"].append(members[num_validation : num_validation + num_test])
        parts["train"].append(members[num_validation + num_test :])
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}
