"""Standard test functions and starts shared by the BFGS and minimize tests; each works on
descentlab and torch tensors alike."""


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def extended_rosenbrock(x):
    """Σ over pairs (x₂ᵢ₋₁, x₂ᵢ) of 100(x₂ᵢ − x₂ᵢ₋₁²)² + (1 − x₂ᵢ₋₁)²; minimum 0 at all ones."""
    a, b = x[0::2], x[1::2]
    return (100 * (b - a * a) ** 2 + (1 - a) ** 2).sum()


def beale(x):
    return ((1.5 - x[0] + x[0] * x[1]) ** 2 + (2.25 - x[0] + x[0] * x[1] ** 2) ** 2
            + (2.625 - x[0] + x[0] * x[1] ** 3) ** 2)


def booth(x):
    return (x[0] + 2 * x[1] - 7) ** 2 + (2 * x[0] + x[1] - 5) ** 2


def himmelblau(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


CASES = [
    ("rosenbrock", rosenbrock, (-1.2, 1.0)),
    ("extended_rosenbrock", extended_rosenbrock, (-1.2, 1.0) * 5),
    ("beale", beale, (1.0, 1.0)),
    ("booth", booth, (0.0, 0.0)),
    ("himmelblau_3_2", himmelblau, (2.5, 2.5)),
    ("himmelblau_-2.8_3.1", himmelblau, (-2.5, 2.5)),
    ("himmelblau_-3.8_-3.3", himmelblau, (-3.5, -3.0)),
    ("himmelblau_3.6_-1.8", himmelblau, (3.5, -1.5)),
]
