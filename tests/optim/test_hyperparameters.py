"""Every optimizer hyperparameter is checked finite and in range: in the constructor (at least
wherever torch.optim refuses a value, and also for inf/NaN, which torch lets through), in
add_param_group, and after a param_groups edit, at the next step(), before anything moves."""

import inspect
import math

import numpy as np
import pytest

import descentlab as dl
from descentlab import optim

FIRST_ORDER = [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adadelta, optim.Adam, optim.AdamW,
               optim.Adamax, optim.NAdam, optim.RAdam, optim.Lion]
SECOND_ORDER = [optim.BFGS, optim.LBFGS, optim.Newton, optim.NewtonCG]


def w():
    return dl.tensor([0.5, -1.5], dtype=dl.float64, requires_grad=True)


def bad_values(name, allowed):
    """Values outside ``allowed``: NaN, ±inf, and just past each finite end."""
    values = [math.nan, math.inf, -math.inf]
    if allowed.low != -math.inf:
        values.append(allowed.low - 1 if not allowed.open_low else allowed.low)
    if allowed.high != math.inf:
        values.append(allowed.high + 1 if not allowed.open_high else allowed.high)
    if allowed.integer:
        values.append(2.5)
    return values


def cases():
    for cls in FIRST_ORDER + SECOND_ORDER:
        names = inspect.signature(cls.__init__).parameters
        for name, allowed in cls._ranges.items():
            if name not in names:
                continue
            for value in bad_values(name, allowed):
                if name == "betas":
                    yield cls, name, (0.9, value), value
                else:
                    yield cls, name, value, value


@pytest.mark.parametrize("cls,name,value,shown", list(cases()),
                         ids=lambda v: getattr(v, "__name__", repr(v)))
def test_constructor_refuses_out_of_range_values(cls, name, value, shown):
    with pytest.raises(ValueError) as info:
        cls([w()], **{name: value})
    message = str(info.value)
    label = "betas[1]" if name == "betas" else name
    assert message.startswith(f"{cls.__name__}: {label} must be ")
    assert f"got {shown!r}" in message
    assert "is negative" not in message


@pytest.mark.parametrize("cls,kwargs", [
    ("SGD", dict(lr=-1.0)), ("SGD", dict(lr=0.1, momentum=-0.5)),
    ("SGD", dict(lr=0.1, weight_decay=-1.0)), ("Adam", dict(lr=-1.0)),
    ("Adam", dict(eps=-1e-8)), ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))), ("AdamW", dict(weight_decay=-0.1)),
    ("Adagrad", dict(lr_decay=-1.0)), ("Adagrad", dict(initial_accumulator_value=-1.0)),
    ("RMSprop", dict(alpha=-0.1)), ("Adadelta", dict(rho=1.5)),
    ("NAdam", dict(momentum_decay=-1.0)), ("RAdam", dict(eps=-1.0)),
    ("Adamax", dict(betas=(0.9, 1.0))),
])
def test_we_refuse_what_torch_refuses(cls, kwargs):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        getattr(torch.optim, cls)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match="must be a finite number"):
        getattr(optim, cls)([w()], **kwargs)


def test_adam_lr_inf_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match=r"^Adam: lr must be a finite number >= 0, got inf; "
                                         r"pass e.g. lr=0.001$"):
        optim.Adam([w()], lr=math.inf)


def test_nan_lr_says_finite_not_negative():
    with pytest.raises(ValueError, match="lr must be a finite number >= 0, got nan"):
        optim.SGD([w()], lr=math.nan)


def test_a_bad_group_names_the_group():
    with pytest.raises(ValueError, match=r"Adam \(parameter group 1\): lr must be .* got -0.1"):
        optim.Adam([{"params": [w()]}, {"params": [w()], "lr": -0.1}])
    opt = optim.SGD([w()], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD \(parameter group 1\): momentum .* got nan"):
        opt.add_param_group({"params": [w()], "momentum": math.nan})
    assert len(opt.param_groups) == 1


def quadratic(x):
    return ((x - 1.0) ** 2).sum()


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def make(cls):
    """(x, optimizer, closure); second-order methods do one iteration per step on Rosenbrock,
    so a step after the first still moves."""
    x = w()
    kw = {"lr": 0.1} if cls in FIRST_ORDER else {"max_iter": 1}
    opt = cls([x], **kw)
    f = quadratic if cls in FIRST_ORDER else rosenbrock

    def closure():
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        return loss

    return x, opt, closure


@pytest.mark.parametrize("cls", FIRST_ORDER + SECOND_ORDER, ids=lambda c: c.__name__)
@pytest.mark.parametrize("edit,match", [
    (dict(lr=math.nan), "lr must be a finite number >= 0, got nan"),
    (dict(lr=math.inf), "lr must be a finite number >= 0, got inf"),
    (dict(lr=-0.5), "lr must be a finite number >= 0, got -0.5"),
])
def test_an_edited_group_is_checked_at_the_next_step_before_anything_moves(cls, edit, match):
    x, opt, closure = make(cls)
    opt.step(closure)
    before = x.detach().numpy().copy()
    state_before = repr(opt.state_dict()["state"])
    opt.param_groups[0].update(edit)
    with pytest.raises(ValueError, match=rf"{cls.__name__}.step\(\): param_groups\[0\]: {match}"):
        opt.step(closure)
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert repr(opt.state_dict()["state"]) == state_before
    opt.param_groups[0]["lr"] = 0.5  # a valid edit is taken
    opt.step(closure)
    assert not np.array_equal(x.detach().numpy(), before)


def test_an_edited_beta_and_a_loaded_state_dict_are_checked():
    x, opt, closure = make(optim.Adam)
    opt.step(closure)
    opt.param_groups[0]["betas"] = (0.9, 1.0)
    with pytest.raises(ValueError, match=r"betas\[1\] must be a finite number in \[0, 1\), "
                                         r"got 1.0"):
        opt.step(closure)
    opt.param_groups[0]["betas"] = (0.9, 0.999)
    saved = opt.state_dict()
    saved["param_groups"][0]["eps"] = math.nan
    opt.load_state_dict(saved)
    with pytest.raises(ValueError, match="eps must be a finite number >= 0, got nan"):
        opt.step(closure)


def test_lr_schedulers_edit_groups_without_tripping_the_check():
    torch = pytest.importorskip("torch")
    x, opt, closure = make(optim.SGD)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    t = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([t], lr=0.1)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=5)
    for _ in range(8):
        opt.step(closure)
        sched.step()
        topt.zero_grad()
        quadratic(t).backward()
        topt.step()
        tsched.step()
    np.testing.assert_allclose(x.detach().numpy(), t.detach().numpy(), rtol=1e-12)


def test_lookahead_checks_k_and_alpha():
    inner = optim.SGD([w()], lr=0.1)
    with pytest.raises(ValueError, match="Lookahead: k must be an integer >= 1, got inf"):
        optim.Lookahead(inner, k=math.inf)
    with pytest.raises(ValueError, match=r"alpha must be a finite number in \[0, 1\], got nan"):
        optim.Lookahead(inner, alpha=math.nan)


def test_second_order_integer_and_wolfe_settings():
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1, got 2.5"):
        optim.BFGS([w()], max_iter=2.5)
    with pytest.raises(ValueError, match="c1 < c2, got c1=0.5, c2=0.1"):
        optim.BFGS([w()], c1=0.5, c2=0.1)
    optim.NewtonCG([w()], cg_max_iter=None)  # None means "the number of parameters"
