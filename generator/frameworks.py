"""TensorFlow without its start-up noise: one place that imports it quietly.

TensorFlow's C++ core writes oneDNN notices, CPU-feature hints and absl's "log messages before
absl::InitializeLog()" banner straight to file descriptor 2 while it loads (five lines on every
`memeloop generate --generator post`). ``quiet_tensorflow`` sets the C++ log level (unless the user
set one), points descriptor 2 at /dev/null for the import itself (Python errors still surface as
exceptions) and turns TensorFlow's and absl's Python loggers down to errors. Call it before any
`import keras` / `import tensorflow`.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys


def quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        sys.stderr.flush()
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    with contextlib.suppress(ImportError):
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
