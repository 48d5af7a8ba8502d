"""Force-directed drawings (reference/drawing.py, Appendix A.1 of the paper)."""


import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from reference.canonical import convexity, double_sided, pudding
from reference.drawing import (
    HIDDEN_COLOR,
    INPUT_COLOR,
    NEGATIVE_COLOR,
    OUTPUT_COLOR,
    POSITIVE_COLOR,
    draw,
    edges,
    energy,
    layer_sizes,
    layout,
    layout_4d,
    neuron_layers,
)

torch.set_num_threads(1)

# Short runs keep the tests fast; they are still long enough for the properties tested.
FAST = {"steps": 300, "decay_steps": 200}


def two_modules(seed):
    """A (4, 6, 2) network made of two disconnected (2, 3, 1) modules with weights of magnitude 1-3.

    Module A: inputs 0-1, hidden 0-2, output 0. Module B: inputs 2-3, hidden 3-5, output 1.
    Returns the weights and each neuron's module label in the global numbering.
    """
    rng = np.random.default_rng(seed)
    w0, w1 = np.zeros((6, 4)), np.zeros((2, 6))
    w0[:3, :2] = rng.uniform(1, 3, (3, 2)) * rng.choice([-1, 1], (3, 2))
    w0[3:, 2:] = rng.uniform(1, 3, (3, 2)) * rng.choice([-1, 1], (3, 2))
    w1[0, :3] = rng.uniform(1, 3, 3)
    w1[1, 3:] = rng.uniform(1, 3, 3)
    labels = np.array([0, 0, 1, 1] + [0, 0, 0, 1, 1, 1] + [0, 1])
    return [w0, w1], labels


def test_numbering_helpers():
    weights, _ = pudding(3)  # (3, 4, 1)
    assert layer_sizes(weights) == (3, 4, 1)
    assert neuron_layers(weights).tolist() == [0, 0, 0, 1, 1, 1, 1, 2]
    src, dst, val = edges(weights)
    # First layer: hidden j (neuron 3 + j) from input i (neuron i); zero weights are left out.
    first = {(s, d): v for s, d, v in zip(src.tolist(), dst.tolist(), val.tolist())}
    assert first[(0, 3)] == 1.0 and (1, 3) not in first and first[(2, 6)] == -1.0
    assert len(val) == 3 + 3 + 4  # 3 diagonal + 3 linear-neuron weights + 4 output weights


def test_layout_is_finite_2d_and_deterministic_per_seed():
    weights, _ = pudding(5, hidden=9)
    first = layout(weights, seed=3, **FAST)
    assert first.shape == (5 + 9 + 1, 2)
    assert np.all(np.isfinite(first))
    assert np.array_equal(first, layout(weights, seed=3, **FAST))
    assert not np.allclose(first, layout(weights, seed=4, **FAST))
    # torch tensors and numpy arrays give the same layout
    assert np.array_equal(first, layout([w.numpy() for w in weights], seed=3, **FAST))


def test_extra_dimensions_are_decayed_to_zero():
    weights, _ = double_sided(4, hidden=10)
    full = layout_4d(weights, seed=0, **FAST)
    assert full.shape == (4 + 10 + 1, 4)
    assert np.all(full[:, 2:] == 0.0)  # the decoupled decay ends at factor 0: exactly zero
    assert np.abs(full[:, :2]).max() > 0.1  # ...while the drawing itself did not collapse
    assert np.array_equal(layout(weights, seed=0, **FAST), full[:, :2])


def test_layout_lowers_the_energy():
    weights, _ = convexity(6, hidden=10, seed=1)
    src, dst, val = (torch.as_tensor(a) for a in edges(weights))
    strengths = val.abs()
    initial = torch.randn(17, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    final = torch.as_tensor(layout(weights, seed=0, **FAST))
    assert energy(final, src, dst, strengths).item() < energy(initial, src, dst, strengths).item()
    # A few hundred more steps change the energy by little: the layout has (nearly) settled.
    longer = torch.as_tensor(layout(weights, seed=0, steps=900, decay_steps=200))
    assert energy(longer, src, dst, strengths).item() > 0.99 * energy(final, src, dst, strengths).item()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_disconnected_modules_end_up_separated(seed):
    """Each module fits in a disc around its centroid; the discs do not overlap.

    Deterministic (fixed seeds). Over 10 networks x 6 layout seeds the ratio of centroid distance to the
    sum of the two radii was 1.27-1.48 at full length; it must exceed 1 here.
    """
    weights, labels = two_modules(seed)
    positions = layout(weights, seed=seed, **FAST)
    centroids = [positions[labels == m].mean(0) for m in (0, 1)]
    radii = [np.linalg.norm(positions[labels == m] - centroids[m], axis=1).max() for m in (0, 1)]
    assert np.linalg.norm(centroids[0] - centroids[1]) > radii[0] + radii[1]


def test_full_size_network_lays_out():
    """(16, 48, 1) with the default knobs: finite 2-D positions for all 65 neurons. (Speed is a benchmark's
    business: about 0.3 s on one thread.)"""
    weights, _ = convexity(16, hidden=48)
    positions = layout(weights, seed=0)
    assert positions.shape == (65, 2) and np.all(np.isfinite(positions))


def test_draw_colours_and_widths():
    weights, biases = pudding(3, hidden=5, scale=2.0)  # weights 2 (positive), -1 (linear neuron), outputs > 0
    ax = draw(weights, biases, seed=0, title="pudding", **FAST)
    assert isinstance(ax.figure.canvas, FigureCanvasAgg)
    assert ax.get_title() == "pudding"
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    (nodes,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    _, _, val = edges(weights)
    assert len(lines.get_segments()) == len(val)  # zero weights (padding) are not drawn
    order = np.argsort(np.abs(val))  # drawn weakest first
    expected = [to_rgba(POSITIVE_COLOR if v > 0 else NEGATIVE_COLOR) for v in val[order]]
    assert np.allclose(lines.get_colors(), expected)
    assert np.allclose(lines.get_linewidths(), 3.0 * np.abs(val[order]) / np.abs(val).max())
    layers = neuron_layers(weights)
    expected = [to_rgba(INPUT_COLOR if l == 0 else OUTPUT_COLOR if l == 2 else HIDDEN_COLOR) for l in layers]
    assert np.allclose(nodes.get_facecolors(), expected)


def test_draw_on_a_given_axes_with_given_positions():
    weights, _ = double_sided(2)
    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(1, 1, 1)
    positions = np.arange(14, dtype=float).reshape(7, 2)
    assert draw(weights, ax=ax, positions=positions) is ax
    (nodes,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert np.array_equal(nodes.get_offsets(), positions)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: layout([np.ones((3, 2)), np.ones((1, 4))]), "weights"),
        (lambda: layout([np.ones(3)]), "weights"),
        (lambda: layout([]), "weights"),
        (lambda: layout([np.ones((3, 2))], steps=10, decay_steps=20), "decay_steps"),
        (lambda: layout([np.ones((3, 2))], lr=-1.0), "lr"),
        (lambda: draw([np.ones((3, 2))], positions=np.zeros((4, 2))), "positions"),
        (lambda: draw([np.ones((3, 2))], biases=[np.ones(2)], positions=np.zeros((5, 2))), "biases"),
    ],
)
def test_bad_inputs_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()
