"""No Docker engine runs here, so the Dockerfile's RUN steps are executed as shell commands against a
fresh virtual environment and a copy of the build context, then the installed (non-editable) package
is used the way the container uses it: entrypoint (init + db upgrade) and the health check."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKIPPED_IN_SANDBOX = ("useradd", "chown", "mkdir -p /data")


def _swap(paths: dict[str, str], match: re.Match[str]) -> str:
    return paths[match.group(0)]


def run_steps(dockerfile: str) -> list[str]:
    """RUN instructions with continuation lines joined, split into their `&&` parts."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    steps: list[str] = []
    for line in joined.splitlines():
        if line.startswith("RUN "):
            steps.extend(part.strip() for part in line[4:].split("&&"))
    return steps


def test_dockerfile_shape():
    text = (REPO / "Dockerfile").read_text()
    assert "torch==2.13.0" in text and "USER memeloop" in text and 'VOLUME ["/data"]' in text
    assert 'CMD ["memeloop", "run"]' in text and "HEALTHCHECK" in text and '"memeloop", "status"' in text
    # dependency layers come before the code is copied, so code edits keep the cache
    assert text.index("COPY requirements.lock") < text.index("COPY . /app")
    assert any(step.startswith("useradd") for step in run_steps(text))


@pytest.mark.e2e
def test_dockerfile_run_steps_in_a_fresh_venv(tmp_path):
    venv, app, data = tmp_path / "venv", tmp_path / "app", tmp_path / "data"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        src = REPO / name
        if src.is_file() or src.is_symlink():
            (app / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, app / name, follow_symlinks=False)
    shutil.copy(REPO / "requirements.lock", tmp_path / "requirements.lock")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for step in run_steps((REPO / "Dockerfile").read_text()):
        if step.startswith(SKIPPED_IN_SANDBOX):
            continue
        # the CPU torch wheel comes from this machine's wheel directory instead of PyTorch's index
        paths = {"/opt/venv": str(venv), "/tmp/": f"{tmp_path}/", "/app": str(app),
                 "python -m venv": f"{sys.executable} -m venv", '--index-url "$TORCH_INDEX_URL" ': ""}
        command = re.sub("|".join(re.escape(k) for k in paths), partial(_swap, paths), step)
        done = subprocess.run(["bash", "-c", command], check=False, capture_output=True, text=True, env=env)
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
    data.mkdir()
    bin_dir = venv / "bin"
    env = {**env, "PATH": f"{bin_dir}:{env['PATH']}", "MEMELOOP_CONFIG": str(data / "config.toml")}
    entry = subprocess.run([str(app / "bot" / "docker-entrypoint.sh"), "memeloop", "queue", "list", "--json"],
                           check=False, cwd=data, env=env, capture_output=True, text=True)
    assert entry.returncode == 0, entry.stderr
    assert entry.stdout.strip().endswith("[]")
    # the installed copy, not the repository, is what runs
    where = subprocess.run([str(bin_dir / "python"), "-c", "import bot; print(bot.__file__)"],
                           cwd=data, env=env, capture_output=True, text=True, check=True).stdout
    assert str(venv) in where
    # the shipped demo models and data came along in the wheel: a real generate run from the install
    gen = subprocess.run([str(bin_dir / "memeloop"), "generate", "--account", "demo", "--count", "2", "--json"],
                         check=False, cwd=data, env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True,
                         text=True, timeout=600)
    assert gen.returncode == 0, gen.stderr[-3000:]
    listed = subprocess.run([str(bin_dir / "memeloop"), "queue", "list", "--json"], check=True, cwd=data,
                            env=env, capture_output=True, text=True).stdout
    assert len(json.loads(listed)) >= 1
