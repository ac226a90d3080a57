"""``save`` / ``load`` without pickle: safetensors for the arrays, JSON for the structure.

``save(obj, f)`` writes one safetensors file: every tensor (and NumPy array) of ``obj`` becomes an
entry ``t0``, ``t1``, … and the shape of ``obj`` itself — dicts (int or str keys), lists, tuples,
numbers, strings, None — goes into the file's metadata as JSON under the key ``descentlab``. Any
safetensors reader sees the tensors; ``load`` rebuilds the whole object. Nothing else can be
saved: an arbitrary Python object could only be stored as a pickle, and loading a pickle runs
whatever code the file names.

``load`` also reads a file written by ``torch.save`` when it holds only tensors and containers
(a state dict, an optimizer state dict, a checkpoint dict): its ``data.pkl`` is read with a
restricted unpickler that admits only the reconstruction names torch's own ``weights_only=True``
loader admits (``torch._utils._rebuild_tensor_v2``, ``collections.OrderedDict``, ``torch.Size``,
the typed storages, dtypes, …) and refuses every other name before anything is called. Sizes,
strides and offsets are checked against the bytes actually present, and the loaded object is
checked once more to contain only data.

The safetensors format is small enough to read and write here directly, so ``save``/``load`` need
NumPy only (the ``safetensors`` package reads our files, and the tests check that it does).
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import struct
import zipfile
import zlib
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

from .autograd import dtypes as _dt
from .autograd.size import Size
from .autograd.tensor import Tensor

__all__ = ["save", "load", "UnsafeFileError"]

_FORMAT = "descentlab.save"
_VERSION = 1
_MAX_HEADER = 100 * 2**20  # safetensors' own limit on the JSON header
_MAX_PICKLE = 64 * 2**20  # a data.pkl of tensors and containers is a few KB per tensor

# safetensors dtype codes <-> NumPy
_ST_CODES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "I16": "<i2", "I32": "<i4",
             "I64": "<i8", "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?",
             "C64": "<c8"}
_ST_NAMES = {np.dtype(v): k for k, v in _ST_CODES.items()}


class UnsafeFileError(pickle.UnpicklingError):
    """A file asked ``load`` for something other than tensors and containers, or is damaged."""


# ----------------------------------------------------------------------------- save


def save(obj: Any, f: str | os.PathLike | BinaryIO, pickle_module: Any = None,
         pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True) -> None:
    """Save tensors, NumPy arrays, numbers, strings, None and dicts/lists/tuples of them.

    As ``torch.save(obj, f)``, but the file is safetensors plus a JSON description of ``obj``,
    never a pickle. ``f`` is a path or a binary file object. torch's pickle arguments are accepted
    for compatibility and change nothing (``pickle_module`` must be None: no pickle is written).

    Raises:
        TypeError: ``obj`` holds something else (a module, an optimizer, a function, …); the
            message says where, and that ``state_dict()`` is what to save.
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise TypeError("save(): pickle_module is not supported; descentlab never writes pickles")
    arrays: dict[str, np.ndarray] = {}
    names: dict[int, str] = {}
    root = _encode(obj, arrays, names, "obj")
    meta = {"format": _FORMAT, "version": _VERSION, "root": root}
    data = _safetensors_bytes(arrays, {"descentlab": json.dumps(meta, allow_nan=False)})
    if isinstance(f, (str, os.PathLike)):
        from ._fileio import atomic_path

        with atomic_path(f) as tmp:
            tmp.write_bytes(data)
    else:
        f.write(data)


