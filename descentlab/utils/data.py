"""``descentlab.utils.data``: an alias of ``descentlab.data``, where PyTorch code looks for it."""

import sys

from .. import data as _data

# The alias is the same module object, so `from descentlab.utils.data import DataLoader` and
# isinstance checks agree with `descentlab.data`.
sys.modules[__name__] = _data
