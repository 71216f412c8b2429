"""The random stream of each split, shared by every recipe that generates its data.

A split's generator is seeded with [seed, SPLIT_STREAMS[split], ...], so resizing one
split leaves the samples of the others unchanged.
"""

SPLIT_STREAMS = {"train": 0, "validation": 1, "test": 2}
