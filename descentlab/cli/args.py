"""Argument types and checks shared by every ``descentlab`` command.

The types are argparse ``type=`` callables: they turn one command-line value into a Python value
or raise ``argparse.ArgumentTypeError`` with a message that names the problem and a valid example.
The checks (``prepare_output_dir``, ``check_writable``, ``image_path``, ``require_extra``) run in
a command's handler before any work and raise :class:`UsageError` (exit status 2, one line).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["EXTRAS", "MAX_BATCH_SIZE", "MAX_EPOCHS", "UsageError", "accept_negative_points",
           "batch_size", "betas", "check_writable", "choice_list", "finite_float",
           "hidden_sizes", "image_path", "int_range", "lab_name", "lab_names", "lr_grid",
           "nonnegative_float", "nonnegative_int", "output_dir", "point", "port",
           "positive_float", "positive_floats", "positive_int", "prepare_output_dir",
           "require_extra", "sweep_names", "unit_interval", "value_list"]

#: Upper bounds of ``--epochs`` / ``--patience`` and ``--batch-size``.
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 10_000_000


class UsageError(Exception):
    """A bad command-line argument: reported on one line, exit status 2."""


# ---------------------------------------------------------------------------- numbers
def finite_float(text: str) -> float:
    """A finite number (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (learning rates, clip norms); a comma list is refused."""
    if "," in text:
        raise argparse.ArgumentTypeError(f"{text!r}: give one number here, e.g. 0.01")
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 (got {text}); e.g. 0.01")
    return value


def positive_floats(text: str, unique: bool = False) -> list[float]:
    """``0.1`` or ``0.01,0.1,1``: finite numbers > 0 (each at most once when ``unique``)."""
    parts = [t.strip() for t in text.split(",")]
    if not any(parts):
        raise argparse.ArgumentTypeError(f"{text!r} is empty; give e.g. 0.01 or 0.01,0.1")
    if not all(parts):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty entry; write e.g. 0.01,0.1")
    values = [finite_float(t) for t in parts]
    bad = [v for v in values if v <= 0]
    if bad:
        raise argparse.ArgumentTypeError(f"must be > 0 (got {', '.join(f'{v:g}' for v in bad)})")
    twice = sorted({v for v in values if values.count(v) > 1})
    if unique and twice:
        raise argparse.ArgumentTypeError(f"lists {', '.join(f'{v:g}' for v in twice)} more than "
                                         "once; give each value once")
    return values


def nonnegative_float(text: str) -> float:
    """A finite number >= 0 (weight decay)."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {text})")
    return value


def unit_interval(text: str) -> float:
    """A number in [0, 1) (momentum, validation fraction)."""
    value = finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1) (got {text}); e.g. 0.9 for "
                                         "momentum, 0.2 for a validation split")
    return value


