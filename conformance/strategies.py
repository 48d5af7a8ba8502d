"""Hypothesis strategies for the suite's inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


def layer_sizes(max_depth: int = 4, max_width: int = 64) -> st.SearchStrategy[tuple[int, ...]]:
    """(n_0, ..., n_N) with 1 <= N <= max_depth weight layers and widths in [1, max_width]."""
    return st.lists(st.integers(1, max_width), min_size=2, max_size=max_depth + 1).map(tuple)


def hidden_layer_sizes(max_depth: int = 4, max_width: int = 24) -> st.SearchStrategy[tuple[int, ...]]:
    """Sizes with at least one hidden layer of width >= 2 (something to permute)."""
    return st.lists(st.integers(2, max_width), min_size=3, max_size=max_depth + 1).map(tuple)


def betas() -> st.SearchStrategy[float]:
    """Log-uniform-ish betas over the paper's range [1e-12, 1]."""
    return st.floats(-12.0, 0.0).map(lambda e: float(10.0**e))


def seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**31 - 2)


def matrices(rows: int, cols: int) -> st.SearchStrategy[np.ndarray]:
    """Gaussian matrices of a drawn scale (no exact zeros, so every order parameter is finite)."""
    return st.tuples(seeds(), st.floats(1e-3, 1e3)).map(
        lambda args: np.random.default_rng(args[0]).standard_normal((rows, cols)) * args[1])
