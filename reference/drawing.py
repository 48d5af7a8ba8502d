"""Force-directed drawings of MLPs (Appendix A.1 of the paper).

Every neuron gets a position minimising

    E = repulsion * sum_{pairs a<b} 1 / r_ab  +  attraction * sum_{weights} |w| r_ab^2  +  gravity * sum_a |p_a|^2

(1/r mutual repulsion, k r^2 attraction along each weight with k = |w|, r^2 pull to the origin). As in
the paper, positions live in 4-D so that tangled modules can slide past each other, and the two extra
coordinates are decayed to zero with an increasingly strong decay during gradient descent, leaving a
2-D arrangement.

Choices where the paper is silent (each is a keyword argument):

* optimiser: Adam (standard betas 0.9, 0.999) on the 4-D positions in float64, starting from
  N(0, init_scale^2) positions drawn with a ``torch.Generator`` seeded by ``seed`` (so a layout is a
  deterministic function of weights, seed and knobs);
* the decay is decoupled (like AdamW's weight decay): after each Adam step the extra coordinates are
  multiplied by 1 - gamma_t, with gamma_t rising from 0 to 1 as ((t + 1) / decay_steps) ** decay_power.
  From step ``decay_steps`` on they are exactly zero and the last ``steps - decay_steps`` steps relax the
  now 2-D arrangement. A penalty term in the energy instead would leave them small but not zero;
* 1/r is softened to 1/sqrt(r^2 + softening^2) so that coincident neurons have finite energy;
* biases are not edges and do not enter the layout.

Neurons are numbered layer by layer: the n_0 inputs first, then layer 1's neurons, and so on;
``weights[l][j, i]`` connects neuron i of layer l to neuron j of layer l + 1.

Drawing uses matplotlib's object API with an Agg canvas (no pyplot, no global backend change, never
``show``): inputs green, outputs magenta, hidden neurons dark grey, positive weights red, negative blue,
line width proportional to |w| / max|w|.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["layer_sizes", "edges", "neuron_layers", "energy", "layout_4d", "layout", "draw"]

INPUT_COLOR = "tab:green"
OUTPUT_COLOR = "magenta"
HIDDEN_COLOR = "dimgray"

POSITIVE_COLOR = "red"
NEGATIVE_COLOR = "blue"


def _as_matrices(weights: Sequence[Any], name: str = "weights") -> list[np.ndarray]:
    """``weights`` as float64 numpy matrices with chained shapes; ``ValueError`` naming ``name`` otherwise."""
    if len(weights) == 0:
        raise ValueError(f"{name} must hold at least one matrix")
    mats = []
    for l, w in enumerate(weights):
        if hasattr(w, "detach"):
            w = w.detach().cpu().double().numpy()
        w = np.asarray(w, dtype=np.float64)
        if w.ndim != 2 or w.size == 0:
            raise ValueError(f"{name}[{l}] must be a non-empty 2-D matrix (n_{{l+1}}, n_l), got shape {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ValueError(f"{name}[{l}] has non-finite entries")
        if mats and w.shape[1] != mats[-1].shape[0]:
            raise ValueError(
                f"{name}[{l}] has {w.shape[1]} inputs but {name}[{l - 1}] has {mats[-1].shape[0]} outputs"
            )
        mats.append(w)
    return mats


def layer_sizes(weights: Sequence[Any]) -> tuple[int, ...]:
    """(n_0, ..., n_N) of the MLP whose weight matrices are ``weights`` (shapes (n_{l+1}, n_l))."""
    mats = _as_matrices(weights)
    return (mats[0].shape[1],) + tuple(w.shape[0] for w in mats)


def neuron_layers(weights: Sequence[Any]) -> np.ndarray:
    """Layer index (0 = input, N = output) of every neuron, in the global numbering, shape (num_neurons,)."""
    return np.repeat(np.arange(len(layer_sizes(weights))), layer_sizes(weights))


def edges(weights: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every weight as (source neuron, target neuron, signed value), global numbering, nonzero weights only."""
    mats = _as_matrices(weights)
    offsets = np.cumsum((0,) + layer_sizes(mats))
    sources, targets, values = [], [], []
    for l, w in enumerate(mats):
        j, i = np.nonzero(w)
        sources.append(offsets[l] + i)
        targets.append(offsets[l + 1] + j)
        values.append(w[j, i])
    return np.concatenate(sources), np.concatenate(targets), np.concatenate(values)


