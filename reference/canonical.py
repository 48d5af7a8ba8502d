"""Hand-built L1 networks: the three strategies of Section 2.1, in the project's weight format.

Every constructor returns ``(weights, biases)`` for layer sizes (n, hidden, 1): ``weights[0]`` of shape
(hidden, n), ``biases[0]`` of shape (hidden,), ``weights[1]`` of shape (1, hidden), ``biases[1]`` of
shape (1,), all float64 CPU tensors (see :mod:`reference.task`). The output layer always includes the
target standardisation, so each network approximates ``reference.task.l1_target(x)`` =
(||x||_1 - n*mu) / sigma with mu = sqrt(2/pi) and sigma = sqrt(n*(1 - 2/pi)), and can be scored
directly with ``reference.task.mse_loss``.

Two activations:

* ``"relu"``: run with :func:`relu_forward`. Double-sided and pudding networks are then exact
  (up to float64 rounding); the pudding of sign s needs its offset c >= s sum_i x_i (so c >= |sum_i x_i|
  covers both signs).
* ``"swish"``: run with ``reference.task.mlp_forward`` (the target MLP's activation). Uses
  swish(k z)/k ~ ReLU(z) and swish(c + z) - c ~ z, so "ReLU" first-layer weights are multiplied by the
  scale k and their output weights divided by k. The gap obeys
  0 <= ReLU(y) - swish(y) = |y| sigmoid(-|y|) <= SWISH_RELU_GAP = 0.2785 for every y, and
  0 <= u - swish(u) = u sigmoid(-u) <= u exp(-u) for u >= 0. :func:`swish_error_bound` turns these into
  a bound on the network's output error, which shrinks like 1/k and like c exp(-c).

The activation only changes the default scale (1 for ReLU, the exact textbook network; 10 for swish);
the weights are built the same way. ReLU is positively homogeneous, so any scale is exact for ReLU.

``hidden`` larger than the strategy's minimum appends unused hidden neurons (zero in- and out-weights,
zero bias); since ReLU(0) = swish(0) = 0 they change nothing. Unused neurons come last.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from .task import ABS_MEAN, ABS_VARIANCE, l1_target, mlp_forward

__all__ = [
    "SWISH_RELU_GAP",
    "double_sided",
    "pudding",
    "convexity",
    "relu_forward",
    "forward",
    "swish_error_bound",
    "default_offset",
]

SWISH_RELU_GAP = 0.2784645427610738
"""max_y (ReLU(y) - swish(y)) = max_u u / (1 + e^u) = W(1/e) (Lambert W), attained at u = 1.2785."""

_SWISH_GAP_ARGMAX = 1.0 + SWISH_RELU_GAP
"""u sigmoid(-u) increases on [0, 1.2785] and decreases after it."""

DEFAULT_SWISH_SCALE = 10.0
"""Default k for swish networks: output error <= 2 n SWISH_RELU_GAP / (10 sigma) (0.37 for n = 16; the MSE
is about 0.008) while the weights stay of order 10 rather than of a limit; pass a larger scale to shrink it."""

_DTYPE = torch.float64
_ACTIVATIONS = ("relu", "swish")


def _sigma(n: int) -> float:
    """Standard deviation of ||x||_1 for x ~ N(0, I_n): the target's divisor."""
    return math.sqrt(n * ABS_VARIANCE)


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return n


def _check_hidden(hidden: int | None, needed: int, strategy: str) -> int:
    if hidden is None:
        return needed
    if isinstance(hidden, bool) or not isinstance(hidden, int):
        raise ValueError(f"hidden must be an integer or None, got {hidden!r}")
    if hidden < needed:
        raise ValueError(f"hidden={hidden} is too small: the {strategy} network needs at least {needed} hidden neurons")
    return hidden


