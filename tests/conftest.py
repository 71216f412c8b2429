"""Shared test set-up: quiet TensorFlow, and the catalog ids for parametrized tests."""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from tools.catalog import read_catalog  # noqa: E402

RECIPE_IDS = list(read_catalog())


@pytest.fixture
def cli_error(tmp_path, monkeypatch, capfd):
    """Runs the CLI in an empty folder: (exit code, stderr lines), after checking it wrote nothing there."""

    def run(argv):
        from tools import cli

        monkeypatch.chdir(tmp_path)
        try:
            code = cli.main(argv)
        except SystemExit as exit:
            code = exit.code
        err = capfd.readouterr().err.strip().splitlines()
        assert not list(tmp_path.iterdir())
        return code, err

    return run