def energy(
    positions: torch.Tensor,
    sources: torch.Tensor,
    targets: torch.Tensor,
    strengths: torch.Tensor,
    repulsion: float = 1.0,
    attraction: float = 1.0,
    gravity: float = 1.0,
    softening: float = 1e-3,
) -> torch.Tensor:
    """The drawing energy of ``positions`` (num_neurons, d) for edges (sources, targets) of strength k = |w|.

    The keyword arguments are :func:`layout_4d`'s, with the same meaning and defaults.
    """
    diff = positions.unsqueeze(0) - positions.unsqueeze(1)
    r = torch.sqrt(diff.square().sum(-1) + softening**2)
    num = positions.shape[0]
    upper = torch.triu_indices(num, num, offset=1)
    repel = (1.0 / r[upper[0], upper[1]]).sum()
    attract = (strengths * (positions[sources] - positions[targets]).square().sum(-1)).sum()
    pull = positions.square().sum()
    return repulsion * repel + attraction * attract + gravity * pull


def layout_4d(
    weights: Sequence[Any],
    seed: int = 0,
    steps: int = 600,
    decay_steps: int = 400,
    decay_power: float = 2.0,
    lr: float = 0.05,
    init_scale: float = 1.0,
    repulsion: float = 1.0,
    attraction: float = 1.0,
    gravity: float = 1.0,
    softening: float = 1e-3,
) -> np.ndarray:
    """Final 4-D positions of every neuron, shape (num_neurons, 4); columns 2 and 3 are exactly zero.

    Keyword arguments (all numeric knobs; the defaults lay out a (16, 48, 1) network in well under 1 s):

    steps: Adam steps in all; enough for the energy to settle at lr 0.05 for graphs of ~100 neurons.
    decay_steps: steps over which the extra dimensions are decayed to exactly zero (< steps, so the
        remaining steps relax the 2-D arrangement); about 2/3 of the run leaves time both to untangle
        in 4-D and to settle in 2-D.
    decay_power: gamma_t = ((t+1)/decay_steps)**decay_power; 2 keeps the decay weak early (free 4-D
        motion) and strong late.
    lr: Adam learning rate, in position units per step; the equilibrium spread is of order 1.
    init_scale: std of the random initial positions; comparable to the final spread.
    repulsion: weight of the pairwise 1/r term.
    attraction: weight of the |w| r^2 term along each weight (the paper's k = |w|, unnormalised).
    gravity: weight of the r^2 pull to the origin; keeps disconnected parts from flying apart.
    softening: 1/r becomes 1/sqrt(r^2 + softening^2), finite for coincident neurons.
    """
    if not (isinstance(steps, int) and isinstance(decay_steps, int) and 0 < decay_steps <= steps):
        raise ValueError(f"need integers 0 < decay_steps <= steps, got decay_steps={decay_steps!r}, steps={steps!r}")
    for name, value in [("decay_power", decay_power), ("lr", lr), ("init_scale", init_scale),
                        ("softening", softening)]:
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    for name, value in [("repulsion", repulsion), ("attraction", attraction), ("gravity", gravity)]:
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
    num = sum(layer_sizes(weights))
    src, dst, val = edges(weights)
    sources = torch.as_tensor(src, dtype=torch.long)
    targets = torch.as_tensor(dst, dtype=torch.long)
    strengths = torch.as_tensor(np.abs(val), dtype=torch.float64)
    generator = torch.Generator().manual_seed(int(seed))
    positions = init_scale * torch.randn(num, 4, generator=generator, dtype=torch.float64)
    positions.requires_grad_(True)
    optimizer = torch.optim.Adam([positions], lr=lr)
    for t in range(steps):
        optimizer.zero_grad()
        energy(positions, sources, targets, strengths, repulsion, attraction, gravity, softening).backward()
        optimizer.step()
        with torch.no_grad():  # decoupled decay of the two extra dimensions
            positions[:, 2:] *= 1.0 - min(1.0, ((t + 1) / decay_steps) ** decay_power)
    return positions.detach().numpy().copy()