def _encode(obj: Any, arrays: dict, names: dict, where: str) -> Any:
    """One JSON node for ``obj``; tensors go to ``arrays`` (shared objects stored once)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return obj if abs(obj) < 2**53 else {"int": str(obj)}
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"float": repr(obj)}
    if isinstance(obj, (Tensor, np.ndarray)):
        key = names.get(id(obj))
        if key is None:
            arr = obj._data if isinstance(obj, Tensor) else obj
            if arr.dtype not in _ST_NAMES:
                raise TypeError(f"save(): {where} has dtype {arr.dtype}, which safetensors cannot "
                                f"store; convert it first (e.g. .to(descentlab.float64))")
            key = names[id(obj)] = f"t{len(arrays)}"
            arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        if isinstance(obj, np.ndarray):
            return {"ndarray": key}
        node = {"tensor": key}
        if obj.requires_grad:
            node["requires_grad"] = True
        if type(obj).__name__ == "Parameter":
            node["parameter"] = True
        return node
    if isinstance(obj, Size):
        return {"size": list(obj)}
    if isinstance(obj, _dt.dtype):
        return {"dtype": obj._label}
    if isinstance(obj, _dt.device):
        return {"device": str(obj)}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save(): {where} has a key {k!r} of type {type(k).__name__}; "
                                f"only str and int keys can be saved")
            items.append([k, _encode(v, arrays, names, f"{where}[{k!r}]")])
        return {"ordered" if isinstance(obj, OrderedDict) else "dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, arrays, names, f"{where}[{i}]") for i, v in enumerate(obj)]}
    hint = (" Save its state_dict() instead (model.state_dict(), optimizer.state_dict()) and "
            "load it into a new instance with load_state_dict()."
            if hasattr(obj, "state_dict") else "")
    raise TypeError(
        f"save(): {where} is a {type(obj).__module__}.{type(obj).__qualname__}, which can't be "
        f"saved: descentlab writes tensors, numbers, strings, None and dicts/lists/tuples of them "
        f"as safetensors + JSON, never as a pickle (loading a pickle can run arbitrary code).{hint}"
    )


def _safetensors_bytes(arrays: dict, metadata: dict) -> bytes:
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for name, arr in arrays.items():
        n = arr.nbytes
        header[name] = {"dtype": _ST_NAMES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # safetensors pads the header to 8 bytes
    body = b"".join(arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
                    for arr in arrays.values())
    return struct.pack("<Q", len(head)) + head + body


# ----------------------------------------------------------------------------- load


def load(f: str | os.PathLike | BinaryIO, map_location: Any = None, weights_only: Any = None,
         mmap: Any = None, **pickle_load_args: Any) -> Any:
    """Load what ``save`` wrote, a plain safetensors file, or a tensors-only ``torch.save`` file.

    As ``torch.load``. Everything is loaded onto the CPU: ``map_location`` may be None, 'cpu', a
    ``device('cpu')``, a dict mapping saved locations to 'cpu', or a callable
    ``(storage, location) -> tensor`` (torch's forms); mapping to an accelerator raises
    ``CPUOnlyError``. ``weights_only`` is accepted with torch's meaning and is always in effect:
    only tensors and containers are ever loaded, whatever its value, because anything more would
    mean running pickled code.

    Raises:
        UnsafeFileError: the file names anything beyond tensors and containers (nothing from it
            is run), or it is truncated, inconsistent or not a known format.
    """
    if pickle_load_args:
        raise TypeError(f"load(): unexpected arguments {sorted(pickle_load_args)}; descentlab "
                        f"never unpickles arbitrary objects, so pickle options don't apply")
    _check_map_location(map_location)
    data = _read_all(f)
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return _load_torch_zip(data, map_location)
    if len(data) >= 10 and data[8:9] == b"{":
        arrays, meta = _parse_safetensors(data)
        return _decode_file(arrays, meta, map_location)
    if data[:1] == b"\x80":
        raise UnsafeFileError(
            "load(): this is a raw pickle (torch's legacy, pre-1.6 format or a plain pickle.dump), "
            "which can only be read by running pickle; descentlab refuses it. Re-save it with a "
            "current torch.save (a zip file) or with descentlab.save."
        )
    raise UnsafeFileError("load(): not a descentlab.save / safetensors file nor a torch.save zip "
                          f"archive (it starts with {data[:8]!r})")


def _read_all(f: Any) -> bytes:
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return fh.read()
    if hasattr(f, "read"):
        return f.read()
    raise TypeError(f"load(): expected a path or a binary file object, got {type(f).__name__}")


def _check_map_location(map_location: Any) -> None:
    if map_location is None or callable(map_location):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for t in targets:
        _dt.check_device(t)


def _map(t: Tensor, location: str, map_location: Any) -> Tensor:
    if callable(map_location) and not isinstance(map_location, _dt.device):
        got = map_location(t, location)
        if got is None:
            return t
        if not isinstance(got, Tensor):
            raise TypeError(f"load(): map_location returned a {type(got).__name__}, expected the "
                            f"tensor (storage) it was given or another tensor")
        return got
    return t


def _parse_safetensors(data: bytes) -> tuple[dict, dict]:
    """The arrays and metadata of a safetensors file, every offset and size checked."""
    if len(data) < 8:
        raise UnsafeFileError("load(): file too short to be safetensors (truncated?)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER or 8 + n > len(data):
        raise UnsafeFileError(f"load(): safetensors header declares {n} bytes but the file has "
                              f"{len(data) - 8} after the length field (truncated or damaged)")
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, ValueError) as e:
        raise UnsafeFileError(f"load(): safetensors header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise UnsafeFileError("load(): safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n:]
    arrays = {}
    for name, info in header.items():
        try:
            dtype = np.dtype(_ST_CODES[info["dtype"]])
            shape = tuple(int(s) for s in info["shape"])
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise UnsafeFileError(f"load(): safetensors entry {name!r} is malformed or has an "
                                  f"unsupported dtype: {info!r:.200}") from None
        count = math.prod(shape)
        if min(shape, default=0) < 0 or not 0 <= begin <= end <= len(body) or (
                end - begin != count * dtype.itemsize):
            raise UnsafeFileError(
                f"load(): safetensors entry {name!r} (shape {list(shape)}, {info['dtype']}) does "
                f"not fit its bytes [{begin}, {end}) of {len(body)} (truncated or damaged)")
        arrays[name] = np.frombuffer(body[begin:end], dtype=dtype).reshape(shape).astype(
            dtype.newbyteorder("="), copy=True)
    return arrays, meta


def _decode_file(arrays: dict, meta: dict, map_location: Any) -> Any:
    raw = meta.get("descentlab")
    if raw is None:  # a plain safetensors file: its tensors by name
        return {k: _map(Tensor._wrap(v), "cpu", map_location) for k, v in arrays.items()}
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise UnsafeFileError(f"load(): the descentlab structure is not valid JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise UnsafeFileError("load(): the safetensors metadata 'descentlab' is not a "
                              "descentlab.save structure")
    if doc.get("version", 0) > _VERSION:
        raise UnsafeFileError(f"load(): file format version {doc['version']} is newer than this "
                              f"descentlab reads ({_VERSION}); upgrade descentlab")
    made: dict[str, Tensor] = {}
    return _decode(doc.get("root"), arrays, made, map_location)


def _decode(node: Any, arrays: dict, made: dict, map_location: Any) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list) or not isinstance(node, dict) or len(node) == 0:
        raise UnsafeFileError(f"load(): unexpected node {node!r:.100} in the structure")
    kind = next(iter(node))
    value = node[kind]
    if kind in ("tensor", "ndarray"):
        if value not in arrays:
            raise UnsafeFileError(f"load(): the structure names a tensor {value!r} that the file "
                                  f"does not hold")
        if kind == "ndarray":
            return arrays[value]
        if value not in made:
            t = _map(Tensor._wrap(arrays[value]), "cpu", map_location)
            if node.get("parameter"):
                from .nn import Parameter

                t = Parameter(t, requires_grad=bool(node.get("requires_grad")))
            elif node.get("requires_grad"):
                t.requires_grad_(True)
            made[value] = t
        return made[value]
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "size":
        return Size(int(v) for v in value)
    if kind == "dtype":
        return _dt.public(_dt.resolve(value))
    if kind == "device":
        return _dt.device(value)
    if kind in ("dict", "ordered"):
        out = OrderedDict() if kind == "ordered" else {}
        for k, v in value:
            if not isinstance(k, (str, int)):
                raise UnsafeFileError(f"load(): dict key {k!r:.50} is not a str or int")
            out[k] = _decode(v, arrays, made, map_location)
        return out
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, made, map_location) for v in value]
        return items if kind == "list" else tuple(items)
    raise UnsafeFileError(f"load(): unknown node kind {kind!r} in the structure")


# ----------------------------------------------------------------------------- torch.save files

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
    from .nn import Parameter

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


def _load_torch_zip(data: bytes, map_location: Any) -> Any:
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
        return _map(obj, loc, map_location)
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
