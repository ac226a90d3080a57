"""How a tensor prints: PyTorch's layout, rule for rule, so printed output matches torch's.

Floats get four decimals; a tensor whose nonzero values are all whole prints them as ``1.``;
scientific notation takes over when the largest/smallest magnitude ratio exceeds 1000, the largest
exceeds 1e8, or (for non-whole values) the smallest is below 1e-4. All elements share one width.
Lines wrap at 80 characters; past 1000 elements only the first and last 3 along each dim print.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class _Options:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode: bool | None = None


def set_printoptions(precision: int | None = None, threshold: int | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Change how tensors print, as ``torch.set_printoptions``.

    Args:
        precision: decimals of floating-point values (4).
        threshold: element count above which a tensor is summarized with ``...`` (1000).
        edgeitems: elements kept at each end of a summarized dim (3).
        linewidth: characters per line before wrapping (80).
        profile: 'default', 'short' (2 decimals, threshold 1000, 2 edge items) or 'full'.
        sci_mode: force scientific notation on (True) or off (False); None lets the values decide.
    """
    if profile is not None:
        presets = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
                   "full": (4, math.inf, 3, 80)}
        if profile not in presets:
            raise ValueError(f"profile must be one of {sorted(presets)}, got {profile!r}")
        (_Options.precision, _Options.threshold, _Options.edgeitems,
         _Options.linewidth) = presets[profile]
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(_Options, name, value)
    _Options.sci_mode = sci_mode


class _Formatter:
    """Chooses one number format and width for every element of a (summarized) array."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind in "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        prec = _Options.precision
        flat = values.reshape(-1)
        if not self.floating:
            self.width = max((len(self._plain(v)) for v in flat.tolist()), default=1)
        else:
            finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
            if finite.size:
                mags = np.abs(finite)
                lo, hi = mags.min(), mags.max()
                self.int_mode = bool(np.all(finite == np.ceil(finite)))
                self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) \
                    if _Options.sci_mode is None else _Options.sci_mode
                if self.sci_mode:
                    fmt, extra = f"{{:.{prec}e}}", 0
                elif self.int_mode:
                    fmt, extra = "{:.0f}", 1  # room for the trailing "."
                else:
                    fmt, extra = f"{{:.{prec}f}}", 0
                self.width = max(len(fmt.format(v)) + extra for v in finite.tolist())
            # else only zeros, inf and nan: torch keeps width 1 and int mode

    @staticmethod
    def _plain(v: Any) -> str:
        return str(v)

    def format(self, v: Any) -> str:
        if self.floating:
            prec = _Options.precision
            if self.sci_mode:
                s = f"{v:{self.width}.{prec}e}"
            elif self.int_mode:
                s = f"{v:.0f}"
                if math.isfinite(v):
                    s += "."
            else:
                s = f"{v:.{prec}f}"
        else:
            s = self._plain(v)
        return " " * (self.width - len(s)) + s


def _summary(a: np.ndarray) -> np.ndarray:
    """The elements that a summarized print shows (first and last ``edgeitems`` of each dim)."""
    e = _Options.edgeitems
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * e:
        rows = list(range(e)) + list(range(a.shape[0] - e, a.shape[0]))
    else:
        rows = list(range(a.shape[0]))
    if a.ndim == 1:
        return a[rows]
    return np.stack([_summary(a[i]) for i in rows])


def _vector(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, int(math.floor((_Options.linewidth - indent) / (fmt.width + 2))))
    e = _Options.edgeitems
    if summarize and not e:
        items = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        items = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."]
                 + [fmt.format(v) for v in a[-e:].tolist()])
    else:
        items = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _body(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    e = _Options.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        parts = ([_body(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
                 + [_body(a[i], indent + 1, summarize, fmt) for i in range(n - e, n)])
    else:
        parts = [_body(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def array_str(a: np.ndarray, indent: int) -> str:
    """The bracketed values of ``a`` as torch prints them, continuation lines indented."""
    if a.size == 0:
        return "[]"
    summarize = a.size > _Options.threshold
    return _body(a, indent, summarize, _Formatter(_summary(a) if summarize else a))


def tensor_repr(data: np.ndarray, suffixes: list, prefix: str = "tensor(") -> str:
    """``prefix`` + values + the ``key=value`` suffixes, wrapped at the line width like torch."""
    indent = len(prefix)
    out = prefix + array_str(data, indent)
    last = len(out) - out.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > _Options.linewidth:
            out += ",\n" + " " * indent + suffix
            last = indent + len(suffix)
        else:
            out += ", " + suffix
            last += len(suffix) + 2
    return out + ")"
