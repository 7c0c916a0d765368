"""Compiled kernels: cached on disk where possible, compiled in memory where no cache can be written."""

from __future__ import annotations

from pathlib import Path

from trading_pipeline.core.jit import KERNEL_DIGEST, compiled, kernel_digest, remove_stale_caches


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


def test_kernel_digest_changes_when_any_kernel_module_changes() -> None:
    # Arrange
    sources = [b"jit", b"iv kernel", b"american"]

    # Act
    before = kernel_digest(sources)
    after = kernel_digest([b"jit", b"iv kernel, one line changed", b"american"])

    # Assert
    assert before != after
    assert kernel_digest(sources) == before


def test_compiled_kernels_are_cached_under_the_digest_of_every_kernel_module() -> None:
    # Arrange: american.py inlines iv_kernel.py's solver, so its cache must change when that file does.
    from trading_pipeline.core import american, iv_kernel

    # Act
    names = [american.american_one.py_func.__qualname__, iv_kernel.implied_vol_one.py_func.__qualname__]

    # Assert
    assert all(name.endswith(f"__{KERNEL_DIGEST}") for name in names)


def test_remove_stale_caches_deletes_entries_of_other_kernel_versions_only(tmp_path: Path) -> None:
    # Arrange
    current = tmp_path / f"american.american_one__{KERNEL_DIGEST}-300.py311.nbi"
    stale = [
        tmp_path / "american.american_one__0123456789ab-300.py311.nbi",
        tmp_path / "iv_kernel.norm_cdf-27.py311.1.nbc",  # from before entries carried a digest
    ]
    unrelated = tmp_path / "other.pyc"
    for path in (current, *stale, unrelated):
        path.write_bytes(b"")

    # Act
    removed = remove_stale_caches(tmp_path)

    # Assert
    assert removed == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([current.name, unrelated.name])
