"""Order parameters that classify L1 networks into strategies (Section 2.2, Eqs. 5-7 of the paper).

Orientation. The paper writes the first-layer matrix as W in R^{n0 x n1}, W[i, j] = weight from input
neuron i to hidden neuron j. This project stores it as ``w0 = weights[0]`` of shape (n1, n0),
``w0[j, i]`` (row = hidden neuron j, column = input neuron i; see :mod:`reference.task`). Every
function here takes the project's ``w0`` and transposes internally (``W = w0.T``), so that "for each
input neuron i" means "for each column of w0".

All arithmetic is float64 in numpy. Inputs may be torch tensors (any device / dtype, gradients are
ignored) or numpy arrays (or anything ``np.asarray`` accepts). Every function returns a Python float.
Shape problems and non-finite entries raise ``ValueError`` naming the offending parameter: a NaN
weight means a diverged network, which should be noticed rather than silently classified.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["double_sidedness", "strongest_connection", "seed_dependence", "order_parameters"]


def _as_matrix(value: Any, name: str) -> np.ndarray:
    """``value`` as a finite, non-empty 2-D float64 numpy array; ``ValueError`` naming ``name`` otherwise."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().double().numpy()
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix (hidden, inputs), got shape {tuple(array.shape)}")
    if array.size == 0:
        raise ValueError(f"{name} must be non-empty, got shape {tuple(array.shape)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has non-finite entries (NaN or inf)")
    return array


def double_sidedness(w0: Any) -> float:
    """alpha_1 of Eq. 5: min_i min(-min_j W_ij, max_j W_ij) / median_{i,j} |W_ij|.

    ``w0`` is the first-layer matrix in the project's orientation, shape (n1 hidden, n0 inputs); the
    paper's W is ``w0.T``, so i runs over the columns of ``w0`` and j over its rows. Biases are not
    part of it. The value is large only when every input neuron has both a strongly positive and a
    strongly negative outgoing weight; it is negative when some input's outgoing weights all share a
    sign.

    The median is numpy's (mean of the two middle values for an even count). When the median is 0
    (more than half the weights are exactly zero, e.g. an exact canonical network padded with unused
    neurons) the ratio is taken as its limit for a vanishing positive median: ``+inf`` for a positive
    numerator, ``-inf`` for a negative one, and ``0.0`` for a zero numerator. This keeps the sign (and
    hence any threshold classification) consistent with the non-degenerate case.

    Invariant to permuting inputs, permuting hidden neurons and scaling ``w0`` by a positive factor.
    """
    w = _as_matrix(w0, "w0").T  # the paper's W: rows i = inputs, columns j = hidden neurons
    per_input = np.minimum(-w.min(axis=1), w.max(axis=1))
    numerator = float(per_input.min())
    median = float(np.median(np.abs(w)))
    if median == 0.0:
        if numerator == 0.0:
            return 0.0
        return math.copysign(math.inf, numerator)
    return numerator / median


def strongest_connection(w0: Any) -> float:
    """alpha_2 of Eq. 6: max_{i,j} |W_ij| over the first-layer matrix ``w0`` (either orientation)."""
    return float(np.abs(_as_matrix(w0, "w0")).max())


def seed_dependence(w: Any, v: Any) -> float:
    """alpha_3 of Eq. 7: ||W - V||_F^2 / (||W||_F^2 + ||V||_F^2), in [0, 2].

    ``w`` and ``v`` are the first-layer matrices (same shape, either orientation, since the Frobenius
    norm ignores it) of two networks generated from one hypernetwork with different seeds. 0 means
    identical, 1 means orthogonal (as for independent random matrices), 2 means ``v = -w``.

    Both matrices are divided by their joint largest magnitude first, which changes nothing
    mathematically (the ratio is invariant to joint scaling) but avoids overflow and underflow of the
    squares. Two all-zero matrices are identical, so 0/0 is defined as 0.0. The result is clipped to
    [0, 2] to remove rounding excursions of order 1e-16.
    """
    a = _as_matrix(w, "w")
    b = _as_matrix(v, "v")
    if a.shape != b.shape:
        raise ValueError(f"v must have the shape of w, got w {tuple(a.shape)} and v {tuple(b.shape)}")
    scale = max(float(np.abs(a).max()), float(np.abs(b).max()))
    if scale == 0.0:
        return 0.0
    a = a / scale
    b = b / scale
    numerator = float(np.square(a - b).sum())
    denominator = float(np.square(a).sum() + np.square(b).sum())
    return min(2.0, max(0.0, numerator / denominator))


def order_parameters(w0: Any, v0: Any) -> dict[str, float]:
    """All three order parameters for a first-layer matrix ``w0`` and a second-seed generation ``v0``.

    Returns ``{"alpha_1": double_sidedness(w0), "alpha_2": strongest_connection(w0),
    "alpha_3": seed_dependence(w0, v0)}``. Both matrices have shape (n1 hidden, n0 inputs).
    """
    return {
        "alpha_1": double_sidedness(w0),
        "alpha_2": strongest_connection(w0),
        "alpha_3": seed_dependence(w0, v0),
    }
