"""Grad mode and anomaly mode: what the engine records and checks, one setting per thread.

Grad mode decides whether an op records a node (``no_grad``, ``enable_grad``,
``set_grad_enabled``); anomaly mode makes every op and every backward check its result for
NaN/Inf (``detect_anomaly``); ``backward_creates_graph`` makes every ``backward()`` record its own
graph, for second-order optimizers.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "backward_creates_graph",
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
]


class _ModeState(threading.local):
    """Grad mode, anomaly mode and create-graph forcing, one copy per thread (as PyTorch's grad
    mode): a server can train in one worker thread while another evaluates under ``no_grad``."""

    grad = True
    anomaly = False
    force_create_graph = False


mode_state = _ModeState()

# True once anomaly mode (create-graph forcing) has been turned on in any thread. Until then the
# hot paths skip the per-thread flag: a thread-local read costs several hundred instructions.
anomaly_ever = [False]
force_create_graph_ever = [False]


def is_grad_enabled() -> bool:
    """True when new operations are recorded for autograd."""
    return mode_state.grad


class _GradModeContext:
    """Base of ``no_grad``/``enable_grad``/``set_grad_enabled``: context manager and decorator."""

    _target: bool

    def __enter__(self) -> None:
        self._prev = mode_state.grad
        mode_state.grad = self._target

    def __exit__(self, *exc: Any) -> None:
        mode_state.grad = self._prev

    def __call__(self, func: Callable) -> Callable:
        target = self._target

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = mode_state.grad
            mode_state.grad = target
            try:
                return func(*args, **kwargs)
            finally:
                mode_state.grad = prev

        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator that turns off graph recording (as ``torch.no_grad``)."""

    _target = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that turns graph recording back on (``torch.enable_grad``)."""

    _target = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode on or off; works as a function call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        self._target = bool(mode)
        self._prev = mode_state.grad
        mode_state.grad = self._target

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        mode_state.grad = self._prev

    def __call__(self, func: Callable) -> Callable:
        # As torch: used as a decorator it must not leave the mode switched by __init__.
        mode_state.grad = self._prev
        return super().__call__(func)


class backward_creates_graph:
    """Context in which every ``backward()`` acts as ``backward(create_graph=True)``.

    Second-order optimizers (Newton, NewtonCG) wrap the user's closure in it, so a closure written
    for SGD (``loss.backward()``) leaves ``.grad`` differentiable for Hessian-vector products.
    """

    def __enter__(self) -> None:
        self._prev = mode_state.force_create_graph
        mode_state.force_create_graph = True
        force_create_graph_ever[0] = True

    def __exit__(self, *exc: Any) -> None:
        mode_state.force_create_graph = self._prev


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return mode_state.anomaly


class detect_anomaly:
    """Context manager that names the op which first produced NaN/Inf, forward or backward.

    Every op's output is checked for non-finite values while it is active, and so is every
    gradient an op's backward returns; the error names the op, its input shapes and the pass.
    This costs a scan of every array, so use it to debug, not to train.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = mode_state.anomaly
        mode_state.anomaly = self.check_nan
        if self.check_nan:
            anomaly_ever[0] = True

    def __exit__(self, *exc: Any) -> None:
        mode_state.anomaly = self._prev


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off globally."""
    mode_state.anomaly = bool(mode)
    if mode:
        anomaly_ever[0] = True