def layout(weights: Sequence[Any], seed: int = 0, **knobs: Any) -> np.ndarray:
    """2-D positions of every neuron, shape (num_neurons, 2): the first two columns of :func:`layout_4d`.

    ``knobs`` are :func:`layout_4d`'s keyword arguments (steps, decay_steps, lr, ...). Deterministic for
    given weights, seed and knobs.
    """
    return layout_4d(weights, seed=seed, **knobs)[:, :2].copy()


def draw(
    weights: Sequence[Any],
    biases: Sequence[Any] | None = None,
    ax: Any = None,
    seed: int = 0,
    title: str | None = None,
    positions: np.ndarray | None = None,
    max_linewidth: float = 3.0,
    max_bias_linewidth: float = 1.0,
    node_size: float = 30.0,
    figsize: tuple[float, float] = (5.0, 5.0),
    **knobs: Any,
) -> Any:
    """Draw the network on ``ax`` (a new Agg-backed figure if None) and return the matplotlib Axes.

    Nodes: inputs green, outputs magenta, hidden neurons dark grey. Edges: positive weights red,
    negative blue, width max_linewidth * |w| / max|w| (zero weights are not drawn). If ``biases`` is
    given, each non-input neuron gets a ring coloured by its bias's sign, of width
    min(1, |b| / max|w|) * max_bias_linewidth
    (the edges' scale, capped so the ring never hides the node's colour). ``positions`` (num_neurons, 2) skips the
    layout; otherwise :func:`layout` runs with ``seed`` and ``knobs``.

    max_linewidth: width in points of the strongest weight; thin enough that 800 edges stay readable.
    max_bias_linewidth: width in points of the thickest bias ring; under a third of the node's diameter.
    node_size: marker area in points^2; visible but smaller than the typical neuron spacing.
    figsize: inches of the figure created when ``ax`` is None.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    mats = _as_matrices(weights)
    sizes = layer_sizes(mats)
    num = sum(sizes)
    if positions is None:
        positions = layout(mats, seed=seed, **knobs)
    positions = np.asarray(positions, dtype=np.float64)
    if positions.shape != (num, 2):
        raise ValueError(f"positions must have shape ({num}, 2), got {positions.shape}")
    bias_values = None
    if biases is not None:
        bias_values = []
        for l, b in enumerate(biases):
            if hasattr(b, "detach"):
                b = b.detach().cpu().double().numpy()
            b = np.asarray(b, dtype=np.float64)
            if l >= len(mats) or b.shape != (sizes[l + 1],):
                raise ValueError(f"biases[{l}] must have shape ({sizes[l + 1] if l < len(mats) else '?'},), "
                                 f"one per weight matrix, got {b.shape}")
            bias_values.append(b)
        if len(bias_values) != len(mats):
            raise ValueError(f"biases must hold {len(mats)} vectors, one per weight matrix, got {len(bias_values)}")

    if ax is None:
        figure = Figure(figsize=figsize)
        FigureCanvasAgg(figure)
        ax = figure.add_subplot(1, 1, 1)

    src, dst, val = edges(mats)
    scale = float(np.abs(val).max()) if val.size else 1.0
    if val.size:
        order = np.argsort(np.abs(val))  # strongest edges drawn on top
        segments = np.stack([positions[src[order]], positions[dst[order]]], axis=1)
        colors = [POSITIVE_COLOR if v > 0 else NEGATIVE_COLOR for v in val[order]]
        widths = max_linewidth * np.abs(val[order]) / scale
        ax.add_collection(LineCollection(segments, colors=colors, linewidths=widths, zorder=1))

    layers = neuron_layers(mats)
    node_colors = [INPUT_COLOR if l == 0 else OUTPUT_COLOR if l == len(sizes) - 1 else HIDDEN_COLOR for l in layers]
    ring_colors, ring_widths = "none", 0.0
    if bias_values is not None:
        b_all = np.concatenate([np.zeros(sizes[0])] + bias_values)
        ring_colors = [POSITIVE_COLOR if b > 0 else NEGATIVE_COLOR if b < 0 else "none" for b in b_all]
        ring_widths = np.minimum(max_bias_linewidth, max_bias_linewidth * np.abs(b_all) / scale)
    ax.scatter(positions[:, 0], positions[:, 1], s=node_size, c=node_colors, edgecolors=ring_colors,
               linewidths=ring_widths, zorder=2)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    return ax
