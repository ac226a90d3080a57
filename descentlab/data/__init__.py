"""Data for training: datasets, the DataLoader, and built-in datasets.

``torch.utils.data`` names and semantics (also importable as ``descentlab.utils.data``):
``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split``, samplers and
``DataLoader``; plus ``NpyDataset`` for memory-mapped data bigger than memory, synthetic
generators (``make_spiral``, ...), scikit-learn's bundled sets, MNIST / Fashion-MNIST, the
``load_dataset(name)`` registry, and ``load_user_data(path)`` for your own CSV / NumPy files.
"""

from .dataset import ConcatDataset, Dataset, NpyDataset, Subset, TensorDataset, random_split
from .datasets import (
    make_circle,
    make_gaussians,
    make_linear,
    make_moons,
    make_polynomial,
    make_sine,
    make_spiral,
    make_xor,
)
from .loader import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    default_collate,
)
from .real import (
    FASHION_MNIST,
    MNIST,
    ChecksumError,
    DataFileError,
    IdxSource,
    default_cache_dir,
    download,
    load_fashion_mnist,
    load_idx_dataset,
    load_mnist,
    load_sklearn,
    parse_idx,
    read_idx,
)
from .registry import DatasetInfo, dataset_options, list_datasets, load_dataset
from .userdata import UserDataError, load_user_data

__all__ = [
    "BatchSampler", "ChecksumError", "ConcatDataset", "DataFileError", "DataLoader", "Dataset",
    "DatasetInfo", "FASHION_MNIST", "IdxSource", "MNIST", "NpyDataset", "RandomSampler",
    "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset",
    "UserDataError", "dataset_options", "default_cache_dir", "default_collate", "download",
    "list_datasets", "load_dataset", "load_fashion_mnist", "load_idx_dataset", "load_mnist",
    "load_sklearn", "load_user_data", "make_circle",
    "make_gaussians", "make_linear", "make_moons", "make_polynomial", "make_sine", "make_spiral",
    "make_xor", "parse_idx", "random_split", "read_idx",
]
