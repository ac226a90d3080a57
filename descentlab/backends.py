"""``torch.backends`` as far as CPU code touches it: availability queries and cudnn flags.

``backends.mps.is_available()`` is False; ``backends.cudnn.deterministic = True`` and friends are
accepted and change nothing (there is no cuDNN: every op here is already deterministic).
"""

from __future__ import annotations

import types

__all__ = ["mps", "cudnn", "cuda"]


def _false() -> bool:
    return False


mps = types.SimpleNamespace(is_available=_false, is_built=_false)
cudnn = types.SimpleNamespace(is_available=_false, enabled=True, deterministic=False,
                              benchmark=False, allow_tf32=True)
cuda = types.SimpleNamespace(is_built=_false,
                             matmul=types.SimpleNamespace(allow_tf32=False))
