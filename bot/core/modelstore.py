"""The user's models: pulled or installed checkpoints in the data folder, each with a checksum manifest.

    <data folder>/models/<id>/            the model's files as loaded (a transformers GPT-2 folder, or
                                          a Keras .keras / .weights.h5 file)
    <data folder>/models/<id>/memeloop-model.json   {"id", "kind", "source", "installed", "files":
                                          {relative path: sha256}}

Config names a model by id (``[generator.post] writer_model``, ``[generator.meme] encoder_model``);
every load goes through ``resolve`` (the files are there and their checksums match) and reads the
local folder only. ``pull`` is the one place that may reach a network, once, for the three models
users ask for by name (transformers ``from_pretrained``, Keras ``weights="imagenet"``).
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.staging import staged_folder
from bot.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger(__name__)

MANIFEST = "memeloop-model.json"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
KINDS = ("gpt2", "keras")
GPT2_TYPES = ("gpt2",)  # model_type of the GPT-2 family (gpt2, distilgpt2, gpt2-medium, ...)
KERAS_SUFFIXES = (".keras", ".weights.h5", ".h5")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
MAX_ARCHIVE_BYTES = 8 * 1024**3
# name -> (kind, what pull fetches); the real weights, downloaded once where a network exists
PULLABLE = {"gpt2": ("gpt2", "gpt2"), "distilgpt2": ("gpt2", "distilgpt2"),
            "inceptionv3": ("keras", "keras.applications.InceptionV3 imagenet, no top, avg pooling")}
# A fresh GPT-2 (plain prompts, no control tokens) writes for these until it is fine-tuned.
PLAIN_WRITER_META = {"format": "memeloop-textgen/1", "prompt": "plain",
                     "tones": ["funny", "informative", "inspirational"], "audiences": ["general", "promotional"],
                     "topics": ["abstract textures", "cats", "coffee", "nature", "space"]}
WRITER_META = "memeloop.json"


class ModelStoreError(UsageError):
    """A model cannot be installed, pulled or found (exit 2 at the CLI)."""


class PullError(Exception):
    """The download itself failed (no network, hub refused); one line, exit 1."""


@dataclass(frozen=True)
class ModelInfo:
    id: str
    kind: str
    source: str
    installed: str
    path: Path
    files: dict[str, str] = field(default_factory=dict)

    @property
    def size_bytes(self) -> int:
        return sum((self.path / name).stat().st_size for name in self.files if (self.path / name).is_file())

    def file(self) -> Path:
        """A Keras model's one weights/model file (GPT-2 models are loaded as the folder)."""
        return self.path / next(iter(self.files))


def data_dir(config: Config) -> Path:
    """The data folder: the config file's folder (where logs, models and templates live; Config.data_dir)."""
    return config.data_dir()


def models_dir(root: Path) -> Path:
    return root / "models"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_id(model_id: str) -> str:
    if not ID_PATTERN.match(model_id):
        raise ModelStoreError(f"model id {model_id!r}: use 1-64 lowercase letters, digits, '.', '_' or '-'")
    return model_id


# --- reading ----------------------------------------------------------------------------------------

def _read_manifest(folder: Path) -> ModelInfo:
    path = folder / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = {str(k): str(v) for k, v in dict(doc["files"]).items()}
        return ModelInfo(str(doc["id"]), str(doc["kind"]), str(doc.get("source", "")),
                         str(doc.get("installed", "")), folder, files)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"model {folder.name!r}: {path} is missing or unreadable ({exc})") from None


def list_models(root: Path) -> list[ModelInfo]:
    folder = models_dir(root)
    if not folder.is_dir():
        return []
    return [_read_manifest(p) for p in sorted(folder.iterdir()) if (p / MANIFEST).is_file()]


def verify_model(info: ModelInfo) -> list[str]:
    """Problems of an installed model (empty = every file is there with its recorded checksum)."""
    problems = []
    for name, digest in info.files.items():
        path = info.path / name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif _sha256(path) != digest:
            problems.append(f"{path} does not match its checksum")
    return problems


def resolve(root: Path, model_id: str, kind: str, *, verify: bool = True) -> ModelInfo:
    """The installed model ``model_id`` of ``kind``, checked against its manifest; ConfigError (one line
    naming the id and the path) when it is missing, of another kind or damaged (``verify=False``: the
    files' checksums are not read, for a quick look at what the model offers)."""
    folder = models_dir(root) / model_id
    if not (folder / MANIFEST).is_file():
        hint = f"memeloop models pull {model_id}" if model_id in PULLABLE else "memeloop models install PATH"
        raise ConfigError(f"model {model_id!r} is not installed ({folder} has no {MANIFEST}; run `{hint}`)")
    info = _read_manifest(folder)
    if info.kind != kind:
        raise ConfigError(f"model {model_id!r} at {folder} is a {info.kind} model, not {kind}")
    problems = verify_model(info) if verify else []
    if problems:
        raise ConfigError(f"model {model_id!r}: {problems[0]} (reinstall it, or `memeloop models verify`)")
    return info


