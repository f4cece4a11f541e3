"""The user's own voice: fine-tune the caption writer on their captions and install it as a model id.

The captions come from a text file (one per line) or from an account's published posts. The base is
the installed GPT-2 (``gpt2``, then ``distilgpt2``) when there is one, else the shipped demo writer;
checkpoints live beside the models (``models/.checkpoints/<id>``) so a run cut short resumes.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.modelstore import ModelInfo, check_id, install, list_models, models_dir, resolve
from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.core.deps import Deps
    from generator.textgen.finetune import FinetuneReport, Settings, Step

log = logging.getLogger(__name__)

PREFERRED_BASES = ("gpt2", "distilgpt2")
CHECKPOINTS = ".checkpoints"


@dataclass(frozen=True)
class VoiceResult:
    model: ModelInfo
    base: str
    report: FinetuneReport


def account_captions(deps: Deps, account: str) -> list[str]:
    """Texts of the account's published posts, oldest first (a thread counts as one text)."""
    from sqlalchemy import select

    from feedback.models import Account, Candidate, Post

    deps.config.account(account)  # ConfigError naming the known accounts
    with deps.tx() as session:
        rows = session.execute(
            select(Candidate.text).join(Post, Post.candidate_id == Candidate.id)
            .join(Account, Account.id == Post.account_id)
            .where(Account.name == account, Post.state == "published").order_by(Post.published_at, Post.id))
        return [str(text) for (text,) in rows if text]


def choose_base(root: Path, base: str | None) -> tuple[str, Path]:
    """(name, folder) of the writer to start from: ``base`` (an installed id or a bundle folder), else
    the first installed of PREFERRED_BASES, else the shipped demo writer."""
    from generator.textgen.writer import DEMO_BUNDLE

    if base is not None:
        if Path(base).is_dir():
            return base, Path(base)
        return base, resolve(root, check_id(base), "gpt2").path
    installed = {m.id for m in list_models(root) if m.kind == "gpt2"}
    for name in PREFERRED_BASES:
        if name in installed:
            return name, resolve(root, name, "gpt2").path
    return "demo writer", DEMO_BUNDLE


def default_lr(base_dir: Path) -> float:
    """A step size that moves the tiny demo writer and does not wreck a 124M GPT-2."""
    import json

    width = json.loads((base_dir / "config.json").read_text()).get("n_embd", 768)
    return 1e-4 if width >= 512 else 1e-3


def train_voice(root: Path, texts: list[str], *, name: str, base: str | None = None, tone: str = "own",
                audience: str = "general", settings: Settings | None = None, fresh: bool = False,
                on_step: Callable[[Step], None] | None = None) -> VoiceResult:
    """Fine-tune, write the bundle, install it as model ``name`` (replacing an older one)."""
    from generator.textgen.finetune import Settings, examples_from_texts, finetune

    check_id(name)
    for label, value in (("--tone", tone), ("--audience", audience)):
        if not value or not set(value) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-"):
            raise UsageError(f"{label} {value!r} must be lowercase letters, digits, _ or -")
    base_name, base_dir = choose_base(root, base)
    settings = settings or Settings(lr=default_lr(base_dir))
    examples = examples_from_texts(texts, tone=tone, audience=audience)
    checkpoint = models_dir(root) / CHECKPOINTS / name
    if fresh:
        shutil.rmtree(checkpoint, ignore_errors=True)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"voice-{name}-", dir=checkpoint.parent) as tmp:
        report = finetune(examples, base_dir, Path(tmp) / name, settings=settings, checkpoint_dir=checkpoint,
                          default_tone=tone, on_step=on_step)
        info = install(root, Path(tmp) / name, model_id=name, force=True,
                       origin=f"train gpt2 from {base_name} on {len(examples)} captions")
    shutil.rmtree(checkpoint, ignore_errors=True)  # installed: the run is complete
    log.info("voice_installed id=%s base=%s captions=%d steps=%d", name, base_name, len(examples), report.steps)
    return VoiceResult(info, base_name, report)
