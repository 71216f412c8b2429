"""Shared test set-up: quiet TensorFlow, and the catalog ids for parametrized tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from tools.catalog import read_catalog  # noqa: E402

RECIPE_IDS = list(read_catalog())