def writer_path(config: Config, *, verify: bool = True) -> Path | None:
    """The caption writer to load: ``writer_model`` (an installed GPT-2 by id), else ``writer_bundle``,
    else None (the shipped demo writer)."""
    post = config.generator.post
    if post.writer_model:
        return resolve(data_dir(config), post.writer_model, "gpt2", verify=verify).path
    return post.writer_bundle


def encoder_weights(config: Config) -> Path | None:
    """Weights file of ``[generator.meme] encoder_model`` (an installed Keras model), or None."""
    model_id = config.generator.meme.encoder_model
    return resolve(data_dir(config), model_id, "keras").file() if model_id else None


# --- installing -------------------------------------------------------------------------------------

def _safe_members(archive: Path) -> Iterator[tuple[str, bytes]]:
    """(relative name, contents) of each regular file; refuses links and paths that leave the folder."""
    def check(name: str) -> str:
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts:
            raise ModelStoreError(f"{archive}: member {name!r} would be written outside the model folder")
        return name

    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield check(info.filename), zf.read(info)
        return
    with tarfile.open(archive) as tf:
        for member in tf.getmembers():
            if member.issym() or member.islnk() or member.isdev() or member.isfifo():
                raise ModelStoreError(f"{archive}: member {member.name!r} is a link or device; not unpacked")
            if member.isfile():
                fh = tf.extractfile(member)
                yield check(member.name), fh.read() if fh is not None else b""


@contextmanager
def _unpacked(path: Path) -> Iterator[Path]:
    """A folder holding the model: ``path`` itself, or an archive unpacked into a temporary folder (its
    single top folder when it has one)."""
    if path.is_dir() or not path.name.endswith(ARCHIVE_SUFFIXES):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="memeloop-model-") as tmp:
        total = 0
        try:
            for name, data in _safe_members(path):
                total += len(data)
                if total > MAX_ARCHIVE_BYTES:
                    raise ModelStoreError(f"{path}: unpacks to more than {MAX_ARCHIVE_BYTES // 1024**3} GB")
                target = Path(tmp) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
            raise ModelStoreError(f"{path}: not a readable archive ({exc})") from None
        entries = list(Path(tmp).iterdir())
        yield entries[0] if len(entries) == 1 and entries[0].is_dir() else Path(tmp)


def _gpt2_files(folder: Path) -> list[Path] | None:
    """The files of a transformers GPT-2 checkpoint in ``folder``, or None when it is not one."""
    config = folder / "config.json"
    if not config.is_file():
        return None
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        raise ModelStoreError(f"{config}: not a readable transformers config") from None
    if model_type not in GPT2_TYPES:
        raise ModelStoreError(f"{folder}: model_type {model_type!r} is not the GPT-2 family (gpt2)")
    names = {p.name for p in folder.iterdir() if p.is_file()}
    if not names & {"model.safetensors", "pytorch_model.bin"}:
        raise ModelStoreError(f"{folder}: no model.safetensors or pytorch_model.bin weights")
    if not names & {"tokenizer.json", "vocab.json"}:
        raise ModelStoreError(f"{folder}: no tokenizer (tokenizer.json or vocab.json + merges.txt)")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name != MANIFEST)


def _keras_file(path: Path) -> Path | None:
    if path.is_file():
        return path if path.name.endswith(KERAS_SUFFIXES) else None
    found = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(KERAS_SUFFIXES))
    if len(found) > 1:
        raise ModelStoreError(f"{path}: holds {len(found)} Keras files ({', '.join(p.name for p in found)}); "
                              "give one")
    return found[0] if found else None


def _check_loads(kind: str, folder: Path) -> None:
    """Open the copied model once, offline, so a broken checkpoint is refused at install, not at use."""
    try:
        if kind == "gpt2":
            from transformers import AutoTokenizer, GPT2Config
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()

            GPT2Config.from_pretrained(folder, local_files_only=True)
            AutoTokenizer.from_pretrained(folder, local_files_only=True)
        else:
            import zipfile as zf

            file = next(p for p in folder.iterdir() if p.name != MANIFEST)
            if file.name.endswith(".keras") and not zf.is_zipfile(file):
                raise ValueError("not a .keras archive")
            if file.name.endswith(".h5") and file.read_bytes()[:8] != b"\x89HDF\r\n\x1a\n":
                raise ValueError("not an HDF5 file")
    except (OSError, ValueError) as exc:
        raise ModelStoreError(f"{folder}: cannot be loaded as a {kind} model ({str(exc).splitlines()[0]})") from None


