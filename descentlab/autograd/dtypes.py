"""Dtypes, the default dtype, type promotion, the (CPU-only) device, and random generators.

Dtypes wrap NumPy dtypes, so ``x.dtype == descentlab.float32`` and ``x.numpy().dtype`` agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import graph


class dtype:
    """An element type, printed ``descentlab.float32`` as torch prints ``torch.float32``.

    It wraps a NumPy dtype (``.dtype``), which NumPy reads through that attribute, so
    ``np.zeros(3, descentlab.float32)`` works and ``x.dtype == np.float32`` compares equal.
    Attributes NumPy dtypes have (``kind``, ``itemsize``, ``name``) are forwarded.
    """

    __slots__ = ("dtype", "_label")

    def __init__(self, np_dtype: Any, label: str | None = None) -> None:
        self.dtype = np.dtype(np_dtype)
        self._label = label or self.dtype.name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dtype, name)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, dtype):
            return self.dtype == other.dtype
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.dtype)  # equal to its NumPy dtype, so mixed dict keys find each other

    def __repr__(self) -> str:
        return f"descentlab.{self._label}"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        return (dtype, (self.dtype.str, self._label))

    @property
    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.dtype.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self.dtype.kind in "fci"


float32 = dtype(np.float32)
float64 = dtype(np.float64)
float16 = dtype(np.float16)
complex64 = dtype(np.complex64)
complex128 = dtype(np.complex128)
int8 = dtype(np.int8)
int16 = dtype(np.int16)
int32 = dtype(np.int32)
int64 = dtype(np.int64)
uint8 = dtype(np.uint8)
bool_ = dtype(np.bool_, "bool")

# NumPy dtype -> its public descentlab.dtype (Tensor.dtype returns these).
_PUBLIC = {d.dtype: d for d in (float32, float64, float16, complex64, complex128, int8, int16,
                                int32, int64, uint8, bool_)}


def public(np_dtype: np.dtype) -> dtype:
    """The descentlab.dtype of a NumPy dtype (one shared object per dtype)."""
    d = _PUBLIC.get(np_dtype)
    if d is None:
        d = _PUBLIC[np_dtype] = dtype(np_dtype)
    return d


_ALIASES = {
    "float32": float32, "float": float32, "float64": float64, "double": float64,
    "float16": float16, "half": float16, "int64": int64, "long": int64, "int32": int32,
    "int": int32, "int16": int16, "short": int16, "int8": int8, "uint8": uint8, "bool": bool_,
    "complex64": complex64, "cfloat": complex64, "complex128": complex128, "cdouble": complex128,
}


class _Default:
    dtype = np.dtype(np.float32)  # kept as the NumPy dtype: array code reads it on hot paths


def get_default_dtype() -> dtype:
    """The dtype of new floating-point tensors (float32 unless changed), as torch."""
    return public(_Default.dtype)


def set_default_dtype(d: Any) -> None:
    """Make new floating-point tensors ``d`` (float16, float32 or float64), as torch.

    Python floats, ``tensor([1.5])`` and the creation functions without ``dtype=`` then use it.
    """
    try:
        resolved = resolve(d)
    except TypeError:
        resolved = None
    if resolved is None or resolved.kind != "f":
        raise TypeError(
            f"only floating-point types are supported as the default type, got {d!r}; use "
            f"descentlab.float32 or descentlab.float64"
        )
    _Default.dtype = resolved


def resolve(dtype: Any) -> np.dtype:
    """A NumPy dtype from a descentlab/NumPy dtype, a Python type or a name ('float64')."""
    if dtype is None:
        return _Default.dtype
    if isinstance(dtype, globals()["dtype"]):
        return dtype.dtype
    if isinstance(dtype, str):
        key = dtype.replace("descentlab.", "").replace("torch.", "")
        if key in _ALIASES:
            return _ALIASES[key].dtype
        raise TypeError(f"unknown dtype {dtype!r}; use one of {sorted(_ALIASES)}")
    if dtype is float:
        return _Default.dtype
    if dtype is int:
        return int64.dtype
    if dtype is bool:
        return bool_.dtype
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
    Tensor = graph.Tensor
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
        return arr.astype(int64.dtype, copy=False)
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
    Tensor = graph.Tensor
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

    Accepts a dtype, a tensor (its dtype), a device ('cpu'; an accelerator raises), and the
    keywords dtype, device, non_blocking and copy.
    """
    Tensor = graph.Tensor
    kwargs = dict(kwargs)
    dt = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dt = a.dtype
        elif isinstance(a, (str, device, int)) and not isinstance(a, bool):
            dev = a
        else:
            dt = a
    if dev is not None:
        check_device(dev)
    return None if dt is None else resolve(dt)


