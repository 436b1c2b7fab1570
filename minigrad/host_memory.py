"""Host memory between training steps: keeping glibc's malloc from handing it back.

A training step allocates its activations, gradients and temporaries anew each time,
arrays of hundreds of KiB to tens of MiB. glibc's malloc gives each array above its mmap
threshold pages of its own (unmapped again on free) and returns the top of its heap to
the OS whenever more than its trim threshold lies free there. Both thresholds start at
128 KiB and grow only with the largest array freed so far, so a step that frees several
MiB at once hands them back, and the next step maps them again: the OS zeroes each page
on its first touch. On a 784-512-256-10 step (batch 256) that was 900 page faults and
about a third of the step on the numpy backend (``examples/host_memory.py`` measures it).

:func:`tune_malloc` raises both thresholds once per process, so that freed arrays are
reused from the heap and up to ``TRIM_THRESHOLD`` of free heap stays mapped (per malloc
arena: the memory a process held at its peak stays resident, up to that much). It changes
malloc for the whole process, so minigrad leaves the choice to the program: ``minigrad
train`` and ``minigrad bench`` call it; a script that trains calls it once at its start
(creating a backend does not). It leaves malloc alone where the C library is not
glibc, where another allocator is preloaded, where the user has tuned malloc already
(``MALLOC_*_`` variables or ``GLIBC_TUNABLES``), and where ``MINIGRAD_TUNE_MALLOC=0``.
"""

from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # arrays above this still get pages of their own
TRIM_THRESHOLD = 128 << 20  # free memory kept at the top of the heap, at most

_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
_OTHER_ALLOCATORS = ("jemalloc", "tcmalloc", "mimalloc")

_outcome: str | None = None


def tune_malloc() -> str:
    """Raise glibc's mmap and trim thresholds (once per process); says what was done."""
    global _outcome
    if _outcome is None:
        _outcome = _tune()
    return _outcome


def malloc_settings() -> str:
    """What :func:`tune_malloc` did in this process, in words ("not tuned yet" before)."""
    return _outcome or "not tuned yet"


def _tune() -> str:
    reason = _reason_to_leave_alone()
    if reason:
        return f"left as it is ({reason})"
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mmap = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    trim = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    if not (mmap or trim):
        return "left as it is (mallopt refused the settings)"
    settings = [f"mmap threshold {MMAP_THRESHOLD >> 20} MiB" if mmap else
                "mmap threshold refused", f"trim threshold {TRIM_THRESHOLD >> 20} MiB" if trim
                else "trim threshold refused"]
    return f"glibc keeps freed memory ({', '.join(settings)})"


def _reason_to_leave_alone() -> str | None:
    if os.environ.get("MINIGRAD_TUNE_MALLOC", "1") == "0":
        return "MINIGRAD_TUNE_MALLOC=0"
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        libc = ""
    if not libc.startswith("glibc"):
        return "the C library is not glibc"
    preloaded = os.environ.get("LD_PRELOAD", "")
    for name in _OTHER_ALLOCATORS:
        if name in preloaded:
            return f"{name} is preloaded"
    for name in _USER_SETTINGS:
        if name in os.environ:
            return f"{name} is set"
    if "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return "GLIBC_TUNABLES sets glibc.malloc"
    return None