def install(root: Path, source: Path, *, model_id: str | None = None, force: bool = False,
            origin: str | None = None) -> ModelInfo:
    """Copy a local GPT-2 checkpoint or Keras model (folder, file or archive) into the data folder
    under ``model_id`` (default: the source's name) and write its checksum manifest."""
    if not source.exists():
        raise ModelStoreError(f"{source}: no such file or folder")
    if not (source.is_dir() or source.is_file()):
        raise ModelStoreError(f"{source}: not a regular file or folder")
    stem = source.name
    for suffix in (*ARCHIVE_SUFFIXES, *KERAS_SUFFIXES):
        stem = stem.removesuffix(suffix)
    model_id = check_id(model_id or stem.lower())
    dest = models_dir(root) / model_id
    if dest.exists() and not force:
        raise ModelStoreError(f"model {model_id!r} is already installed at {dest} (use --force to replace it)")
    with _unpacked(source) as folder:
        files = _gpt2_files(folder) if folder.is_dir() else None
        kind = "gpt2" if files else "keras"
        if files is None:
            keras_file = _keras_file(folder)
            if keras_file is None:
                raise ModelStoreError(f"{source}: neither a transformers GPT-2 checkpoint (config.json + weights + "
                                      f"tokenizer) nor a Keras model ({', '.join(KERAS_SUFFIXES)})")
            files = [keras_file]
        return _copy_in(dest, kind, files, origin or str(source))


def _copy_in(dest: Path, kind: str, files: list[Path], origin: str) -> ModelInfo:
    with staged_folder(dest) as staging:
        for file in files:
            shutil.copyfile(file, staging / file.name)
        if kind == "gpt2" and not (staging / WRITER_META).is_file():
            (staging / WRITER_META).write_text(json.dumps(PLAIN_WRITER_META, indent=2, sort_keys=True) + "\n")
        _check_loads(kind, staging)
        digests = {p.name: _sha256(p) for p in sorted(staging.iterdir()) if p.is_file()}
        doc = {"id": dest.name, "kind": kind, "source": origin, "files": digests,
               "installed": datetime.now(UTC).isoformat(timespec="seconds")}
        (staging / MANIFEST).write_text(json.dumps(doc, indent=2) + "\n")
    log.info("model_installed id=%s kind=%s files=%d", dest.name, kind, len(files))
    return _read_manifest(dest)


# --- pulling ----------------------------------------------------------------------------------------

def _download_transformers(name: str, into: Path) -> None:
    """The real pretrained GPT-2 weights and tokenizer from the Hugging Face hub, saved into ``into``."""
    from transformers import AutoTokenizer, GPT2LMHeadModel

    GPT2LMHeadModel.from_pretrained(name).save_pretrained(into)
    AutoTokenizer.from_pretrained(name).save_pretrained(into)


def _download_keras_inception(into: Path) -> None:
    """Keras' ImageNet InceptionV3 (no top, average pooled: what the meme encoder uses), weights saved
    into ``into``."""
    import keras

    model = keras.applications.InceptionV3(include_top=False, weights="imagenet", pooling="avg",
                                           input_shape=(299, 299, 3))
    model.save_weights(into / "inception_v3_notop.weights.h5")


DOWNLOADERS: dict[str, Callable[[Path], None]] = {
    "gpt2": lambda into: _download_transformers("gpt2", into),
    "distilgpt2": lambda into: _download_transformers("distilgpt2", into),
    "inceptionv3": _download_keras_inception,
}


def pull(root: Path, name: str, *, force: bool = False) -> ModelInfo:
    """Fetch a named model's real weights once and install them; PullError (one line) without a network."""
    if name not in PULLABLE:
        raise ModelStoreError(f"no pullable model {name!r} (known: {', '.join(PULLABLE)}); "
                              "install a local checkpoint with `memeloop models install PATH`")
    dest = models_dir(root) / name
    if (dest / MANIFEST).is_file() and not force:
        return _read_manifest(dest)
    with tempfile.TemporaryDirectory(prefix="memeloop-pull-") as tmp:
        try:
            DOWNLOADERS[name](Path(tmp))
        # keras' get_file raises a bare Exception("URL fetch failure ..."); transformers OSError, hub
        # errors and requests errors of their own: any download failure becomes one line here
        except Exception as exc:  # noqa: BLE001
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise PullError(f"cannot pull {name!r} ({PULLABLE[name][1]}): no network or the download failed "
                            f"({type(exc).__name__}: {first}); on a machine with a network, pull there and "
                            f"`memeloop models install` the folder") from None
        folder = Path(tmp)
        files = _gpt2_files(folder) if PULLABLE[name][0] == "gpt2" else [_keras_file(folder) or folder]
        return _copy_in(dest, PULLABLE[name][0], files or [], f"pull {name}")


def remove(root: Path, model_id: str) -> Path:
    folder = models_dir(root) / check_id(model_id)
    if not (folder / MANIFEST).is_file():
        raise ModelStoreError(f"model {model_id!r} is not installed ({folder})")
    shutil.rmtree(folder)
    return folder
