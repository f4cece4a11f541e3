"""Writing a folder all at once (a model install, a template add): fill a fresh folder beside the
destination, check what was written, then move it into place. A reader (the generator loading a model,
the template list) sees the old folder or the new one, never half of either; a failed check leaves the
old one as it was and nothing behind."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_folder(dest: Path) -> Iterator[Path]:
    """An empty hidden folder beside ``dest`` (same file system: the moves are renames). When the block
    ends, it becomes ``dest`` (an existing ``dest`` is replaced: moved aside, then deleted); when the block
    raises, it is deleted and ``dest`` is untouched."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    aside = staging.with_name(staging.name + ".old")
    try:
        yield staging
        if dest.exists():
            dest.rename(aside)
        try:
            staging.rename(dest)
        except OSError:
            if aside.exists():
                aside.rename(dest)
            raise
    finally:
        for leftover in (staging, aside):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
