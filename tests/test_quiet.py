"""tools/quiet.py drops exactly TensorFlow's native log lines from stderr and keeps everything else,
and sets TensorFlow's environment only when asked to."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.quiet import _NATIVE_LOG, quiet_tensorflow

SETTINGS = ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")


@pytest.mark.parametrize(
    "line",
    [
        b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        b"E0000 00:00:1733100000.123456    2412 cuda_dri.cc:12] failed call to cuInit: UNKNOWN ERROR (303)",
        b"I0000 00:00:1733100000.123456    2412 cpu_feature_guard.cc:210] This TensorFlow binary is optimized",
        b"loc(\"compile_loss/ctc/ctc_loss_dense/While@__inference_one_step_on_data_9613\"): error: 'tfg.While' op body "
        b"function argument #5 type 'tensor<?x58x58xf32>' is not compatible with corresponding operand type",
    ],
)
def test_native_log_lines_are_dropped(line):
    assert _NATIVE_LOG.match(line)


@pytest.mark.parametrize(
    "line",
    [
        b"recipe: error: Unknown recipe 'memory_tsk'. Did you mean 'memory_task'?",
        b"Epoch 1/4",
        b"synthesizing digit-strings train [####] 2000/2000 3.1s",
        b"UserWarning: Skipping variable loading for optimizer 'adam_8'",
        b"error: 'tfg.While' without a location is not Grappler's diagnostic",
    ],
)
def test_everything_else_is_kept(line):
    assert not _NATIVE_LOG.match(line)


def test_importing_it_leaves_the_environment_alone():
    # A fresh interpreter without the settings (conftest sets them in this one).
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    code = f"import os, tools.quiet; print([os.environ.get(key) for key in {SETTINGS!r}])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[None, None]"


def test_quiet_tensorflow_sets_defaults_and_keeps_the_users_values(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    quiet_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"
