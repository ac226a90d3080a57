"""First-order optimizers: torch.optim's SGD ... RAdam, plus Lion and Lookahead.

Each class binds one rule of ``rules.py`` to Parameters. The binding is where the speed is: on the
first step the parameters of a group (per dtype) are moved into one contiguous buffer (each
``p._data`` becomes a view of it) and the state is kept flat the same way, so a step runs the rule
once over the buffer — in cache-sized chunks, which keeps its dozen element-wise passes in cache —
whatever the number of tensors. ``flat=False`` runs the rule tensor by tensor instead; both give
the same numbers bit for bit (the rules are element-wise). Note: arrays taken from a parameter
with ``.numpy()`` before its first step stop aliasing it when it moves into the buffer.

Buffers too large for the caches are memory-bound: there SGD and Adam/AdamW use a compiled
one-pass kernel of the same rule when numba is installed (``descentlab[fast]``; see
``_onepass``), again with the same numbers bit for bit.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd.function import enable_grad
from ..autograd.tensor import Tensor
from . import _onepass, rules
from .optimizer import Optimizer, Range, check_hyperparameter

__all__ = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
           "Lion", "Lookahead"]

# Elements per chunk of the flat update. A chunk's arrays (param, grad, state, work) stay in cache
# between the rule's element-wise passes, and a chunk is long enough that the per-call overhead of
# a dozen ufuncs is small. Measured on one 10M float32 parameter (2 cores): 2^14 → Adam 32 ms,
# 2^16 → 20 ms, 2^18 → 18 ms (with the spans below in parallel).
CHUNK = 1 << 18
# Parameters this large are split into one contiguous span per core, updated in parallel threads.
PARALLEL_MIN = 1 << 20
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="descentlab-optim")
    return _POOL


def _parallel(fn: Callable[[Any], Any], items: list) -> list:
    """``[fn(x) for x in items]`` with items[1:] on the pool and items[0] on this thread (one
    hand-off fewer than mapping them all: about 0.1 ms a step on large buffers)."""
    if len(items) == 1:
        return [fn(items[0])]
    futures = [_pool().submit(fn, x) for x in items[1:]]
    try:
        first = fn(items[0])
    finally:
        rest = [f.result() for f in futures]  # always wait: no worker may outlive the step
    return [first, *rest]


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _all_finite(grad: np.ndarray) -> bool:
    """True when no entry of the 1-D ``grad`` is NaN or ±inf, in one read pass (per core).

    g·g is finite exactly when every gᵢ is, unless finite entries overflow the sum, which only
    costs the exact elementwise check. With the one-pass kernels, Σ(gᵢ − gᵢ) (0 or NaN) instead.
    """
    kern = _onepass.kernel("nonfinite_sum", grad.dtype) if grad.size >= PARALLEL_MIN else None

    def sq_norm(span: tuple[int, int]) -> float:
        g = grad[span[0]:span[1]]
        if kern is not None:
            return float(kern(g))
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is handled below
            return float(np.dot(g, g))

    spans = _spans(grad.size)
    sq = sum(_parallel(sq_norm, spans))
    return bool(np.isfinite(sq)) or (kern is None and bool(np.isfinite(grad).all()))


def _spans(n: int) -> list[tuple[int, int]]:
    """Contiguous [start, stop) spans, whole chunks each, one per worker (one if n is small)."""
    k = _workers() if n >= PARALLEL_MIN else 1
    chunks = -(-n // CHUNK)
    per = -(-chunks // k)
    return [(i * per * CHUNK, min((i + 1) * per * CHUNK, n))
            for i in range(k) if i * per * CHUNK < n]


# The ranges of the hyperparameters the classes share (torch's checks, plus: finite).
_NONNEG = Range()
_BETAS = Range(0.0, 1.0, open_high=True)
_COMMON = {"lr": _NONNEG, "eps": _NONNEG, "weight_decay": _NONNEG}
_ADAM_LIKE = dict(_COMMON, betas=_BETAS)


class _Bucket:
    """The parameters of one group and dtype laid out in one buffer, with their flat state."""

    def __init__(self, params: list[Tensor], dtype: np.dtype) -> None:
        self.params = params
        self.ids = tuple(map(id, params))
        sizes = [p._data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        total = self.offsets[-1]
        self.flat = np.empty(total, dtype)
        # A lone parameter's gradient is used in place; several are gathered into one buffer.
        self.grad = np.empty(total, dtype) if len(params) > 1 else None
        self.views = [self._view(self.flat, i, p._data.shape) for i, p in enumerate(params)]
        for p, v in zip(params, self.views):
            np.copyto(v, p._data)
            p._data = v
        self.arrays: dict[str, np.ndarray] = {}
        self.scalars: dict[str, np.ndarray] = {}

    def _view(self, flat: np.ndarray, i: int, shape: tuple) -> np.ndarray:
        return flat[self.offsets[i]:self.offsets[i + 1]].reshape(shape)

    def intact(self) -> bool:
        return all(p._data is v for p, v in zip(self.params, self.views))

    def readopt(self) -> None:
        """Move values back into the buffer for parameters whose array was replaced."""
        for p, v in zip(self.params, self.views):
            if p._data is not v:
                if p._data.shape != v.shape:
                    raise RuntimeError(
                        f"a parameter changed shape from {v.shape} to {p._data.shape} while being "
                        "optimized; build a new optimizer for the new parameters")
                np.copyto(v, p._data)
                p._data = v


class _RuleOptimizer(Optimizer):
    """An optimizer made of one rule of ``rules.py``, bound to parameters flat or per tensor."""

    _rule: Callable[..., None]
    _scratch_name: str
    # A one-pass kernel of the same rule (see _onepass), for parameters too big for the caches.
    _onepass_name: str | None = None
    _onepass_span: Callable[..., None]

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any], flat: bool) -> None:
        super().__init__(params, defaults)
        self.flat = flat
        self._buckets: dict[tuple[int, np.dtype], _Bucket] = {}
        self._work: dict[np.dtype, list[np.ndarray]] = {}

    # Subclasses say how a group's hyperparameters map to the rule's arguments and initial state.
    def _hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _init(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        # The loaded state is per tensor; the next step lays it out flat again.
        self._buckets.clear()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        self._check_edits()
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for gi, group in enumerate(self.param_groups):
            active = [p for p in group["params"] if p._grad is not None]
            if not active:
                continue
            hyper = self._hyper(group)
            by_dtype: dict[np.dtype, list[Tensor]] = {}
            for p in active:
                by_dtype.setdefault(p._data.dtype, []).append(p)
            for dtype, plist in by_dtype.items():
                bucket = self._bucket(gi, dtype, plist, group) if self.flat else None
                if bucket is not None:
                    self._step_flat(gi, bucket, hyper)
                else:
                    self._step_tensors(gi, group, plist, hyper)
        return loss

    # ------------------------------------------------------------------ flat path
    def _bucket(self, gi: int, dtype: np.dtype, plist: list[Tensor],
                group: dict[str, Any]) -> _Bucket | None:
        """The flat layout for these parameters, built or rebuilt if needed; None if they can't
        share one (their states are at different steps, e.g. some skipped steps without grads)."""
        bucket = self._buckets.get((gi, dtype))
        if bucket is not None and bucket.ids == tuple(map(id, plist)):
            if not bucket.intact():
                bucket.readopt()
            return bucket
        states = [self._rule_state(p, group) for p in plist]
        if any(s.keys() != states[0].keys() for s in states):
            return None
        scalar_keys = [k for k, v in states[0].items() if not isinstance(v, np.ndarray)]
        if any(s[k] != states[0][k] for s in states for k in scalar_keys):
            return None
        for p in plist:
            if not p._data.flags.c_contiguous and p._data.size > 1:
                return None
        bucket = _Bucket(plist, dtype)
        for key, v in states[0].items():
            if isinstance(v, np.ndarray):
                flat = bucket.arrays[key] = np.empty(bucket.flat.size, v.dtype)
                views = [bucket._view(flat, i, p._data.shape) for i, p in enumerate(plist)]
                for s, view in zip(states, views):
                    np.copyto(view, s[key])
                for p, view in zip(plist, views):
                    self.state[p][key] = Tensor._wrap(view)
            else:
                scal = bucket.scalars[key] = np.full(len(plist), v, dtype=np.float64)
                for i, p in enumerate(plist):
                    self.state[p][key] = Tensor._wrap(scal[i:i + 1].reshape(()))
        for p, s in zip(plist, states):
            # Keep the rule's key order (torch's) in each parameter's state dict.
            self.state[p] = {k: self.state[p][k] for k in s}
        self._buckets[(gi, dtype)] = bucket
        return bucket

    def _step_flat(self, gi: int, bucket: _Bucket, hyper: dict[str, Any]) -> None:
        if bucket.grad is None:
            grad = bucket.params[0]._grad._data.reshape(-1)
        else:
            grad = bucket.grad
            np.concatenate([p._grad._data for p in bucket.params], axis=None, out=grad)
        if not _all_finite(grad):
            self._raise_nonfinite(gi, bucket.params)
        state = dict(bucket.arrays)
        state.update({k: float(v[0]) for k, v in bucket.scalars.items()})
        new = self._run(bucket.flat, grad, state, hyper)
        for k, v in bucket.scalars.items():
            v.fill(new[k])
        for p in bucket.params:
            p._vbox[0] += 1

    # ------------------------------------------------------------------ per-tensor path
    def _step_tensors(self, gi: int, group: dict[str, Any], plist: list[Tensor],
                      hyper: dict[str, Any]) -> None:
        for p in plist:
            if not np.isfinite(p._grad._data).all():
                self._raise_nonfinite(gi, plist)
        for p in plist:
            state = self._rule_state(p, group)
            new = self._run(p._data, p._grad._data, state, hyper)
            st = self.state[p]
            for k, v in new.items():
                if isinstance(v, np.ndarray):
                    if k not in st:
                        st[k] = Tensor._wrap(v)
                elif k in st:
                    st[k]._data[...] = v
                else:
                    st[k] = Tensor._wrap(np.array(v, dtype=np.float64))
            p._vbox[0] += 1

    def _rule_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The rule's view of ``state[p]``: arrays as arrays, scalars as floats (fresh if empty)."""
        st = self.state[p]
        if not st:
            return self._init(p._data, group)
        return {k: (v._data if v._data.ndim else float(v._data)) for k, v in st.items()}

    def _run(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
             hyper: dict[str, Any]) -> dict[str, Any]:
        """Apply the rule to ``param`` in cache-sized chunks; returns the state after the step."""
        n = param.size
        work = self._scratch(param.dtype, 0)
        if n <= CHUNK:
            sub = dict(state)
            self._rule(param, grad, sub, scratch=[w[:n].reshape(param.shape) for w in work],
                       **hyper)
            return sub
        if not (param.flags.c_contiguous and grad.flags.c_contiguous):
            sub = dict(state)
            self._rule(param, grad, sub, **hyper)
            return sub
        p1, g1 = param.reshape(-1), grad.reshape(-1)
        arrays = {k: v.reshape(-1) for k, v in state.items() if isinstance(v, np.ndarray)}
        spans = _spans(n)
        kern = (_onepass.kernel(self._onepass_name, param.dtype)
                if self._onepass_name and n >= PARALLEL_MIN else None)
        if kern is not None and all(
                v.flags.c_contiguous and v.dtype == param.dtype for v in arrays.values()):
            # One pass over memory per step (see _onepass): same numbers, a third of the traffic.
            new = dict(state)
            new["step"] = state["step"] + 1

            def run_kernel(span: tuple[int, int]) -> None:
                s, e = span
                self._onepass_span(kern, p1[s:e], g1[s:e], {k: v[s:e] for k, v in arrays.items()},
                                   new["step"], **hyper)

            _parallel(run_kernel, spans)
            return new

        def run_span(worker: int) -> dict[str, Any]:
            # Each worker owns its scratch; NumPy's ufuncs release the GIL, so spans overlap.
            scratch = self._scratch(param.dtype, worker)
            start, stop = spans[worker]
            sub = dict(state)
            for s in range(start, stop, CHUNK):
                e = min(s + CHUNK, stop)
                # Every chunk starts from the same scalars (step, ...) and advances them alike.
                sub = dict(state)
                sub.update({k: v[s:e] for k, v in arrays.items()})
                self._rule(p1[s:e], g1[s:e], sub, scratch=[w[:e - s] for w in scratch], **hyper)
            return sub

        sub = _parallel(run_span, list(range(len(spans))))[-1]
        sub.update({k: state[k] for k in arrays})
        return sub

    def _scratch(self, dtype: np.dtype, worker: int) -> list[np.ndarray]:
        key = (dtype, worker)
        work = self._work.get(key)
        if work is None:
            work = self._work[key] = [
                np.empty(CHUNK, dtype) for _ in range(rules.SCRATCH[self._scratch_name])]
        return work

    def _raise_nonfinite(self, gi: int, plist: list[Tensor]) -> None:
        group = self.param_groups[gi]["params"]
        for p in plist:
            if not np.isfinite(p._grad._data).all():
                idx = next(i for i, q in enumerate(group) if q is p)
                raise RuntimeError(
                    f"{type(self).__name__}.step(): the gradient of parameter {idx} (shape "
                    f"{tuple(p.shape)}) in param group {gi} contains NaN or inf, so nothing was "
                    "updated. Find the op that made it with descentlab.detect_anomaly(), lower the "
                    "learning rate, or clip gradients with nn.utils.clip_grad_norm_")


