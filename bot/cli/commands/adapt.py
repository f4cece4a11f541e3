"""`memeloop adapt`: the meme captioner learns from winners (bot/service/adapt.py)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from bot.cli import CliState, config_option, pass_state
from bot.cli.output import emit, format_options

if TYPE_CHECKING:
    from bot.service.adapt import AdaptationView


def _rows(view: AdaptationView) -> list[dict]:
    return ([{"word": w, "bias": b, "writes": "more"} for w, b in view.more]
            + [{"word": w, "bias": b, "writes": "less"} for w, b in view.less])


def _echo(view: AdaptationView, fmt: str, headline: str) -> None:
    if fmt == "json":
        click.echo(json.dumps({"version": view.version, "created": view.created, "observations": view.observations,
                               "versions": list(view.versions), "words": _rows(view),
                               "history": list(view.history)}, indent=2))
        return
    click.echo(headline)
    if view.version:
        emit(_rows(view), fmt, title=f"adaptation {view.version} ({view.created}, from {view.observations} outcomes)",
             empty="no word is clear enough yet: the captioner writes as trained")


@click.command("meme")
@click.option("--strength", type=float, default=1.0, show_default=True,
              help="Nats of log-prob per unit of learned effect (0 = no change; at most 5).")
@format_options
@config_option
@pass_state
def adapt_meme(state: CliState, strength: float, fmt: str) -> None:
    """Make the meme captioner write more of the words the audience rewarded and less of those it
    did not (only words whose effect is clear of its uncertainty). The previous adaptation is kept;
    drafts still go to review as before.

    Example: memeloop adapt meme --strength 1
    """
    view = state.app().adapt_meme(strength=strength)
    _echo(view, fmt, f"meme captioner adaptation {view.version} is current "
                     f"({len(view.more)} words more, {len(view.less)} less among the strongest shown)")


@click.command("rollback")
@format_options
@config_option
@pass_state
def adapt_rollback(state: CliState, fmt: str) -> None:
    """Go back to the previous adaptation (or to the captioner as trained).

    Example: memeloop adapt rollback
    """
    view = state.app().adapt_rollback()
    _echo(view, fmt, f"meme captioner adaptation {view.version} is current" if view.version
          else "meme captioner writes as trained (no adaptation)")


@click.command("show")
@format_options
@config_option
@pass_state
def adapt_show(state: CliState, fmt: str) -> None:
    """The current adaptation: the words written more and less often, and the versions kept.

    Example: memeloop adapt show --json
    """
    view = state.app().adaptation()
    _echo(view, fmt, f"meme captioner adaptation {view.version} is current (versions kept: "
                     f"{', '.join(map(str, view.versions)) or 'none'})" if view.version
          else "meme captioner writes as trained (no adaptation)")
