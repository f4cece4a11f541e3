"""Content-system commands: caption a photo in a tone, make a meme from a text."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from bot.cli import CliState, config_option, pass_state
from bot.cli.types import PostTime, WallTime, at_in

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
@click.option("--topic", help="Write for this topic (one the caption model knows, e.g. coffee), whatever the "
                              "photo is read as.")
@click.option("--about", help="What the photo is about, in your words (e.g. \"our new oat latte\"); a topic "
                              "they name wins over the photo's reading.")
@click.option("--seed", type=int, help="Seed (default: fresh; the one used is stored with the run).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@config_option
@pass_state
def caption(state: CliState, photos: tuple[Path, ...], tone: str | None, audience: str | None,
            account: str | None, n: int, topic: str | None, about: str | None, seed: int | None,
            as_json: bool) -> None:
    """Caption your own photos in a tone: what the photo shows (ImageNet classes folded into the
    writer's topics) or what you say it is about conditions the writer; an unsure reading without a
    hint gets captions that say only what is certain (what the top guesses share, else the photo's
    colours): --about gives a better caption. The captions enter the review queue.

    Example: memeloop caption latte.jpg --about "our new oat latte" --tone funny -n 5
    """
    from bot.service.content_checks import (
        MAX_CAPTIONS,
        check_about,
        check_photo_file,
        check_range,
        check_topic,
        check_voice,
        check_voice_early,
    )

    check_range("-n", n, 1, MAX_CAPTIONS)  # everything checked before the database opens or a model loads
    check_about(about)
    if not check_voice_early(state.config_path, tone=tone, audience=audience):
        check_voice(state.config(), tone=tone, audience=audience)
    if topic is not None:
        check_topic(state.config(), topic)
    for path in photos:
        check_photo_file(path)
    result = state.app().caption(list(photos), tone=tone, audience=audience, account=account, n=n, seed=seed,
                                 topic=topic, about=about)
    run = result.run
    if not as_json:
        for path, found in zip(photos, result.topics):
            labels = ", ".join(f"{lb['name']} {lb['prob']:.2f}" for lb in found["labels"][:3])
            click.echo(f"{path}: {found['reading']} [{labels}]")
            if found.get("hint"):  # unsure and no hint: say what the captions hold to, and how to do better
                certain = found.get("ground") or "its main colours"
                click.echo(f"  not sure what {path.name} shows: the captions say only what is certain "
                           f"({certain}); --about \"...\" gives a better caption "
                           f"(e.g. --about \"our new oat latte\"), or --topic")
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
    from bot.service.content_checks import check_template

    if not text.strip():
        raise click.BadParameter("the text is empty", param_hint="TEXT")
    check_template(state.config(), template)
    result = state.app().make(text, account=account, template=template)
    alternatives = [{"template": a.slug, "score": round(a.prob, 4)} for a in result.alternatives]
    if not as_json:
        click.echo(f"template {result.template.slug} (score {result.template.prob:.2f}); also: "
                   + ", ".join(f"{a['template']} {a['score']:.2f}" for a in alternatives))
        if result.weak:
            click.echo(f"  a weak match: the text is not much like any template's captions; look at the meme, "
                       f"or choose one with --template (e.g. --template {result.template.slug})")
    _echo_made(result.candidates, as_json, {"generation_id": result.run.generation_id,
                                            "template": result.template.slug, "score": result.template.prob,
                                            "weak_match": result.weak, "alternatives": alternatives})


@click.command("story")
@click.argument("image")
@click.option("--parts", default=3, show_default=True, type=int, help="Parts of the thread (2-6).")
@click.option("--tone", help="Tone (one the caption model knows, e.g. funny).")
@click.option("--audience", help="Audience (one the caption model knows, e.g. general).")
@click.option("--topic", help="What the story is about (default: what the photo shows).")
@click.option("--account", help="Account the thread is for (default: the only configured account).")
@click.option("--seed", type=int, help="Seed (default: fresh; the one used is stored with the run).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@config_option
@pass_state
def story(state: CliState, image: str, parts: int, tone: str | None, audience: str | None, topic: str | None,
          account: str | None, seed: int | None, as_json: bool) -> None:
    """Write a story thread from an image (a photo or GAN image file, a template's name, or gan:SEED): each
    part is written after the ones before it; the thread enters review as one candidate. Continue,
    steer or edit it with `memeloop thread ...`, approve it as a unit with `memeloop thread approve`.

    Example: memeloop story rocket --parts 3 --tone funny --account demo
    """
    from bot.service.content_checks import check_parts, check_voice, check_voice_early

    check_parts(parts)
    if not check_voice_early(state.config_path, tone=tone, audience=audience):
        check_voice(state.config(), tone=tone, audience=audience)
    result = state.app().story(image, parts=parts, tone=tone, audience=audience, account=account, topic=topic,
                               seed=seed)
    if as_json:
        _echo_made(result.candidates, True, {"generation_id": result.run.generation_id, "topic": result.topic})
        return
    click.echo(f"topic {result.topic['topic']!r}; generation {result.run.generation_id}")
    for made in result.candidates:
        click.echo(f"candidate {made.id} ({made.status}{': ' + made.reason if made.reason else ''})")
        _echo_parts(made.text)


def _echo_parts(text: str) -> None:
    from generator.story import split_parts

    for i, part in enumerate(split_parts(text), start=1):
        click.echo(f"  {i}. {part}")


@click.group("thread")
def thread() -> None:
    """Review story threads: show, continue, steer, edit a part, approve as a unit.

    Example: memeloop thread show 12
    """


@thread.command("show")
@click.argument("candidate_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the thread and each part's lineage as JSON.")
@config_option
@pass_state
def thread_show(state: CliState, candidate_id: int, as_json: bool) -> None:
    """Show a thread's parts (and, with --json, what the writer wrote for each and its seed).

    Example: memeloop thread show 12 --json
    """
    t = state.app().thread(candidate_id)
    if as_json:
        click.echo(json.dumps(t.__dict__, default=str))
        return
    click.echo(f"candidate {t.candidate_id} ({t.status}), topic {t.topic!r}, tone {t.tone}, {len(t.parts)} parts")
    for i, part in enumerate(t.parts, start=1):
        click.echo(f"  {i}. {part}")


def _continued(state: CliState, candidate_id: int, parts: int, steer: str | None) -> None:
    from bot.cli import actor

    result, t = state.app().continue_thread(candidate_id, actor=actor(), parts=parts, steer=steer)
    click.echo(f"candidate {candidate_id} ({result.after}): now {len(t.parts)} parts")
    for i, part in enumerate(t.parts, start=1):
        click.echo(f"  {i}. {part}")


@thread.command("continue")
@click.argument("candidate_id", type=int)
@click.option("--parts", default=1, show_default=True, type=int, help="How many parts to add.")
@click.option("--steer", help="A sentence the next part should follow.")
@config_option
@pass_state
def thread_continue(state: CliState, candidate_id: int, parts: int, steer: str | None) -> None:
    """Write more parts after the story so far (at most 6 in all).

    Example: memeloop thread continue 12 --parts 2
    """
    _continued(state, candidate_id, parts, steer)


@thread.command("steer")
@click.argument("candidate_id", type=int)
@click.argument("sentence")
@click.option("--parts", default=1, show_default=True, type=int, help="How many parts to add.")
@config_option
@pass_state
def thread_steer(state: CliState, candidate_id: int, sentence: str, parts: int) -> None:
    """Continue the story in the direction a sentence gives.

    Example: memeloop thread steer 12 "then the coffee machine exploded"
    """
    if not sentence.strip():
        raise click.BadParameter("the sentence is empty", param_hint="SENTENCE")
    _continued(state, candidate_id, parts, sentence)


@thread.command("edit")
@click.argument("candidate_id", type=int)
@click.argument("position", type=int)
@click.argument("text")
@config_option
@pass_state
def thread_edit(state: CliState, candidate_id: int, position: int, text: str) -> None:
    """Replace one part (numbered from 1) of a thread.

    Example: memeloop thread edit 12 2 "the rocket finally left"
    """
    from bot.cli import actor

    result = state.app().edit_thread_part(candidate_id, position, text, actor=actor())
    click.echo(f"candidate {candidate_id}: part {position} edited ({result.before} -> {result.after})")


@thread.command("approve")
@click.argument("candidate_id", type=int)
@click.option("--at", "at", type=PostTime,
              help="Post at this time (ISO 8601, read in the account's time zone unless it carries an offset or Z; "
                   "or 'now'); default: the account's next free slot.")
@click.option("--account", help="Account to post to.")
@config_option
@pass_state
def thread_approve(state: CliState, candidate_id: int, at: datetime | WallTime | None, account: str | None) -> None:
    """Approve a whole thread as one unit: its parts go out in order as one post (X: a reply chain).

    Example: memeloop thread approve 12 --at now
    """
    from bot.cli import actor
    from bot.config.timefmt import iso, typed_zone, zone_of

    app = state.app()
    if isinstance(at, WallTime):
        at = at_in(at, typed_zone(app.config, account or app.candidate(candidate_id).account))
    result = app.approve_thread(candidate_id, actor=actor(), at=at, account=account)
    zone = zone_of(app.config, result.account)
    click.echo(f"approved thread {candidate_id}: post {result.post_id} scheduled at "
               f"{iso(result.scheduled_at, zone)} ({zone})")
