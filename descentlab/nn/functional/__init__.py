"""Stateless neural-network functions (``torch.nn.functional``): the math behind every layer.

Everything here is composed of differentiable Tensor ops and the network ops of
``autograd/ops/nn.py`` (convolution, windows, max pooling, fused cross-entropy), so gradients of
any order come from the engine. Signatures and defaults follow PyTorch; where this package is
stricter (losses refuse mismatched shapes instead of broadcasting) the docstring says so.

One module per idea: activations, conv (linear and the convolutions), pooling, normalization
(batch/layer norm and dropout), lookup (embedding, one_hot), losses.
"""

from ...autograd.creation import pad
from .activations import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    prelu,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)

# Not in __all__ (as before the split) but used by nn's modules: F._pair, F.legacy_reduction.
from .conv import _pair, _single, conv1d, conv2d, conv_transpose2d, linear
from .lookup import embedding, one_hot
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    legacy_reduction,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
    sse_loss,
)
from .normalization import batch_norm, dropout, dropout1d, dropout2d, layer_norm
from .pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d

__all__ = [
    "relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "softplus", "prelu", "softmax",
    "log_softmax", "linear", "conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
    "adaptive_avg_pool2d", "batch_norm", "layer_norm", "dropout", "dropout1d", "dropout2d",
    "embedding", "pad", "one_hot", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "sse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]
