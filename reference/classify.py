"""Strategy classification in order-parameter space, with boundaries calibrated on canonical networks.

The paper separates strategies in the plane of double sidedness alpha_1 and strongest connection
alpha_2 with "hand picked" boundaries (Fig. 2). alpha_2 is absolute, so the same strategy built at a
different weight scale moves across any fixed alpha_2 line; and alpha_1 is infinite for exact sparse
networks (median |W| = 0). To classify networks of every scale, padded or not, this module works in
two scale-free coordinates made of the same three ingredients (for the first layer, W = w0.T,
nu = min_i min(-min_j W_ij, max_j W_ij), the numerator of alpha_1):

* peak ``rho = alpha_2 / median|W|``: the strongest connection in units of the typical weight.
  Convexity draws weights from one smooth distribution, so its peak is a few typical weights; the
  pudding and double-sided strategies dedicate strong weights to single inputs (alpha_2 made scale-free);
* balance ``s = nu / alpha_2``: how strong every input's *weaker* side is relative to the strongest
  weight. Double-sided ReLU gives every input a strong positive and a strong negative weight (s near 1);
  pudding gives it one strong side and only the small linear-term weight on the other (s near 1/k)
  (note alpha_1 = s * rho).

Rule: "none" when the network does not compute the L1 norm (loss at or above ``none_loss``) or some input
has weights of one sign only (nu <= 0: no strategy of the paper does that); else "convexity" when
rho < rho_boundary; else "pudding" when s < balance_boundary; else "double-sided".

Limit: the coordinates read the first layer input by input, so they need the strong side to be
stronger than the linear term (k > 1). The textbook ReLU pudding with k = 1 gives every input one weight
+1 and one -1, exactly as double-sided ReLU does, and is classified double-sided; its swish versions
(k >= 10, the form a swish network must take) are classified pudding.

The boundaries are not typed in: :func:`calibrate` builds labelled populations of canonical networks
(:mod:`reference.canonical`: several scales, seeds, padding, shared linear terms, small noise and
hidden-neuron permutations), computes their coordinates, and puts each boundary at the geometric mean of
the two closest members of the classes it separates (the middle of the gap on a log scale). It refuses
to return boundaries when the populations overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

import numpy as np
import torch

from . import canonical
from .order import _as_matrix

NONE_LOSS = 0.9
"""Loss at or above which a network is 'none': it explains under 10% of the target's variance (a
constant predictor scores 1.0; the crudest strategy, random convexity, about 0.65)."""


class Strategy(str, Enum):
    CONVEXITY = "convexity"
    PUDDING = "pudding"
    DOUBLE_SIDED = "double-sided"
    NONE = "none"


@dataclass(frozen=True)
class Coordinates:
    """The classifier's view of a first layer: the paper's alpha_1, alpha_2 and the scale-free rho, s."""

    alpha_1: float
    alpha_2: float
    rho: float
    balance: float
    nu: float


def coordinates(w0: Any) -> Coordinates:
    """Coordinates of the first-layer matrix ``w0`` (shape (hidden, inputs), the project's orientation)."""
    w = _as_matrix(w0, "w0").T
    nu = float(np.minimum(-w.min(axis=1), w.max(axis=1)).min())
    alpha_2 = float(np.abs(w).max())
    median = float(np.median(np.abs(w)))
    rho = alpha_2 / median if median > 0 else math.inf
    alpha_1 = nu / median if median > 0 else math.copysign(math.inf, nu) if nu else 0.0
    balance = nu / alpha_2 if alpha_2 > 0 else 0.0
    return Coordinates(alpha_1=alpha_1, alpha_2=alpha_2, rho=rho, balance=balance, nu=nu)


@dataclass(frozen=True)
class Boundaries:
    """Where one strategy ends and the next begins (see the module docstring for the rule)."""

    rho: float
    balance: float
    none_loss: float = NONE_LOSS


def classify(w0: Any, loss: float | None = None, boundaries: Boundaries | None = None) -> Strategy:
    """The strategy of a network with first layer ``w0`` and (optionally) its ``loss`` on the L1 task."""
    b = default_boundaries() if boundaries is None else boundaries
    if loss is not None and not (math.isfinite(loss) and loss < b.none_loss):
        return Strategy.NONE
    c = coordinates(w0)
    if c.nu <= 0:
        return Strategy.NONE
    if c.rho < b.rho:
        return Strategy.CONVEXITY
    if c.balance < b.balance:
        return Strategy.PUDDING
    return Strategy.DOUBLE_SIDED


# --- calibration on canonical networks ---

#: Strong-weight scales k of the canonical pudding and double-sided networks: from 10, where their swish
#: versions already fit the target to a loss under 0.01, upwards.
CALIBRATION_SCALES = (10.0, 20.0, 40.0)
#: Weight scales of the canonical convexity networks (the best fit is near 1).
CALIBRATION_CONVEXITY_SCALES = (0.25, 0.5, 1.0, 2.0)
#: Relative std of the Gaussian noise added to every first-layer weight ("small noise").
CALIBRATION_NOISE = (0.0, 0.01, 0.03, 0.05)


def canonical_population(seed: int = 0, n: int = 16, hidden: int = 48) -> list[tuple[Strategy, torch.Tensor]]:
    """Labelled first layers of canonical networks, each noised and with its hidden neurons shuffled.

    Convexity: normal and bimodal weights at every CALIBRATION_CONVEXITY_SCALES, 3 seeds. Pudding:
    both signs, the linear term in one neuron (rest padded) or shared by every leftover neuron.
    Double-sided: exactly 2n hidden neurons, or padded. Each at every CALIBRATION_SCALES. Every network
    then gets each CALIBRATION_NOISE level (relative to its largest weight) and a random permutation of
    its hidden neurons, all drawn from one generator seeded by ``seed``.
    """
    generator = torch.Generator().manual_seed(seed)
    bases: list[tuple[Strategy, torch.Tensor]] = []
    for distribution in ("normal", "bimodal"):
        for scale in CALIBRATION_CONVEXITY_SCALES:
            for s in range(3):
                w, _ = canonical.convexity(n, hidden=hidden, seed=seed * 100 + s, distribution=distribution,
                                           weight_scale=scale)
                bases.append((Strategy.CONVEXITY, w[0]))
    for k in CALIBRATION_SCALES:
        for sign in (1, -1):
            for linear in (1, hidden - n):
                w, _ = canonical.pudding(n, sign, hidden=hidden, activation="swish", scale=k, linear_neurons=linear)
                bases.append((Strategy.PUDDING, w[0]))
        for width in (2 * n, hidden):
            w, _ = canonical.double_sided(n, hidden=width, activation="swish", scale=k)
            bases.append((Strategy.DOUBLE_SIDED, w[0]))
    population = []
    for label, w0 in bases:
        for noise in CALIBRATION_NOISE:
            noisy = w0 + noise * w0.abs().max() * torch.randn(w0.shape, generator=generator, dtype=w0.dtype)
            permutation = torch.randperm(w0.shape[0], generator=generator)
            population.append((label, noisy[permutation]))
    return population


def _gap_middle(low: list[float], high: list[float], what: str) -> float:
    """Geometric mean of max(low) and min(high); they must not overlap."""
    top, bottom = max(low), min(high)
    if not top < bottom:
        raise ValueError(f"canonical populations overlap in {what}: {top:.4g} >= {bottom:.4g}")
    return math.sqrt(top * bottom)


def calibrate(seed: int = 0) -> Boundaries:
    """Boundaries in the middle of the gaps between the canonical populations (see module docstring)."""
    coords = [(label, coordinates(w0)) for label, w0 in canonical_population(seed)]
    rho_convexity = [c.rho for label, c in coords if label is Strategy.CONVEXITY]
    rho_structured = [c.rho for label, c in coords if label is not Strategy.CONVEXITY]
    balance_pudding = [c.balance for label, c in coords if label is Strategy.PUDDING]
    balance_double = [c.balance for label, c in coords if label is Strategy.DOUBLE_SIDED]
    return Boundaries(
        rho=_gap_middle(rho_convexity, rho_structured, "rho (convexity vs pudding and double-sided)"),
        balance=_gap_middle(balance_pudding, balance_double, "balance (pudding vs double-sided)"),
    )


@cache
def default_boundaries() -> Boundaries:
    """:func:`calibrate` with seed 0, computed once per process (about a second)."""
    return calibrate(0)
