"""Metrics and the training history (one record per epoch, saved as CSV and JSON)."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor

__all__ = ["History", "accuracy", "correct_count"]


def _values(x: Tensor | np.ndarray) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def correct_count(output: Tensor | np.ndarray, target: Tensor | np.ndarray) -> int:
    """Number of samples whose predicted class equals the target class.

    ``output`` is (N, C) scores (argmax over classes) or (N,) / (N, 1) single logits (class 1
    when > 0, the convention of ``BCEWithLogitsLoss``); ``target`` is (N,) class indices, or
    (N, C) probabilities / one-hot rows (argmax).
    """
    out, tgt = _values(output), _values(target)
    if out.ndim == 2 and out.shape[1] > 1:
        pred = out.argmax(axis=1)
    else:
        pred = (out.reshape(len(out)) > 0).astype(np.int64)
    if tgt.ndim == 2 and tgt.shape[1] > 1:
        tgt = tgt.argmax(axis=1)
    return int(np.count_nonzero(pred == tgt.reshape(len(tgt))))


def accuracy(output: Tensor | np.ndarray, target: Tensor | np.ndarray) -> float:
    """Fraction of correct predictions in [0, 1] (see :func:`correct_count` for the shapes)."""
    n = len(_values(target))
    return correct_count(output, target) / n if n else math.nan


class History:
    """What happened each epoch: a list of records like ``{"epoch": 1, "loss": 0.69, ...}``.

    ``history["loss"]`` is that column as a list (``None`` where an epoch lacks it), like Keras'
    ``History.history``; ``save(dir)`` writes ``history.csv`` and ``history.json``.
    """

    def __init__(self, records: Iterable[Mapping[str, Any]] = ()) -> None:
        self.records: list[dict[str, Any]] = [dict(r) for r in records]

    def append(self, record: Mapping[str, Any]) -> None:
        self.records.append(dict(record))

    @property
    def columns(self) -> list[str]:
        """Every key seen, in first-seen order (``epoch`` first)."""
        cols: dict[str, None] = {}
        for r in self.records:
            cols.update(dict.fromkeys(r))
        return list(cols)

    def __getitem__(self, key: str) -> list[Any]:
        if key not in self.columns:
            raise KeyError(f"history has no column {key!r}; columns: {', '.join(self.columns)}")
        return [r.get(key) for r in self.records]

    def __contains__(self, key: object) -> bool:
        return key in self.columns

    def __len__(self) -> int:
        return len(self.records)

    def last(self, key: str, default: Any = None) -> Any:
        """The latest epoch's value of ``key`` (``default`` if absent)."""
        return self.records[-1].get(key, default) if self.records else default

    def to_list(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.records]

    def save(self, directory: str | os.PathLike, stem: str = "history") -> tuple[Path, Path]:
        """Write ``<stem>.csv`` and ``<stem>.json`` into ``directory``; returns their paths."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        csv_path, json_path = d / f"{stem}.csv", d / f"{stem}.json"
        cols = self.columns
        with open(csv_path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=cols, restval="")
            writer.writeheader()
            writer.writerows(self.records)
        json_path.write_text(json.dumps(self.records, indent=1) + "\n", encoding="utf-8")
        return csv_path, json_path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "History":
        """Read a ``history.json`` written by :meth:`save`."""
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def __repr__(self) -> str:
        return f"History({len(self)} epochs, columns={self.columns})"
