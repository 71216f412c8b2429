"""Shakespeare's words as truncated-BPTT batches in stream order (row k of batch i continues row k of batch i - 1).

Each split's word ids (recipes/common/words.py: split by play, fixed vocabulary) are laid out
as `batch_size` parallel streams, the way Zaremba et al. batch the Penn Treebank: the split is
cut into batch_size contiguous stretches, one per row, and batch i holds steps
[i * sequence_length, (i + 1) * sequence_length) of every row. The model carries its state from
batch to batch, so its context runs back to the start of its row.
"""

import keras
import numpy as np

from recipes.common.config import config_error
from recipes.common.words import split_ids, vocabulary
from recipes.word_language_model.model import resolved


class StreamBatches(keras.utils.PyDataset):
    """(x, y) batches of one id stream for truncated BPTT, in order.

    Args:
        ids: int32 (n,) word ids.
        batch_size: parallel rows (the model's fixed batch size).
        sequence_length: steps per batch.

    Batch i: x = rows[:, i*T:(i+1)*T], y = rows[:, i*T+1:(i+1)*T+1], both int32 (batch_size, T).
    """

    def __init__(self, ids, batch_size, sequence_length):
        super().__init__()
        row_length = len(ids) // batch_size
        self.rows = np.asarray(ids[: row_length * batch_size], dtype="int32").reshape(batch_size, row_length)
        self.sequence_length = sequence_length
        self.num_windows = (row_length - 1) // sequence_length  # the last target needs one more word

    def __len__(self):
        return self.num_windows

    def __getitem__(self, index):
        if not 0 <= index < self.num_windows:
            raise IndexError(f"batch {index} of {self.num_windows}")
        start = index * self.sequence_length
        return self.rows[:, start : start + self.sequence_length], self.rows[:, start + 1 : start + self.sequence_length + 1]

    def target_positions(self):
        """(batch_size, num_windows * T) positions in the original stream of every target word scored."""
        row_length = self.rows.shape[1]
        steps = np.arange(1, self.num_windows * self.sequence_length + 1)
        return np.arange(self.rows.shape[0])[:, None] * row_length + steps[None, :]


def load_data(config):
    """Load Shakespeare's word streams as TBPTT batches.

    Args:
        config: uses size (preset), batch_size, sequence_length, vocabulary_size, train_fraction, seed.

    Returns:
        dict: "train", "validation", "test": StreamBatches; "streams": {split: int32 ids} (the
        training stream as used: cut by train_fraction and the seeded offset); "vocabulary":
        tuple of words (id i is word i).

    Raises:
        ConfigError: a split too short for one batch of batch_size rows of sequence_length + 1 words.
    """
    config = resolved(config)
    batch_size, sequence_length = config["batch_size"], config["sequence_length"]
    streams = dict(split_ids(config["vocabulary_size"]))
    train = streams["train"][: int(len(streams["train"]) * config["train_fraction"])]
    # The seed shifts where the training rows start (by less than one window); validation and test are fixed.
    rng = np.random.default_rng(config["seed"])
    streams["train"] = train[int(rng.integers(sequence_length)) :]
    for split, ids in streams.items():
        if len(ids) // batch_size < sequence_length + 1:
            raise config_error(
                "batch_size",
                batch_size,
                f"at most {len(ids) // (sequence_length + 1):,} rows for the {len(ids):,} {split} words with sequence_length {sequence_length}",
                20,
            )
    batches = {split: StreamBatches(ids, batch_size, sequence_length) for split, ids in streams.items()}
    return {**batches, "streams": streams, "vocabulary": vocabulary(config["vocabulary_size"])}
