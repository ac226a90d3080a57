"""The one helper every nn test uses to compare descentlab with PyTorch.

``check`` runs the same float64 inputs through a descentlab function and a torch function,
compares the outputs, then backpropagates the same *random* upstream gradient through both (an
all-ones gradient hides transpose and reduction bugs) and compares the input gradients and,
when modules are given, every parameter gradient by name.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

import descentlab as dl

RTOL, ATOL = 1e-7, 1e-9


def _to_dl(a: Any, grad: bool) -> Any:
    if isinstance(a, np.ndarray):
        return dl.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f")
    return a


def _to_torch(torch: Any, a: Any, grad: bool) -> Any:
    if isinstance(a, np.ndarray):
        t = torch.from_numpy(a.copy())
        return t.requires_grad_(grad and a.dtype.kind == "f")
    return a


def copy_module(dl_mod: Any, torch_mod: Any) -> None:
    """Both modules to float64, torch's weights and buffers copied into descentlab's."""
    torch_mod.double()
    dl_mod.double()
    dl_mod.load_state_dict(torch_mod.state_dict())


def check(
    dl_fn: Callable, torch_fn: Callable, inputs: Sequence[Any], *,
    grad: Sequence[int] | None = None, modules: tuple[Any, Any] | None = None,
    rtol: float = RTOL, atol: float = ATOL, seed: int = 0,
) -> tuple[Any, Any]:
    """Compare forward values and gradients of ``dl_fn(*inputs)`` and ``torch_fn(*inputs)``.

    Args:
        inputs: NumPy arrays (converted to a tensor for each side) or plain values.
        grad: indices of the float inputs to differentiate (default: all float arrays).
        modules: a (descentlab module, torch module) pair whose parameter grads are compared.
    Returns:
        the two outputs (descentlab, torch).
    """
    import torch

    want = set(range(len(inputs))) if grad is None else set(grad)
    dl_in = [_to_dl(a, i in want) for i, a in enumerate(inputs)]
    t_in = [_to_torch(torch, a, i in want) for i, a in enumerate(inputs)]
    out, t_out = dl_fn(*dl_in), torch_fn(*t_in)
    assert tuple(out.shape) == tuple(t_out.shape), (out.shape, t_out.shape)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=rtol, atol=atol,
                               err_msg="forward values differ")
    if not t_out.requires_grad:
        return out, t_out
    upstream = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    out.backward(dl.tensor(upstream.astype(out.dtype)))
    t_out.backward(torch.from_numpy(upstream).to(t_out.dtype))
    for i, (a, b) in enumerate(zip(dl_in, t_in)):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            assert a.grad is not None, f"input {i}: no gradient in descentlab"
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"gradient of input {i} differs")
    if modules is not None:
        dl_mod, t_mod = modules
        t_params = dict(t_mod.named_parameters())
        dl_params = dict(dl_mod.named_parameters())
        assert list(dl_params) == list(t_params)
        for name, p in dl_params.items():
            tp = t_params[name]
            if tp.grad is None:
                assert p.grad is None, f"{name}: descentlab has a gradient, torch has none"
                continue
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"gradient of parameter {name} differs")
    return out, t_out


def check_module(dl_mod: Any, torch_mod: Any, *inputs: Any, **kwargs: Any) -> tuple[Any, Any]:
    """Copy torch's weights into ``dl_mod`` then ``check`` the two modules on ``inputs``, and
    compare the buffers (running statistics) after the call."""
    copy_module(dl_mod, torch_mod)
    result = check(dl_mod, torch_mod, inputs, modules=(dl_mod, torch_mod), **kwargs)
    t_bufs = dict(torch_mod.named_buffers())
    for name, b in dl_mod.named_buffers():
        np.testing.assert_allclose(b.numpy(), t_bufs[name].numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=f"buffer {name} differs after forward")
    return result


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)
