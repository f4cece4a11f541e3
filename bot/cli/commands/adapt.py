"""`memeloop adapt`: the meme captioner and the caption writer learn from winners (bot/service/adapt.py)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from bot.cli import CliState, config_option, pass_state
from bot.cli.output import emit, format_options

if TYPE_CHECKING:
    from bot.service.adapt import AdaptationView


_AS_TRAINED = "the meme captioner and the caption writer write as trained (no adaptation)"


def _rows(more: Sequence[tuple[str, float]], less: Sequence[tuple[str, float]]) -> list[dict]:
    return ([{"word": w, "bias": b, "writes": "more"} for w, b in more]
            + [{"word": w, "bias": b, "writes": "less"} for w, b in less])


def _echo(view: AdaptationView, fmt: str, headline: str) -> None:
    captioner, writer = _rows(view.more, view.less), _rows(view.writer_more, view.writer_less)
    if fmt == "json":
        click.echo(json.dumps({"version": view.version, "created": view.created, "observations": view.observations,
                               "versions": list(view.versions), "words": captioner, "writer_words": writer,
                               "history": list(view.history)}, indent=2))
        return
    click.echo(headline)
    if view.version:
        rows = [{"model": "captioner", **r} for r in captioner] + [{"model": "writer", **r} for r in writer]
        emit(rows, fmt, columns=("model", "word", "bias", "writes"),
             title=f"adaptation {view.version} ({view.created}, from {view.observations} outcomes)",
             empty="no word is clear enough yet: the captioner and the writer write as trained")


@click.command("meme")
@click.option("--strength", type=float, default=1.0, show_default=True,
              help="Nats of log-prob per unit of learned effect (the meme captioner takes twice it; 0 = no change; at most 5).")
@format_options
@config_option
@pass_state
def adapt_meme(state: CliState, strength: float, fmt: str) -> None:
    """Make the meme captioner write more of the words the audience rewarded and less of those it
    did not, in proportion to what the ranker learned of each word (a word with little evidence
    barely moves); the caption writer follows the same adaptation. The previous adaptation is kept;
    drafts still go to review as before.

    Example: memeloop adapt meme --strength 1
    """
    view = state.app().adapt_meme(strength=strength)
    _echo(view, fmt, f"adaptation {view.version} is current for the meme captioner and the caption writer "
                     f"({len(view.more)} words more, {len(view.less)} less among the captioner's strongest shown)")


@click.command("rollback")
@format_options
@config_option
@pass_state
def adapt_rollback(state: CliState, fmt: str) -> None:
    """Go back to the previous adaptation (or to the captioner as trained).

    Example: memeloop adapt rollback
    """
    view = state.app().adapt_rollback()
    _echo(view, fmt, f"adaptation {view.version} is current for the meme captioner and the caption writer"
          if view.version else _AS_TRAINED)


@click.command("show")
@format_options
@config_option
@pass_state
def adapt_show(state: CliState, fmt: str) -> None:
    """The current adaptation: the words the meme captioner and the caption writer (GAN posts, photo
    captions, stories) write more and less often, and the versions kept. Both follow the means of the
    same ranker word effects: the writer (it samples) by the mean, the captioner (a beam search) by
    twice it, so the captioner's biases are the larger.

    Example: memeloop adapt show --json
    """
    view = state.app().adaptation()
    kept = ", ".join(map(str, view.versions)) or "none"
    _echo(view, fmt, f"adaptation {view.version} is current for the meme captioner and the caption writer "
                     f"(versions kept: {kept})" if view.version else _AS_TRAINED)
