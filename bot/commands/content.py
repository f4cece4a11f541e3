"""Content-system commands: caption a photo in a tone, make a meme from a text."""
from __future__ import annotations

import json
from pathlib import Path

import click

from bot.cli import CliState, config_option, pass_state

photo_arg = click.argument("photos", nargs=-1, required=True,
                           type=click.Path(exists=True, dir_okay=False, path_type=Path))


def _echo_made(made, as_json: bool, extra: dict) -> None:
    if as_json:
        click.echo(json.dumps({**extra, "candidates": [m.__dict__ for m in made]}, default=str))
        return
    for m in made:
        note = f"  ({m.reason})" if m.reason and m.status != "pending" else ""
        click.echo(f"  {m.id:>5} {m.status:<9} {m.text.splitlines()[0][:90] if m.text else ''}{note}")


@click.command("caption")
@photo_arg
@click.option("--tone", help="Tone of the captions (one the caption model knows, e.g. funny).")
@click.option("--audience", help="Audience (one the caption model knows, e.g. general).")
@click.option("--account", help="Account the captions are for (default: the only configured account).")
@click.option("-n", "n", default=5, show_default=True, type=int, help="Captions per photo.")
@click.option("--seed", type=int, help="Seed (default: fresh; the one used is stored with the run).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@config_option
@pass_state
def caption(state: CliState, photos: tuple[Path, ...], tone: str | None, audience: str | None,
            account: str | None, n: int, seed: int | None, as_json: bool) -> None:
    """Caption your own photos in a tone: their topic (ImageNet classes) conditions the writer, and
    the captions enter the review queue.

    Example: memeloop caption cat.jpg --tone funny --audience general --account demo -n 5
    """
    result = state.app().caption(list(photos), tone=tone, audience=audience, account=account, n=n, seed=seed)
    run = result.run
    if not as_json:
        for path, topic in zip(photos, result.topics):
            labels = ", ".join(f"{lb['name']} {lb['prob']:.2f}" for lb in topic["labels"][:3])
            click.echo(f"{path}: topic {topic['topic']!r} ({labels})")
        click.echo(f"generation {run.generation_id}: {run.stored} captions, {run.pending} pending, "
                   f"{run.filtered} filtered, {run.duplicates} duplicates")
    _echo_made(result.candidates, as_json, {"generation_id": run.generation_id, "topics": list(result.topics)})


@click.command("make")
@click.argument("text")
@click.option("--account", help="Account the meme is for (default: the only configured account).")
@click.option("--template", help="Use this template instead of the best match.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@config_option
@pass_state
def make(state: CliState, text: str, account: str | None, template: str | None, as_json: bool) -> None:
    """Make a meme from a text: it goes on the template whose captions it is most like (a model
    trained on the captioner's caption corpus) and into the review queue; the next 3 templates are
    listed.

    Example: memeloop make "when the deploy fails on friday" --account demo
    """
    result = state.app().make(text, account=account, template=template)
    alternatives = [{"template": a.slug, "score": round(a.prob, 4)} for a in result.alternatives]
    if not as_json:
        click.echo(f"template {result.template.slug} (score {result.template.prob:.2f}); also: "
                   + ", ".join(f"{a['template']} {a['score']:.2f}" for a in alternatives))
    _echo_made(result.candidates, as_json, {"generation_id": result.run.generation_id,
                                            "template": result.template.slug, "score": result.template.prob,
                                            "alternatives": alternatives})
