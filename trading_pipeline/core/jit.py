"""The one way core compiles a numeric kernel: numba, cached on disk where numba can write a cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from numba import njit

F = TypeVar("F", bound=Callable[..., Any])


def compiled(func: F) -> F:
    """`func` compiled by numba (no-Python mode, numpy error model: 1/0 gives inf, never raises).

    Machine code is cached in `__pycache__` beside the source, or in NUMBA_CACHE_DIR or the user's cache
    directory; where none is writable (a read-only install without a home directory) it is compiled in
    memory once per process instead of failing at import.
    """
    try:
        return njit(cache=True, error_model="numpy")(func)  # type: ignore[no-any-return]
    except RuntimeError as error:
        if "no locator available" not in str(error):
            raise
        return njit(error_model="numpy")(func)  # type: ignore[no-any-return]
