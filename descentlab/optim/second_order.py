"""Second-order and quasi-Newton methods: Newton, NewtonCG, BFGS, LBFGS.

All four are closure-driven, as ``torch.optim.LBFGS``: ``step(closure)`` runs up to ``max_iter``
iterations, calling the closure (zero the gradients, recompute the loss, call ``backward``, return
the loss) whenever it needs f and ∇f at a new point. The parameters are seen as one flat vector x
(in their common dtype), so each method is plain vector algebra on NumPy arrays; the line searches
are the public ones in ``descentlab.optim.line_search``.

Newton and NewtonCG need second derivatives, which come from double backward: they run the
closure inside ``backward_creates_graph()``, so its plain ``loss.backward()`` leaves ``p.grad``
differentiable. The same closure works for all four methods.

Every iteration appends a record to ``optimizer.history`` (kept in ``state``, so it survives
``state_dict``): ``iter``, ``loss`` and ``grad_norm`` (‖∇f‖₂) at the point reached, ``step`` (the
accepted α), ``func_evals`` and ``grad_evals`` spent (each closure call computes both), and
``message`` when something noteworthy happened (an indefinite Hessian, a skipped update, ...).
"""

from .closure import CONVERGED, MAXFEV, MAXITER, NONFINITE, PRECISION_LOSS
from .newton import Newton, NewtonCG
from .quasi_newton import BFGS, LBFGS

__all__ = ["Newton", "NewtonCG", "BFGS", "LBFGS", "CONVERGED", "MAXITER", "MAXFEV",
           "PRECISION_LOSS", "NONFINITE"]
