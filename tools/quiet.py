"""Keep TensorFlow's native start-up logs off the user's terminal.

`TF_CPP_MIN_LOG_LEVEL` silences TensorFlow's own logging, but absl writes a few lines
("All log messages before absl::InitializeLog() ...", "cudart_stub.cc ... Could not find
cuda drivers") straight to file descriptor 2 before any setting applies, and Grappler
writes MLIR diagnostics there during training. Before Keras is first imported the CLI
calls `quiet_tensorflow` (those settings) and `filter_native_logs`, which routes fd 2
through a pipe and a thread that drops exactly those native log lines and forwards
everything else (Python warnings, our errors) unchanged. Importing this module changes nothing.
"""

import atexit
import os
import re
import sys
import threading

# absl/glog line prefix: severity letter, date, time, thread id, file:line]; and Grappler's
# MLIR diagnostic when its TFG shape check rejects the while loop of keras.ops.ctc_loss
# (`loc("compile_loss/ctc/...While..."): error: 'tfg.While' op body function argument ...`):
# the optimization is skipped and training is unaffected, but it reads like a failure.
_NATIVE_LOG = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWE]\d{4} [\d:.]+ +\d+ [\w./-]+:\d+\]"
    rb"|loc\(\"[^\"]*\"\): error: 'tfg\.)"
)


def quiet_tensorflow():
    """Turn off TensorFlow's own logging and its oneDNN custom operations (and their notice), unless
    the environment already sets them; call it before TensorFlow is first imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def filter_native_logs():
    """Route fd 2 through a filter thread for the rest of the process (idempotent)."""
    if getattr(filter_native_logs, "active", False):
        return
    filter_native_logs.active = True
    sys.stderr.flush()
    real = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump():
        with os.fdopen(read_end, "rb") as source:
            for line in source:
                if not _NATIVE_LOG.match(line):
                    os.write(real, line)

    thread = threading.Thread(target=pump, name="stderr-filter", daemon=True)
    thread.start()

    def drain():
        # Close our end of the pipe so the pump sees EOF, then let it forward what is left.
        sys.stderr.flush()
        os.dup2(real, 2)
        thread.join(timeout=2)

    atexit.register(drain)
