"""Reading a ``torch.save`` zip archive without running it: a restricted unpickler admits only the
names torch writes for tensors and containers, checks every size against the bytes present, and
the result is checked once more to hold only data."""

from __future__ import annotations

import io
import pickle
import zipfile
import zlib
from collections import OrderedDict
from typing import Any

import numpy as np

from ..autograd import dtypes as _dt
from ..autograd.size import Size
from ..autograd.tensor import Tensor
from .common import UnsafeFileError, map_tensor

_MAX_PICKLE = 64 * 2**20  # a data.pkl of tensors and containers is a few KB per tensor

_STORAGE_DTYPES = {"FloatStorage": "float32", "DoubleStorage": "float64",
                   "HalfStorage": "float16", "LongStorage": "int64", "IntStorage": "int32",
                   "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
                   "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
                   "ComplexDoubleStorage": "complex128"}
_TORCH_DTYPES = {"float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
                 "bool", "complex64", "complex128", "float", "double", "half", "long", "int",
                 "short", "cfloat", "cdouble"}


class _StorageType:
    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype


class _Storage:
    """The bytes of one ``data/<key>`` entry, as a 1-D array, and where torch had them."""

    def __init__(self, array: np.ndarray, location: str) -> None:
        self.array = array
        self.location = location


def _rebuild_tensor_v2(storage: Any, storage_offset: Any, size: Any, stride: Any,
                       requires_grad: Any, backward_hooks: Any, metadata: Any = None) -> Tensor:
    if not isinstance(storage, _Storage):
        raise UnsafeFileError("load(): _rebuild_tensor_v2 was not given a storage")
    size, stride = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    offset = _int_tuple((storage_offset,), "storage_offset")[0]
    if len(size) != len(stride):
        raise UnsafeFileError(f"load(): tensor has size {size} but stride {stride}")
    _no_hooks(backward_hooks)
    arr = storage.array
    if 0 in size:
        out = np.empty(size, arr.dtype)
    else:
        last = offset + sum((s - 1) * st for s, st in zip(size, stride))
        if last >= arr.size or offset >= arr.size:
            raise UnsafeFileError(
                f"load(): a tensor of size {list(size)} (stride {list(stride)}, offset {offset}) "
                f"needs {last + 1} elements but its storage holds {arr.size} (damaged file)")
        step = arr.itemsize
        out = np.lib.stride_tricks.as_strided(
            arr[offset:], shape=size, strides=tuple(st * step for st in stride)).copy()
    t = Tensor._wrap(out)
    if requires_grad is True:
        t.requires_grad_(True)
    t._location = storage.location
    return t


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any,
                       state: Any = None) -> Tensor:
    if not isinstance(data, Tensor):
        raise UnsafeFileError("load(): _rebuild_parameter was not given a tensor")
    _no_hooks(backward_hooks)
    if state:
        raise UnsafeFileError("load(): a Parameter with extra Python state can't be loaded")
    from ..nn import Parameter

    p = Parameter(data, requires_grad=bool(requires_grad))
    p._location = getattr(data, "_location", "cpu")
    return p


def _int_tuple(v: Any, what: str) -> tuple:
    if not isinstance(v, (tuple, list)) or not all(
            type(x) is int and 0 <= x < 2**62 for x in v):
        raise UnsafeFileError(f"load(): tensor {what} {v!r:.100} is not a tuple of non-negative "
                              f"ints")
    return tuple(v)


def _no_hooks(hooks: Any) -> None:
    if hooks:
        raise UnsafeFileError("load(): the file carries backward hooks (code); refused")


def _encode_latin1(text: Any, encoding: Any = "latin1") -> bytes:
    # How protocol 2 pickles bytes: _codecs.encode(str, 'latin1'); nothing else is admitted.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafeFileError("load(): _codecs.encode is admitted for bytes (latin1) only")
    return text.encode("latin1")


def _set(items: Any = ()) -> set:
    return set(items)


def _complex(real: Any = 0.0, imag: Any = 0.0) -> complex:
    if not all(isinstance(x, (int, float)) for x in (real, imag)):
        raise UnsafeFileError("load(): complex() is admitted with numbers only")
    return complex(real, imag)


def _torch_size(sizes: Any = ()) -> Size:
    return Size(_int_tuple(tuple(sizes), "Size"))


def _torch_device(kind: Any, index: Any = None) -> Any:
    if not isinstance(kind, str) or not (index is None or type(index) is int):
        raise UnsafeFileError("load(): torch.device() is admitted with a name and index only")
    return _dt.device(kind, index)


