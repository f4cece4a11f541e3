"""`memeloop templates`: the user's own meme templates (folders in the data folder's template library)."""
from __future__ import annotations

from pathlib import Path

import click

from bot.cli import CliState, config_option, pass_state
from bot.cli.output import emit, format_options


@click.command("add")
@click.argument("image", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Template name (its slug becomes the folder name).")
@click.option("--boxes", default="top,bottom", show_default=True,
              help="Text boxes: 'auto' (the quietest bands of the picture) or a comma list of top, middle, bottom.")
@click.option("--keywords", multiple=True, help="Words the template is about (repeat, or comma-separated).")
@click.option("--description", default="", help="One sentence: when this template fits.")
@click.option("--force", is_flag=True, help="Replace a library template with the same name.")
@config_option
@pass_state
def templates_add(state: CliState, image: Path, name: str, boxes: str, keywords: tuple[str, ...],
                  description: str, force: bool) -> None:
    """Add an image as a meme template; the meme generator, `make` and `story` use it from now on.

    Example: memeloop templates add office.jpg --name "office dog" --boxes top,bottom --keywords work,dog
    """
    from bot.service.templates import add_template

    entry = add_template(state.config(), image, name=name, boxes=boxes, keywords=keywords,
                         description=description, force=force)
    click.echo(f"added template {entry.slug} ({len(entry.boxes)} boxes) at {entry.image.parent}")


@click.command("list")
@format_options
@config_option
@pass_state
def templates_list(state: CliState, fmt: str) -> None:
    """Every template the generators use: the configured (or shipped) ones and your library.

    Example: memeloop templates list --json
    """
    from bot.service.templates import list_templates

    rows = [e.as_json() for e in list_templates(state.config())]
    if fmt == "table":
        rows = [r | {"boxes": len(r["boxes"]), "keywords": ", ".join(r["keywords"])} for r in rows]
    emit(rows, fmt, columns=["slug", "name", "source", "boxes", "keywords", "description", "image"],
         title="templates", empty="no templates")


@click.command("remove")
@click.argument("slug")
@config_option
@pass_state
def templates_remove(state: CliState, slug: str) -> None:
    """Remove a template you added; candidates made on it stay readable (their images are in the
    media store).

    Example: memeloop templates remove office-dog
    """
    click.echo(f"removed {state.app().remove_template(slug)}")
