"""Every data file generator/ reads at run time is in the wheel: an installed memeloop (the Dockerfile's
venv, a pip install) has only what [tool.setuptools.package-data] lists, so a new data file left out of
it works in the checkout and fails on a user's machine (word_classes.txt.gz did, in the Docker test)."""
from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = {".py", ".md", ".pyc"}


def test_every_data_file_of_generator_is_listed_as_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["generator"]
    package = ROOT / "generator"
    missing = [str(path.relative_to(package)) for path in sorted(package.rglob("*"))
               if path.is_file() and path.suffix not in DOCS and "__pycache__" not in path.parts
               and not any(fnmatch.fnmatch(str(path.relative_to(package)), p) for p in patterns)]
    assert not missing, f"add to [tool.setuptools.package-data] generator in pyproject.toml: {missing}"
