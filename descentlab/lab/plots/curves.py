"""Line charts of runs: loss curves, a learning-rate sweep's panels, per-layer gradient norms,
side-by-side comparisons and convexity chords."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from .style import (
    DEFAULT_DPI,
    DEFAULT_SIZE,
    FALLBACK_COLORS,
    LR_CLASS_COLORS,
    TAB10,
    color_for,
    new_figure,
)

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "p", "*")
_ON_TOP_STYLES = ("--", ":", "-.")
_SAME_CURVE_LOG10 = 0.05  # curves closer than this everywhere (a factor 1.12) overlap on a log plot


def _curve_xy(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """A curve given as ``y`` (x = 0, 1, …) or as an ``(x, y)`` pair, as float arrays."""
    if isinstance(value, tuple) and len(value) == 2:
        x, y = (np.asarray(v, dtype=np.float64).ravel() for v in value)
        return x, y
    y = np.asarray(value, dtype=np.float64).ravel()
    return np.arange(y.size, dtype=np.float64), y


def loss_curves(curves: Mapping[str, Any], *, log: bool = True, xlabel: str = "step",
                ylabel: str = "loss", title: str = "Loss curves",
                vlines: Sequence[float] | None = None, vline_label: str | None = None,
                figsize: tuple[float, float] = DEFAULT_SIZE, dpi: int = DEFAULT_DPI) -> Figure:
    """One line per run: ``{label: y}`` (x = 0, 1, …) or ``{label: (x, y)}``; log-scale y by
    default (non-positive values are dropped from a log plot); optional vertical markers (e.g.
    epoch boundaries)."""
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    for label, value in curves.items():
        x, y = _curve_xy(value)
        ok = np.isfinite(y) & np.isfinite(x)
        if log:
            ok &= y > 0
        ax.plot(x[ok], y[ok], color=color_for(label), lw=1.5, label=str(label))
    for i, v in enumerate(vlines or ()):
        ax.axvline(v, color="0.6", lw=0.6, ls=":", label=vline_label if i == 0 else None)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (log scale)" if log else ""))
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if curves:
        ax.legend(fontsize=8)
    return fig


def lr_sweep_panels(sweep: Any, *, coordinate: int = 0, title: str | None = None,
                    max_panels: int = 12, dpi: int = DEFAULT_DPI) -> Figure:
    """One panel per step size α: w_k (one coordinate) against k, coloured by the sweep's verdict
    (monotone / oscillating / diverging / too slow), with the optimum w* = 0 line.

    ``sweep`` is an ``LrSweep`` or any object with ``lrs``, ``classes`` and ``trajectories``
    (each with ``positions`` (1, R, d) and ``recorded_steps``).
    """
    lrs = list(np.asarray(sweep.lrs, dtype=np.float64))[:max_panels]
    n = len(lrs)
    if n == 0:
        raise ValueError("lr_sweep_panels: the sweep has no step sizes")
    cols = min(n, 4)
    rows = (n + cols - 1) // cols
    fig = new_figure((3.2 * cols, 2.6 * rows + 0.4), dpi)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    target = 0.0
    fn = getattr(sweep.trajectories[0], "function", None) if sweep.trajectories else None
    if fn is not None and getattr(fn, "minima", None):
        target = float(fn.minima[0].location[coordinate])
    for ax, a, cls, run in zip(axes, lrs, sweep.classes, sweep.trajectories):
        w = np.asarray(run.positions, dtype=np.float64)[0, :, coordinate]
        k = np.asarray(getattr(run, "recorded_steps", np.arange(w.size)))
        c = LR_CLASS_COLORS.get(cls, "#1f77b4")
        ok = np.isfinite(w)
        ax.axhline(target, color="0.5", lw=0.8, ls="--")
        ax.plot(k[ok], w[ok], "-o", color=c, ms=3, lw=1.2)
        ax.set_title(f"α = {a:g}: {cls.replace('_', ' ')}", color=c, fontsize=10)
        ax.set_xlabel("step k")
        ax.set_ylabel(f"w_k[{coordinate}]" if w.ndim else "w_k")
        big = np.abs(w[ok]).max() if ok.any() else 1.0
        if big > 1e3:
            ax.set_yscale("symlog", linthresh=1.0)
        ax.grid(True, alpha=0.3)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title or "Learning-rate sweep: w_k against k per α")
    return fig


def gradient_norms_per_layer(norms: Mapping[str, Sequence[float]], *, title: str | None = None,
                             xlabel: str = "layer (1 = input side)",
                             ylabel: str = "‖∂L/∂W‖ (log scale)",
                             figsize: tuple[float, float] = DEFAULT_SIZE,
                             dpi: int = DEFAULT_DPI) -> Figure:
    """Per-layer gradient norms, one line per configuration (activation / init / remedy), log y.

    A line falling towards layer 1 is the vanishing gradient; one rising is the exploding one.
    Every curve has its own colour and marker. A curve that lies on an earlier one (within 12 %
    at every layer, e.g. clipping that leaves the norms unchanged) is drawn dashed with hollow
    markers on top of it and says so in the legend, so no curve hides another.
    """
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    drawn: list[tuple[str, np.ndarray]] = []
    palette = TAB10 + FALLBACK_COLORS
    for i, (label, values) in enumerate(norms.items()):
        v = np.asarray(values, dtype=np.float64).ravel()
        layers = np.arange(1, v.size + 1)
        ok = np.isfinite(v) & (v > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            logv = np.where(ok, np.log10(np.where(ok, v, 1.0)), np.nan)
        under = [name for name, other in drawn
                 if other.shape == logv.shape and np.any(ok)
                 and np.all(np.isnan(other) == np.isnan(logv))
                 and np.nanmax(np.abs(other - logv)) < _SAME_CURVE_LOG10]
        style: dict[str, Any] = dict(color=palette[i % len(palette)],
                                     marker=_MARKERS[i % len(_MARKERS)], ms=4, lw=1.4)
        text = str(label)
        if under:
            style.update(ls=_ON_TOP_STYLES[(len(under) - 1) % len(_ON_TOP_STYLES)], lw=1.8,
                         ms=8, markerfacecolor="none", markeredgewidth=1.4, zorder=3)
            text += f" (on {under[0]})"
        ax.plot(layers[ok], v[ok], label=text, **style)
        drawn.append((str(label), logv))
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Gradient norm per layer")
    ax.grid(True, which="both", alpha=0.3)
    if len(norms) > 6:
        # Below the axes: inside, a long legend would cover the lowest curves.
        ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                  borderaxespad=0.0)
    elif norms:
        ax.legend(fontsize=7)
    return fig


def panel_curves(panels: Mapping[str, Mapping[str, Any]], *, log: bool = True,
                 xlabel: str = "step", ylabel: str = "value", title: str | None = None,
                 dpi: int = DEFAULT_DPI) -> Figure:
    """Side-by-side line panels, ``{panel title: {label: y or (x, y)}}``, shared y scale.

    Used for per-coordinate comparisons (|Δx| in one panel, |Δy| in the next), where a single
    axes would need two styles per optimizer.
    """
    n = len(panels)
    if n == 0:
        raise ValueError("panel_curves: no panels")
    fig = new_figure((3.6 * n + 0.4, 3.6), dpi)
    axes = np.atleast_1d(fig.subplots(1, n, sharey=True, squeeze=False)).ravel()
    for ax, (name, curves) in zip(axes, panels.items()):
        for label, value in curves.items():
            x, y = _curve_xy(value)
            ok = np.isfinite(y) & ((y > 0) if log else True)
            ax.plot(x[ok], y[ok], color=color_for(label), lw=1.5, label=str(label))
        if log:
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel(ylabel)
    if title:
        fig.suptitle(title)
    return fig


def chord_slices(slices: Mapping[str, tuple[Any, Any, Any]], *, title: str | None = None,
                 dpi: int = DEFAULT_DPI) -> Figure:
    """Convexity picture: per panel, f along a segment t ↦ f((1−t)·a + t·b) against the chord
    (1−t)·f(a) + t·f(b). ``slices`` is ``{panel title: (t, f_on_segment, chord)}``; where f rises
    above the chord, the function is not convex (shaded red)."""
    n = len(slices)
    if n == 0:
        raise ValueError("chord_slices: no slices")
    fig = new_figure((3.4 * n + 0.4, 3.4), dpi)
    axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)).ravel()
    for ax, (name, (t, fv, chord)) in zip(axes, slices.items()):
        t, fv, chord = (np.asarray(v, dtype=np.float64) for v in (t, fv, chord))
        ax.plot(t, fv, color="#1f77b4", lw=1.8, label="f on the segment")
        ax.plot(t, chord, color="k", ls="--", lw=1.2, label="chord")
        ax.fill_between(t, chord, fv, where=fv > chord, color="#d62728", alpha=0.3,
                        label="f above chord")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("t  (point (1−t)·a + t·b)")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("f")
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
