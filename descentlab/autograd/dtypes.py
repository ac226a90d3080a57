"""Dtypes, the default dtype, type promotion, the (CPU-only) device, and random generators.

Dtypes are NumPy dtypes, so ``x.dtype == descentlab.float32`` and ``x.numpy().dtype`` agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_ALIASES = {
    "float32": float32, "float": float32, "float64": float64, "double": float64,
    "float16": float16, "half": float16, "int64": int64, "long": int64, "int32": int32,
    "int": int32, "int16": int16, "short": int16, "int8": int8, "uint8": uint8, "bool": bool_,
}


class _Default:
    dtype = float32


def get_default_dtype() -> np.dtype:
    """The dtype of new floating-point tensors (float32 unless changed)."""
    return _Default.dtype


def set_default_dtype(dtype: Any) -> None:
    """Make new floating-point tensors ``dtype`` (float32 or float64), as in torch."""
    d = resolve(dtype)
    if d not in (float32, float64):
        raise TypeError(f"only float32 and float64 can be the default dtype, got {d}")
    _Default.dtype = d


def resolve(dtype: Any) -> np.dtype:
    """A NumPy dtype from a descentlab/NumPy dtype, a Python type or a name ('float64')."""
    if dtype is None:
        return _Default.dtype
    if isinstance(dtype, str):
        key = dtype.replace("descentlab.", "").replace("torch.", "")
        if key in _ALIASES:
            return _ALIASES[key]
        raise TypeError(f"unknown dtype {dtype!r}; use one of {sorted(_ALIASES)}")
    if dtype is float:
        return _Default.dtype
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    mod = type(dtype).__module__
    if mod.startswith("torch"):
        return resolve(str(dtype))
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}") from None


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert Python data / arrays to a fresh ndarray with PyTorch's dtype inference.

    Python floats become the default dtype, ints int64, bools bool; NumPy arrays keep theirs.
    """
    from .tensor import Tensor

    if isinstance(data, Tensor):
        arr = data._data.copy()
    elif isinstance(data, np.ndarray):
        arr = np.array(data, copy=True)
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        arr = np.array(_untensor(data))
    else:
        if type(data).__module__.startswith("torch"):
            data = data.detach().cpu().numpy()
        arr = np.array(data)
    if dtype is not None:
        return arr.astype(resolve(dtype), copy=False)
    kind = arr.dtype.kind
    if kind == "f" and not isinstance(data, (np.ndarray, Tensor)):
        return arr.astype(_Default.dtype, copy=False)
    if kind in "iu" and not isinstance(data, (np.ndarray, Tensor)):
        return arr.astype(int64, copy=False)
    if kind in "OUS":
        raise TypeError(f"can't make a tensor from data of type {arr.dtype}: {data!r:.80}")
    return arr


def _flat(data: Any) -> list:
    out = []
    for x in data:
        if isinstance(x, (list, tuple)):
            out.extend(_flat(x))
        else:
            out.append(x)
    return out


def _untensor(data: Any) -> Any:
    from .tensor import Tensor

    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_untensor(x) for x in data]
    return data


_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote(a: np.dtype, b: np.dtype, a_scalar: bool = False, b_scalar: bool = False) -> np.dtype:
    """PyTorch's promotion: a higher category (bool < int < float) wins whatever its size; a 0-d
    tensor of the same category does not widen a dimensioned one."""
    ka, kb = _ORDER[a.kind], _ORDER[b.kind]
    if ka != kb:
        hi = a if ka > kb else b
        if hi.kind == "f":
            return hi
        return hi
    if a_scalar and not b_scalar:
        return b
    if b_scalar and not a_scalar:
        return a
    return np.promote_types(a, b)


def parse_to_args(args: tuple, kwargs: dict) -> Any:
    """The dtype asked for by ``.to(...)`` arguments (None if none), as Tensor.to / Module.to.

    Accepts a dtype, a tensor (its dtype), a device ('cpu' only; anything else raises), and the
    keywords dtype, device, non_blocking and copy.
    """
    from .tensor import Tensor

    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, device)):
            dev = a
        else:
            dtype = a
    if dev is not None:
        device(dev)
    return None if dtype is None else resolve(dtype)


class device:
    """A device descriptor; descentlab runs on the CPU, so only 'cpu' is accepted."""

    def __init__(self, type: Any = "cpu", index: Any = None) -> None:
        if isinstance(type, device):
            type = type.type
        name = str(type)
        if name.split(":")[0] != "cpu":
            raise RuntimeError(
                f"descentlab runs on the CPU only; device {name!r} is not available. Use "
                f"device='cpu' (or drop the device argument)."
            )
        self.type = "cpu"
        self.index = index

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, (device, str)) and str(other).split(":")[0] == "cpu"

    def __hash__(self) -> int:
        return hash("cpu")

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __str__(self) -> str:
        return "cpu"


CPU = device("cpu")


class Generator:
    """A random-number generator (wraps NumPy's PCG64), as torch.Generator."""

    def __init__(self, device: Any = "cpu") -> None:
        globals()["device"](device)
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        return self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self._rng.bit_generator.state = state


default_generator = Generator()
default_generator.manual_seed(0)


def manual_seed(seed: int) -> Generator:
    """Seed the global generator used by rand/randn/randint, init and dropout."""
    return default_generator.manual_seed(seed)


def rng(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator)._rng