def _check_scale(scale: float | None, activation: str) -> float:
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {activation!r}")
    if scale is None:
        return 1.0 if activation == "relu" else DEFAULT_SWISH_SCALE
    scale = float(scale)
    if not (math.isfinite(scale) and scale > 0.0):
        raise ValueError(f"scale must be a finite positive number, got {scale!r}")
    return scale


def _empty(n: int, hidden: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    return (
        torch.zeros(hidden, n, dtype=_DTYPE),
        torch.zeros(hidden, dtype=_DTYPE),
        torch.zeros(1, hidden, dtype=_DTYPE),
        torch.zeros(1, dtype=_DTYPE),
    )


def default_offset(n: int) -> float:
    """10 sqrt(n): sum_i x_i ~ N(0, n), so |sum x| exceeds it with probability 1.5e-23 per sample."""
    return 10.0 * math.sqrt(_check_n(n))


def double_sided(
    n: int, hidden: int | None = None, activation: str = "relu", scale: float | None = None
) -> tuple[list[Tensor], list[Tensor]]:
    """The double-sided ReLU network (Eq. 1): ||x||_1 = sum_i ReLU(x_i) + ReLU(-x_i), 2n hidden neurons.

    Hidden neuron i computes act(k x_i) and hidden neuron n + i computes act(-k x_i) (i < n), both with
    zero bias and output weight 1 / (k sigma); the output bias is -n mu / sigma. With ReLU the network
    equals ``l1_target`` exactly; with swish the error is bounded by
    ``swish_error_bound("double_sided", n, k)`` = 2 n SWISH_RELU_GAP / (k sigma).

    ``scale`` is k (default 1 for ReLU, :data:`DEFAULT_SWISH_SCALE` for swish); ``hidden`` >= 2n pads.
    """
    n = _check_n(n)
    k = _check_scale(scale, activation)
    hidden = _check_hidden(hidden, 2 * n, "double-sided")
    w0, b0, w1, b1 = _empty(n, hidden)
    sigma = _sigma(n)
    eye = torch.eye(n, dtype=_DTYPE)
    w0[:n] = k * eye
    w0[n : 2 * n] = -k * eye
    w1[0, : 2 * n] = 1.0 / (k * sigma)
    b1[0] = -n * ABS_MEAN / sigma
    return [w0, w1], [b0, b1]


def pudding(
    n: int,
    sign: int = +1,
    hidden: int | None = None,
    activation: str = "relu",
    scale: float | None = None,
    offset: float | None = None,
    linear_neurons: int = 1,
) -> tuple[list[Tensor], list[Tensor]]:
    """The signed pudding network (NOTES.md's corrected Eqs. 2-3), n + 1 hidden neurons.

    Positive (``sign=+1``): ||x||_1 = 2 sum_i ReLU(x_i) - sum_i x_i, the linear term made by ONE neuron
    ReLU(c - sum_i x_i) - c. Negative (``sign=-1``): ||x||_1 = 2 sum_i ReLU(-x_i) + sum_i x_i with
    ReLU(c + sum_i x_i) - c. So with s = ``sign``:

    * hidden neuron i < n: first-layer weight s k on input i, zero bias, output weight 2 / (k sigma);
    * hidden neuron n: first-layer weight -s on every input, bias c, output weight 1 / sigma;
    * output bias -(c + n mu) / sigma.

    With ReLU this is exact whenever c >= s sum_i x_i; below that the output error is
    (s sum_i x_i - c) / sigma. With swish see :func:`swish_error_bound` ("pudding"). ``scale`` is k
    (defaults as in :func:`double_sided`); ``offset`` is c (default :func:`default_offset`, 10 sqrt(n));
    ``hidden`` >= n + 1 pads. Only the n "ReLU" neurons are scaled by k: the linear neuron works by
    staying in the near-linear regime of its activation, which k would not help.

    ``linear_neurons`` = m > 1 shares the linear term among m identical neurons (output weight
    1 / (m sigma) each), as trained networks do with their leftover neurons (Sec. 2.1); the function is
    unchanged and n + m hidden neurons are needed.
    """
    n = _check_n(n)
    if sign not in (1, -1) or isinstance(sign, bool):
        raise ValueError(f"sign must be +1 or -1, got {sign!r}")
    k = _check_scale(scale, activation)
    c = default_offset(n) if offset is None else float(offset)
    if not math.isfinite(c):
        raise ValueError(f"offset must be finite, got {offset!r}")
    if isinstance(linear_neurons, bool) or not isinstance(linear_neurons, int) or linear_neurons < 1:
        raise ValueError(f"linear_neurons must be a positive integer, got {linear_neurons!r}")
    m = linear_neurons
    hidden = _check_hidden(hidden, n + m, "pudding")
    w0, b0, w1, b1 = _empty(n, hidden)
    sigma = _sigma(n)
    w0[:n] = sign * k * torch.eye(n, dtype=_DTYPE)
    w1[0, :n] = 2.0 / (k * sigma)
    w0[n : n + m] = -float(sign)
    b0[n : n + m] = c
    w1[0, n : n + m] = 1.0 / (m * sigma)
    b1[0] = -(c + n * ABS_MEAN) / sigma
    return [w0, w1], [b0, b1]


def convexity(
    n: int,
    hidden: int = 48,
    seed: int = 0,
    distribution: str = "normal",
    fit_samples: int = 4096,
    weight_scale: float = 1.0,
    mode_width: float = 0.1,
) -> tuple[list[Tensor], list[Tensor]]:
    """The convexity network (Eq. 4): l1_target(x) ~ alpha sum_j swish(sum_i W_ji x_i) + beta.

    First layer: ``hidden`` x n iid weights from a symmetric distribution D, no first-layer biases.
    ``distribution="normal"``: N(0, weight_scale^2). ``"bimodal"``: a random sign times
    weight_scale * (1 + mode_width * N(0, 1)), two modes at +/- weight_scale. Output layer: every
    weight equals one alpha, plus an output bias beta, fitted by least squares (float64) to
    ``l1_target`` on ``fit_samples`` fresh N(0, I_n) inputs. Everything is drawn from one
    ``torch.Generator`` seeded with ``seed``: first the weights, then the fitting inputs.

    Run it with ``reference.task.mlp_forward`` (swish). It is crude by design: for n = 16, hidden = 48
    the relative RMSE against the (unit-variance) target is about 0.78 +/- 0.03 over seeds (NOTES.md:
    "about 0.8"). weight_scale = 1 puts w.x ~ N(0, n) on swish's curved-to-ReLU scale; much smaller
    weights make swish nearly linear-plus-quadratic and fit worse (about 0.92 at 0.1).
    """
    n = _check_n(n)
    hidden = _check_hidden(hidden, 1, "convexity")
    if distribution not in ("normal", "bimodal"):
        raise ValueError(f"distribution must be 'normal' or 'bimodal', got {distribution!r}")
    if isinstance(fit_samples, bool) or not isinstance(fit_samples, int) or fit_samples < 2:
        raise ValueError(f"fit_samples must be an integer >= 2 (two parameters are fitted), got {fit_samples!r}")
    if not (math.isfinite(weight_scale) and weight_scale > 0):
        raise ValueError(f"weight_scale must be a finite positive number, got {weight_scale!r}")
    if not (math.isfinite(mode_width) and mode_width >= 0):
        raise ValueError(f"mode_width must be a finite non-negative number, got {mode_width!r}")
    g = torch.Generator().manual_seed(seed)
    if distribution == "normal":
        w0 = weight_scale * torch.randn(hidden, n, generator=g, dtype=_DTYPE)
    else:
        signs = 2.0 * torch.randint(0, 2, (hidden, n), generator=g).to(_DTYPE) - 1.0
        w0 = weight_scale * signs * (1.0 + mode_width * torch.randn(hidden, n, generator=g, dtype=_DTYPE))
    x = torch.randn(fit_samples, n, generator=g, dtype=_DTYPE)
    alpha, beta = _fit_line(torch.nn.functional.silu(x @ w0.T).sum(-1).tolist(), l1_target(x).tolist())
    w1 = torch.full((1, hidden), alpha, dtype=_DTYPE)
    return [w0, w1], [torch.zeros(hidden, dtype=_DTYPE), torch.tensor([beta], dtype=_DTYPE)]


def _fit_line(feature: list[float], target: list[float]) -> tuple[float, float]:
    """Least-squares (alpha, beta) for target ~ alpha * feature + beta, with exactly rounded sums.

    ``math.fsum`` instead of LAPACK's lstsq: LAPACK's result was seen to change in the last bit between two
    identical calls in one process (1e-17 in alpha), and a seeded constructor must be
    bit-for-bit reproducible. A constant feature (zero variance) gets alpha = 0.
    """
    count = len(feature)
    mean_f = math.fsum(feature) / count
    mean_t = math.fsum(target) / count
    centred = [f - mean_f for f in feature]
    var_f = math.fsum(c * c for c in centred)
    cov = math.fsum(c * (t - mean_t) for c, t in zip(centred, target))
    alpha = cov / var_f if var_f > 0 else 0.0
    return alpha, mean_t - alpha * mean_f


def relu_forward(weights: Sequence[Tensor], biases: Sequence[Tensor], x: Tensor) -> Tensor:
    """``reference.task.mlp_forward`` with ReLU instead of swish on the hidden layers (same shapes)."""
    return mlp_forward(weights, biases, x, activation=torch.relu)


def forward(weights: Sequence[Tensor], biases: Sequence[Tensor], x: Tensor, activation: str = "relu") -> Tensor:
    """Run a network with the hidden ``activation`` it was built for: ``"relu"`` or ``"swish"``."""
    if activation == "relu":
        return relu_forward(weights, biases, x)
    if activation == "swish":
        return mlp_forward(weights, biases, x)
    raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {activation!r}")


def swish_error_bound(
    strategy: str, n: int, scale: float, offset: float | None = None, max_abs_sum: float | None = None
) -> float:
    """Upper bound on |network(x) - l1_target(x)| for the swish version of a canonical network.

    ``strategy`` is ``"double_sided"`` or ``"pudding"``; ``scale`` is k. Per input, the ReLU part errs by
    at most 2 SWISH_RELU_GAP / k in ||x||_1 units (two neurons of gap |y| sigmoid(-|y|) each for the
    double-sided network, one neuron counted twice for the pudding). The pudding's linear neuron sees
    u = c - sign * sum_i x_i and errs by u sigmoid(-u); over inputs with |sum_i x_i| <= ``max_abs_sum``
    = S (required for the pudding, with ``offset`` = c) that is at most (c - S) / (1 + e^(c - S)) once
    c - S >= 1.2785, at most SWISH_RELU_GAP for 0 <= c - S < 1.2785, and at most S - c beyond that.
    The sum is divided by sigma = sqrt(n (1 - 2/pi)). Decreases as k grows, and as c grows past S + 1.28.
    """
    n = _check_n(n)
    k = _check_scale(scale, "swish")
    relu_part = 2.0 * n * SWISH_RELU_GAP / k
    if strategy == "double_sided":
        return relu_part / _sigma(n)
    if strategy != "pudding":
        raise ValueError(f"strategy must be 'double_sided' or 'pudding', got {strategy!r}")
    if offset is None or max_abs_sum is None:
        raise ValueError("the pudding bound needs offset (c) and max_abs_sum (S)")
    margin = float(offset) - float(max_abs_sum)
    if margin >= _SWISH_GAP_ARGMAX:
        linear_part = margin / (1.0 + math.exp(margin)) if margin < 700 else 0.0
    elif margin >= 0.0:
        linear_part = SWISH_RELU_GAP
    else:
        linear_part = max(SWISH_RELU_GAP, -margin)
    return (relu_part + linear_part) / _sigma(n)
