"""One entry point for every built-in dataset: ``load_dataset("spiral")`` (what ``--dataset`` uses).

It returns ready ``TensorDataset``\\ s plus what a model needs to know: input/output sizes, the
task (classification or regression) and the number of classes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd import dtypes as _dt
from . import datasets as _syn
from . import real as _real
from .dataset import TensorDataset

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]


@dataclass(frozen=True)
class DatasetInfo:
    """A loaded dataset and its shape facts.

    Attributes:
        name: registry name.
        task: ``"classification"`` or ``"regression"``.
        train: ``TensorDataset(X, y)`` for training.
        test: held-out ``TensorDataset`` or ``None`` (``test_fraction=0`` on a synthetic set).
        input_shape: shape of one sample's input, e.g. ``(2,)`` or ``(1, 28, 28)``.
        in_features: number of input units (product of ``input_shape``).
        out_features: output units: the number of classes, or the regression target width.
        n_classes: number of classes (``None`` for regression).
        image_shape: ``(C, H, W)`` when each flat input row is an image (digits, MNIST), else
            ``None``; a conv net unflattens the rows to this shape.
    """

    name: str
    task: str
    train: TensorDataset
    test: TensorDataset | None
    input_shape: tuple[int, ...]
    in_features: int
    out_features: int
    n_classes: int | None
    image_shape: tuple[int, int, int] | None = None


def _split(X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int) -> Arrays:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int (got {seed!r}); it fixes both the data and the split")
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1) (got {test_fraction!r})")
    n_test = int(round(len(X) * test_fraction))
    if n_test == 0:
        return X, y, None, None
    # A stream separate from the generator's, so the split does not shift the data itself.
    perm = np.random.default_rng([seed, 1]).permutation(len(X))
    test, train = perm[:n_test], perm[n_test:]
    return X[train], y[train], X[test], y[test]


def _synthetic(make: Callable[..., tuple[np.ndarray, np.ndarray]],
               default_test: float = 0.0) -> Callable[..., Arrays]:
    def build(seed: int = 0, test_fraction: float = default_test, **kw: Any) -> Arrays:
        return _split(*make(seed=seed, dtype=np.float64, **kw), test_fraction, seed)

    # Advertise the generator's own keywords (n_samples, noise, ...) for argument checking.
    params = [p for p in inspect.signature(make).parameters.values() if p.name not in
              ("seed", "dtype")]
    build.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*params, *inspect.signature(build).parameters.values()][:-1])
    return build


def _sklearn(name: str) -> Callable[..., Arrays]:
    def build(seed: int = 0, test_fraction: float = 0.2, standardize: bool = True) -> Arrays:
        Xtr, ytr, Xte, yte = _split(*_real.load_sklearn(name), test_fraction, seed)
        if standardize:
            # Statistics from the training split only, so no test information leaks in.
            mean, std = Xtr.mean(axis=0), Xtr.std(axis=0)
            std[std == 0] = 1.0
            Xtr = (Xtr - mean) / std
            Xte = None if Xte is None else (Xte - mean) / std
        return Xtr, ytr, Xte, yte

    return build


def _idx(source: _real.IdxSource) -> Callable[..., Arrays]:
    # ``seed`` is accepted so that every dataset takes the same call; the official split and
    # fixed files leave nothing for it to change.
    def build(seed: int = 0, root: str | None = None, download: bool = True,
              fetch: _real.Fetch | None = None, flatten: bool = True) -> Arrays:
        out = []
        for train in (True, False):
            images, labels = _real.load_idx_dataset(source, train, root, download, fetch)
            # Pixels scaled to [0, 1]; (N, 784) for an MLP, (N, 1, 28, 28) for a conv net.
            x = images.reshape(len(images), -1) if flatten else images[:, None]
            out += [x.astype(np.float64) / 255.0, labels]
        return out[0], out[1], out[2], out[3]

    return build


#: Datasets whose rows are images, for ``--model cnn`` (the rows stay flat for an MLP).
IMAGE_SHAPES: dict[str, tuple[int, int, int]] = {
    "digits": (1, 8, 8), "mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28)}

_REGISTRY: dict[str, tuple[str, Callable[..., Arrays], str]] = {
    "circle": ("classification", _synthetic(_syn.make_circle), "disc inside a ring (Playground)"),
    "xor": ("classification", _synthetic(_syn.make_xor), "exclusive or quadrants (Playground)"),
    "gaussians": ("classification", _synthetic(_syn.make_gaussians), "two blobs (Playground)"),
    "spiral": ("classification", _synthetic(_syn.make_spiral), "interleaved spirals"),
    "moons": ("classification", _synthetic(_syn.make_moons), "two half circles"),
    "linear": ("regression", _synthetic(_syn.make_linear), "y = x·w + b + noise"),
    "sine": ("regression", _synthetic(_syn.make_sine), "y = sin x + noise"),
    "polynomial": ("regression", _synthetic(_syn.make_polynomial), "y = x³ − 2x + noise"),
    "digits": ("classification", _sklearn("digits"), "8×8 digits, 1797 (scikit-learn)"),
    "iris": ("classification", _sklearn("iris"), "iris flowers, 150 (scikit-learn)"),
    "wine": ("classification", _sklearn("wine"), "wines, 178 (scikit-learn)"),
    "breast_cancer": ("classification", _sklearn("breast_cancer"),
                      "tumours, 569 (scikit-learn)"),
    "mnist": ("classification", _idx(_real.MNIST), "28×28 digits, 60000+10000 (download)"),
    "fashion_mnist": ("classification", _idx(_real.FASHION_MNIST),
                      "28×28 clothes, 60000+10000 (download)"),
}


def list_datasets() -> dict[str, str]:
    """Registry names mapped to one-line descriptions (``--dataset`` accepts these)."""
    return {name: desc for name, (_, _, desc) in _REGISTRY.items()}


def _key(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    if key not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(_REGISTRY)}")
    return key


def dataset_options(name: str) -> tuple[str, ...]:
    """The keyword options ``load_dataset(name, ...)`` accepts (besides ``dtype``)."""
    return tuple(inspect.signature(_REGISTRY[_key(name)][1]).parameters)


def load_dataset(name: str, dtype: Any = None, **kwargs: Any) -> DatasetInfo:
    """Load a built-in dataset by name, ready for a ``DataLoader``.

    Synthetic sets take their generator's keywords (``n_samples``, ``noise``, ``n_classes`` for
    spiral, ...) plus ``seed`` (default 0) and ``test_fraction`` (default 0: no test set);
    scikit-learn sets take ``seed``, ``test_fraction`` (default 0.2) and ``standardize`` (default
    True: zero mean, unit variance from the training split); MNIST sets take ``root``,
    ``download``, ``fetch`` and ``flatten`` (default True) and use the official train/test split
    (they accept ``seed`` too, which changes nothing there).

    Args:
        name: a name from ``list_datasets()`` (case and ``-``/``_`` are ignored).
        dtype: float dtype of the inputs (and regression targets); default
            ``dl.get_default_dtype()``.
        **kwargs: the dataset's own options above.
    """
    key = _key(name)
    task, build, _ = _REGISTRY[key]
    accepted = inspect.signature(build).parameters
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(f"dataset {key!r} got unknown option(s) {', '.join(unknown)}; it accepts "
                        f"{', '.join(accepted)}")
    Xtr, ytr, Xte, yte = build(**kwargs)
    fdtype = _dt.resolve(dtype)
    ydtype = np.int64 if task == "classification" else fdtype

    def wrap(X: np.ndarray, y: np.ndarray) -> TensorDataset:
        return TensorDataset(X.astype(fdtype), y.astype(ydtype))

    if task == "classification":
        n_classes = int(max(ytr.max(), -1 if yte is None else yte.max())) + 1
        out_features = n_classes
    else:
        n_classes, out_features = None, ytr.shape[1]
    input_shape = tuple(Xtr.shape[1:])
    image_shape = IMAGE_SHAPES.get(key)
    if len(input_shape) == 3:
        image_shape = input_shape
    return DatasetInfo(
        name=key, task=task, train=wrap(Xtr, ytr),
        test=None if Xte is None else wrap(Xte, yte),
        input_shape=input_shape, in_features=int(np.prod(input_shape)),
        out_features=out_features, n_classes=n_classes, image_shape=image_shape,
    )
