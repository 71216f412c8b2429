"""tools/torch_rnn.py: the LSTM and GRU loops that replace Keras' torch fallbacks compute the same
outputs and gradients, and the runner installs them when it loads a recipe on torch."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed (optional)")
ROOT = Path(__file__).resolve().parent.parent

# Run in a process of its own: Keras' backend is fixed per process, and the tests' is TensorFlow.
COMPARE = """
import json, torch
from keras import ops
import importlib
from tools import torch_rnn
rnn = importlib.import_module(torch_rnn.KERAS_MODULE)

torch.manual_seed(0)
batch, time, features, units = 3, 7, 5, 4
results = {}
cases = {
    "lstm": (rnn._fallback_lstm, torch_rnn.lstm_loop, 4, 2),
    "gru": (rnn._fallback_gru, torch_rnn.gru_loop, 3, 1),
}
for name, (keras_loop, our_loop, gates, num_states) in cases.items():
    for return_sequences in (True, False):
        inputs = torch.randn(batch, time, features, dtype=torch.float64)
        states = [torch.randn(batch, units, dtype=torch.float64) for _ in range(num_states)]
        kernel = torch.randn(features, gates * units, dtype=torch.float64)
        recurrent_kernel = torch.randn(units, gates * units, dtype=torch.float64)
        bias = torch.randn(*((gates * units,) if name == "lstm" else (2, gates * units)), dtype=torch.float64)
        answers = []
        for loop in (keras_loop, our_loop):
            leaves = [t.clone().requires_grad_() for t in (inputs, kernel, recurrent_kernel, bias, *states)]
            x, k, r, b, *s = leaves
            extra = (True,) if name == "lstm" else ()  # batch_first
            last, outputs, final = loop(x, *s, k, r, b, ops.tanh, ops.sigmoid, return_sequences, *extra)
            (outputs.sin().sum() + sum(f.cos().sum() for f in final)).backward()
            answers.append([last, outputs, *final, *(leaf.grad for leaf in leaves)])
        results[f"{name}, return_sequences={return_sequences}"] = max(
            float((a - b).abs().max()) for a, b in zip(*answers, strict=True)
        )
print(json.dumps(results))
"""

INSTALLED = """
import importlib, json, sys
from tools import runner, torch_rnn
rnn = importlib.import_module(torch_rnn.KERAS_MODULE)
runner.import_recipe(sys.argv[1])
print(json.dumps([rnn._fallback_lstm is torch_rnn.lstm_loop, rnn._fallback_gru is torch_rnn.gru_loop]))
"""


def run_on_torch(code, *args):
    env = {**os.environ, "KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_loops_match_keras_fallbacks_in_outputs_and_gradients():
    differences = run_on_torch(COMPARE)
    assert len(differences) == 4
    assert all(difference < 1e-12 for difference in differences.values()), differences


def test_runner_installs_the_loops_on_torch():
    assert run_on_torch(INSTALLED, "memory_task") == [True, True]


def test_install_leaves_other_backends_alone():
    from tools import torch_rnn

    assert torch_rnn.install() is False  # this process runs TensorFlow
