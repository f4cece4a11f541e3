"""The CLI's machine-readable output, pinned byte for byte (tests/bot/golden/cli_reads.txt): the read
models behind `queue show --json`, `accounts list`, `posts list`, `stats hours` and `stats learned`
may change shape inside, never what a script reading --json/--csv gets. Volatile values (the
temporary folder, timestamps, ages, the media store's content hashes) are masked first.

Rewrite the golden file on purpose with MEMELOOP_REWRITE_GOLDEN=1."""
from __future__ import annotations

import os
import re
from pathlib import Path

from tests.bot.publishers.prepared import image_bytes

GOLDEN = Path(__file__).parent / "golden" / "cli_reads.txt"
COMMANDS = (
    ("queue", "show", "1", "--json"),
    ("queue", "show", "2", "--json"),
    ("accounts", "list", "--json"),
    ("accounts", "list", "--csv"),
    ("posts", "list", "--json"),
    ("stats", "hours", "--account", "demo", "--json"),
    ("stats", "hours", "--account", "demo", "--csv"),
    ("stats", "learned", "--json"),
    ("stats", "learned", "--csv"),
)


def _masked(text: str, tmp: Path) -> str:
    text = text.replace(str(tmp), "<tmp>")
    text = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?", "<time>", text)
    text = re.sub(r'"age": \d+', '"age": <age>', text)
    return re.sub(r"[0-9a-f]{64}|[0-9a-f]{16}(?=\")", "<hash>", text)


def test_cli_reads_are_byte_identical_to_the_golden_file(write_config, run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MEMELOOP_ACTOR", "root")
    cfg = str(write_config())
    (tmp_path / "img.png").write_bytes(image_bytes())
    for text in ("me on monday", "friday deploys"):
        assert run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "img.png"), "--text", text,
                       "--account", "demo").code == 0
    assert run_cli("--config", cfg, "approve", "1", "--at", "2030-01-01T09:00").code == 0
    assert run_cli("--config", cfg, "edit", "2", "--text", "friday deploys, again", "--actor", "ann").code == 0
    out = []
    for args in COMMANDS:
        result = run_cli("--config", cfg, *args)
        assert result.code == 0, (args, result.err)
        out.append(f"$ memeloop {' '.join(args)}\n{_masked(result.out, tmp_path)}")
    got = "\n".join(out)
    if os.environ.get("MEMELOOP_REWRITE_GOLDEN"):
        GOLDEN.write_text(got, encoding="utf-8")
    assert got == GOLDEN.read_text(encoding="utf-8")
