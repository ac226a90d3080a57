"""Real datasets: scikit-learn's bundled sets (offline) and MNIST / Fashion-MNIST (IDX files).

MNIST-style sets are downloaded once into a cache directory (``$DESCENTLAB_DATA``, else
``$XDG_CACHE_HOME/descentlab``, else ``~/.cache/descentlab``), verified against published
checksums on every load, and parsed from IDX files, gzipped or raw. The download function is a
parameter (``fetch``), and any ``file://`` URL works as a mirror, so everything runs offline too.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import math
import os
import shutil
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._fileio import atomic_path

SKLEARN_DATASETS = ("digits", "iris", "wine", "breast_cancer")


class DataFileError(ValueError):
    """A dataset file is corrupt, truncated or not in the expected format."""


class ChecksumError(DataFileError):
    """A file's checksum differs from the published one."""


def load_sklearn(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One of scikit-learn's bundled datasets as ``(X float64 (N, d), y int64 (N,))``.

    ``name`` is ``"digits"`` (1797×64, 10 classes), ``"iris"`` (150×4, 3), ``"wine"`` (178×13, 3)
    or ``"breast_cancer"`` (569×30, 2). The data ship inside scikit-learn, so nothing is
    downloaded; scikit-learn itself is an optional dependency.
    """
    if name not in SKLEARN_DATASETS:
        raise ValueError(f"unknown scikit-learn dataset {name!r}; choose one of "
                         f"{', '.join(SKLEARN_DATASETS)}")
    try:
        sk = importlib.import_module("sklearn.datasets")
    except ImportError as e:
        raise ImportError(f"the {name!r} dataset ships with scikit-learn, which is not "
                          "installed: pip install scikit-learn") from e
    bunch = getattr(sk, f"load_{name}")()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


# ------------------------------------------------------------------------------------- IDX files

_MAX_IDX_BYTES = 1 << 40  # beyond any dataset in this format: a header claiming more is damaged
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(raw: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into an array.

    Format: two zero bytes, a type code (0x08 ubyte … 0x0E double), the number of dimensions,
    then each dimension as a big-endian uint32, then the values in row-major order.
    """
    if len(raw) < 4:
        raise DataFileError(f"{source}: IDX file is truncated ({len(raw)} bytes, the header alone "
                            "is 4+); delete it and download it again")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataFileError(f"{source}: not an IDX file (magic bytes {raw[:4].hex()}, expected "
                            "0000 then a type code 08/09/0b/0c/0d/0e); check the file")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    if ndim == 0:
        raise DataFileError(f"{source}: IDX header declares 0 dimensions (bytes "
                            f"{raw[:4].hex()}); a data file has at least one, so the file is "
                            "damaged: delete it and download it again")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(f"{source}: IDX file is truncated inside its header ({len(raw)} "
                            f"bytes, its {ndim} dimensions need {header}); delete it and "
                            "download it again")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    # Python integers: a product of huge declared dimensions must not wrap around in int64 and
    # then happen to match the data length.
    expected = math.prod(dims) * dtype.itemsize
    got = len(raw) - header
    if expected > got and expected > _MAX_IDX_BYTES:
        raise DataFileError(f"{source}: IDX header declares shape {dims}, {expected:,} bytes of "
                            f"data, but the file holds {got:,}; the header is damaged: delete "
                            "it and download it again")
    if got != expected:
        what = "truncated" if got < expected else "longer than its header says"
        raise DataFileError(f"{source}: IDX file is {what}: shape {dims} needs {expected} bytes "
                            f"of data, found {got}; delete it and download it again")
    # astype to native byte order also copies out of the read-only bytes buffer.
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw, told apart by content, not by name)."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataFileError(f"{os.fspath(path)}: corrupt or truncated gzip data ({e}); "
                                "delete it and download it again") from e
    return parse_idx(raw, os.fspath(path))


# ------------------------------------------------------------------------- download + checksums


