"""``define_op``: an op whose forward is one expression, declared by its backward function.

``@define_op(lambda ctx, a: np.exp(a), save_output=True)`` above ``def Exp(ctx, g)`` (docstring
"eᵃ;  ∂/∂a = g·eᵃ", body ``return (g * ctx.out,)``) builds the same ``Op`` subclass as writing
the class out: ``forward`` and ``backward`` are the two functions themselves as staticmethods (no
wrapper, so a call costs what it did), the flags are class attributes, and the name and formula
docstring are the backward function's. Ops whose forward takes statements keep the class form.
"""

from __future__ import annotations

from typing import Any, Callable

from ..graph import Op


def define_op(forward: Callable[..., Any], *, save_inputs: bool = False,
              save_output: bool = False, array_backward: bool = False,
              base: type = Op) -> Callable[[Callable[..., tuple]], type]:
    """A decorator turning ``backward(ctx, g) -> tuple`` into the Op class of the same name.

    Args:
        forward: ``forward(ctx, *arrays, **kwargs) -> ndarray``, the op on arrays.
        save_inputs, save_output, array_backward: the ``Op`` flags (see ``Op``).
        base: the class to derive from, ``Op`` or a family's subclass of it.
    """

    def build(backward: Callable[..., tuple]) -> type:
        name = backward.__name__
        return type(name, (base,), {
            "__doc__": backward.__doc__, "__module__": backward.__module__,
            "__qualname__": name, "forward": staticmethod(forward),
            "backward": staticmethod(backward), "save_inputs": save_inputs,
            "save_output": save_output, "array_backward": array_backward,
        })

    return build
