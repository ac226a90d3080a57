"""Importing descentlab keeps freed array memory in the process (glibc): a step that allocates
and frees the same few-MiB buffers again must not fault in fresh pages each time."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")

# Like a training step: a dozen 3 MiB activations alive at once, then all freed; the page faults
# of the last 10 rounds are counted.
_PROBE = """
import resource, sys
import numpy as np
import descentlab
print(int(descentlab._malloc.tune()))
def step():
    held = [np.ones(800_000, np.float32) for _ in range(12)]
    return sum(float(a[0]) for a in held)
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 10)
"""


def _probe(**env: str) -> tuple[int, int]:
    full = {k: v for k, v in os.environ.items()
            if k not in ("DESCENTLAB_MALLOC", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", _PROBE], env=full, capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    return int(out[0]), int(out[1])


def _glibc() -> bool:
    import ctypes

    try:
        return ctypes.CDLL(None).gnu_get_libc_version is not None
    except (OSError, AttributeError):
        return False


@pytest.mark.skipif(not _glibc(), reason="the tuning is glibc's mallopt")
def test_freed_buffers_are_reused_without_page_faults():
    took, faults = _probe()
    assert took == 1
    off_took, off_faults = _probe(DESCENTLAB_MALLOC="0")
    assert off_took == 0
    # 12 buffers of 3 MiB are ~9,400 pages: refaulted each round without the tuning
    assert faults < 100 < off_faults


@pytest.mark.skipif(not _glibc(), reason="the tuning is glibc's mallopt")
def test_the_users_own_malloc_settings_win():
    took, _ = _probe(MALLOC_TRIM_THRESHOLD_="131072")
    assert took == 0
