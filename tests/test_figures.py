"""The paper's figures (reference/figures.py), drawn from small synthetic sweeps."""

import math

import torch

torch.set_num_threads(1)

import matplotlib.pyplot as plt  # noqa: E402  (only to check that no pyplot figure is ever created)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, QuadMesh  # noqa: E402
from matplotlib.colors import to_rgb, to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from reference.classify import Boundaries  # noqa: E402
from reference.figures import (  # noqa: E402
    FILE_NAMES,
    STRATEGY_COLORS,
    drawings,
    encoder_ablation,
    loss_kl_tradeoff,
    order_parameter_trajectories,
    phase_diagrams,
    size_generalisation,
    transition_groups,
    write_all,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BOUNDARIES = Boundaries(rho=7.35, balance=0.336)
STEPS = (0, 100, 300, 1000)  # irregular, like a checkpoint schedule
BETAS = tuple(np.logspace(-12, 0, 5))
FAST_LAYOUT = {"steps": 60, "decay_steps": 40}

# Coordinates of a typical network of each strategy: (rho, balance, alpha_2, loss).
TYPICAL = {
    "convexity": (3.0, 0.6, 1.2, 0.55),
    "pudding": (40.0, 0.08, 12.0, 0.04),
    "double-sided": (25.0, 0.8, 9.0, 0.02),
    "none": (2.0, -0.3, 0.4, 0.97),
}


def strategy_of(seed: int, step_index: int, beta_index: int) -> str:
    """Seed 0: pudding develops at low beta (convexity above); seed 1: double-sided everywhere at the
    end; seed 2: convexity, 'none' at the largest beta. Every seed starts as convexity."""
    if step_index == 0:
        return "convexity"
    if seed == 0:
        return "pudding" if beta_index < step_index + 1 else "convexity"
    if seed == 1:
        return "double-sided" if step_index >= 2 else "convexity"
    return "none" if beta_index == len(BETAS) - 1 else "convexity"


def make_sweep(seeds=(0, 1, 2)) -> pd.DataFrame:
    """3 seeds x 4 steps x 5 betas of plausible values; exact pudding rows (last step, smallest beta of
    seed 0) have a zero median, so rho and alpha_1 are +inf; 'none' rows have negative alpha_1."""
    rows = []
    for seed in seeds:
        for s, step in enumerate(STEPS):
            for k, beta in enumerate(BETAS):
                strategy = strategy_of(seed, s, k)
                rho, balance, alpha_2, loss = TYPICAL[strategy]
                rho *= 1 + 0.1 * k + 0.05 * seed
                if seed == 0 and s == len(STEPS) - 1 and k == 0:
                    rho = math.inf
                rows.append({
                    "seed": seed, "step": step, "beta": beta, "loss": loss * (1 + 0.05 * k),
                    "kl": 0.0 if seed == 0 else 50.0 * (1 - k / len(BETAS)) + 0.01,
                    "decoder_loss": loss * (1 + 0.05 * k) * (1.0 if seed == 0 else 3.0),
                    "alpha_1": balance * rho, "alpha_2": alpha_2, "alpha_3": 0.5, "rho": rho, "balance": balance,
                    "strategy": strategy,
                })
    return pd.DataFrame(rows)


def make_sizes(inputs=(4, 8, 16, 32), hiddens=(16, 32, 48, 64)) -> pd.DataFrame:
    """Loss lowest near (16, 48), rising away from it, so that both 0.07 and 0.15 contours exist."""
    rows = []
    for n in inputs:
        for h in hiddens:
            loss = 0.03 + 0.08 * abs(math.log2(n / 16)) + 0.1 * max(0.0, (n + 1) / h - 0.4)
            rows.append({"input_dim": n, "hidden_dim": h, "loss": loss, "loss_std": 0.01, "beta": 1e-6, "seed": 0,
                         "step": 1000})
    return pd.DataFrame(rows)


def make_network(seed: int, sizes=(4, 6, 1)):
    g = torch.Generator().manual_seed(seed)
    weights = [torch.randn(sizes[l + 1], sizes[l], generator=g) for l in range(len(sizes) - 1)]
    biases = [torch.randn(sizes[l + 1], generator=g) for l in range(len(sizes) - 1)]
    return weights, biases


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    """The module must use the object API: no pyplot figure may appear (so nothing can be shown)."""
    plt.close("all")
    yield
    assert plt.get_fignums() == []


@pytest.fixture(scope="module")
def sweep():
    return make_sweep()


def gid_lines(ax, gid):
    return [line for line in ax.lines if line.get_gid() == gid]


def gid_collections(ax, gid):
    return [c for c in ax.collections if c.get_gid() == gid]


# --- Figure 2 ---


def test_trajectories_two_panels_one_line_per_seed(sweep):
    fig = order_parameter_trajectories(sweep, BOUNDARIES)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    paper, classifier = fig.axes
    last = sweep[sweep.step == max(STEPS)].sort_values(["seed", "beta"])
    for ax in (paper, classifier):
        lines = gid_lines(ax, "trajectory")
        assert len(lines) == 3
        assert all(len(line.get_xdata()) == len(BETAS) for line in lines)
        assert ax.get_xscale() == "log"
    assert paper.get_yscale() == "log"
    # finite values are drawn where they are; the seed-1 line is exactly its rho column at the last step
    np.testing.assert_allclose(gid_lines(classifier, "trajectory")[1].get_xdata(), last[last.seed == 1].rho)
    np.testing.assert_allclose(gid_lines(classifier, "trajectory")[1].get_ydata(), last[last.seed == 1].balance)


def test_trajectories_boundaries_are_dotted_at_the_calibrated_values(sweep):
    fig = order_parameter_trajectories(sweep, BOUNDARIES)
    paper, classifier = fig.axes
    assert gid_lines(paper, "boundary") == []
    vertical, horizontal = gid_lines(classifier, "boundary")
    assert vertical.get_linestyle() == horizontal.get_linestyle() == ":"
    assert list(vertical.get_xdata()) == [BOUNDARIES.rho, BOUNDARIES.rho]
    assert list(horizontal.get_ydata()) == [BOUNDARIES.balance] * 2
    assert horizontal.get_xdata()[0] == BOUNDARIES.rho  # only beyond the rho boundary
    assert horizontal.get_xdata()[1] == classifier.get_xlim()[1]
    labels = {t.get_text() for t in classifier.texts}
    assert {"convexity", "pudding", "double-sided"} <= labels


def test_trajectories_clip_infinities_and_nonpositive_to_the_edges(sweep):
    fig = order_parameter_trajectories(sweep, BOUNDARIES)
    paper, classifier = fig.axes
    # seed 0's smallest beta has rho = alpha_1 = inf; seed 2's largest beta has alpha_1 < 0 ('none')
    (clipped_paper,) = gid_collections(paper, "clipped")
    points = clipped_paper.get_offsets()
    assert len(points) == 2
    assert sorted(points[:, 0]) == sorted(paper.get_xlim())
    (clipped_classifier,) = gid_collections(classifier, "clipped")
    assert clipped_classifier.get_offsets()[:, 0].tolist() == [classifier.get_xlim()[1]]
    seed0 = gid_lines(classifier, "trajectory")[0]
    assert seed0.get_xdata()[0] == classifier.get_xlim()[1]
    assert all(np.isfinite(line.get_xdata()).all() for ax in fig.axes for line in gid_lines(ax, "trajectory"))


def test_trajectories_grouped_by_start_and_end_strategy(sweep):
    last = sweep[sweep.step == max(STEPS)]
    assert transition_groups(last) == {0: ("pudding", "convexity"), 1: ("double-sided", "double-sided"),
                                       2: ("convexity", "none")}
    fig = order_parameter_trajectories(sweep, BOUNDARIES)
    paper = fig.axes[0]
    lines = gid_lines(paper, "trajectory")
    assert to_rgb(lines[1].get_color()) == to_rgb("blue")  # same start and end: the strategy's own colour
    mix = (np.array(to_rgb("green")) + to_rgb("red")) / 2
    np.testing.assert_allclose(to_rgb(lines[0].get_color()), mix)
    assert lines[0].get_linestyle() == "-" and lines[2].get_linestyle() == "--"  # simplifies / does not
    legend_labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "pudding \u2192 convexity (1 seed)" in legend_labels
    assert "double-sided (1 seed)" in legend_labels
    # end markers: circles at the smallest beta, squares at the largest, filled with the strategy there
    (starts,) = gid_collections(paper, "beta-min")
    (ends,) = gid_collections(paper, "beta-max")
    np.testing.assert_allclose(starts.get_facecolors()[:, :3], [to_rgb(c) for c in ("green", "blue", "red")])
    np.testing.assert_allclose(ends.get_facecolors()[:, :3], [to_rgb(c) for c in ("red", "blue", "grey")])


def test_trajectories_at_an_earlier_step_and_a_missing_one(sweep):
    fig = order_parameter_trajectories(sweep, BOUNDARIES, step=0)
    assert "step 0" in fig._suptitle.get_text()
    assert all(to_rgb(line.get_color()) == to_rgb("red") for line in gid_lines(fig.axes[0], "trajectory"))
    with pytest.raises(ValueError, match="no rows at step 7"):
        order_parameter_trajectories(sweep, BOUNDARIES, step=7)


def test_trajectories_default_boundaries(sweep):
    from reference.classify import default_boundaries

    fig = order_parameter_trajectories(sweep)
    vertical = gid_lines(fig.axes[1], "boundary")[0]
    assert vertical.get_xdata()[0] == default_boundaries().rho


# --- Figure 3 ---


def test_phase_diagrams_one_panel_per_seed(sweep):
    fig = phase_diagrams(sweep)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["seed 0", "seed 1", "seed 2"]
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    assert len(phase_diagrams(sweep, max_panels=2).axes) == 2
    assert [ax.get_title() for ax in phase_diagrams(sweep, seeds=[2, 0]).axes] == ["seed 2", "seed 0"]
    many = make_sweep(seeds=range(8))
    assert len(phase_diagrams(many).axes) == 6
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["convexity", "pudding", "double-sided", "none"]


def test_phase_diagram_cells_have_the_strategy_colour_and_irregular_edges(sweep):
    ax = phase_diagrams(sweep, seeds=[0]).axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    corners = mesh.get_coordinates()  # (betas + 1, steps + 1, 2)
    np.testing.assert_allclose(corners[0, :, 0], [-50, 50, 200, 650, 1350])  # midpoints between 0, 100, 300, 1000
    np.testing.assert_allclose(np.log10(corners[:, 0, 1]), [-13.5, -10.5, -7.5, -4.5, -1.5, 1.5])
    colors = mesh.cmap(mesh.norm(mesh.get_array()))
    grid = sweep[sweep.seed == 0].pivot(index="beta", columns="step", values="strategy").sort_index()
    expected = np.array([[to_rgba(STRATEGY_COLORS[s]) for s in row] for row in grid.to_numpy()])
    np.testing.assert_allclose(colors.reshape(expected.shape), expected)


def test_phase_diagram_missing_cells_stay_blank(sweep):
    holey = sweep.drop(index=sweep.index[(sweep.seed == 1) & (sweep.step == 100)][:2])
    ax = phase_diagrams(holey, seeds=[1]).axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert np.ma.getmaskarray(mesh.get_array()).sum() == 2


def test_phase_diagram_bad_arguments(sweep):
    with pytest.raises(ValueError, match="not in the sweep"):
        phase_diagrams(sweep, seeds=[5])
    with pytest.raises(ValueError, match="max_panels"):
        phase_diagrams(sweep, max_panels=0)


# --- Figure 4 ---


def test_encoder_ablation_one_line_per_seed_and_the_diagonal(sweep):
    fig = encoder_ablation(sweep)
    (ax,) = fig.axes
    assert len(ax.lines) == 3 + 1
    assert len(gid_lines(ax, "seed-line")) == 3
    (diagonal,) = gid_lines(ax, "diagonal")
    assert diagonal.get_linestyle() == ":"
    np.testing.assert_allclose(diagonal.get_xdata(), diagonal.get_ydata())
    assert tuple(diagonal.get_xdata()) == ax.get_xlim() == ax.get_ylim()
    assert ax.get_xscale() == ax.get_yscale() == "log"
    last = sweep[sweep.step == max(STEPS)].sort_values(["seed", "beta"])
    line = gid_lines(ax, "seed-line")[2]
    np.testing.assert_allclose(line.get_xdata(), last[last.seed == 2].loss)
    np.testing.assert_allclose(line.get_ydata(), last[last.seed == 2].decoder_loss)


def test_encoder_ablation_linear_axes_for_a_zero_loss(sweep):
    zero = sweep.copy()
    zero.loc[0, "loss"] = 0.0
    ax = encoder_ablation(zero, step=0).axes[0]
    assert ax.get_xscale() == "linear"


# --- Figure 5 ---


def test_size_generalisation_star_contours_and_colorbar():
    fig = size_generalisation(make_sizes())
    assert len(fig.axes) == 2  # the heatmap and its colour bar
    ax = fig.axes[0]
    (star,) = gid_lines(ax, "trained-size")
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (16, 48)
    assert star.get_marker() == "*" and to_rgb(star.get_color()) == to_rgb("yellow")
    contours = [c for c in ax.collections if hasattr(c, "levels")]
    assert [list(c.levels) for c in contours] == [[0.07], [0.15]]
    assert [to_rgb(c.get_edgecolor()[0]) for c in contours] == [to_rgb("red"), to_rgb("blue")]
    assert ax.get_xscale() == "log"  # 4, 8, 16, 32 are evenly spaced in log
    assert ax.get_yscale() == "linear"  # 16, 32, 48, 64 are evenly spaced
    assert "loss" in fig.axes[1].get_ylabel()
    assert "\u03b2 = 1e-06" in ax.get_title()
    # both contour levels are marked on the colour bar
    marked = {to_rgb(color) for c in fig.axes[1].collections if isinstance(c, LineCollection)
              for color in c.get_colors()}
    assert {to_rgb("red"), to_rgb("blue")} <= marked


def test_size_generalisation_without_some_contour_levels():
    sizes = make_sizes()
    ax = size_generalisation(sizes, contours=(5.0, 0.15)).axes[0]
    assert [list(c.levels) for c in ax.collections if hasattr(c, "levels")] == [[0.15]]
    ax = size_generalisation(sizes, contours=(5.0, 6.0), trained=(8, 32)).axes[0]
    assert [c for c in ax.collections if hasattr(c, "levels")] == []
    assert gid_lines(ax, "trained-size")[0].get_xdata()[0] == 8
    narrow = size_generalisation(make_sizes(inputs=(16,)))  # a 1-wide grid cannot be contoured
    assert [c for c in narrow.axes[0].collections if hasattr(c, "levels")] == []
    holey = size_generalisation(make_sizes().iloc[1:])  # a missing cell
    assert len(holey.axes) == 2


# --- Figure 6 ---


def test_drawings_side_by_side_with_titles():
    fig = drawings(make_network(0), make_network(1), hyper_loss=0.0412, adam_loss=0.00731, seed=3, **FAST_LAYOUT)
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["Hypernetwork (loss 0.0412)", "Adam (loss 0.00731)"]
    assert all(any(isinstance(c, LineCollection) for c in ax.collections) for ax in fig.axes)
    untitled = drawings((make_network(0)[0], None), make_network(1), **FAST_LAYOUT)
    assert [ax.get_title() for ax in untitled.axes] == ["Hypernetwork", "Adam"]
    with pytest.raises(ValueError, match="adam must be a \\(weights, biases\\) pair"):
        drawings(make_network(0), {"weights": make_network(1)[0]})


# --- extra: loss / KL ---


def test_loss_kl_tradeoff(sweep):
    fig = loss_kl_tradeoff(sweep)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert len(gid_lines(ax, "seed-line")) == 3
        assert ax.get_xscale() == "log"
    assert fig.axes[0].get_yscale() == "log"
    assert fig.axes[1].get_yscale() == "symlog"  # seed 0's KL is exactly zero
    positive = sweep.assign(kl=sweep.kl + 1.0)
    assert loss_kl_tradeoff(positive).axes[1].get_yscale() == "log"


# --- write_all ---


def test_write_all_writes_every_png(sweep, tmp_path):
    networks = {"hyper": make_network(0), "adam": make_network(1), "hyper_loss": 0.05, "adam_loss": 0.01}
    paths = write_all(sweep, make_sizes(), networks, tmp_path / "figs", boundaries=BOUNDARIES)
    assert [p.name for p in paths] == [FILE_NAMES[k] for k in ("fig2", "fig3", "fig4", "fig5", "fig6", "tradeoff")]
    for path in paths:
        assert path.parent == tmp_path / "figs"
        data = path.read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 1000


def test_write_all_skips_missing_data(sweep, tmp_path):
    assert write_all(None, make_sizes(), None, tmp_path) == [tmp_path / FILE_NAMES["fig5"]]
    assert write_all(None, None, None, tmp_path / "empty") == []
    assert (tmp_path / "empty").is_dir()
    with pytest.raises(ValueError, match="networks is missing key\\(s\\) adam"):
        write_all(None, None, {"hyper": make_network(0)}, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()  # nothing written when an input is bad


# --- bad input ---

SWEEP_FUNCTIONS = {
    "fig2": (lambda s: order_parameter_trajectories(s, BOUNDARIES), "alpha_1"),
    "fig3": (phase_diagrams, "strategy"),
    "fig4": (encoder_ablation, "decoder_loss"),
    "tradeoff": (loss_kl_tradeoff, "kl"),
}


@pytest.mark.parametrize("name", sorted(SWEEP_FUNCTIONS))
def test_missing_column_is_named(sweep, name):
    function, column = SWEEP_FUNCTIONS[name]
    with pytest.raises(ValueError, match=f"missing column\\(s\\) {column}"):
        function(sweep.drop(columns=[column]))


@pytest.mark.parametrize("name", sorted(SWEEP_FUNCTIONS))
def test_empty_sweep_says_no_data(sweep, name):
    function, _ = SWEEP_FUNCTIONS[name]
    with pytest.raises(ValueError, match="no data"):
        function(sweep.iloc[:0])


def test_bad_sizes():
    with pytest.raises(ValueError, match="missing column\\(s\\) loss"):
        size_generalisation(make_sizes().drop(columns=["loss"]))
    with pytest.raises(ValueError, match="no data"):
        size_generalisation(make_sizes().iloc[:0])
    with pytest.raises(ValueError, match="duplicate"):
        size_generalisation(pd.concat([make_sizes(), make_sizes().iloc[:1]]))


def test_bad_sweep_values(sweep):
    with pytest.raises(ValueError, match="unknown strategies \\['mystery'\\]"):
        phase_diagrams(sweep.assign(strategy="mystery"))
    with pytest.raises(ValueError, match="duplicate"):
        encoder_ablation(pd.concat([sweep, sweep.iloc[:1]]))
    with pytest.raises(ValueError, match="beta"):
        loss_kl_tradeoff(sweep.assign(beta=0.0))
    with pytest.raises(ValueError, match="DataFrame"):
        encoder_ablation(sweep.to_dict())
