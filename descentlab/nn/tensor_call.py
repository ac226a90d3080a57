"""Modules whose forward is one Tensor method called with the module's stored settings."""

from __future__ import annotations

from typing import Any, ClassVar

from ..autograd.tensor import Tensor
from .module import Module


class TensorCall(Module):
    """forward(x) = x.<method>(*settings): a parameter-free layer (ReLU, Softplus, Flatten…).

    A subclass names the Tensor ``method`` and the ``settings`` it passes on, in order, and keeps
    torch's own ``__init__`` signature, handing its arguments to ``super().__init__`` by keyword.
    ``extra_repr`` lists the settings as ``name=value`` as torch prints them, with ``inplace``
    (accepted for torch compatibility; the result is always a new tensor) shown only when True.
    """

    method: ClassVar[str]
    settings: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.settings and "forward" not in cls.__dict__:
            # ReLU, Sigmoid, Tanh: forward is the Tensor method itself, one Python frame less on
            # every call of the layer.
            cls.forward = staticmethod(getattr(Tensor, cls.method))

    def __init__(self, **values: Any) -> None:
        super().__init__()
        for name, value in values.items():
            setattr(self, name, value)

    def forward(self, input: Tensor) -> Tensor:
        return getattr(input, self.method)(*[getattr(self, name) for name in self.settings])

    def extra_repr(self) -> str:
        shown = [f"{name}={_torch_text(getattr(self, name))}" for name in self.settings]
        if getattr(self, "inplace", False):
            shown.append("inplace=True")
        return ", ".join(shown)


def _torch_text(value: Any) -> str:
    # torch quotes string settings (approximate='tanh') and prints numbers and tuples plainly.
    return repr(value) if isinstance(value, str) else str(value)