def point(text: str) -> list[float]:
    """``x,y`` (any number of coordinates), e.g. ``-1.2,1``."""
    parts = [t.strip() for t in text.replace(";", ",").split(",")]
    if not parts or any(not p for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not a point; write it as x,y e.g. -1.2,1")
    return [finite_float(p) for p in parts]


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def int_range(lo: int, hi: int | None = None, option: str | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in ``lo..hi`` (no upper bound when ``hi`` is None).

    Bounds keep a typo from starting a run that never ends or allocating without limit. With
    ``option`` (e.g. ``"--steps"``) the message names it and the whole range: ``--steps must be
    in 1..100000 (got 0)``.
    """

    def parse(text: str) -> int:
        value = _integer(text)
        if option is not None and hi is not None:
            if not lo <= value <= hi:
                raise argparse.ArgumentTypeError(f"{option} must be in {lo}..{hi} (got {value})")
            return value
        if value < lo:
            word = "a positive integer" if lo == 1 else f">= {lo}"
            raise argparse.ArgumentTypeError(f"must be {word} (got {text})")
        if hi is not None and value > hi:
            raise argparse.ArgumentTypeError(f"must be at most {hi} (got {text})")
        return value

    return parse


def positive_int(text: str) -> int:
    """An integer >= 1 (see :func:`int_range` for one with an upper bound)."""
    return int_range(1)(text)


def nonnegative_int(text: str) -> int:
    """An integer >= 0 (seeds, patience)."""
    return int_range(0)(text)


def port(text: str) -> int:
    """A TCP port number, 0..65535 (0 lets the system pick a free one)."""
    value = nonnegative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0..65535 (got {text})")
    return value


def batch_size(text: str) -> int | str:
    """An integer in 1..MAX_BATCH_SIZE, or ``full`` (the whole training set)."""
    if text.strip().lower() == "full":
        return "full"
    return int_range(1, MAX_BATCH_SIZE)(text)


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``16,16`` → ``(16, 16)``; ``none`` for no hidden layer (``''`` and ``0`` are refused)."""
    from ..train.builders import parse_hidden

    try:
        return parse_hidden(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def betas(text: str) -> list[float]:
    """``β1/β2``, e.g. ``0.9/0.999``: two numbers in [0, 1)."""
    parts = text.split("/")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"betas {text!r}: write β1/β2, e.g. 0.9/0.999")
    return [unit_interval(p) for p in parts]


def lr_grid(text: str) -> list[float]:
    """Learning rates: a list ``1e-3,1e-2`` or a log grid ``LOW:HIGH:COUNT``."""
    from ..sweep.spec import parse_lr_grid

    try:
        return parse_lr_grid(str(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def value_list(item: Callable[[str], Any], sep: str = ",") -> Callable[[str], list[Any]]:
    """An argparse type: a ``sep``-separated list, each value parsed by ``item`` (a swept axis);
    empty entries are skipped, an empty list is refused."""

    def parse(text: str) -> list[Any]:
        parts = [t.strip() for t in str(text).split(sep) if t.strip()]
        if not parts:
            raise argparse.ArgumentTypeError(f"{text!r} is an empty list (an empty grid)")
        return [item(p) for p in parts]

    return parse


# ---------------------------------------------------------------------------- names
def _split_names(text: str) -> list[str]:
    return [n.strip().lower() for n in str(text).split(",")]


def _unknown(names: list[str], valid: Sequence[str], what: str) -> None:
    bad = [n for n in names if n not in valid]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(map(repr, bad))}; "
                                         f"choose from {', '.join(valid)}")


def choice_list(valid: Sequence[str], what: str,
                normalize: Callable[[str], str] = lambda n: n) -> Callable[[str], list[str]]:
    """An argparse type (train commands): a comma list of names from ``valid``, each at most
    once, lower-cased then passed through ``normalize``."""

    def parse(text: str) -> list[str]:
        names = _split_names(text)
        if any(not n for n in names):
            raise argparse.ArgumentTypeError(f"{text!r} has an empty name; separate names with "
                                             "single commas, e.g. sgd,adam")
        names = [normalize(n) for n in names]
        _unknown(names, valid, what)
        twice = sorted({n for n in names if names.count(n) > 1}, key=names.index)
        if twice:
            raise argparse.ArgumentTypeError(f"{', '.join(map(repr, twice))} listed more than "
                                             f"once; name each {what} once")
        return names

    return parse


def lab_names(valid: list[str], what: str) -> Callable[[str], list[str]]:
    """An argparse type (lab commands): a comma list of names from ``valid``; no unknown,
    empty or repeated entries."""

    def parse(text: str) -> list[str]:
        names = _split_names(text)
        if not any(names):
            raise argparse.ArgumentTypeError(f"no {what} given; choose from {', '.join(valid)}")
        if not all(names):
            raise argparse.ArgumentTypeError(f"{text!r} has an empty entry; write names "
                                             f"separated by single commas, e.g. {valid[0]}")
        _unknown(names, valid, what)
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise argparse.ArgumentTypeError(f"{', '.join(twice)} listed more than once; give "
                                             f"each {what} once")
        return names

    return parse


def lab_name(valid: list[str], what: str) -> Callable[[str], str]:
    """An argparse type: one name from ``valid``."""

    def parse(text: str) -> str:
        names = lab_names(valid, what)(text)
        if len(names) != 1:
            raise argparse.ArgumentTypeError(f"{text!r}: give one {what} here, e.g. {valid[0]}")
        return names[0]

    return parse


def sweep_names(text: str) -> list[str]:
    """A comma list of names for a swept axis (empty entries skipped; the sweep's spec checks
    them against what it knows)."""
    names = [n for n in _split_names(text) if n]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no optimizer (an empty grid)")
    return names


def accept_negative_points(parser: argparse.ArgumentParser) -> None:
    """Let ``--start -1.2,1`` through: argparse takes only plain negative numbers (``-1.2``) as
    values, so a comma list starting with '-' would be mistaken for an option."""
    if hasattr(parser, "_negative_number_matcher"):
        parser._negative_number_matcher = re.compile(r"^-\d*\.?\d+([eE][-+]?\d+)?([,;]\S*)?$")


# ---------------------------------------------------------------------------- paths
def _path_limits() -> tuple[int, int]:
    try:
        return os.pathconf("/", "PC_PATH_MAX"), os.pathconf("/", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 4096, 255


def _too_long(text: str) -> tuple[int, int, bool]:
    """(PATH_MAX, NAME_MAX, whether ``text`` or one of its parts exceeds them)."""
    path_max, name_max = _path_limits()
    long = len(os.fsencode(text)) >= path_max or any(len(os.fsencode(part)) > name_max
                                                     for part in Path(text).parts)
    return path_max, name_max, long


def _is_root(text: str) -> bool:
    resolved = Path(text).expanduser().resolve()
    return resolved == Path(resolved.anchor)


def _write_probe(folder: Path) -> None:
    """Create and remove a file in ``folder``: it tells what os.access cannot (read-only mounts,
    /proc, root's rights). Raises OSError."""
    fd, probe = tempfile.mkstemp(dir=folder, prefix=".descentlab-write-check-")
    os.close(fd)
    os.unlink(probe)


def output_dir(text: str) -> str:
    """An output folder path that can exist (argparse type): not empty, not the file-system
    root, within the system's path and name lengths. :func:`prepare_output_dir` then checks
    it on disk before any work."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give a folder, e.g. runs/spiral")
    if "\0" in text:
        raise argparse.ArgumentTypeError("contains a NUL character; give a plain folder path")
    path_max, name_max = _path_limits()
    if len(os.fsencode(text)) >= path_max:
        raise argparse.ArgumentTypeError(f"is {len(text)} characters long; paths are limited to "
                                         f"{path_max - 1}")
    long_part = next((part for part in Path(text).parts if len(os.fsencode(part)) > name_max), None)
    if long_part is not None:
        raise argparse.ArgumentTypeError(f"has a {len(long_part)}-character folder name; names "
                                         f"are limited to {name_max}")
    if _is_root(text):
        raise argparse.ArgumentTypeError(f"{text!r} is the file-system root; give a folder of its "
                                         "own, e.g. runs/spiral")
    return text


def prepare_output_dir(path: str, create: bool = True) -> Path:
    """Make sure ``path`` is (or can become) a writable folder, before any work is done.

    Args:
        path: the folder (already checked by :func:`output_dir`).
        create: create it (with its parents) if missing; ``False`` only checks an existing one.

    Raises:
        UsageError: it is a file, cannot be created, or cannot be written to.
    """
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {path} is a file, and the outputs need a folder; choose another "
                         "name or remove the file")
    if not create and not folder.exists():
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_probe(folder)
    except OSError as e:
        raise UsageError(f"cannot write into --out {path}: {e.strerror or e}; choose a folder you "
                         "can write to") from None
    return folder


def check_writable(path: str, option: str, folder: bool) -> Path:
    """Refuse an output path that cannot be written, before any work is done, creating nothing:
    empty, too long, the file-system root, a folder where a file goes (or a file where a folder
    goes), or under a file or an unwritable folder.

    Args:
        path: the path given.
        option: the option that gave it (named in the message), e.g. ``--out``.
        folder: the path names a folder (``True``) or a file.

    Raises:
        UsageError: naming the problem and the fix.
    """
    if not path.strip():
        raise UsageError(f"{option} is empty; give a path, e.g. {option} results/out.png")
    p = Path(path)
    path_max, name_max, long = _too_long(path)
    if long:
        raise UsageError(f"{option} is too long ({len(path)} characters; names are limited to "
                         f"{name_max} bytes and paths to {path_max}); choose a shorter path")
    if _is_root(path):
        raise UsageError(f"{option} {path!r} is the file-system root; give a "
                         f"{'folder' if folder else 'file'} of its own, e.g. {option} results")
    if p.exists() and p.is_dir() != folder:
        raise UsageError(f"{option} {path!r} is an existing {'file' if folder else 'folder'}; "
                         f"give a {'folder' if folder else 'file'} path")
    parent = p if folder and p.exists() else p.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path!r} goes through {str(parent)!r}, which is a file, not "
                         "a folder; choose another path")
    try:
        _write_probe(parent)
    except OSError as e:
        raise UsageError(f"{option} {path!r}: cannot write in {str(parent)!r} ({e.strerror}); "
                         "choose a folder you can write to") from None
    return p


def image_path(path: str, allowed: tuple[str, ...] = (".png", ".svg", ".pdf"),
               option: str = "--out") -> Path:
    """An image file to write: its suffix is one of ``allowed`` and :func:`check_writable`
    accepts it. Raises :class:`UsageError`."""
    if Path(path).suffix.lower() not in allowed:
        raise UsageError(f"{option} {path!r} must end in {' or '.join(allowed)}")
    return check_writable(path, option, folder=False)


# ---------------------------------------------------------------------------- optional extras
#: Optional dependencies per extra, checked before a command does any work.
EXTRAS: dict[str, tuple[str, ...]] = {
    "train": ("safetensors", "matplotlib"),
    "plot": ("matplotlib",),
    "data": ("sklearn",),
}


def require_extra(extra: str, modules: Sequence[str] | None = None, why: str = "") -> None:
    """Raise :class:`UsageError` naming ``pip install "descentlab[extra]"`` if any of
    ``modules`` (default: all of the extra's) cannot be imported. Nothing is imported."""
    missing = []
    for name in modules if modules is not None else EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    if missing:
        raise UsageError(f"{why or 'this command'} needs {', '.join(missing)}, from the "
                         f"'{extra}' extra: pip install \"descentlab[{extra}]\"")
