"""The engine: Tensor, reverse-mode autograd with higher-order derivatives."""

from . import functional
from .backward import run_backward
from .function import Function
from .grad import grad, root_gradient
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .mode import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .tensor import Tensor


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """torch.autograd.backward: backward from several outputs at once."""
    ts = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    gs = [None] * len(ts) if grad_tensors is None else (
        [grad_tensors] if isinstance(grad_tensors, Tensor) else list(grad_tensors))
    if retain_graph is None:
        retain_graph = create_graph
    run_backward([t._edge() for t in ts], [root_gradient(t, g) for t, g in zip(ts, gs)],
                 retain_graph, create_graph)


def Variable(data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:
    """Deprecated, as ``torch.autograd.Variable``: Variables are Tensors now; returns ``data``
    with ``requires_grad`` set (warns with a DeprecationWarning)."""
    import warnings

    warnings.warn(
        "autograd.Variable is deprecated, as in torch: tensors carry autograd themselves. Use "
        "the tensor directly (x.requires_grad_() where gradients are wanted).",
        DeprecationWarning, stacklevel=2)
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    if requires_grad:
        data.requires_grad_(True)
    return data


__all__ = [
    "Function", "Variable", "Tensor", "backward", "detect_anomaly", "enable_grad", "functional",
    "grad",
    "gradcheck", "gradgradcheck", "GradcheckError", "is_anomaly_enabled", "is_grad_enabled",
    "no_grad", "set_detect_anomaly", "set_grad_enabled",
]
