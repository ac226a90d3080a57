"""The engine that runs a pure update rule of ``rules.py`` over an optimizer's parameters.

``first_order.py`` declares each optimizer; this module executes them. An optimizer built on
``RuleOptimizer`` declares, instead of code:

    rule             the rule's name in ``rules``: ``rules.<rule>`` is the update,
                     ``rules.<rule>_init`` builds its state, ``rules.SCRATCH[rule]`` counts its
                     work arrays
    init_arguments   the group hyperparameters ``<rule>_init`` takes (e.g. ``("momentum",)``)
    rule_arguments   the group hyperparameters passed to the rule (``betas`` is passed as
                     ``beta1``, ``beta2``)
    onepass          True when ``_onepass`` has a compiled one-pass kernel of the rule (the fast
                     path below), with its span adapter ``_onepass.<rule>_span``
    _ranges          the hyperparameters' valid ranges (``Optimizer``'s checks)

and the engine does the rest: state creation, the non-finite gradient check, and the update.

How a step runs. On the first step the parameters of a group (per dtype) are moved into one
contiguous buffer (each ``p._data`` becomes a view of it) and their state is kept flat the same
way, so a step runs the rule once over the buffer — in cache-sized chunks, which keeps its dozen
element-wise passes in cache — whatever the number of tensors; buffers of at least
``PARALLEL_MIN`` elements are split into one span per core, updated in parallel threads.
``flat=False`` runs the rule tensor by tensor instead; both give the same numbers bit for bit
(the rules are element-wise). Note: arrays taken from a parameter with ``.numpy()`` before its
first step stop aliasing it when it moves into the buffer.

The fast path. Buffers too large for the caches are memory-bound: there (``ONEPASS_MIN``
elements and up) the rules that declare ``onepass`` (SGD, Adam/AdamW) run a compiled kernel of
the same arithmetic (``_onepass``, when numba is installed: ``descentlab[fast]``) that reads and
writes each array once per step, again with the same numbers bit for bit.

The non-finite check. A step whose gradient holds a NaN or ±inf raises before anything changes.
Several parameters are checked while their gradients are gathered into the flat buffer, in the
same pass. A lone parameter's gradient is used in place, so checking it costs one read of the
gradient before the update (a sixth of SGD-momentum's memory traffic, an eighth of Adam's): the
check cannot ride in the update pass, since a NaN found there would leave the elements before it
updated, and undoing them needs their old values: a saved copy of the parameter and state, which
writes two or three arrays to save one read.
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
from .optimizer import Optimizer

__all__ = ["RuleOptimizer", "CHUNK", "PARALLEL_MIN", "ONEPASS_MIN"]

# Elements per chunk of the flat update. A chunk's arrays (param, grad, state, work) stay in cache
# between the rule's element-wise passes, and a chunk is long enough that the per-call overhead of
# a dozen ufuncs is small. Measured on one 10M float32 parameter (2 cores): 2^14 → Adam 32 ms,
# 2^16 → 20 ms, 2^18 → 18 ms (with the spans below in parallel).
CHUNK = 1 << 18
# Parameters this large are split into one contiguous span per core, updated in parallel threads.
# An MLP-784's 670k weights are: their NumPy Adam step took 1.4–1.5 ms on one thread and 1.1 ms on
# two (2 cores); below half a million elements the hand-off costs more than it saves.
PARALLEL_MIN = 1 << 19
# Parameters this large use the compiled one-pass kernel when numba is installed. Below it, loading
# numba (about 100 MiB of resident memory and 0.3 s on the first step) is not worth the time saved.
ONEPASS_MIN = 1 << 20
# Span boundaries are multiples of this many elements (at least a 64-byte line for any dtype).
_LINE = 64
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
    kern = _onepass.kernel("nonfinite_sum", grad.dtype) if grad.size >= ONEPASS_MIN else None

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
    """Contiguous [start, stop) spans of near-equal length, one per worker (one if n is small).

    The step waits for the longest span, so they are equal to within ``_LINE`` elements (spans of
    whole chunks gave 5.24M and 4.76M elements of a 10M buffer to two threads). Boundaries are
    multiples of ``_LINE`` elements: whole cache lines of these large, page-aligned buffers, so no
    two threads write the same line.
    """
    k = _workers() if n >= PARALLEL_MIN else 1
    per = -(-n // (k * _LINE)) * _LINE
    return [(i * per, min((i + 1) * per, n)) for i in range(k) if i * per < n]


Source = tuple[int, int, int, bool]


def _gather_plan(sizes: list[int]) -> list[tuple[int, int, list[Source]]]:
    """Cut the flat gradient buffer into chunks of at most CHUNK elements: for each, its
    [start, stop) in the buffer and the (parameter, start, stop, whole parameter?) slices that
    fill it."""
    plan: list[tuple[int, int, list[Source]]] = []
    sources: list[Source] = []
    start = filled = 0
    for i, n in enumerate(sizes):
        s = 0
        while s < n:
            take = min(n - s, CHUNK - filled)
            sources.append((i, s, s + take, take == n))
            filled += take
            s += take
            if filled == CHUNK:
                plan.append((start, start + filled, sources))
                start, filled, sources = start + filled, 0, []
    if sources:
        plan.append((start, start + filled, sources))
    return plan


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
        self.gather_plan = _gather_plan(sizes) if self.grad is not None else []
        self.views = [self._view(self.flat, i, p._data.shape) for i, p in enumerate(params)]
        for p, v in zip(params, self.views):
            np.copyto(v, p._data)
            p._data = v
        self.arrays: dict[str, np.ndarray] = {}
        self.scalars: dict[str, np.ndarray] = {}

    def _view(self, flat: np.ndarray, i: int, shape: tuple) -> np.ndarray:
        return flat[self.offsets[i]:self.offsets[i + 1]].reshape(shape)

    def gather_grad(self) -> bool:
        """Copy the parameters' gradients into ``self.grad``; True when all are finite.

        The check rides on the copy: each chunk's g·g is taken while the chunk is still in
        cache, so the gradients are read from memory once (see ``_all_finite`` for why g·g).
        """
        params = self.params
        sq = 0.0
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is handled below
            for start, stop, sources in self.gather_plan:
                piece = self.grad[start:stop]
                # Whole gradients go in as they are: reshaping and slicing each would cost
                # more than it saves when there are many small ones.
                np.concatenate([params[i]._grad._data if whole
                                else params[i]._grad._data.reshape(-1)[s:e]
                                for i, s, e, whole in sources], axis=None, out=piece)
                sq += float(np.dot(piece, piece))
        return math.isfinite(sq) or bool(np.isfinite(self.grad).all())

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


class RuleOptimizer(Optimizer):
    """An optimizer made of one rule of ``rules.py``, run flat or per tensor (see the module).

    Subclasses set ``rule``, ``init_arguments``, ``rule_arguments``, ``onepass`` and ``_ranges``
    and call ``__init__(params, defaults, flat)``.
    """

    rule: str
    init_arguments: tuple[str, ...] = ()
    rule_arguments: tuple[str, ...] = ()
    onepass: bool = False

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any], flat: bool) -> None:
        super().__init__(params, defaults)
        self.flat = flat
        self._buckets: dict[tuple[int, np.dtype], _Bucket] = {}
        self._work: dict[np.dtype, list[np.ndarray]] = {}

    def _hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        """The rule's keyword arguments from a group's hyperparameters."""
        hyper = {}
        for name in self.rule_arguments:
            if name == "betas":
                hyper["beta1"], hyper["beta2"] = group["betas"]
            else:
                hyper[name] = group[name]
        return hyper

    def _init(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        """A fresh state for one parameter: ``rules.<rule>_init``."""
        init = getattr(rules, self.rule + "_init")
        return init(param, **{name: group[name] for name in self.init_arguments})

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
            # A lone parameter's gradient is used in place, so checking it is a pass of its own.
            grad = bucket.params[0]._grad._data.reshape(-1)
            finite = _all_finite(grad)
        else:
            grad = bucket.grad
            finite = bucket.gather_grad()
        if not finite:
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
            self._update(param, grad, sub, scratch=[w[:n].reshape(param.shape) for w in work],
                       **hyper)
            return sub
        if not (param.flags.c_contiguous and grad.flags.c_contiguous):
            sub = dict(state)
            self._update(param, grad, sub, **hyper)
            return sub
        p1, g1 = param.reshape(-1), grad.reshape(-1)
        arrays = {k: v.reshape(-1) for k, v in state.items() if isinstance(v, np.ndarray)}
        spans = _spans(n)
        kern = (_onepass.kernel(self.rule, param.dtype)
                if self.onepass and n >= ONEPASS_MIN else None)
        if kern is not None and all(
                v.flags.c_contiguous and v.dtype == param.dtype for v in arrays.values()):
            # One pass over memory per step (see _onepass): same numbers, a third of the traffic.
            new = dict(state)
            new["step"] = state["step"] + 1
            span_kernel = getattr(_onepass, self.rule + "_span")

            def run_kernel(span: tuple[int, int]) -> None:
                s, e = span
                span_kernel(kern, p1[s:e], g1[s:e], {k: v[s:e] for k, v in arrays.items()},
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
                self._update(p1[s:e], g1[s:e], sub, scratch=[w[:e - s] for w in scratch], **hyper)
            return sub

        sub = _parallel(run_span, list(range(len(spans))))[-1]
        sub.update({k: state[k] for k in arrays})
        return sub

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                **kwargs: Any) -> None:
        getattr(rules, self.rule)(param, grad, state, **kwargs)

    def _scratch(self, dtype: np.dtype, worker: int) -> list[np.ndarray]:
        key = (dtype, worker)
        work = self._work.get(key)
        if work is None:
            work = self._work[key] = [
                np.empty(CHUNK, dtype) for _ in range(rules.SCRATCH[self.rule])]
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


