"""Bad input and faults: every one gives a clear error that names what went wrong."""

from __future__ import annotations

import numpy as np
import pytest

import descentlab as dl

# NaN/Inf on purpose here: NumPy's own RuntimeWarnings are expected noise.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def leaf(a, dtype=dl.float64):
    return dl.tensor(a, dtype=dtype, requires_grad=True)


# ---------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("op,name", [
    (lambda a, b: a + b, "Add"), (lambda a, b: a - b, "Sub"), (lambda a, b: a * b, "Mul"),
    (lambda a, b: a / b, "Div"), (lambda a, b: a ** b, "Pow"),
    (lambda a, b: dl.maximum(a, b), "Maximum"), (lambda a, b: dl.minimum(a, b), "Minimum"),
])
@pytest.mark.parametrize("grad", [False, True])
def test_broadcast_mismatch_names_op_and_shapes(op, name, grad):
    a = dl.ones(2, 3, dtype=dl.float64, requires_grad=grad)
    b = dl.ones(4, dtype=dl.float64)
    with pytest.raises(RuntimeError, match=rf"{name}: shapes \(2, 3\) and \(4,\) cannot be "
                                           r"broadcast"):
        op(a, b)


def test_where_mismatch_names_all_shapes():
    with pytest.raises(RuntimeError, match=r"Where: shapes \(2, 3\) and \(2, 3\) and \(4,\) "
                                           r"cannot be broadcast"):
        dl.where(dl.ones(2, 3) > 0, dl.ones(2, 3), dl.ones(4))


def test_matmul_mismatch():
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be "
                                           r"multiplied \(3 != 4"):
        dl.ones(2, 3) @ dl.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(2, 3\) and \(2,\)"):
        dl.matmul(dl.ones(2, 3), dl.ones(2))
    with pytest.raises(RuntimeError, match="at least 1D"):
        dl.matmul(dl.ones(()), dl.ones(2))
    with pytest.raises(RuntimeError, match="mm: expected 2-D"):
        dl.mm(dl.ones(2, 3, 4), dl.ones(4, 2))


def test_other_shape_errors():
    with pytest.raises(RuntimeError, match=r"reshape: shape \[4, 4\] is invalid for input of "
                                           r"size 6"):
        dl.ones(2, 3).reshape(4, 4)
    with pytest.raises(RuntimeError, match=r"cat\(\): sizes of tensors must match except in "
                                           r"dimension 0.*\(2, 3\).*\(2, 4\)"):
        dl.cat([dl.ones(2, 3), dl.ones(2, 4)])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size"):
        dl.stack([dl.ones(2), dl.ones(3)])
    with pytest.raises(RuntimeError, match=r"expand: the expanded size \(2, 4\) must match"):
        dl.ones(3, 1).expand(2, 4)
    with pytest.raises(RuntimeError, match=r"permute\(\): dims"):
        dl.ones(2, 3).permute(0, 0)
    with pytest.raises(IndexError, match=r"invalid for a tensor of shape \(2, 3\)"):
        dl.ones(2, 3)[5]
    with pytest.raises(IndexError, match="must be long, int or bool"):
        dl.ones(3)[dl.tensor([0.0, 1.0])]
    with pytest.raises(RuntimeError, match=r"grad_output has a shape of \(3,\) and output has a "
                                           r"shape of \(2,\)"):
        (leaf([1.0, 2.0]) * 2).backward(dl.ones(3, dtype=dl.float64))
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="assigned grad has data of a different size"):
        x.grad = dl.ones(3)


# ---------------------------------------------------------------------------- backward misuse
def test_backward_non_scalar_without_gradient():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"grad can be implicitly created only for scalar "
                                           r"outputs.*shape \(2,\)"):
        y.backward()


def test_backward_twice_through_freed_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time.*"
                                           r"retain_graph=True"):
        y.backward()
    y = (x.exp() * x).sum()
    dl.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        dl.autograd.grad(y, x)


def test_backward_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        dl.tensor([1.0]).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        dl.autograd.grad(leaf([1.0]).sum(), dl.tensor([1.0]))


def test_inplace_modification_of_saved_tensor_is_named():
    x = leaf([1.0, 2.0])
    h = x * 1.0
    y = h * h
    h.add_(1.0)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: input 0 of "
                                           r"MulBackward0 \(shape \(2,\)\) is at version 1; "
                                           r"expected version 0"):
        y.sum().backward()
    h2 = x.tanh()
    h2.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"the output of TanhBackward0 .*is at version 1"):
        h2.sum().backward()


