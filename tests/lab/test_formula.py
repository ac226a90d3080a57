"""Formula landscapes: right values and gradients; a whitelist that refuses everything else."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab.lab.formula import parse_function


def test_values_and_gradients_follow_the_formula():
    f = parse_function("x**2 + 3*sin(y)")
    x = np.array([[1.0, 0.5], [-2.0, 2.0]])
    v, g = f.value_and_grad(x)
    np.testing.assert_allclose(v, x[:, 0] ** 2 + 3 * np.sin(x[:, 1]))
    np.testing.assert_allclose(g, np.stack([2 * x[:, 0], 3 * np.cos(x[:, 1])], -1))


def test_all_whitelisted_functions_and_constants():
    f = parse_function("sqrt(abs(x)+1) + exp(-y)*tanh(x) + sigmoid(y) - log(2+cos(x))/tan(1) "
                       "+ pi*e + -x/2 + +y")
    x, y = 0.4, -0.3
    expected = (np.sqrt(abs(x) + 1) + np.exp(-y) * np.tanh(x) + 1 / (1 + np.exp(-y))
                - np.log(2 + np.cos(x)) / np.tan(1) + np.pi * np.e - x / 2 + y)
    np.testing.assert_allclose(f.value(np.array([x, y])), expected)


def test_variables_and_dimension():
    assert parse_function("w**2").dim == 1
    assert parse_function("w**2").hessian(np.array([3.0]))[0, 0] == pytest.approx(2.0)
    assert parse_function("x").dim == 1
    assert parse_function("y").dim == 2
    assert parse_function("z*x").dim == 3
    assert parse_function("x1**2 + 10*x3**2").dim == 3
    assert parse_function("x*0 + 7").value(np.zeros((4, 1))).tolist() == [7.0] * 4
    with pytest.raises(ValueError, match="mixes"):
        parse_function("x1 + y")


@pytest.mark.parametrize("source, piece", [
    ("__import__('os').system('echo hi')", "__import__"),
    ("().__class__", "Attribute"),
    ("x.__class__", "x.__class__"),
    ("(lambda: 1)()", "lambda"),
    ("[x for x in range(3)]", "ListComp"),
    ("x[0]", "x[0]"),
    ("open('/etc/passwd')", "open"),
    ("eval('1')", "eval"),
    ("sin(x, y)", "exactly one"),
    ("sin(x=1)", "exactly one"),
    ("'abc'", "str"),
    ("x if y else 2", "IfExp"),
    ("x == y", "Compare"),
    ("x // 2", "FloorDiv"),
    ("~x", "Invert"),
    ("x**1000", "exponent"),
    ("x**-1e6", "exponent"),
    ("2**2**2", "power tower"),
    ("1e300*x", "number larger"),
    ("x" + "+x" * 400, "characters long"),
    ("sin(" * 70 + "x" + ")" * 70, "nesting"),
    ("x +", "not a valid expression"),
    ("", "empty"),
    ("foo(x)", "foo"),
    ("t**2", "'t'"),
    ("x; import os", "not a valid expression"),
    ("globals()", "globals"),
    ("sin.__globals__", "sin.__globals__"),
])
def test_malicious_or_unsupported_input_is_refused_with_the_piece_named(source, piece):
    with pytest.raises(ValueError, match=None) as err:
        parse_function(source)
    assert piece in str(err.value)


def test_the_string_is_never_executed(monkeypatch, capfd):
    import builtins

    def boom(*args, **kwargs):
        raise AssertionError("eval/exec/compile must not be called on user input")

    for name in ("eval", "exec"):
        monkeypatch.setattr(builtins, name, boom)
    with pytest.raises(ValueError):
        parse_function("__import__('os').system('echo hi')")
    assert "hi" not in capfd.readouterr().out
    assert parse_function("x*y").value(np.array([2.0, 3.0])) == pytest.approx(6.0)


@pytest.mark.parametrize("source, message", [
    ("sin(1)", "has no variable (it is the constant 0.841471)"),
    ("7", "has no variable"),
    ("pi*e", "has no variable"),
    ("1/0", "the constant part '1/0' is a division by zero"),
    ("0**-1", "the constant part '0**-1' is a division by zero"),
    ("x + 0**-1", "'0**-1' is a division by zero"),
    ("(1e12)**100", "'(1e12)**100' overflows"),
    ("x*exp(1000)", "'exp(1000)' overflows"),
    ("x + log(0)", "'log(0)' is outside the function's domain"),
    ("x + sqrt(-1)", "'sqrt(-1)' is outside the function's domain"),
    ("x*(-8)**0.5", "is not a real number"),
    ("x + 1e12**20*1e12**20", "evaluates to inf"),
    ("x/0", "is not finite anywhere on [-3, 3]"),
    ("log(0*x)", "is not finite anywhere on [-3, 3]"),
    ("x*y/0", "is not finite anywhere on [-3, 3]×[-3, 3]"),
])
def test_constant_and_nowhere_finite_formulas_are_refused_clearly(source, message):
    with pytest.raises(ValueError) as err:
        parse_function(source)
    assert message in str(err.value)


def test_a_syntax_error_at_the_end_points_at_the_end():
    for source in ("x**2 +", "sin(x) *", "x -"):
        with pytest.raises(ValueError, match=f"column {len(source) + 1}, the end"):
            parse_function(source)
    with pytest.raises(ValueError, match="column 3"):  # Python's own column when it has one
        parse_function("x y")


def test_constant_parts_are_computed_once_with_the_same_values():
    f = parse_function("x*log(2)/sqrt(3) + sigmoid(-800)*y + pi")
    x = np.array([[0.7, -1.3], [2.0, 0.5]])
    expected = x[:, 0] * np.log(2) / np.sqrt(3) + 0.0 * x[:, 1] + np.pi
    np.testing.assert_allclose(f.value(x), expected, rtol=1e-15)


def test_a_formula_finite_only_somewhere_is_kept_and_its_bad_region_reported():
    f = parse_function("log(x) + y**2")
    region = f.params["nonfinite"]
    # The grid has 201 columns from -3 to 3, of which x <= 0 (log is -inf or nan) are 101.
    assert region.samples == 201 ** 2
    assert region.fraction == pytest.approx(101 / 201)
    assert region.example[0] <= 0 and not np.isfinite(region.value)
    assert parse_function("x**2 + y").params["nonfinite"].fraction == 0.0
    one = parse_function("1/x").params["nonfinite"]
    assert one.fraction == pytest.approx(1 / 201) and one.example == (0.0,)
    assert one.value == np.inf
