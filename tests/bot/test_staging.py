"""bot/core/staging.py, the one way a folder is written all at once (model install, template add):
in place when the block ends, untouched when it raises, nothing left behind either way."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.staging import staged_folder


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_new_folder_appears_whole(tmp_path):
    dest = tmp_path / "lib" / "cat"
    with staged_folder(dest) as staging:
        (staging / "a.txt").write_text("one")
        assert not dest.exists() and staging.parent == dest.parent  # a rename away, not a copy
    assert _tree(tmp_path / "lib") == {"cat/a.txt": "one"}


def test_an_existing_folder_is_replaced_and_nothing_is_left_beside_it(tmp_path):
    dest = tmp_path / "cat"
    dest.mkdir()
    (dest / "old.txt").write_text("old")
    with staged_folder(dest) as staging:
        (staging / "new.txt").write_text("new")
        assert _tree(dest) == {"old.txt": "old"}  # readers see the old folder until the end
    assert _tree(tmp_path) == {"cat/new.txt": "new"}


def test_a_failed_check_leaves_the_old_folder_as_it_was(tmp_path):
    dest = tmp_path / "cat"
    dest.mkdir()
    (dest / "old.txt").write_text("old")
    with pytest.raises(ValueError, match="does not load"), staged_folder(dest) as staging:
        (staging / "half.txt").write_text("half")
        raise ValueError("what was written does not load")
    assert _tree(tmp_path) == {"cat/old.txt": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat"]