def file_checksum(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """The hex digest of a file (``"md5"`` or ``"sha256"``), read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(path: Path, checksum: str, label: str) -> None:
    """Raise ChecksumError unless ``path`` matches ``checksum`` (``md5:<hex>``/``sha256:<hex>``).

    ``label`` names the file in the message (the temporary path of a download means nothing).
    """
    algorithm, _, expected = checksum.partition(":")
    if algorithm not in ("md5", "sha256") or not expected:
        raise ValueError(f"checksum {checksum!r} must look like 'md5:<hex>' or 'sha256:<hex>'")
    actual = file_checksum(path, algorithm)
    if actual != expected.lower():
        raise ChecksumError(f"{label}: {algorithm} is {actual}, expected {expected} (the file is "
                            "corrupt or incomplete)")


Fetch = Callable[[str, str], None]


def urlfetch(url: str, dest: str) -> None:
    """Default ``fetch``: copy ``url`` (http(s):// or file://) to the local path ``dest``."""
    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as f:
        shutil.copyfileobj(response, f, 1 << 20)


def download(urls: Sequence[str], dest: str | os.PathLike, checksum: str,
             fetch: Fetch | None = None) -> Path:
    """Fetch the first of ``urls`` that works into ``dest`` and verify its checksum.

    The file is written under a temporary name and renamed into place only once its checksum
    matches, so an interrupted download never leaves a half file where a good one is expected.

    Args:
        urls: mirrors to try in order.
        dest: the final path.
        checksum: ``"md5:<hex>"`` or ``"sha256:<hex>"``.
        fetch: ``fetch(url, path)`` writing the file (default ``urlfetch``); tests pass a fake.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        try:
            with atomic_path(dest, suffix=".part") as tmp:
                (fetch or urlfetch)(url, str(tmp))
                _verify(tmp, checksum, "downloaded data")
            return dest
        except (OSError, ValueError) as e:
            errors.append(f"{url}: {e}")
    # The first line stands alone (the CLI prints only it): what failed and where the file goes.
    raise OSError(f"could not download {dest.name} (no mirror answered, or the downloads were "
                  f"corrupt); check the network, or put a good copy of {dest.name} into "
                  f"{dest.parent} by hand "
                  "(set DESCENTLAB_DATA to use another data folder)\n  " + "\n  ".join(errors))


def default_cache_dir() -> Path:
    """Where downloaded datasets live: ``$DESCENTLAB_DATA``, else the user's cache directory."""
    if os.environ.get("DESCENTLAB_DATA"):
        return Path(os.environ["DESCENTLAB_DATA"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "descentlab"


@dataclass(frozen=True)
class IdxSource:
    """An MNIST-style dataset: a cache folder name, mirrors, and the four IDX files.

    ``files`` maps ``train_images``, ``train_labels``, ``test_images``, ``test_labels`` to
    ``(filename, checksum)``; a file's URL is ``mirror + filename``.
    """

    name: str
    mirrors: tuple[str, ...]
    files: dict[str, tuple[str, str]]


def _idx_files(train_images: str, train_labels: str, test_images: str,
               test_labels: str) -> dict[str, tuple[str, str]]:
    """The four files of an MNIST-layout source with their MD5 checksums."""
    checksums = {"train_images": train_images, "train_labels": train_labels,
                 "test_images": test_images, "test_labels": test_labels}
    names = {"train_images": "train-images-idx3-ubyte.gz",
             "train_labels": "train-labels-idx1-ubyte.gz",
             "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}
    return {key: (names[key], f"md5:{checksums[key]}") for key in names}


MNIST = IdxSource(
    "mnist",
    ("https://ossci-datasets.s3.amazonaws.com/mnist/",
     "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    _idx_files("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
               "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"),
)

FASHION_MNIST = IdxSource(
    "fashion_mnist",
    ("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
     "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
    _idx_files("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
               "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"),
)

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")


def _cached_file(source: IdxSource, role: str, root: Path, download_ok: bool,
                 fetch: Fetch | None) -> Path:
    filename, checksum = source.files[role]
    path = root / source.name / filename
    if path.exists():
        try:
            _verify(path, checksum, str(path))
            return path
        except ChecksumError as e:
            if not download_ok:
                raise ChecksumError(f"{e}; delete it, or pass download=True to fetch a fresh "
                                    "copy") from None
            # A corrupt cached copy is replaced by a fresh download below.
    elif not download_ok:
        raise FileNotFoundError(f"{path} not found; pass download=True to fetch it, or copy "
                                f"{filename} there by hand")
    try:
        return download([m + filename for m in source.mirrors], path, checksum, fetch)
    except OSError as e:
        # Name every file of the set: a user copying them by hand needs all four.
        names = ", ".join(name for name, _ in source.files.values())
        details = str(e).partition("\n")[2]
        raise OSError(f"could not download {filename} for {source.name} (no mirror answered, "
                      f"or the downloads were corrupt); check the network, or put its files "
                      f"({names}) into "
                      f"{path.parent} by hand (set DESCENTLAB_DATA to use another data folder)"
                      + (f"\n{details}" if details else "")) from e


def load_idx_dataset(source: IdxSource, train: bool = True, root: str | os.PathLike | None = None,
                     download: bool = True,
                     fetch: Fetch | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of an MNIST-style dataset, downloading and caching them on first use.

    Returns ``(images uint8 (N, H, W), labels int64 (N,))``.

    Args:
        source: which dataset (``MNIST``, ``FASHION_MNIST`` or your own ``IdxSource``).
        train: the training split (else the test split).
        root: cache directory (default ``default_cache_dir()``).
        download: fetch missing or corrupt files (else raise).
        fetch: ``fetch(url, path)`` download function (default ``urlfetch``).
    """
    split = "train" if train else "test"
    root = Path(root) if root is not None else default_cache_dir()
    images = read_idx(_cached_file(source, f"{split}_images", root, download, fetch))
    labels = read_idx(_cached_file(source, f"{split}_labels", root, download, fetch))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataFileError(f"{source.name} {split}: images {images.shape} and labels "
                            f"{labels.shape} do not pair up (expected (N, H, W) and (N,)); "
                            f"delete {root / source.name} and download again")
    return images, labels.astype(np.int64)


def load_mnist(train: bool = True, root: str | os.PathLike | None = None, download: bool = True,
               fetch: Fetch | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits: ``(images uint8 (N, 28, 28), labels int64 (N,))``, 60000 train / 10000 test.

    Arguments as ``load_idx_dataset``.
    """
    return load_idx_dataset(MNIST, train, root, download, fetch)


def load_fashion_mnist(train: bool = True, root: str | os.PathLike | None = None,
                       download: bool = True,
                       fetch: Fetch | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST (Zalando): same shapes as MNIST, classes in ``FASHION_MNIST_CLASSES``.

    Arguments as ``load_idx_dataset``.
    """
    return load_idx_dataset(FASHION_MNIST, train, root, download, fetch)