class SGD(_RuleOptimizer):
    """Stochastic gradient descent, with heavy-ball or Nesterov momentum (as torch.optim.SGD).

        g ← ∇f(w) (−∇f(w) if maximize) + λ·w
        momentum μ > 0:  b ← g on the first step, then b ← μ·b + (1−τ)·g
                         d ← g + μ·b (nesterov) or d ← b
        w ← w − α·d

    Plain gradient descent is ``SGD(params, lr)`` on full-batch gradients; stochastic and
    mini-batch SGD are the same with a shuffling DataLoader.

    Args:
        params: parameters or parameter groups.
        lr: step size α. momentum: μ. dampening: τ. weight_decay: L2 coefficient λ.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend instead of descend.
        flat: update all parameters of a group as one flat buffer (same numbers, faster).
    Differences from torch: the state also holds ``step``.
    """

    _ranges = dict(_COMMON, momentum=_NONNEG, dampening=Range(-math.inf))

    _rule = staticmethod(rules.sgd)
    _scratch_name = "sgd"
    _onepass_name = "sgd"
    _onepass_span = staticmethod(_onepass.sgd_span)

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, flat: bool = True) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening; pass "
                             "momentum > 0 and dampening=0, or nesterov=False")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize), flat)

    def _init(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return rules.sgd_init(param, group["momentum"])

    def _hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        return dict(lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                    nesterov=group["nesterov"], weight_decay=group["weight_decay"],
                    maximize=group["maximize"])


class Adagrad(_RuleOptimizer):
    """Adagrad (Duchi et al. 2011), as torch.optim.Adagrad.

        g ← ±∇f(w) + λ·w;  s ← s + g²;  α_t = α/(1 + (t−1)·η);  w ← w − α_t·g/(√s + ε)

    Args: lr α, lr_decay η, weight_decay λ, initial_accumulator_value s₀, eps ε, maximize, flat.
    """

    _ranges = dict(_COMMON, lr_decay=_NONNEG, initial_accumulator_value=_NONNEG)

    _rule = staticmethod(rules.adagrad)
    _scratch_name = "adagrad"

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, *, maximize: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      maximize=maximize), flat)

    def _init(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return rules.adagrad_init(param, group["initial_accumulator_value"])

    def _hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        return dict(lr=group["lr"], lr_decay=group["lr_decay"], eps=group["eps"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"])


class RMSprop(_RuleOptimizer):
    """RMSprop (Hinton 2012; centered as Graves 2013), as torch.optim.RMSprop.

        g ← ±∇f(w) + λ·w;  v ← a·v + (1−a)·g²
        centered: ḡ ← a·ḡ + (1−a)·g and v̄ = v − ḡ², else v̄ = v;  d = g/(√v̄ + ε)
        momentum μ > 0: b ← μ·b + d, w ← w − α·b;  else w ← w − α·d

    Args: lr α, alpha a, eps ε, weight_decay λ, momentum μ, centered, maximize, flat.
    """

    _ranges = dict(_COMMON, alpha=_NONNEG, momentum=_NONNEG)

    _rule = staticmethod(rules.rmsprop)
    _scratch_name = "rmsprop"

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      maximize=maximize), flat)

    def _init(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return rules.rmsprop_init(param, group["momentum"], group["centered"])

    def _hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        return dict(lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                    weight_decay=group["weight_decay"], momentum=group["momentum"],
                    centered=group["centered"], maximize=group["maximize"])


class Adadelta(_RuleOptimizer):
    """Adadelta (Zeiler 2012), as torch.optim.Adadelta.

        g ← ±∇f(w) + λ·w;  v ← ρ·v + (1−ρ)·g²;  Δ = √(u + ε)/√(v + ε)·g
        u ← ρ·u + (1−ρ)·Δ²;  w ← w − α·Δ

    Args: lr α, rho ρ, eps ε, weight_decay λ, maximize, flat.
    """

    _ranges = dict(_COMMON, rho=Range(0.0, 1.0))

    _rule = staticmethod(rules.adadelta)
    _scratch_name = "adadelta"

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, *, maximize: bool = False,
                 flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), flat)

    def _init(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return rules.adadelta_init(param)

    def _hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        return dict(lr=group["lr"], rho=group["rho"], eps=group["eps"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"])


class Adam(_RuleOptimizer):
    """Adam (Kingma & Ba 2015), weight decay as L2 (AMSGrad optional), as torch.optim.Adam.

        g ← ±∇f(w) + λ·w   (decoupled_weight_decay: w ← w·(1 − α·λ) instead)
        m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  AMSGrad: v ← max(v_max, v)
        m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ);  w ← w − α·m̂/(√v̂ + ε)

    Args: lr α, betas (β1, β2), eps ε, weight_decay λ, amsgrad, maximize,
    decoupled_weight_decay (AdamW), flat.
    """

    _ranges = _ADAM_LIKE

    _rule = staticmethod(rules.adam)
    _scratch_name = "adam"
    _onepass_name = "adam"
    _onepass_span = staticmethod(_onepass.adam_span)

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay), flat)

    def _init(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return rules.adam_init(param, group["amsgrad"])

    def _hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        beta1, beta2 = group["betas"]
        return dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
                    maximize=group["maximize"],
                    decoupled_weight_decay=group["decoupled_weight_decay"])


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, as torch.optim.AdamW.

        w ← w·(1 − α·λ);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
        m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ);  w ← w − α·m̂/(√v̂ + ε)

    Args: lr α, betas (β1, β2), eps ε, weight_decay λ (default 1e-2), amsgrad, maximize, flat.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 flat: bool = True) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, flat=flat)


