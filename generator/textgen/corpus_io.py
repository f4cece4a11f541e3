"""Caption corpora (JSON Lines: tone, audience, topic, text) and the control prompt they train."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from generator import DataError

EOS = "<|endoftext|>"
MIN_CAPTIONS = 8
_NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class Example:
    tone: str
    audience: str
    topic: str
    text: str


def control_tokens(tones, audiences) -> list[str]:
    return [f"<tone={t}>" for t in tones] + [f"<audience={a}>" for a in audiences]


def prompt(tone: str, audience: str, topic: str) -> str:
    """The control prefix a caption is trained and sampled after; topic is free text."""
    return f"<tone={tone}> <audience={audience}> <topic={' '.join(topic.split())}>"


def training_text(example: Example) -> str:
    return f"{prompt(example.tone, example.audience, example.topic)} {example.text}{EOS}"


def _parse_line(path: Path, number: int, line: str) -> Example:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} line {number}: not valid JSON ({exc.msg})") from exc
    if not isinstance(row, dict):
        raise DataError(f"{path} line {number}: expected an object with tone, audience, topic, text")
    missing = [k for k in ("tone", "audience", "text") if not isinstance(row.get(k), str) or not row[k].strip()]
    if missing:
        raise DataError(f"{path} line {number}: missing or empty {', '.join(missing)}")
    for key in ("tone", "audience"):
        if not set(row[key]) <= _NAME_OK:
            raise DataError(f"{path} line {number}: {key}={row[key]!r} must be lowercase letters, digits, _ or -")
    if EOS in row["text"] or "<tone=" in row["text"] or "<audience=" in row["text"]:
        raise DataError(f"{path} line {number}: text contains a control token")
    return Example(row["tone"], row["audience"], str(row.get("topic") or "general"), " ".join(row["text"].split()))


def read_corpus(path: str | Path) -> list[Example]:
    """Every caption in a JSONL corpus; DataError naming the file (and line) when it cannot be used."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"caption corpus {file} does not exist or is not a file")
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"caption corpus {file} is not UTF-8 text: {exc}") from exc
    examples = [_parse_line(file, i, line) for i, line in enumerate(lines, 1) if line.strip()]
    if len(examples) < MIN_CAPTIONS:
        raise DataError(f"caption corpus {file} holds {len(examples)} captions; need at least {MIN_CAPTIONS}")
    return examples
