"""Every argument of a content request checked before any model loads: tone, audience, template,
part and caption counts, and the photo itself (exists, a regular file, within the size limit, an
image Pillow can decode within the pixel limit, still).

The choices come from data, not from a loaded model: tones and audiences from the caption bundle's
memeloop.json, templates from the template library's folders. The CLI calls these before it opens
the database; the use cases (bot/content.py, bot/story.py) call them again first thing, so the web
admin and any other caller get the same refusal in milliseconds. The Create page offers the same
choices (``choices``).
"""
from __future__ import annotations

import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.config import Config

MAX_PHOTO_BYTES = 20 * 2**20  # a phone photo is 2-8 MB; X takes at most 5 MB, Instagram 8 MB
MAX_CAPTIONS = 20
MAX_PHOTOS = 10


@dataclass(frozen=True)
class Choices:
    """What a content request may ask for, from the configured bundle and template library."""

    tones: tuple[str, ...]
    audiences: tuple[str, ...]
    templates: tuple[str, ...]  # template slugs


def writer_choices(config: Config) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(tones, audiences) the configured caption bundle was trained with (its memeloop.json)."""
    from bot.core.modelstore import writer_path
    from generator import GeneratorError
    from generator.textgen import bundle_choices

    try:  # an installed writer_model: its manifest is read, its files are checked when it loads
        return bundle_choices(writer_path(config, verify=False))
    except GeneratorError as exc:
        raise UsageError(str(exc)) from None


def template_slugs(config: Config) -> tuple[str, ...]:
    """The configured templates' slugs, then those of the user's library (bot.service.templates)."""
    from bot.service.templates import configured_dir, library_dir
    from generator import GeneratorError
    from generator.meme.templates import template_folders

    try:
        configured = configured_dir(config)
        slugs = [p.name for p in template_folders(configured)]
        library = library_dir(config)
        if library.is_dir() and library.resolve() != configured.resolve():
            slugs += [p.name for p in template_folders(library) if p.name not in slugs]
        return tuple(slugs)
    except (GeneratorError, OSError) as exc:
        raise UsageError(f"template library: {exc}") from None


def choices(config: Config) -> Choices:
    tones, audiences = writer_choices(config)
    return Choices(tones, audiences, template_slugs(config))


def _check_choice(name: str, value: str | None, known: Sequence[str], what: str) -> None:
    if value is not None and value not in known:
        raise UsageError(f"--{name} {value[:64]!r} is not one {what} knows ({', '.join(known)})"
                         if name != "template" else f"--template {value[:64]!r} is not a template in the "
                         f"library ({', '.join(known) or 'none'})")


def check_voice(config: Config, *, tone: str | None, audience: str | None, writer: Any = None) -> None:
    """Tone and audience (None = chosen at random later) against the caption bundle's (or those of
    the writer given, when a caller brings its own)."""
    if tone is None and audience is None:
        return
    tones, audiences = (writer.tones, writer.audiences) if writer is not None else writer_choices(config)
    _check_choice("tone", tone, tones, "the caption model")
    _check_choice("audience", audience, audiences, "the caption model")


def check_topic(config: Config, topic: str | None, *, writer: Any = None) -> None:
    """A writer topic (--topic) against the caption bundle's topics (or the given writer's)."""
    if topic is None:
        return
    if writer is not None:
        known = tuple(writer.topics)
    else:
        from generator import GeneratorError
        from generator.textgen import bundle_topics

        try:
            known = bundle_topics(config.generator.post.writer_bundle)
        except GeneratorError as exc:
            raise UsageError(str(exc)) from None
    _check_choice("topic", topic, known, "the caption model")


def check_about(about: str | None) -> None:
    """--about, when given, says something."""
    if about is not None and not about.strip():
        raise UsageError("--about is empty; say what the photo is about, e.g. --about \"our new oat latte\"")


def check_voice_early(config_path: str | None, *, tone: str | None, audience: str | None) -> bool:
    """check_voice from the config file's writer_bundle alone (bot.config.paths.writer_bundle), before the
    full config loads; False when that could not be read simply (the caller checks after loading)."""
    if tone is None and audience is None:
        return True
    from bot.config.paths import writer_bundle
    from generator import GeneratorError
    from generator.textgen import bundle_choices

    readable, folder = writer_bundle(config_path)
    if not readable:
        return False
    try:
        tones, audiences = bundle_choices(folder)
    except GeneratorError:
        return False  # the full config load and check_voice say what is wrong
    _check_choice("tone", tone, tones, "the caption model")
    _check_choice("audience", audience, audiences, "the caption model")
    return True


def check_template(config: Config, template: str | None) -> None:
    """A template named by its slug must be one of the library's (never a path)."""
    if template is not None:
        _check_choice("template", template, template_slugs(config), "the template library")


def check_range(name: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise UsageError(f"{name} must be between {lo} and {hi}, not {value}")


def check_parts(parts: int) -> None:
    from generator.story import MAX_PARTS, MIN_PARTS

    check_range("--parts", parts, MIN_PARTS, MAX_PARTS)


def check_photo_file(path: Path, *, max_bytes: int = MAX_PHOTO_BYTES) -> None:
    """The file exists, is a regular file (not a folder, FIFO or device) and is not too big to read."""
    problem = file_problem(path, max_bytes, "a photo")
    if problem:
        raise UsageError(problem)


def file_problem(path: Path, max_bytes: int, what: str) -> str | None:
    """Why ``path`` cannot be read as ``what`` ("a photo"): missing, unreadable, not a regular file
    (a folder, FIFO or device: checked before opening, a FIFO would block), empty or over
    ``max_bytes``; None when it can."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"{path}: no such file"
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(info.st_mode):
        return f"{path}: not a regular file (a folder, FIFO or device); give {what} file"
    if info.st_size == 0:
        return f"{path}: the file is empty"
    if info.st_size > max_bytes:
        return f"{path}: {info.st_size / 2**20:.1f} MB; the limit for {what} is {max_bytes / 2**20:.0f} MB"
    return None


def read_photos(paths: Sequence[Path]) -> list[Any]:
    """Each photo checked and decoded once: upright RGB PIL images (generator.imageio: pixel limit,
    EXIF orientation, no animations); a bad one is one line naming it."""
    from generator import DataError
    from generator.imageio import open_image

    if not paths:
        raise UsageError("give at least one photo")
    if len(paths) > MAX_PHOTOS:
        raise UsageError(f"at most {MAX_PHOTOS} photos at a time, not {len(paths)}")
    out = []
    for path in paths:
        check_photo_file(Path(path))
        try:
            out.append(open_image(path).convert("RGB"))
        except DataError as exc:
            raise UsageError(str(exc)) from None
    return out
