"""torch's names for the nodes of the graph (``MulBackward0``, ``MmBackward0``, ...).

A table of the ops whose torch name is not simply the op's name + ``Backward0``; a name is
computed only when asked for (printing, ``grad_fn.name()``), so recording a node costs nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _matmul_name(node: Any) -> str:
    dims = (len(node.metas[0][0]), len(node.metas[1][0]))
    return {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 1): "DotBackward0",
            (1, 2): "SqueezeBackward4"}.get(dims, "UnsafeViewBackward0")


def _linear_name(node: Any) -> str:
    if len(node.metas[0][0]) != 2:
        return "ViewBackward0"
    return "AddmmBackward0" if len(node.metas) == 3 else "MmBackward0"


def _getitem_name(node: Any) -> str:
    index = node.index if isinstance(node.index, tuple) else (node.index,)
    if any(isinstance(i, (np.ndarray, list)) for i in index):
        return "IndexBackward0"
    if all(isinstance(i, (int, np.integer)) for i in index):
        return "SelectBackward0"
    return "SliceBackward0"


def _extreme_name(node: Any) -> str:
    base = node.op.__name__
    if not node.evenly:
        return base + "Backward0"  # max(dim) with indices
    return base + "Backward1" if node.dim is None else "A" + base.lower() + "Backward0"


_TORCH_NAMES: dict = {
    "Cast": "ToCopyBackward0", "Reshape": "ViewBackward0", "BroadcastTo": "ExpandBackward0",
    "SumTo": "SumBackward1", "Pad": "ConstantPadNdBackward0", "LogSumExp": "LogsumexpBackward0",
    "CumSum": "CumsumBackward0", "Log1p": "Log1PBackward0", "PowScalar": "PowBackward0",
    "Clamp": "ClampBackward1", "CrossEntropyRows": "NllLossBackward0",
    "BatchNormTrain": "NativeBatchNormBackward0",
    "Pow": lambda n: "PowBackward2" if n.parents[0] is None else "PowBackward1",
    "Sum": lambda n: "SumBackward0" if n.dim is None else "SumBackward1",
    "Prod": lambda n: "ProdBackward0" if n.dim is None else "ProdBackward1",
    "Permute": "PermuteBackward0",  # transpose() and t() label their nodes themselves
    "MatMul": _matmul_name, "Linear": _linear_name, "GetItem": _getitem_name,
    "Max": _extreme_name, "Min": _extreme_name,
}


def torch_name(node: Any) -> str:
    """The name torch gives the node of the same op (user Functions: ``<Class>Backward``)."""
    op = node.op
    if getattr(op, "user_function", False):
        return op.__name__ + "Backward"
    rule = _TORCH_NAMES.get(op.__name__)
    if rule is None:
        return op.__name__ + "Backward0"
    return rule if isinstance(rule, str) else rule(node)
