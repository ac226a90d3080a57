"""The op set. Each op is a class with an array ``forward`` and a Tensor ``backward``.

Most are declared with ``define_op`` (define.py): the forward, then the backward function whose
docstring is the op's formula; families with shared behaviour (max/min, views) keep a base class.
"""

from .arith import (
    Add,
    BroadcastTo,
    Cast,
    Clone,
    Div,
    Linear,
    MatMul,
    Mul,
    Neg,
    Pow,
    PowScalar,
    Sub,
    SumTo,
    ones_vector,
    row_offsets,
)
from .reduce import CumSum, Flip, LogSoftmax, LogSumExp, Max, Min, Prod, Softmax, Sum
from .select import Clamp, Maximum, Minimum, Where
from .shape import Cat, GetItem, IndexAdd, IndexPut, Pad, Permute, Reshape, getitem, normalize_index
from .unary import (
    Abs,
    Cos,
    Elu,
    Erf,
    Exp,
    LeakyRelu,
    Log,
    Log1p,
    Relu,
    Sigmoid,
    Sin,
    Softplus,
    Sqrt,
    Tanh,
)

__all__ = [
    "Add", "BroadcastTo", "Cast", "Clone", "Div", "Linear", "MatMul", "Mul", "Neg", "Pow",
    "PowScalar", "Sub", "SumTo", "CumSum", "Flip", "LogSoftmax", "LogSumExp", "Max", "Min",
    "Prod", "Softmax", "Sum", "Clamp", "Maximum", "Minimum", "Where", "Cat", "GetItem",
    "IndexAdd", "IndexPut", "Pad", "Permute", "Reshape", "getitem", "normalize_index", "Abs",
    "Cos", "Elu", "Erf", "Exp", "LeakyRelu", "Log", "Log1p", "Relu", "Sigmoid", "Sin",
    "Softplus", "Sqrt", "Tanh",
]
