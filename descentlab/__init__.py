"""descentlab: deep-learning optimization end to end, made visible.

A NumPy reverse-mode autograd with PyTorch's API (``tensor``, ``backward()``, ``.grad``,
``no_grad``), the descent family in ``optim``, networks in ``nn``, data in ``data``, and a lab.
"""

from __future__ import annotations

from typing import Any

from . import autograd
from .autograd import dtypes as _dtypes
from .autograd.creation import (
    arange,
    as_tensor,
    cat,
    concat,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    normal,
    ones,
    ones_like,
    pad,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    stack,
    tensor,
    zeros,
    zeros_like,
)
from .autograd.dtypes import (
    Generator,
    device,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    manual_seed,
    set_default_dtype,
    uint8,
)
from .autograd.function import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .autograd.tensor import Tensor, matmul, mm, where

__version__ = "0.1.0"

# PyTorch's dtype aliases (module attributes named like builtins, as in torch).
globals().update({
    "float": float32, "double": float64, "half": float16, "long": int64, "int": int32,
    "short": int16, "bool": _dtypes.bool_,
})


def _method(name: str) -> Any:
    def fn(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(input, Tensor):
            input = tensor(input)
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"Function form of ``Tensor.{name}``."
    return fn


for _name in (
    "abs", "exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid",
    "relu", "erf", "square", "reciprocal", "neg", "maximum", "minimum", "clamp", "clip", "sum",
    "mean", "max", "min", "amax", "amin", "var", "std", "logsumexp", "prod", "softmax",
    "log_softmax", "cumsum", "norm", "reshape", "flatten", "unsqueeze", "squeeze", "transpose",
    "permute", "t", "argmax", "argmin", "sign", "floor", "ceil", "round", "isnan", "isinf",
    "isfinite", "allclose", "equal", "flip", "chunk", "split", "unbind", "narrow", "gather",
    "sort", "argsort", "topk", "dot", "bmm", "masked_fill", "add", "sub", "mul", "div", "pow",
    "all", "any", "nonzero", "count_nonzero", "clone", "detach", "numel", "repeat",
):
    globals()[_name] = _method(_name)
del _name


def is_tensor(obj: Any) -> bool:
    """True if ``obj`` is a descentlab ``Tensor``."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    """True if ``input`` has a floating-point dtype."""
    return input.is_floating_point()


def _lazy(name: str) -> Any:
    import importlib

    return importlib.import_module(f".{name}", __name__)


def __getattr__(name: str) -> Any:
    # nn, optim, data, lab, train import on first use so `import descentlab` stays light.
    if name in ("nn", "optim", "data", "lab", "train", "utils"):
        mod = _lazy(name)
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'descentlab' has no attribute {name!r}")