class Adamax(_RuleOptimizer):
    """Adamax (Kingma & Ba 2015, §7.1), as torch.optim.Adamax.

        g ← ±∇f(w) + λ·w;  m ← β1·m + (1−β1)·g;  u ← max(β2·u, |g| + ε)
        w ← w − α/(1−β1ᵗ)·m/u

    Args: lr α, betas (β1, β2), eps ε, weight_decay λ, maximize, flat.
    """

    _ranges = _ADAM_LIKE

    _rule = staticmethod(rules.adamax)
    _scratch_name = "adamax"

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, *, maximize: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), flat)

    def _init(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return rules.adamax_init(param)

    def _hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        beta1, beta2 = group["betas"]
        return dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"])


class NAdam(_RuleOptimizer):
    """NAdam (Dozat 2016): Adam with Nesterov momentum, as torch.optim.NAdam.

        μ_t = β1·(1 − ½·0.96^(t·ψ));  Π_t = Π_{t−1}·μ_t
        g ← ±∇f(w) + λ·w (decoupled_weight_decay: w ← w·(1 − α·λ));  m, v as in Adam
        v̂ = v/(1−β2ᵗ);  w ← w − α(1−μ_t)/(1−Π_t)·g/(√v̂+ε) − α·μ_{t+1}/(1−Π_t·μ_{t+1})·m/(√v̂+ε)

    Args: lr α, betas (β1, β2), eps ε, weight_decay λ, momentum_decay ψ, decoupled_weight_decay,
    maximize, flat. ``mu_product`` is kept in float64 (torch keeps it in its default dtype).
    """

    _ranges = dict(_ADAM_LIKE, momentum_decay=_NONNEG)

    _rule = staticmethod(rules.nadam)
    _scratch_name = "nadam"

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize), flat)

    def _init(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return rules.nadam_init(param)

    def _hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        beta1, beta2 = group["betas"]
        return dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                    maximize=group["maximize"])


