"""descentlab.optim: the descent family with torch.optim's API (see rules.py for the math)."""

from . import line_search, lr_scheduler, rules
from .first_order import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Lion,
    Lookahead,
    NAdam,
    RAdam,
    RMSprop,
)
from .minimize import OptimizeResult, minimize
from .optimizer import Optimizer, required
from .second_order import BFGS, LBFGS, Newton, NewtonCG

__all__ = [
    "Optimizer", "required", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax",
    "NAdam", "RAdam", "Lion", "Lookahead", "Newton", "NewtonCG", "BFGS", "LBFGS", "line_search",
    "lr_scheduler", "rules", "minimize", "OptimizeResult",
]