# Device types torch knows; descentlab accepts them all as names and computes on "cpu" only.
_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "ipu", "hpu", "mtia", "lazy",
                 "vulkan", "privateuseone")


class CPUOnlyError(RuntimeError, AssertionError):
    """An accelerator was asked for; this build computes on the CPU.

    An AssertionError too, because that is what torch raises when it was built without CUDA
    (``Torch not compiled with CUDA enabled``), so code that catches it keeps working.
    """


class device:
    """A device descriptor, as ``torch.device``: ``device("cuda:1")`` has type 'cuda', index 1.

    Any device torch names can be described (so ``device("cuda" if cuda.is_available() else
    "cpu")`` runs), but only 'cpu' can hold tensors: putting one anywhere else raises
    ``CPUOnlyError``, which says that this build computes on the CPU.
    """

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            # torch.device(0) means the current accelerator's device 0; there is none here
            raise RuntimeError(
                "Cannot access accelerator device when none is available: descentlab computes "
                "on the CPU only; use device('cpu')."
            )
        name = str(type)
        kind, _, idx = name.partition(":")
        if kind not in _DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device "
                f"string: {name}"
            )
        if idx:
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"Invalid device string: {name!r}")
            index = int(idx)
        self.type = kind
        self.index = index

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def check_device(dev: Any) -> None:
    """Raise ``CPUOnlyError`` unless ``dev`` is the CPU (None means the default device)."""
    if dev is None:
        return
    d = dev if isinstance(dev, device) else device(dev)
    if d.type != "cpu":
        raise cpu_only_error(d)


def cpu_only_error(d: device) -> CPUOnlyError:
    """The error for asking to compute on device ``d``: this build has the CPU only."""
    return CPUOnlyError(
        f"device {str(d)!r} is not available: descentlab computes on the CPU only (NumPy), "
        f"there is no {d.type.upper() if d.type in ('cuda', 'mps') else d.type} support. Use "
        f"device='cpu', or pick it with `'cuda' if descentlab.cuda.is_available() else 'cpu'`."
    )


def set_default_device(dev: Any) -> None:
    """Set the device new tensors are made on, as torch; only 'cpu' (or None) is possible."""
    check_device(dev)


def get_default_device() -> device:
    """The device new tensors are made on: always the CPU here."""
    return CPU


class Generator:
    """A random-number generator (NumPy's PCG64 underneath), as ``torch.Generator``.

    As in torch, a new ``Generator()`` starts from the fixed seed 67280421310721, while the global
    generator (``default_generator``) is seeded from the operating system's entropy when
    descentlab is imported, so two processes that never call ``manual_seed`` draw different
    numbers. ``initial_seed()`` says which seed a generator started from.
    """

    def __init__(self, device: Any = "cpu") -> None:
        check_device(device)
        self.device = CPU
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from ``seed`` (any int; taken modulo 2**64 as torch does)."""
        seed = int(seed)
        if seed < -(2**63) or seed >= 2**64:
            raise RuntimeError(
                f"Overflow when unpacking long long: seed {seed} is outside [-2**63, 2**64)"
            )
        self._seed = seed % 2**64
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh OS entropy; returns the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy % 2**64))._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self._rng.bit_generator.state = state


_DEFAULT_SEED = 67280421310721  # torch's seed for a new Generator()
default_generator = Generator()
default_generator.seed()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator used by rand/randn/randint, init and dropout."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the global generator from fresh OS entropy; returns that seed (as torch.seed)."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the global generator started from (as torch.initial_seed)."""
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    """The global generator's state, for ``set_rng_state`` (a dict here, not a byte tensor)."""
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    """Restore the global generator from ``get_rng_state()``'s dict (as torch.set_rng_state)."""
    default_generator.set_state(state)


def rng(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator)._rng