class RAdam(_RuleOptimizer):
    """RAdam (Liu et al. 2020): Adam with a rectified adaptive step, as torch.optim.RAdam.

        g ← ±∇f(w) + λ·w (decoupled_weight_decay: w ← w·(1 − α·λ));  m, v as in Adam
        ρ∞ = 2/(1−β2) − 1;  ρ_t = ρ∞ − 2t·β2ᵗ/(1−β2ᵗ);  m̂ = m/(1−β1ᵗ)
        ρ_t > 5: r_t = √((ρ_t−4)(ρ_t−2)ρ∞/((ρ∞−4)(ρ∞−2)ρ_t)), w ← w − α·m̂·r_t·√(1−β2ᵗ)/(√v+ε)
        else:    w ← w − α·m̂

    Args: lr α, betas (β1, β2), eps ε, weight_decay λ, decoupled_weight_decay, maximize, flat.
    """

    _ranges = _ADAM_LIKE

    _rule = staticmethod(rules.radam)
    _scratch_name = "radam"

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize), flat)

    def _init(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return rules.radam_init(param)

    def _hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        beta1, beta2 = group["betas"]
        return dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"],
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                    maximize=group["maximize"])


class Lion(_RuleOptimizer):
    """Lion, EvoLved Sign Momentum (Chen et al. 2023, Algorithm 2); not in torch.optim.

        c = β1·m + (1−β1)·g;  w ← w − α·(sign(c) + λ·w);  m ← β2·m + (1−β2)·g

    The sign makes every coordinate move by exactly α, so use an lr 3-10x smaller than AdamW's
    and a weight decay λ 3-10x larger (the paper's advice).

    Args: lr α (default 1e-4), betas (β1, β2) (default (0.9, 0.99)), weight_decay λ, maximize, flat.
    """

    _ranges = _ADAM_LIKE

    _rule = staticmethod(rules.lion)
    _scratch_name = "lion"

    def __init__(self, params: Iterable[Any], lr: float = 1e-4,
                 betas: tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0, *,
                 maximize: bool = False, flat: bool = True) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay,
                                      maximize=maximize), flat)

    def _init(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return rules.lion_init(param)

    def _hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        beta1, beta2 = group["betas"]
        return dict(lr=group["lr"], beta1=beta1, beta2=beta2,
                    weight_decay=group["weight_decay"], maximize=group["maximize"])


class Lookahead(Optimizer):
    """Lookahead (Zhang et al. 2019): k fast steps of any optimizer, then pull back toward slow
    weights.

        θ ← inner optimizer step (k times);  φ ← φ + α·(θ − φ);  θ ← φ      (φ₀ = θ₀)

    ``param_groups`` are the inner optimizer's (so lr schedulers drive it); ``state[p]`` holds
    ``slow_param``; ``state_dict`` holds both optimizers' states.

    Args:
        optimizer: the inner ("fast") optimizer, e.g. ``Adam(model.parameters())``.
        k: inner steps between synchronisations (>= 1). alpha: slow step size α in [0, 1].
    """

    def __init__(self, optimizer: Optimizer, k: int = 5, alpha: float = 0.5) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"Lookahead wraps an optimizer, got {type(optimizer).__name__}; "
                            "pass e.g. Lookahead(Adam(model.parameters()))")
        check_hyperparameter("Lookahead", "k", k, Range(1, integer=True), 5)
        check_hyperparameter("Lookahead", "alpha", alpha, Range(0.0, 1.0), 0.5)
        self.optimizer = optimizer
        self.k = int(k)
        self.alpha = float(alpha)
        self.defaults = optimizer.defaults
        self.param_groups = optimizer.param_groups
        self.state: dict[Tensor, dict[str, Any]] = {}
        self._step = 0
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"slow_param": Tensor._wrap(p._data.copy())}

    def __repr__(self) -> str:
        return f"Lookahead(k={self.k}, alpha={self.alpha}, optimizer={self.optimizer!r})"

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        self.optimizer.add_param_group(param_group)
        for p in self.optimizer.param_groups[-1]["params"]:
            self.state[p] = {"slow_param": Tensor._wrap(p._data.copy())}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One inner step; every k-th also moves the slow weights and resets the fast ones."""
        loss = self.optimizer.step(closure)
        self._step += 1
        if self._step % self.k == 0:
            for group in self.param_groups:
                for p in group["params"]:
                    rules.lookahead(p._data, self.state[p]["slow_param"]._data, alpha=self.alpha)
                    p._vbox[0] += 1
        return loss

    def state_dict(self) -> dict[str, Any]:
        """``{'optimizer': inner state, 'lookahead': {'step', 'k', 'alpha', 'slow': {i: w}}}``."""
        params = [p for g in self.param_groups for p in g["params"]]
        return {"optimizer": self.optimizer.state_dict(),
                "lookahead": {"step": self._step, "k": self.k, "alpha": self.alpha,
                              "slow": {i: Tensor._wrap(self.state[p]["slow_param"]._data.copy())
                                       for i, p in enumerate(params)}}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state_dict["optimizer"])
        self.param_groups = self.optimizer.param_groups
        la = state_dict["lookahead"]
        self._step, self.k, self.alpha = la["step"], la["k"], la["alpha"]
        params = [p for g in self.param_groups for p in g["params"]]
        for i, p in enumerate(params):
            slow = la["slow"][i]
            arr = slow._data if isinstance(slow, Tensor) else np.asarray(slow)
            self.state[p] = {"slow_param": Tensor._wrap(np.array(arr, dtype=p.dtype))}
