"""Measures of structure in a network's first layer that do not use the classifier's coordinates,
so that the claims can check that a strategy label matches what the weights look like."""

from __future__ import annotations

import numpy as np


def dedicated_inputs(w0: np.ndarray, dominance: float = 2.0) -> tuple[float, float]:
    """(coverage, sign agreement) of dedicated hidden neurons.

    A hidden neuron is dedicated to input i when its largest |weight| is on i and at least ``dominance``
    times its second largest: it reads one input only, as the pudding and double-sided strategies need.
    Coverage is the fraction of inputs with at least one dedicated neuron; sign agreement is the
    fraction of dedicated weights that share the majority sign (pudding: one sign; double-sided: both).
    """
    w = np.abs(np.asarray(w0, dtype=np.float64))
    top2 = np.sort(w, axis=1)[:, -2:]
    dedicated = top2[:, 1] >= dominance * np.maximum(top2[:, 0], 1e-300)
    if w.shape[1] < 2:
        dedicated = np.ones(w.shape[0], dtype=bool)
    inputs = np.argmax(w, axis=1)[dedicated]
    coverage = len(set(inputs.tolist())) / w.shape[1]
    if not dedicated.any():
        return coverage, 0.0
    signs = np.sign(np.asarray(w0)[np.flatnonzero(dedicated), inputs])
    agreement = max((signs > 0).mean(), (signs < 0).mean())
    return float(coverage), float(agreement)


def peak(w0: np.ndarray) -> float:
    """The strongest connection in units of the median |weight| (the classifier's rho)."""
    w = np.abs(np.asarray(w0, dtype=np.float64))
    median = np.median(w)
    return float(w.max() / median) if median > 0 else float("inf")