class _OrderedDict(OrderedDict):
    """collections.OrderedDict as loaded: BUILD may set torch's ``_metadata`` on it, nothing
    else (as torch's weights_only loader, which admits only dict-valued state)."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict) or set(state) - {"_metadata"}:
            raise UnsafeFileError("load(): an OrderedDict in the file carries unexpected state")


# The names torch.save writes for tensors and containers (a subset of what torch's weights_only
# loader admits); any other name in a file is refused before anything is called.
_ALLOWED = {
    ("collections", "OrderedDict"): _OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): _torch_size,
    ("torch", "device"): _torch_device,
    ("_codecs", "encode"): _encode_latin1,
    ("builtins", "set"): _set,
    ("builtins", "complex"): _complex,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, zf: zipfile.ZipFile, prefix: str, order: str) -> None:
        super().__init__(io.BytesIO(data))
        self._zf, self._prefix, self._order = zf, prefix, order
        self._storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        fn = _ALLOWED.get((module, name))
        if fn is not None:
            return fn
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(np.dtype(_dt.resolve(_STORAGE_DTYPES[name])))
        if module == "torch" and name in _TORCH_DTYPES:
            return _dt.public(_dt.resolve(name))
        raise UnsafeFileError(
            f"load(): refused: the file asks for {module}.{name}, which is not one of the tensor "
            f"and container reconstruction names torch's weights_only loader admits. Nothing from "
            f"the file was run. descentlab loads only tensors, numbers, strings and containers; "
            f"save the object's state_dict() instead."
        )

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and isinstance(pid[3], str) and type(pid[4]) is int and pid[4] >= 0):
            raise UnsafeFileError(f"load(): unexpected persistent id {pid!r:.100} (not a torch "
                                  f"storage reference)")
        _, stype, key, location, numel = pid
        if key in self._storages:
            return self._storages[key]
        name = f"{self._prefix}data/{key}"
        try:
            info = self._zf.getinfo(name)
        except KeyError:
            raise UnsafeFileError(f"load(): the file refers to storage {key!r} but has no "
                                  f"entry {name!r} (truncated or damaged)") from None
        need = numel * stype.dtype.itemsize
        if info.file_size != need:
            raise UnsafeFileError(
                f"load(): storage {key!r} declares {numel} elements ({need} bytes) but its entry "
                f"holds {info.file_size} bytes (damaged or hostile file); refused")
        raw = self._zf.read(name)
        if len(raw) != need:
            raise UnsafeFileError(f"load(): storage {key!r} is truncated")
        arr = np.frombuffer(raw, dtype=stype.dtype.newbyteorder(self._order)).astype(
            stype.dtype, copy=True)
        storage = self._storages[key] = _Storage(arr, location)
        return storage


def load_torch_zip(data: bytes, map_location: Any) -> Any:
    """The tensors and containers of a torch.save archive, placed by ``map_location``."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise UnsafeFileError(f"load(): not a readable torch.save zip archive (truncated or "
                              f"damaged): {e}") from None
    pkls = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pkls) != 1:
        raise UnsafeFileError("load(): the zip archive has no single '<name>/data.pkl': it was "
                              "not written by torch.save")
    prefix = pkls[0][: -len("data.pkl")]
    try:
        info = zf.getinfo(pkls[0])
        if info.file_size > _MAX_PICKLE:
            raise UnsafeFileError(f"load(): data.pkl declares {info.file_size} bytes, more than a "
                                  f"tensors-only file needs ({_MAX_PICKLE}); refused")
        pkl = zf.read(pkls[0])
        big = prefix + "byteorder" in names and zf.read(prefix + "byteorder").strip() == b"big"
        obj = _RestrictedUnpickler(pkl, zf, prefix, ">" if big else "<").load()
    except UnsafeFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
        raise UnsafeFileError(f"load(): the torch.save archive is truncated or damaged: {e}") \
            from None
    except (pickle.UnpicklingError, TypeError, ValueError, AttributeError, IndexError,
            KeyError, RecursionError) as e:
        raise UnsafeFileError(f"load(): data.pkl is not a tensors-and-containers pickle "
                              f"({type(e).__name__}: {e}); refused") from None
    _check_data(obj, map_location, 0)
    return _map_all(obj, map_location)


_PLAIN = (str, bytes, int, float, complex, bool, type(None), _dt.dtype, _dt.device)


def _check_data(obj: Any, map_location: Any, depth: int) -> None:
    """The loaded object may hold only data: containers, scalars, tensors with plain arrays."""
    if depth > 200:
        raise UnsafeFileError("load(): containers nested more than 200 deep; refused")
    if isinstance(obj, Tensor):
        if type(obj._data) is not np.ndarray or set(vars(obj)) - {
                "_data", "_vbox", "_requires_grad", "_location"}:
            raise UnsafeFileError("load(): a tensor in the file carries unexpected state")
        return
    if isinstance(obj, _PLAIN):
        return
    if type(obj) in (dict, _OrderedDict):
        for k, v in obj.items():
            _check_data(k, map_location, depth + 1)
            _check_data(v, map_location, depth + 1)
        return
    if type(obj) in (list, tuple, set, Size):
        for v in obj:
            _check_data(v, map_location, depth + 1)
        return
    raise UnsafeFileError(f"load(): the file produced a {type(obj).__name__}, which is not data; "
                          f"refused")


def _map_all(obj: Any, map_location: Any) -> Any:
    """Plain OrderedDicts for ours, map_location applied to every tensor."""
    if isinstance(obj, Tensor):
        loc = obj.__dict__.pop("_location", "cpu")
        return map_tensor(obj, loc, map_location)
    if isinstance(obj, dict):
        out = OrderedDict() if type(obj) is _OrderedDict else {}
        for k, v in obj.items():
            out[k] = _map_all(v, map_location)
        return out
    if isinstance(obj, list):
        return [_map_all(v, map_location) for v in obj]
    if isinstance(obj, tuple) and not isinstance(obj, Size):
        return tuple(_map_all(v, map_location) for v in obj)
    return obj
