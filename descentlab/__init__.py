"""descentlab: deep-learning optimization end to end, made visible.

A NumPy reverse-mode autograd with PyTorch's API (``tensor``, ``backward()``, ``.grad``,
``no_grad``), the descent family in ``optim``, networks in ``nn``, data in ``data``, and a lab.
"""

from __future__ import annotations

from typing import Any

from . import _malloc, autograd
from .autograd import dtypes as _dtypes
from .autograd.creation import (
    arange,
    as_tensor,
    cat,
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
    CPUOnlyError,
    Generator,
    complex64,
    complex128,
    default_generator,
    device,
    dtype,
    float16,
    float32,
    float64,
    get_default_device,
    get_default_dtype,
    get_rng_state,
    initial_seed,
    int8,
    int16,
    int32,
    int64,
    manual_seed,
    seed,
    set_default_device,
    set_default_dtype,
    set_rng_state,
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
from .autograd.outfns import build as _build_functions
from .autograd.outfns import with_out as _with_out
from .autograd.printing import set_printoptions
from .autograd.size import Size
from .autograd.tensor import Tensor

__version__ = "0.1.0"

# Freed activations and gradients stay in the process for the next step (see _malloc).
_malloc.tune()

# PyTorch's dtype aliases (module attributes named like builtins, as in torch).
globals().update({
    "float": float32, "double": float64, "half": float16, "long": int64, "int": int32,
    "short": int16, "bool": _dtypes.bool_, "cfloat": complex64, "cdouble": complex128,
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
    "relu", "max", "min", "softmax", "log_softmax", "norm", "reshape", "flatten", "unsqueeze",
    "squeeze", "transpose", "permute", "t", "argmax", "argmin", "isnan", "isinf", "isfinite",
    "allclose", "equal", "flip", "chunk", "split", "unbind", "narrow", "gather", "sort", "argsort",
    "topk", "masked_fill", "all", "any", "nonzero", "count_nonzero", "clone", "detach", "numel",
    "repeat",
):
    globals()[_name] = _method(_name)
del _name
# Elementwise ops, products and reductions with torch's keyword names and out= (autograd.outfns).
globals().update(_build_functions())
cat = concat = _with_out("cat", cat, cat.__doc__ or "")
stack = _with_out("stack", stack, stack.__doc__ or "")


def is_tensor(obj: Any) -> bool:
    """True if ``obj`` is a descentlab ``Tensor``."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    """True if ``input`` has a floating-point dtype."""
    return input.is_floating_point()


def save(obj: Any, f: Any, **kwargs: Any) -> None:
    """Save tensors, state dicts and containers of them, as torch.save (see ``serialization``)."""
    from .serialization import save as _save

    _save(obj, f, **kwargs)


def load(f: Any, map_location: Any = None, weights_only: Any = None, **kwargs: Any) -> Any:
    """Load what ``save`` (or a tensors-only ``torch.save``) wrote (see ``serialization``)."""
    from .serialization import load as _load

    return _load(f, map_location=map_location, weights_only=weights_only, **kwargs)


def _lazy(name: str) -> Any:
    import importlib

    return importlib.import_module(f".{name}", __name__)


def __getattr__(name: str) -> Any:
    # Subpackages import on first use so `import descentlab` stays light.
    if name in ("nn", "optim", "data", "lab", "train", "utils", "cuda", "backends", "accelerator",
                "serialization"):
        mod = _lazy(name)
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'descentlab' has no attribute {name!r}")