# ---------------------------------------------------------------------------- dtypes and devices
@pytest.mark.parametrize("make", [
    lambda: dl.tensor([1, 2], requires_grad=True),
    lambda: dl.tensor([True], requires_grad=True),
    lambda: dl.zeros(2, dtype=dl.int64, requires_grad=True),
    lambda: dl.arange(3).requires_grad_(),
    lambda: setattr(dl.tensor([1, 2]), "requires_grad", True),
])
def test_integer_tensors_cannot_require_grad(make):
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require "
                                           "gradients"):
        make()


@pytest.mark.parametrize("make", [
    lambda: dl.tensor([1.0], device="cuda"),
    lambda: dl.zeros(2, device="cuda:0"),
    lambda: dl.ones(2, device="mps"),
    lambda: dl.randn(2, device="cuda"),
    lambda: dl.tensor([1.0]).to("cuda"),
    lambda: dl.tensor([1.0]).to(device="cuda"),
    lambda: dl.Generator(device="cuda"),
])
def test_non_cpu_device_is_a_clear_error(make):
    with pytest.raises(RuntimeError, match=r"device '(cuda|cuda:0|mps)' is not available: "
                                           r"descentlab computes on the CPU only"):
        make()


def test_cpu_device_accepted():
    x = dl.tensor([1.0], device="cpu")
    assert x.device == dl.device("cpu") and str(x.device) == "cpu" and not x.is_cuda
    assert x.to("cpu") is x and x.cpu() is x
    assert dl.zeros(2, device=dl.device("cpu")).shape == (2,)


def test_unknown_dtype():
    with pytest.raises(TypeError, match="unknown dtype"):
        dl.zeros(2, dtype="float128x")


def test_item_and_bool_of_many():
    with pytest.raises(RuntimeError, match="2 elements cannot be converted to Scalar"):
        dl.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(dl.ones(2))


def test_mean_of_integers_refused():
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype"):
        dl.tensor([1, 2]).mean()


# ---------------------------------------------------------------------------- detect_anomaly
def test_anomaly_forward_names_op():
    x = leaf([1.0, 0.0])
    with dl.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"detect_anomaly: Log produced NaN/Inf in the "
                                               r"forward pass"):
            x.log()
        y = x * 2.0  # finite: fine
        with pytest.raises(RuntimeError, match="Div produced NaN/Inf in the forward"):
            1.0 / x
    # NaN already in the inputs is not blamed on the op that merely propagates it.
    with dl.detect_anomaly():
        z = dl.tensor([float("nan")]) * 2
    assert np.isnan(z.item())
    assert not dl.autograd.is_anomaly_enabled()
    assert y.tolist() == [2.0, 0.0]


def test_anomaly_forward_without_grad():
    with dl.detect_anomaly():
        with pytest.raises(RuntimeError, match="Exp produced NaN/Inf"):
            dl.tensor([1000.0]).exp()


def test_anomaly_backward_names_op():
    x = leaf([0.0, 4.0])
    y = x.sqrt()  # forward is finite (0 and 2)
    with dl.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"detect_anomaly: .*SqrtBackward.*(nan|NaN|inf|"
                                               r"Inf)"):
            y.sum().backward()


def test_anomaly_backward_names_first_op():
    x = leaf([1.0, 2.0])
    with dl.detect_anomaly():
        h = x * 0.0  # fine forward
        y = (h.abs() + 1e-320).log()  # forward finite (log of tiny)
        with pytest.raises(RuntimeError, match="LogBackward"):
            y.sum().backward()


def test_without_anomaly_nan_is_silent_but_fine():
    x = leaf([0.0])
    y = x.log()
    assert np.isneginf(y.item())


def test_pickling_is_refused_with_a_safe_alternative():
    import pickle

    with pytest.raises(TypeError, match="not picklable.*safetensors"):
        pickle.dumps(dl.randn(3))


def test_copy_shares_values_and_deepcopy_does_not():
    import copy

    t = dl.randn(3, requires_grad=True)
    shallow, deep = copy.copy(t), copy.deepcopy(t)
    with dl.no_grad():
        t.add_(1.0)
    assert np.array_equal(shallow.detach().numpy(), t.detach().numpy())
    assert not np.array_equal(deep.detach().numpy(), t.detach().numpy())
    assert shallow.requires_grad and deep.requires_grad
