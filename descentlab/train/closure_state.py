"""The closure-driven optimizers (LBFGS, BFGS, Newton, NewtonCG) in the training loop: which they
are, and how their list-valued state is stored in a checkpoint."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor


def needs_closure(optimizer: Any) -> bool:
    """Whether ``optimizer`` is stepped as ``step(closure)`` (LBFGS, BFGS, Newton, NewtonCG)."""
    from ..optim import BFGS, LBFGS, Newton, NewtonCG

    return isinstance(optimizer, (BFGS, LBFGS, Newton, NewtonCG))



# The closure-driven optimizers keep plain arrays in their state, some in lists (L-BFGS's pairs);
# a checkpoint stores arrays only at the top level of a parameter's state (and loads them back as
# Tensors), so a list of same-shape arrays is saved stacked under "<name>.stacked".
_STACKED = ".stacked"


def pack_closure_state(state_dict: dict[str, Any]) -> dict[str, Any]:
    """The optimizer state dict with each list of same-shape arrays stacked into one array."""
    packed = {}
    for index, pstate in state_dict["state"].items():
        entry = {}
        for name, value in pstate.items():
            if (isinstance(value, list) and value
                    and all(isinstance(v, np.ndarray) and v.shape == value[0].shape
                            for v in value)):
                entry[name + _STACKED] = np.stack(value)
            else:
                entry[name] = value
        packed[index] = entry
    return {"state": packed, "param_groups": state_dict["param_groups"]}



def unpack_closure_state(state_dict: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`pack_closure_state`, with loaded Tensors back as plain arrays."""
    def plain(value: Any) -> Any:
        return value._data if isinstance(value, Tensor) else value

    unpacked = {}
    for index, pstate in state_dict["state"].items():
        entry = {}
        for name, value in pstate.items():
            if name.endswith(_STACKED):
                entry[name[:-len(_STACKED)]] = [row.copy() for row in plain(value)]
            else:
                entry[name] = plain(value)
        unpacked[index] = entry
    return {"state": unpacked, "param_groups": state_dict["param_groups"]}
