"""Creation functions and tensor attributes: dtypes, values and randomness as in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import descentlab as dl

torch = pytest.importorskip("torch")


def same_dtype(a, b):
    return str(a.dtype) == str(b.dtype).replace("torch.", "descentlab.")


CREATE = {
    "tensor_float": lambda lib: lib.tensor(1.5),
    "tensor_float_list": lambda lib: lib.tensor([[1.0, 2.0], [3.0, 4.0]]),
    "tensor_int": lambda lib: lib.tensor(3),
    "tensor_int_list": lambda lib: lib.tensor([1, 2, 3]),
    "tensor_mixed_list": lambda lib: lib.tensor([1, 2.5]),
    "tensor_bool": lambda lib: lib.tensor([True, False]),
    "tensor_f64_ndarray": lambda lib: lib.tensor(np.array([1.0, 2.0])),
    "tensor_i32_ndarray": lambda lib: lib.tensor(np.array([1, 2], dtype=np.int32)),
    "tensor_dtype": lambda lib: lib.tensor([1, 2], dtype=lib.float64),
    "tensor_empty": lambda lib: lib.tensor([]),
    "zeros": lambda lib: lib.zeros(2, 3),
    "zeros_tuple": lambda lib: lib.zeros((2, 3)),
    "zeros_f64": lambda lib: lib.zeros(2, dtype=lib.float64),
    "zeros_long": lambda lib: lib.zeros(2, dtype=lib.long),
    "ones": lambda lib: lib.ones(3),
    "ones_bool": lambda lib: lib.ones(2, dtype=lib.bool),
    "full_float": lambda lib: lib.full((2, 2), 1.5),
    "full_int": lambda lib: lib.full((2,), 7),
    "full_bool": lambda lib: lib.full((2,), True),
    "full_dtype": lambda lib: lib.full((2,), 7, dtype=lib.float64),
    "empty_shape": lambda lib: lib.zeros_like(lib.empty(2, 4)),
    "arange_int": lambda lib: lib.arange(5),
    "arange_start_end": lambda lib: lib.arange(2, 9, 3),
    "arange_float": lambda lib: lib.arange(0.0, 1.0, 0.25),
    "arange_float_step": lambda lib: lib.arange(0, 2, 0.5),
    "arange_dtype": lambda lib: lib.arange(4, dtype=lib.float64),
    "arange_neg": lambda lib: lib.arange(5, 0, -2),
    "linspace": lambda lib: lib.linspace(0, 1, 5),
    "linspace_f64": lambda lib: lib.linspace(-1.0, 2.0, 7, dtype=lib.float64),
    "linspace_one": lambda lib: lib.linspace(3, 4, 1),
    "eye": lambda lib: lib.eye(3),
    "eye_rect": lambda lib: lib.eye(2, 4, dtype=lib.float64),
    "zeros_like_int": lambda lib: lib.zeros_like(lib.tensor([1, 2])),
    "ones_like_f64": lambda lib: lib.ones_like(lib.zeros(2, dtype=lib.float64)),
    "full_like": lambda lib: lib.full_like(lib.zeros(2, 2), 3.5),
    "full_like_int": lambda lib: lib.full_like(lib.tensor([1, 2]), 3),
    "zeros_like_dtype": lambda lib: lib.zeros_like(lib.tensor([1, 2]), dtype=lib.float32),
    "as_tensor_list": lambda lib: lib.as_tensor([1.0, 2.0]),
}


@pytest.mark.parametrize("name", sorted(CREATE))
def test_creation_matches_torch(name):
    a, b = CREATE[name](dl), CREATE[name](torch)
    assert tuple(a.shape) == tuple(b.shape), f"{a.shape} vs {b.shape}"
    assert same_dtype(a, b), f"{a.dtype} vs {b.dtype}"
    np.testing.assert_allclose(np.asarray(a.tolist(), dtype=float),
                               np.asarray(b.tolist(), dtype=float), rtol=1e-6)
    assert not a.requires_grad and a.is_leaf


def test_default_dtype_switch():
    assert dl.get_default_dtype() == dl.float32
    dl.set_default_dtype(dl.float64)
    try:
        assert dl.tensor(1.0).dtype == dl.float64 and dl.zeros(1).dtype == dl.float64
        assert dl.tensor(1).dtype == dl.int64
    finally:
        dl.set_default_dtype(dl.float32)
    with pytest.raises(TypeError, match="only floating-point types are supported"):
        dl.set_default_dtype(dl.int64)


def test_requires_grad_at_creation():
    for make in (lambda: dl.zeros(2, requires_grad=True),
                 lambda: dl.tensor([1.0], requires_grad=True),
                 lambda: dl.randn(2, requires_grad=True),
                 lambda: dl.linspace(0, 1, 3, requires_grad=True)):
        t = make()
        assert t.requires_grad and t.is_leaf and t.grad is None


def test_tensor_copies_but_from_numpy_shares():
    a = np.array([1.0, 2.0])
    t = dl.tensor(a)
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    s = dl.from_numpy(a)
    assert s.dtype == dl.float64
    a[1] = 7.0
    assert s.tolist() == [9.0, 7.0]
    s[0] = -1.0
    assert a[0] == -1.0
    assert s.numpy() is a or np.shares_memory(s.numpy(), a)
    ai = np.arange(3, dtype=np.int32)
    assert dl.from_numpy(ai).dtype == dl.int32
    with pytest.raises(TypeError, match="expected np.ndarray"):
        dl.from_numpy([1.0, 2.0])
    # as_tensor shares an ndarray of the same dtype, copies otherwise
    assert np.shares_memory(dl.as_tensor(a).numpy(), a)
    assert not np.shares_memory(dl.as_tensor(a, dtype=dl.float32).numpy(), a)


def test_tensor_from_tensor_list_and_scalars():
    t = dl.tensor([dl.tensor(1.0), dl.tensor(2.0)])
    assert t.tolist() == [1.0, 2.0] and t.dtype == dl.float32
    assert dl.Tensor([1, 2]).dtype == dl.float32  # torch.Tensor(...) is floating


@pytest.mark.parametrize("fn", [
    lambda **kw: dl.rand(3, 4, **kw),
    lambda **kw: dl.randn((3, 4), **kw),
    lambda **kw: dl.randint(0, 10, (3, 4), **kw),
    lambda **kw: dl.randperm(10, **kw),
])
def test_manual_seed_and_generator_reproducible(fn):
    dl.manual_seed(123)
    a = fn()
    b = fn()
    dl.manual_seed(123)
    c = fn()
    np.testing.assert_array_equal(a.numpy(), c.numpy())
    assert not np.array_equal(a.numpy(), b.numpy())
    g1 = dl.Generator().manual_seed(5)
    g2 = dl.Generator().manual_seed(5)
    x1 = fn(generator=g1)
    dl.manual_seed(999)
    _ = fn()  # the global generator does not disturb g2
    x2 = fn(generator=g2)
    np.testing.assert_array_equal(x1.numpy(), x2.numpy())
    state = g1.get_state()
    y1 = fn(generator=g1)
    g1.set_state(state)
    np.testing.assert_array_equal(fn(generator=g1).numpy(), y1.numpy())


def test_random_dtypes_ranges_and_statistics():
    dl.manual_seed(0)
    r = dl.rand(10_000)
    assert r.dtype == dl.float32 and r.min().item() >= 0 and r.max().item() < 1
    assert abs(r.mean().item() - 0.5) < 0.02
    n = dl.randn(10_000, dtype=dl.float64)
    assert n.dtype == dl.float64 and abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    i = dl.randint(3, 7, (1000,))
    assert i.dtype == dl.int64 and set(np.unique(i.numpy())) == {3, 4, 5, 6}
    i2 = dl.randint(5, (10,))
    assert i2.min().item() >= 0 and i2.max().item() < 5
    assert sorted(dl.randperm(6).tolist()) == list(range(6))
    assert dl.rand_like(dl.zeros(2, 3, dtype=dl.float64)).dtype == dl.float64
    assert dl.randn_like(dl.zeros(2, 3)).shape == (2, 3)


def test_attributes():
    x = dl.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    t = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert tuple(x.shape) == tuple(t.shape) and x.ndim == t.ndim and x.dim() == t.dim()
    assert tuple(x.size()) == tuple(t.size()) and x.size(1) == t.size(1) and x.size(-1) == 3
    assert x.numel() == t.numel() and len(x) == len(t)
    assert x[1, 2].item() == 6.0 and isinstance(x[0, 0].item(), float)
    assert dl.tensor(3).item() == 3 and isinstance(dl.tensor(3).item(), int)
    assert x.tolist() == t.tolist()
    assert x.is_floating_point() and not dl.tensor([1]).is_floating_point()
    assert float(dl.tensor(2.5)) == 2.5 and int(dl.tensor(3)) == 3
    assert [r.tolist() for r in x] == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert "tensor(" in repr(x) and "requires_grad=True" in repr(x.clone().requires_grad_())
    assert "grad_fn=<MulBackward0>" in repr(dl.tensor([1.0], requires_grad=True) * 2)
    assert x.grad_fn is None and x.is_leaf
    y = dl.tensor([1.0], requires_grad=True) * 2
    assert y.grad_fn.name() == "MulBackward0" and y.grad_fn.next_functions


def test_dtype_aliases():
    assert dl.float32 == np.float32 and dl.float64 == np.float64
    assert dl.tensor([1.0], dtype=dl.double).dtype == dl.float64
    assert dl.tensor([1.0], dtype=dl.long).dtype == dl.int64
    assert dl.tensor([1.0], dtype=dl.int64).dtype == dl.int64
    assert dl.tensor([1.0], dtype=torch.float64).dtype == dl.float64
    assert dl.tensor([1, 0], dtype=dl.bool).dtype == np.bool_
    assert dl.tensor([1.0]).double().float().dtype == dl.float32


def test_argmax_sort_topk_like_torch():
    a = np.random.default_rng(0).permutation(12).reshape(3, 4).astype(np.float64)
    x, t = dl.tensor(a), torch.tensor(a)
    assert x.argmax().item() == t.argmax().item()
    np.testing.assert_array_equal(x.argmax(dim=1).numpy(), t.argmax(dim=1).numpy())
    np.testing.assert_array_equal(x.argmin(0, keepdim=True).numpy(),
                                  t.argmin(0, keepdim=True).numpy())
    s, st = x.sort(dim=1, descending=True), t.sort(dim=1, descending=True)
    np.testing.assert_array_equal(s.values.numpy(), st.values.numpy())
    np.testing.assert_array_equal(s.indices.numpy(), st.indices.numpy())
    k, kt = x.topk(2, dim=0), t.topk(2, dim=0)
    np.testing.assert_array_equal(k.values.numpy(), kt.values.numpy())
    np.testing.assert_array_equal(k.indices.numpy(), kt.indices.numpy())
