"""Optional one-pass kernels for the largest flat updates (used when numba is installed).

A rule in ``rules.py`` is a sequence of NumPy element-wise calls, so each step reads and writes
the parameter, gradient and state arrays several times. On arrays far larger than the caches that
memory traffic is the whole cost. Here the same arithmetic, in the same order and precision, runs
as one loop per element: every array is read once and written once. The results are equal to the
NumPy rule's bit for bit (no fused multiply-add, no reassociation); tests check that.

This is the execution engine's documented fast path (see ``engine``), not a second definition:
``rules.py`` stays the definition of each method, and a kernel here is an optimization of it that
the tests pin to the rule bit for bit, for every option, in float32 and float64. A change to
``rules.sgd`` or ``rules.adam`` must be mirrored here, or those tests fail.

These kernels are compiled by numba (``pip install "descentlab[fast]"``). Without numba, or with
``DESCENTLAB_ONEPASS=0`` in the environment, ``kernel(name)`` returns None and the optimizers use
the NumPy rules. They are only used for parameters of at least ``engine.ONEPASS_MIN``
elements, so small problems never pay the one-off compile.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable

import numpy as np

_KERNELS: dict[str, Callable[..., None]] | None = None


def _build() -> dict[str, Callable[..., None]]:
    if os.environ.get("DESCENTLAB_ONEPASS", "1").strip() in ("0", "false", "no", "off"):
        return {}
    try:
        import numba  # noqa: F401
    except ImportError:
        return {}
    try:
        return _compile(cache=True)
    except RuntimeError:  # no writable cache directory for numba: compile per process
        return _compile(cache=False)


def _compile(cache: bool) -> dict[str, Callable[..., None]]:
    from numba import njit as _njit

    def njit(**kw: Any) -> Callable:
        return _njit(cache=cache, **kw)

    # nogil: the optimizer runs one span per core in its own thread pool; cache: compile once;
    # error_model="numpy": IEEE division as in NumPy (Python's zero check stops vectorizing).
    @njit(nogil=True, error_model="numpy")
    def sgd(p, g, buf, neg_lr, momentum, keep, weight_decay, maximize, first, nesterov,
            damped):  # pragma: no cover - compiled
        # Mirrors rules.sgd: g ← ±g + λ·w; b ← g | μ·b + (1−τ)·g; d ← g + μ·b | b; w ← w + (−α)·d
        n = p.shape[0]
        plain = weight_decay == 0 and not maximize
        if plain and momentum == 0:
            for i in range(n):
                p[i] = p[i] + g[i] * neg_lr
            return
        if plain and not first and not damped and not nesterov:  # the heavy ball (hot)
            for i in range(n):
                b = buf[i] * momentum + g[i]
                buf[i] = b
                p[i] = p[i] + b * neg_lr
            return
        for i in range(n):  # every other combination, branch by branch as rules.sgd
            gi = g[i]
            if weight_decay != 0:
                t = p[i] * weight_decay
                gi = t - gi if maximize else gi + t
            elif maximize:
                gi = -gi
            if momentum != 0:
                if first:
                    b = gi
                elif damped:
                    b = buf[i] * momentum + gi * keep
                else:
                    b = buf[i] * momentum + gi
                buf[i] = b
                d = gi + b * momentum if nesterov else b
            else:
                d = gi
            p[i] = p[i] + d * neg_lr

    @njit(nogil=True, error_model="numpy")
    def adam(p, g, m, v, vmax, keep_w, weight_decay, decoupled, maximize, lerp_low, w1, w1c,
             beta2, one_minus_beta2, amsgrad, bc2_sqrt, eps, neg_step):  # pragma: no cover
        # Mirrors rules.adam: decay; m ← lerp(m, g, 1−β1); v ← β2·v + ((1−β2)·g)·g;
        # den ← √v / √(1−β2ᵗ) + ε; w ← w + (−α/(1−β1ᵗ))·(m/den)
        n = p.shape[0]
        if weight_decay == 0 and not maximize and lerp_low and not amsgrad:  # the default (hot)
            for i in range(n):
                gi = g[i]
                mi = m[i] + (gi - m[i]) * w1
                m[i] = mi
                vi = v[i] * beta2 + gi * one_minus_beta2 * gi
                v[i] = vi
                p[i] = p[i] + mi / (np.sqrt(vi) / bc2_sqrt + eps) * neg_step
            return
        for i in range(n):
            pi = p[i]
            gi = g[i]
            if weight_decay != 0 and decoupled:
                pi = pi * keep_w
            if weight_decay != 0 and not decoupled:
                t = pi * weight_decay
                gi = t - gi if maximize else gi + t
            elif maximize:
                gi = -gi
            if lerp_low:
                mi = m[i] + (gi - m[i]) * w1
            else:
                mi = gi - (gi - m[i]) * w1c
            m[i] = mi
            vi = v[i] * beta2 + gi * one_minus_beta2 * gi
            v[i] = vi
            if amsgrad:
                if vi > vmax[i] or vi != vi:  # np.maximum: the larger, NaN wins
                    vmax[i] = vi
                vi = vmax[i]
            p[i] = pi + mi / (np.sqrt(vi) / bc2_sqrt + eps) * neg_step

    # reassoc only (not nnan/ninf): the sum may be vectorized, x − x is not folded to 0.
    @njit(nogil=True, error_model="numpy", fastmath={"reassoc"})
    def nonfinite_sum(g):  # pragma: no cover - compiled
        # x − x is 0 for every finite x and NaN for ±inf and NaN, so the sum is 0 iff all finite
        acc = g[0] - g[0]
        for i in range(g.shape[0]):
            acc += g[i] - g[i]
        return acc

    return {"sgd": sgd, "adam": adam, "nonfinite_sum": nonfinite_sum}


_READY: dict[tuple[str, np.dtype], bool] = {}


def kernel(name: str, dtype: Any = None) -> Callable[..., None] | None:
    """The compiled one-pass kernel for rule ``name``, or None (no numba, or turned off).

    With ``dtype``, the kernel is first compiled and run once on a one-element array of that
    dtype; if that fails (a numba or LLVM problem on this machine), a warning says so and None
    is returned from then on, so the optimizer keeps working on the NumPy rule.
    """
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = _build()
    kern = _KERNELS.get(name)
    if kern is None or dtype is None:
        return kern
    if np.dtype(dtype) not in (np.float32, np.float64):  # the kernels' dtypes; others use NumPy
        return None
    key = (name, np.dtype(dtype))
    ok = _READY.get(key)
    if ok is None:
        ok = _READY[key] = _try(name, kern, np.dtype(dtype))
    return kern if ok else None


def _try(name: str, kern: Callable[..., None], dtype: np.dtype) -> bool:
    one = np.zeros(1, dtype)
    try:
        if name == "sgd":
            sgd_span(kern, one.copy(), one.copy(), {"momentum_buffer": one.copy()}, 2.0, lr=0.1,
                     momentum=0.9)
        elif name == "adam":
            adam_span(kern, one.copy(), one.copy(), {"exp_avg": one.copy(),
                                                     "exp_avg_sq": one.copy()}, 1.0, lr=0.1)
        else:
            kern(one)
    except Exception as e:  # noqa: BLE001 - any compile/run failure means: use NumPy
        warnings.warn(f"descentlab: the one-pass {name} kernel does not work here "
                      f"({type(e).__name__}: {e}); using the NumPy rule instead", RuntimeWarning,
                      stacklevel=3)
        return False
    return True


def sgd_span(kern: Callable[..., None], p: np.ndarray, g: np.ndarray, state: dict[str, Any],
             step: float, *, lr: float, momentum: float = 0.0, dampening: float = 0.0,
             nesterov: bool = False, weight_decay: float = 0.0, maximize: bool = False) -> None:
    """Run the SGD kernel on 1-D spans ``p``, ``g`` (and the state's buffer), at step ``step``.

    Scalars are cast to the array dtype first, as NumPy does when a float32 array meets a
    Python float, so float32 runs in float32 exactly like the NumPy rule.
    """
    f = p.dtype.type
    buf = state.get("momentum_buffer", p)  # unused without momentum
    kern(p, g, buf, f(-lr), f(momentum), f(1 - dampening), f(weight_decay), bool(maximize),
         step == 1, bool(nesterov), dampening != 0)


def adam_span(kern: Callable[..., None], p: np.ndarray, g: np.ndarray, state: dict[str, Any],
              step: float, *, lr: float, beta1: float = 0.9, beta2: float = 0.999,
              eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
              maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
    """Run the Adam/AdamW kernel on 1-D spans at step ``step``; scalars are computed in Python
    floats exactly as rules.adam computes them, then cast to the array dtype."""
    f = p.dtype.type
    w1 = 1 - beta1  # the lerp weight; rules._lerp_ picks its formula by w1 < 0.5
    step_size = lr / (1 - beta1 ** step)
    bc2_sqrt = (1 - beta2 ** step) ** 0.5
    vmax = state.get("max_exp_avg_sq", p)  # unused without amsgrad
    kern(p, g, state["exp_avg"], state["exp_avg_sq"], vmax, f(1 - lr * weight_decay),
         f(weight_decay), bool(decoupled_weight_decay), bool(maximize), w1 < 0.5, f(w1),
         f(1 - w1), f(beta2), f(1 - beta2), bool(amsgrad), f(bc2_sqrt), f(eps), f(-step_size))
