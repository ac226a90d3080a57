"""Stateless neural-network functions (``torch.nn.functional``): the math behind every layer.

Everything here is composed of differentiable Tensor ops and the network ops of
``autograd/ops/`` (convolution, windows, max pooling, fused cross-entropy), so gradients of
any order come from the engine. Signatures and defaults follow PyTorch; where this package is
stricter (losses refuse mismatched shapes instead of broadcasting) the docstring says so.

One module per idea, each listing what it exports in its ``__all__``: activations, conv (linear
and the convolutions), pooling, normalization (batch/layer norm and dropout), lookup
(embedding, one_hot), losses.
"""

from ...autograd.creation import pad
from . import activations, conv, lookup, losses, normalization, pooling
from .activations import *  # noqa: F403
from .conv import *  # noqa: F403
from .conv import _pair, _single  # argument parsing that nn's conv modules share
from .lookup import *  # noqa: F403
from .losses import *  # noqa: F403
from .losses import legacy_reduction  # the deprecated-arguments mapping nn's losses share
from .normalization import *  # noqa: F403
from .pooling import *  # noqa: F403

__all__ = ["pad", *activations.__all__, *conv.__all__, *pooling.__all__, *normalization.__all__,
           *lookup.__all__, *losses.__all__]
