"""Training curves as PNG files.

Drawn with matplotlib's object API, as the lab's plots are: each figure sits on its own Agg
canvas (no pyplot, no global figure state, no display needed).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .metrics import History

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FIGSIZE", "DPI", "plot_comparison", "plot_history"]

#: Figure size in inches and resolution: every training PNG is 1000 × 400 pixels.
FIGSIZE = (10.0, 4.0)
DPI = 100


def _figure(panels: int) -> tuple["Figure", list["Axes"]]:
    """A FIGSIZE figure on its own Agg canvas and its ``panels`` axes side by side."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'descentlab[plot]'") from None
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, list(fig.subplots(1, panels, squeeze=False)[0])


def _series(history: History, key: str) -> tuple[list[int], list[float]]:
    if key not in history:
        return [], []
    pairs = [(r["epoch"], r[key]) for r in history.records if r.get(key) is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _finish(fig: "Figure", axes: list["Axes"], path: str | os.PathLike) -> Path:
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
    return out


def plot_history(history: History, path: str | os.PathLike, title: str = "") -> Path:
    """Loss (log scale) and, when recorded, accuracy per epoch, train and validation.

    Returns:
        the PNG path (1000 × 400 pixels).
    """
    has_acc = "accuracy" in history
    fig, axes = _figure(2 if has_acc else 1)
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
    has_acc = any("accuracy" in h for h in histories.values())
    fig, axes = _figure(2 if has_acc else 1)
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
