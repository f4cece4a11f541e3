"""`memeloop models`: the user's checkpoints in the data folder (pulled or installed), by id."""
from __future__ import annotations

from pathlib import Path

import click

from bot.cli import CliState, config_option, pass_state
from bot.cli.output import emit, format_options


def _root(state: CliState) -> Path:
    from bot.core.modelstore import data_dir

    return data_dir(state.config())


@click.command("list")
@format_options
@config_option
@pass_state
def models_list(state: CliState, fmt: str) -> None:
    """Installed models: id, kind, size, where they came from.

    Example: memeloop models list --json
    """
    from bot.core.modelstore import list_models

    rows = [{"id": m.id, "kind": m.kind, "size_mb": round(m.size_bytes / 1024**2, 1), "files": len(m.files),
             "source": m.source, "installed": m.installed, "path": str(m.path)} for m in list_models(_root(state))]
    emit(rows, fmt, title="models", empty="no models installed (memeloop models pull gpt2 | install PATH)")


@click.command("install")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", "model_id", help="Id to install it as (default: the folder or file name).")
@click.option("--force", is_flag=True, help="Replace a model with the same id.")
@config_option
@pass_state
def models_install(state: CliState, path: Path, model_id: str | None, force: bool) -> None:
    """Install a local transformers GPT-2 checkpoint or a Keras model (folder, file or .zip/.tar.gz)
    into the data folder, with a checksum manifest; config then names it by id.

    Example: memeloop models install ~/checkpoints/my-gpt2 --name mygpt2
    """
    from bot.core.modelstore import install

    info = install(_root(state), path, model_id=model_id, force=force)
    click.echo(f"installed {info.id} ({info.kind}, {len(info.files)} files) at {info.path}")


@click.command("pull")
@click.argument("name")
@click.option("--force", is_flag=True, help="Download again even when it is installed.")
@config_option
@pass_state
def models_pull(state: CliState, name: str, force: bool) -> None:
    """Download the real pretrained weights of gpt2, distilgpt2 or inceptionv3 once (needs a network);
    every later load is local.

    Example: memeloop models pull gpt2
    """
    from bot.core.modelstore import PullError, pull

    try:
        info = pull(_root(state), name, force=force)
    except PullError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{info.id}: {info.kind} model at {info.path} ({len(info.files)} files, from {info.source})")


@click.command("verify")
@click.argument("ids", nargs=-1)
@config_option
@pass_state
def models_verify(state: CliState, ids: tuple[str, ...]) -> None:
    """Check every installed model's files against its checksum manifest (exit 1 on a mismatch).

    Example: memeloop models verify gpt2
    """
    from bot.core.modelstore import list_models, verify_model
    from bot.errors import UsageError

    models = {m.id: m for m in list_models(_root(state))}
    unknown = [i for i in ids if i not in models]
    if unknown:
        raise UsageError(f"not installed: {', '.join(unknown)} (see `memeloop models list`)")
    bad = 0
    for model_id in ids or tuple(models):
        problems = verify_model(models[model_id])
        bad += bool(problems)
        click.echo(f"{model_id}: " + ("ok" if not problems else "; ".join(problems)))
    if not models:
        click.echo("no models installed")
    if bad:
        raise click.ClickException(f"{bad} model(s) failed verification")


@click.command("remove")
@click.argument("model_id")
@config_option
@pass_state
def models_remove(state: CliState, model_id: str) -> None:
    """Delete an installed model's folder.

    Example: memeloop models remove mygpt2
    """
    from bot.core.modelstore import remove

    click.echo(f"removed {remove(_root(state), model_id)}")
