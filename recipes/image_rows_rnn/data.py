"""8x8 handwritten digits as sequences of 8 pixel rows, with shifted and rotated copies of the test split.

The images are scikit-learn's bundled digits (recipes/common/digits.py), scaled to [0, 1]
and split by image, stratified by digit (config validation_fraction, test_fraction). A
model reads x[:, t] as its input at step t: row t of the image, 8 pixels, top row first.

"Unseen" beyond the random test split: the data has no writer ids, so writers cannot be
held out. Instead demo.evaluate also scores the test images moved in ways training never
shows them: shifted by one pixel (right, left, down, up; the pixel moved out is dropped,
the new edge is blank) and rotated by +-ROTATION_DEGREES about the centre (bilinear).
"""

import numpy as np

from recipes.common.digits import digit_images, split_indices

SHIFTS = ((0, 1), (0, -1), (1, 0), (-1, 0))  # (rows down, columns right)
ROTATION_DEGREES = 15.0


def shift_images(images, rows, columns):
    """Move (N, H, W) images by whole pixels, filling the uncovered edge with 0 (no ink).

    Args:
        images: (N, H, W) array.
        rows: pixels down (negative: up).
        columns: pixels right (negative: left).

    Returns:
        float32 (N, H, W).
    """
    out = np.zeros_like(images, dtype=np.float32)
    height, width = images.shape[1:]
    source_rows = slice(max(0, -rows), height - max(0, rows))
    target_rows = slice(max(0, rows), height - max(0, -rows))
    source_cols = slice(max(0, -columns), width - max(0, columns))
    target_cols = slice(max(0, columns), width - max(0, -columns))
    out[:, target_rows, target_cols] = images[:, source_rows, source_cols]
    return out


def rotate_images(images, degrees):
    """Rotate (N, H, W) images by `degrees` (anticlockwise) about their centre, bilinear, blank outside."""
    from scipy.ndimage import rotate

    return rotate(images, degrees, axes=(2, 1), reshape=False, order=1, mode="constant", cval=0.0).astype(np.float32)


def load_data(config):
    """The three splits of the digits as row sequences.

    Args:
        config: dict with seed, validation_fraction and test_fraction.

    Returns:
        dict with "train", "validation", "test": (x, y), x float32 (N, 8, 8) images in [0, 1]
        whose axis 1 is the reading order (rows, top first), y int32 (N,) digits; and
        "test_indices": the test images' indices in load_digits.
    """
    images, labels = digit_images()
    split = split_indices(config["seed"], config["validation_fraction"], config["test_fraction"])
    data = {name: (images[index], labels[index]) for name, index in split.items()}
    data["test_indices"] = split["test"]
    return data
