"""Moving digits: 8x8 handwritten digits bouncing around a larger blank frame (a small Moving MNIST).

Each sequence places `num_digits` digit images (scikit-learn's bundled 8x8 digits,
recipes/common/digits.py) at random positions in a `frame_size` x `frame_size` frame and
moves each by a constant whole-pixel velocity (each component from +-1 to +-max_speed
pixels per frame). A digit that would leave the frame bounces: the position is reflected
at the edge and that velocity component flips sign. Overlapping digits combine by the
pixel-wise maximum, as in Moving MNIST (Srivastava et al. 2015). Pixels are in [0, 1],
ink = 1.

"Unseen" digits: the digit images themselves are split (stratified by digit, seeded) into
train, validation and test pools before any sequence is made, so every test sequence moves
digit images that no training sequence contains, not only new trajectories.

A model is trained for next-frame prediction: input x = frames 0..T-2, target y = frames
1..T-1 (x[:, t + 1] == y[:, t]: the targets shifted by one step, i.e. teacher forcing).
"""

import numpy as np

from recipes.common.digits import IMAGE_SIZE, digit_images, split_indices
from recipes.common.splits import SPLIT_STREAMS

SPLITS = ("train", "validation", "test")


def bounce(start, velocity, num_frames, limit):
    """Positions of points moving at constant velocity between walls at 0 and `limit`, reflected at them.

    Args:
        start: int array (...,) of positions in [0, limit].
        velocity: int array (...,) of steps per frame, |velocity| <= limit.
        num_frames: positions to return.
        limit: the largest position.

    Returns:
        int array (num_frames, ...), every value in [0, limit]; frame 0 is `start`.
    """
    position, velocity = np.array(start, dtype=np.int64), np.array(velocity, dtype=np.int64)
    positions = [position.copy()]
    for _ in range(num_frames - 1):
        position = position + velocity
        over, under = position > limit, position < 0
        position = np.where(over, 2 * limit - position, np.where(under, -position, position))
        velocity = np.where(over | under, -velocity, velocity)
        positions.append(position.copy())
    return np.stack(positions)


def moving_digits(images, num_sequences, config, rng):
    """Sequences of frames with `num_digits` digits drawn from `images` bouncing in the frame.

    Args:
        images: (M, 8, 8) digit images in [0, 1] to draw from.
        num_sequences: sequences to make.
        config: dict with frame_size, num_frames, num_digits, max_speed.
        rng: numpy Generator.

    Returns:
        (frames, positions, chosen): float32 (N, T, S, S, 1) frames, int (N, T, num_digits, 2)
        (row, column) of each digit's top-left corner, int (N, num_digits) indices into `images`.
    """
    size, steps, count = config["frame_size"], config["num_frames"], config["num_digits"]
    limit = size - IMAGE_SIZE
    chosen = rng.integers(len(images), size=(num_sequences, count))
    start = rng.integers(0, limit + 1, size=(num_sequences, count, 2))
    speed = rng.integers(1, config["max_speed"] + 1, size=(num_sequences, count, 2))
    velocity = speed * rng.choice(np.array([-1, 1]), size=speed.shape)
    positions = np.moveaxis(bounce(start, velocity, steps, limit), 0, 1)  # (N, T, count, 2)
    frames = np.zeros((num_sequences, steps, size, size), dtype=np.float32)
    for n in range(num_sequences):
        for d in range(count):
            image = images[chosen[n, d]]
            for t in range(steps):
                row, column = positions[n, t, d]
                window = frames[n, t, row : row + IMAGE_SIZE, column : column + IMAGE_SIZE]
                np.maximum(window, image, out=window)
    return frames[..., None], positions, chosen


def load_data(config):
    """The three splits of moving-digit sequences, each from its own pool of digit images.

    Args:
        config: dict with seed, num_train, num_validation, num_test, frame_size, num_frames,
            num_digits, max_speed.

    Returns:
        dict with "train", "validation", "test": (x, y), float32 (N, T-1, S, S, 1) each, x the
        frames 0..T-2 and y the frames 1..T-1; "test_positions" (N, T, num_digits, 2) and
        "test_digits" (N, num_digits) indices into load_digits of the test digits;
        "digit_pools": {split: indices into load_digits of the images that split may use}.
    """
    images, _ = digit_images()
    pools = split_indices(config["seed"], 0.15, 0.25)
    data = {"digit_pools": pools}
    for split in SPLITS:
        rng = np.random.default_rng([config["seed"], SPLIT_STREAMS[split]])
        frames, positions, chosen = moving_digits(images[pools[split]], config[f"num_{split}"], config, rng)
        data[split] = (frames[:, :-1], frames[:, 1:])
        if split == "test":
            data["test_positions"] = positions
            data["test_digits"] = pools[split][chosen]
    return data
