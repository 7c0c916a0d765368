"""The one way core compiles a numeric kernel: numba, cached on disk where numba can write a cache."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from numba import njit

F = TypeVar("F", bound=Callable[..., Any])

#: The modules whose compiled functions call (and inline) each other. Numba keys a cached function on its
#: own file only, so after a change to iv_kernel.py the cached american.py kernels would keep the old solver:
#: every cache entry's name carries a digest of all of them instead.
KERNEL_SOURCES = ("jit.py", "iv_kernel.py", "american.py")
_CORE = Path(__file__).resolve().parent


def kernel_digest(sources: Iterable[bytes]) -> str:
    """A short digest of the kernel modules' sources: it names the cache entries compiled from them."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(hashlib.sha256(source).digest())
    return digest.hexdigest()[:12]


KERNEL_DIGEST = kernel_digest((_CORE / name).read_bytes() for name in KERNEL_SOURCES)


def compiled(func: F) -> F:
    """`func` compiled by numba (no-Python mode, numpy error model: 1/0 gives inf, never raises).

    Machine code is cached in `__pycache__` beside the source, or in NUMBA_CACHE_DIR or the user's cache
    directory, under a name carrying KERNEL_DIGEST; where none is writable (a read-only install without a
    home directory) it is compiled in memory once per process instead of failing at import.
    """
    func.__qualname__ = f"{func.__qualname__}__{KERNEL_DIGEST}"
    try:
        return njit(cache=True, error_model="numpy")(func)  # type: ignore[no-any-return]
    except RuntimeError as error:
        if "no locator available" not in str(error):
            raise
        return njit(error_model="numpy")(func)  # type: ignore[no-any-return]


def remove_stale_caches(cache_dir: Path = _CORE / "__pycache__") -> int:
    """Delete cache entries compiled from other versions of the kernel modules; how many files went."""
    removed = 0
    for path in cache_dir.glob("*.nb[ic]"):
        if f"__{KERNEL_DIGEST}-" not in path.name:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


with contextlib.suppress(OSError):  # a read-only install has nothing to clean
    remove_stale_caches()
