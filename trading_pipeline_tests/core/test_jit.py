"""Compiled kernels: cached on disk where possible, compiled in memory where no cache can be written."""

from __future__ import annotations

from trading_pipeline.core.jit import compiled


def test_compiled_when_no_cache_location_exists_compiles_in_memory_instead_of_failing() -> None:
    # Arrange: a function with no source file, so numba has nowhere to put a cache (as on a read-only
    # install without a home directory).
    namespace: dict[str, object] = {}
    exec("def twice(x):\n    return 2.0 * x\n", namespace)

    # Act
    kernel = compiled(namespace["twice"])  # type: ignore[arg-type]

    # Assert
    assert kernel(1.5) == 3.0


def test_compiled_divides_by_zero_like_numpy_instead_of_raising() -> None:
    # Arrange
    def ratio(a: float, b: float) -> float:
        return a / b

    # Act
    kernel = compiled(ratio)

    # Assert
    assert kernel(1.0, 0.0) == float("inf")
