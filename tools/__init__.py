"""The `recipe` CLI and the shared machinery it calls (catalog, runner, figures)."""

import os

# PyTorch's OpenMP threads spin while they wait for work, which on a busy 2-core machine starves
# the thread doing the work: memory_task's training step took 0.20-1.1 s with the default policy
# and 0.046 s with PASSIVE (load average 5). libgomp reads this when torch loads, so it is set
# here, before any tool imports Keras; a user's own setting wins. TensorFlow and JAX do not use it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
