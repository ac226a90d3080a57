"""Training curves as PNG files (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .metrics import History

__all__ = ["FIGSIZE", "DPI", "plot_comparison", "plot_history"]

#: Figure size in inches and resolution: every training PNG is 1000 × 400 pixels.
FIGSIZE = (10.0, 4.0)
DPI = 100


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'descentlab[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _series(history: History, key: str) -> tuple[list[int], list[float]]:
    if key not in history:
        return [], []
    pairs = [(r["epoch"], r[key]) for r in history.records if r.get(key) is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _finish(fig: Any, axes: Any, path: str | os.PathLike) -> Path:
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    # No bbox_inches="tight": it would change the pixel size from figure to figure.
    fig.savefig(out, dpi=DPI)
    _pyplot().close(fig)
    return out


def plot_history(history: History, path: str | os.PathLike, title: str = "") -> Path:
    """Loss (log scale) and, when recorded, accuracy per epoch, train and validation.

    Returns:
        the PNG path (1000 × 400 pixels).
    """
    plt = _pyplot()
    has_acc = "accuracy" in history
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=FIGSIZE, squeeze=False)
    axes = axes[0]
    for key, label in (("loss", "train"), ("val_loss", "validation")):
        x, y = _series(history, key)
        if x:
            axes[0].plot(x, y, label=label)
    axes[0].set_ylabel("loss")
    if all(v > 0 for v in history["loss"]):
        axes[0].set_yscale("log")
    if has_acc:
        for key, label in (("accuracy", "train"), ("val_accuracy", "validation")):
            x, y = _series(history, key)
            if x:
                axes[1].plot(x, y, label=label)
        axes[1].set_ylabel("accuracy")
    if title:
        fig.suptitle(title)
    return _finish(fig, axes, path)


def plot_comparison(histories: Mapping[str, History], path: str | os.PathLike,
                    title: str = "") -> Path:
    """One curve per run (e.g. per optimizer): training loss and, when recorded, accuracy
    (validation accuracy if present, else training).

    Returns:
        the PNG path (1000 × 400 pixels).
    """
    plt = _pyplot()
    has_acc = any("accuracy" in h for h in histories.values())
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=FIGSIZE, squeeze=False)
    axes = axes[0]
    log = True
    for name, history in histories.items():
        x, y = _series(history, "loss")
        if x:
            axes[0].plot(x, y, label=name)
            log = log and all(v > 0 for v in y)
        if has_acc:
            key = "val_accuracy" if "val_accuracy" in history else "accuracy"
            x, y = _series(history, key)
            if x:
                axes[1].plot(x, y, label=name)
                axes[1].set_ylabel(key.replace("_", " "))
    axes[0].set_ylabel("training loss")
    if log:
        axes[0].set_yscale("log")
    if title:
        fig.suptitle(title)
    return _finish(fig, axes, path)
