"""A child process's pipe, which the test asked for (stdout/stderr=PIPE), typed as present."""
from __future__ import annotations

from typing import IO, AnyStr


def stream(pipe: IO[AnyStr] | None) -> IO[AnyStr]:
    assert pipe is not None, "the child was started without this pipe"
    return pipe
