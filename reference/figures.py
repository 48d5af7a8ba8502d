"""The paper's Figures 2 to 6 (and a loss/KL trade-off), drawn from saved run data.

Every function returns a :class:`matplotlib.figure.Figure` built with the object API on an Agg canvas
(no pyplot figure is ever created, nothing is shown, no global backend is changed); seaborn provides the
axes style. Colours follow the paper: convexity red, pudding green, double-sided ReLU blue, and grey for
networks that follow none of them.

Input data (the contract with :mod:`reference.sweep` and :mod:`reference.sizes`):

* ``sweep``: one row per (seed, step, beta) with the columns of :data:`SWEEP_COLUMNS`; alpha_1 and rho
  may be +-inf (a median |W| of zero), strategy is one of :class:`reference.classify.Strategy`'s values.
* ``sizes``: one row per (input_dim, hidden_dim) with at least the columns of :data:`SIZES_COLUMNS`;
  the constant columns beta, seed and step, when present, are named in the title.
* networks for Figure 6: ``(weights, biases)`` pairs as :func:`reference.drawing.draw` takes them.

Each function checks only the columns it uses: a missing column raises ``ValueError`` naming it, an
empty frame ``ValueError`` saying there is no data.

Choices the paper leaves open (all visible in the figures' legends and labels):

* checkpoint: ``step=None`` means each seed's last checkpoint (the same step for a complete sweep);
* a seed's line is coloured by its group "strategy at the smallest beta -> strategy at the largest
  beta": the mean of the two strategies' colours (a pure strategy colour when they agree), solid when
  the sweep ends at the same or an earlier strategy in the order convexity, pudding, double-sided, none
  (the usual simplification as beta rises), dashed otherwise, so that "a -> b" and "b -> a" differ;
  circles mark the smallest beta, squares the largest, each filled with the strategy found there;
* order parameters that a log axis cannot show (+-inf, or alpha_1 <= 0 when some input's weights share
  one sign) are drawn on the plot's edge and marked with a black cross;
* Figure 5 uses a log colour scale when every loss is positive (the 0.07 and 0.15 contours live at the
  low end of a (0, ~1.5] range), and a log axis for a size whose values are closer to evenly spaced in
  log than in linear terms (e.g. powers of two).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm, Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

from .classify import Boundaries, Strategy, default_boundaries
from .drawing import draw

__all__ = [
    "STRATEGY_COLORS", "STRATEGY_ORDER", "SWEEP_COLUMNS", "SIZES_COLUMNS",
    "order_parameter_trajectories", "phase_diagrams", "encoder_ablation", "size_generalisation", "drawings",
    "loss_kl_tradeoff", "write_all", "transition_groups",
]

STRATEGY_ORDER: tuple[str, ...] = tuple(s.value for s in Strategy)
"""convexity, pudding, double-sided, none: the order of the legends and of the categorical colour map."""

STRATEGY_COLORS: dict[str, str] = {
    Strategy.CONVEXITY.value: "red",
    Strategy.PUDDING.value: "green",
    Strategy.DOUBLE_SIDED.value: "blue",
    Strategy.NONE.value: "grey",
}
"""The paper's colours (Fig. 3 caption); grey for networks without a strategy."""

SWEEP_COLUMNS = ("seed", "step", "beta", "loss", "kl", "decoder_loss", "alpha_1", "alpha_2", "alpha_3", "rho",
                 "balance", "strategy")
SIZES_COLUMNS = ("input_dim", "hidden_dim", "loss")

CONTOUR_COLORS = ("red", "blue")
"""Colours of Figure 5's contour levels, in order (paper: 0.07 red, 0.15 blue); further levels cycle."""

STYLE = "ticks"
"""seaborn axes style of every figure."""

DPI = 150
"""Resolution of the PNG files :func:`write_all` writes."""

SIZE_COLORMAP = "viridis"
"""Figure 5's loss colour map: low loss dark, so the yellow star and the contours stand out."""

FILE_NAMES = {
    "fig2": "fig2_order_parameters.png",
    "fig3": "fig3_phase_diagrams.png",
    "fig4": "fig4_encoder_ablation.png",
    "fig5": "fig5_size_generalisation.png",
    "fig6": "fig6_drawings.png",
    "tradeoff": "loss_kl_tradeoff.png",
}


# --- input checks and selection ---


def _strategy_name(value: Any) -> str:
    """The plain string of a strategy given as text or as a :class:`Strategy`."""
    return value.value if isinstance(value, Enum) else str(value)


def _check_frame(frame: Any, columns: Iterable[str], name: str) -> pd.DataFrame:
    """``frame`` if it is a non-empty DataFrame holding ``columns``; ``ValueError`` naming the problem."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {', '.join(missing)} (has {', '.join(map(str, frame.columns))})")
    if frame.empty:
        raise ValueError(f"{name} has no data (empty frame)")
    return frame


def _check_sweep(sweep: Any, columns: Sequence[str]) -> pd.DataFrame:
    """A copy of the sweep with the needed ``columns`` (always seed, step, beta, strategy), checked.

    Raises ``ValueError`` for missing columns, no rows, duplicate (seed, step, beta) rows, non-positive
    betas (they go on a log axis) and unknown strategies.
    """
    needed = list(dict.fromkeys(["seed", "step", "beta", "strategy", *columns]))
    frame = _check_frame(sweep, needed, "sweep")[needed].copy()
    frame["strategy"] = frame["strategy"].map(_strategy_name)
    unknown = sorted(set(frame["strategy"]) - set(STRATEGY_ORDER))
    if unknown:
        raise ValueError(f"sweep has unknown strategies {unknown}; expected one of {list(STRATEGY_ORDER)}")
    if frame.duplicated(["seed", "step", "beta"]).any():
        raise ValueError("sweep has duplicate rows for some (seed, step, beta)")
    if not (np.isfinite(frame["beta"]) & (frame["beta"] > 0)).all():
        raise ValueError("sweep has non-positive or non-finite beta values (beta is drawn on a log axis)")
    for column in columns:
        if column != "strategy":
            frame[column] = frame[column].astype(float)
    return frame


def _at_step(sweep: pd.DataFrame, step: int | None) -> pd.DataFrame:
    """Rows at checkpoint ``step`` (each seed's last checkpoint when None), sorted by seed then beta."""
    if step is None:
        rows = sweep[sweep["step"] == sweep.groupby("seed")["step"].transform("max")]
    else:
        rows = sweep[sweep["step"] == step]
        if rows.empty:
            raise ValueError(f"sweep has no rows at step {step}; steps present: {sorted(sweep['step'].unique())}")
    return rows.sort_values(["seed", "beta"]).reset_index(drop=True)


def _step_label(rows: pd.DataFrame) -> str:
    """'step N', or the range of last steps when seeds stopped at different checkpoints."""
    steps = sorted(rows["step"].unique())
    return f"step {steps[0]}" if len(steps) == 1 else f"last step of each seed ({steps[0]}-{steps[-1]})"


# --- strategy groups: colours, line styles, legends ---


def transition_groups(rows: pd.DataFrame) -> dict[Any, tuple[str, str]]:
    """Per seed, (strategy at the smallest beta, strategy at the largest beta) of one checkpoint's rows."""
    groups = {}
    for seed, g in rows.sort_values("beta").groupby("seed", sort=True):
        groups[seed] = (_strategy_name(g["strategy"].iloc[0]), _strategy_name(g["strategy"].iloc[-1]))
    return groups


def _group_style(start: str, end: str) -> tuple[tuple[float, float, float], str]:
    """(colour, line style) of the group start -> end (see the module docstring)."""
    color = tuple(float(c) for c in (np.array(to_rgb(STRATEGY_COLORS[start])) + to_rgb(STRATEGY_COLORS[end])) / 2)
    style = "-" if STRATEGY_ORDER.index(end) <= STRATEGY_ORDER.index(start) else "--"
    return color, style


def _group_label(start: str, end: str) -> str:
    return start if start == end else f"{start} \u2192 {end}"


def _group_handles(groups: Mapping[Any, tuple[str, str]]) -> list[Line2D]:
    """Legend lines, one per group present (in strategy order), labelled with the number of seeds."""
    counts: dict[tuple[str, str], int] = {}
    for pair in groups.values():
        counts[pair] = counts.get(pair, 0) + 1
    handles = []
    for pair in sorted(counts, key=lambda p: (STRATEGY_ORDER.index(p[0]), STRATEGY_ORDER.index(p[1]))):
        color, style = _group_style(*pair)
        n = counts[pair]
        handles.append(Line2D([], [], color=color, linestyle=style, lw=2,
                              label=f"{_group_label(*pair)} ({n} seed{'s' if n != 1 else ''})"))
    return handles


def _end_handles(betas: pd.Series) -> list[Line2D]:
    """Legend entries for the markers at the two ends of the beta sweep."""
    return [
        Line2D([], [], marker="o", linestyle="none", mfc="white", mec="black", label=f"\u03b2 = {betas.min():.0e}"),
        Line2D([], [], marker="s", linestyle="none", mfc="white", mec="black", label=f"\u03b2 = {betas.max():.0e}"),
    ]


def _strategy_handles() -> list[Patch]:
    return [Patch(color=STRATEGY_COLORS[s], label=s) for s in STRATEGY_ORDER]


def _mark_ends(ax: Any, x: np.ndarray, y: np.ndarray, rows: pd.DataFrame) -> None:
    """Circles at each seed's smallest beta, squares at its largest, filled with the strategy there.

    ``x``, ``y`` are the plotted coordinates of ``rows`` (sorted by seed then beta).
    """
    seeds = rows["seed"].to_numpy()
    first = np.r_[True, seeds[1:] != seeds[:-1]]
    last = np.r_[seeds[1:] != seeds[:-1], True]
    for mask, marker, gid in [(first, "o", "beta-min"), (last, "s", "beta-max")]:
        colors = [STRATEGY_COLORS[s] for s in rows["strategy"][mask]]
        ax.scatter(x[mask], y[mask], marker=marker, c=colors, edgecolors="black", linewidths=0.6, s=30,
                   zorder=3, clip_on=False, gid=gid)


# --- axes helpers ---


def _new_figure(nrows: int, ncols: int, figsize: tuple[float, float]) -> tuple[Figure, np.ndarray]:
    """An Agg-backed Figure (constrained layout) with an (nrows, ncols) array of seaborn-styled axes."""
    with sns.axes_style(STYLE):
        figure = Figure(figsize=figsize, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots(nrows, ncols, squeeze=False)
    return figure, axes


def _clip_to_edges(values: Any, log: bool, include: Sequence[float] = ()) -> tuple[np.ndarray, np.ndarray,
                                                                                    tuple[float, float]]:
    """Values placed inside drawable limits: (plotted, clipped mask, (low edge, high edge)).

    The limits pad the range of the drawable values (finite, and positive on a ``log`` axis) and the
    values in ``include``; values beyond them (+-inf, or <= 0 on a log axis) are put on the matching
    edge and flagged in the mask. NaN stays NaN (a gap in the line) and is not flagged.
    """
    v = np.asarray(values, dtype=np.float64)
    extra = np.asarray(include, dtype=np.float64)
    drawable = np.isfinite(v) & (v > 0 if log else True)
    span = np.concatenate([v[drawable], extra[np.isfinite(extra) & (extra > 0 if log else True)]])
    if log:
        lo, hi = (float(span.min()), float(span.max())) if span.size else (0.1, 10.0)
        if lo == hi:
            lo, hi = lo / 10, hi * 10
        pad = max(10 ** 0.1, (hi / lo) ** 0.06)
        low, high = lo / pad, hi * pad
    else:
        lo, hi = (float(span.min()), float(span.max())) if span.size else (0.0, 1.0)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        pad = 0.05 * (hi - lo)
        low, high = lo - pad, hi + pad
    plotted = v.copy()
    clipped = ~drawable & ~np.isnan(v)
    plotted[clipped & (v > 0)] = high
    plotted[clipped & ~(v > 0)] = low
    return plotted, clipped, (low, high)


def _plain_log_ticks(axis: Any, limits: tuple[float, float]) -> None:
    """Log ticks labelled as plain numbers ('0.2', '50', '1e-12'), at 1, 2, 5 per decade on short ranges
    (under two decades) and at the decades otherwise; no minor labels."""
    short = limits[1] / limits[0] < 100
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if short else (1.0,)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _prefers_log(values: Sequence[float]) -> bool:
    """Whether positive sorted ``values`` are more evenly spaced on a log axis than on a linear one."""
    v = np.unique(np.asarray(values, dtype=np.float64))
    if v.size < 3 or not (v > 0).all():
        return False

    def unevenness(x: np.ndarray) -> float:
        d = np.diff(x)
        return float(d.std() / d.mean())

    return unevenness(np.log(v)) < unevenness(v)


def _edges(centres: Sequence[float], log: bool) -> np.ndarray:
    """Cell edges around sorted distinct ``centres``: midpoints between neighbours (geometric if ``log``),
    the outer edges mirrored; a single centre gets a cell one unit (one decade if ``log``) wide."""
    c = np.asarray(centres, dtype=np.float64)
    if log:
        return 10 ** _edges(np.log10(c), log=False)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mids = (c[1:] + c[:-1]) / 2
    return np.concatenate([[2 * c[0] - mids[0]], mids, [2 * c[-1] - mids[-1]]])


def _value_scale(values: Any) -> tuple[str, dict[str, float]]:
    """('log', {}) when every finite value is positive; else ('symlog', {linthresh}) from the smallest |value|."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size and (v > 0).all():
        return "log", {}
    nonzero = np.abs(v[v != 0])
    threshold = 10 ** math.floor(math.log10(nonzero.min())) if nonzero.size else 1.0
    return "symlog", {"linthresh": threshold}


# --- Figure 2 ---


def order_parameter_trajectories(sweep: pd.DataFrame, boundaries: Boundaries | None = None,
                                 step: int | None = None) -> Figure:
    """Figure 2: each seed's line through the beta grid in order-parameter space, at one checkpoint.

    Left: the paper's plane (x double sidedness alpha_1, y strongest connection alpha_2, both log).
    Right: the classifier's plane (x peak rho = alpha_2 / median|W|, log; y balance nu / alpha_2, linear)
    with ``boundaries`` (default :func:`reference.classify.default_boundaries`) as dotted lines: rho =
    boundaries.rho (convexity to its left) and balance = boundaries.balance right of it (pudding below,
    double-sided above), region labels in the strategies' colours, and the 'none' region (balance <= 0)
    shaded grey. ``step`` selects the checkpoint (default: each seed's last).

    Lines are grouped by "strategy at the smallest beta -> at the largest beta" (module docstring).
    Artists carry gids: lines 'trajectory', boundaries 'boundary', end markers 'beta-min'/'beta-max',
    edge markers 'clipped'. The figure has two axes.
    """
    rows = _at_step(_check_sweep(sweep, ["alpha_1", "alpha_2", "rho", "balance"]), step)
    b = default_boundaries() if boundaries is None else boundaries
    groups = transition_groups(rows)
    fig, axes = _new_figure(1, 2, (12.0, 5.8))
    paper, classifier = axes[0]

    x1, clip_x1, xlim1 = _clip_to_edges(rows["alpha_1"], log=True)
    y1, clip_y1, ylim1 = _clip_to_edges(rows["alpha_2"], log=True)
    x2, clip_x2, xlim2 = _clip_to_edges(rows["rho"], log=True, include=[b.rho])
    y2, clip_y2, ylim2 = _clip_to_edges(rows["balance"], log=False, include=[-0.1, 1.0, b.balance])
    for ax, x, y, clipped in [(paper, x1, y1, clip_x1 | clip_y1), (classifier, x2, y2, clip_x2 | clip_y2)]:
        _draw_trajectories(ax, x, y, rows, groups)
        if clipped.any():
            ax.scatter(x[clipped], y[clipped], marker="x", color="black", s=40, linewidths=1.2, zorder=4,
                       clip_on=False, gid="clipped")

    paper.set(xscale="log", yscale="log", xlim=xlim1, ylim=ylim1, xlabel="double sidedness \u03b1\u2081",
              ylabel="strongest connection \u03b1\u2082", title="paper's order parameters (Eqs. 5, 6)")
    classifier.set(xscale="log", xlim=xlim2, ylim=ylim2, xlabel="peak \u03c1 = \u03b1\u2082 / median|W|",
                   ylabel="balance \u03bd / \u03b1\u2082", title="classifier's coordinates and boundaries")
    _draw_regions(classifier, b, xlim2, ylim2)
    for axis, limits in [(paper.xaxis, xlim1), (paper.yaxis, ylim1), (classifier.xaxis, xlim2)]:
        _plain_log_ticks(axis, limits)

    handles = _group_handles(groups) + _end_handles(rows["beta"]) + [
        Line2D([], [], marker="x", linestyle="none", color="black", label="beyond the axis (\u00b1\u221e or \u2264 0)"),
        Line2D([], [], linestyle=":", color="black", label="classifier boundaries"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False)
    fig.suptitle(f"Order parameters along the \u03b2 sweep ({_step_label(rows)}; "
                 f"markers filled with the strategy at that end)")
    return fig


def _draw_trajectories(ax: Any, x: np.ndarray, y: np.ndarray, rows: pd.DataFrame,
                       groups: Mapping[Any, tuple[str, str]]) -> None:
    """One line per seed through the plotted points (rows sorted by seed then beta), plus end markers."""
    seeds = rows["seed"].to_numpy()
    for seed, pair in groups.items():
        mask = seeds == seed
        color, style = _group_style(*pair)
        ax.plot(x[mask], y[mask], color=color, linestyle=style, lw=1.3, alpha=0.85, gid="trajectory",
                label=f"seed {seed}")
    _mark_ends(ax, x, y, rows)


def _draw_regions(ax: Any, b: Boundaries, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    """The classifier's boundaries (dotted), region labels and the shaded 'none' region on the (rho, balance) axes."""
    ax.axvline(b.rho, color="black", linestyle=":", lw=1.2, gid="boundary")
    ax.plot([b.rho, xlim[1]], [b.balance, b.balance], color="black", linestyle=":", lw=1.2, gid="boundary")
    box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 1.5}
    if ylim[0] < 0:
        ax.axhspan(ylim[0], 0.0, color=STRATEGY_COLORS["none"], alpha=0.12, lw=0, zorder=0)
        ax.text(math.sqrt(xlim[0] * xlim[1]), ylim[0] / 2, "none (\u03bd \u2264 0)", ha="center", va="center",
                color=STRATEGY_COLORS["none"], fontweight="bold", bbox=box, zorder=5)
    left, right = math.sqrt(xlim[0] * b.rho), math.sqrt(b.rho * xlim[1])
    gap = 0.02 * (ylim[1] - ylim[0])
    for x, y, va, name in [(left, ylim[1] - gap, "top", "convexity"), (right, b.balance - gap, "top", "pudding"),
                           (right, b.balance + gap, "bottom", "double-sided")]:
        ax.text(x, y, name, ha="center", va=va, color=STRATEGY_COLORS[name], fontweight="bold", bbox=box, zorder=5)


# --- Figure 3 ---


def phase_diagrams(sweep: pd.DataFrame, seeds: Sequence[Any] | None = None, max_panels: int = 6) -> Figure:
    """Figure 3: per seed, the strategy at every (checkpoint step x, beta y on a log axis).

    ``seeds`` picks the seeds and their order (default: all, ascending); at most ``max_panels`` are drawn,
    in a grid of up to three columns, one axes per panel and nothing else (the legend of the four
    strategies is the figure's). Cells are centred on the steps and betas present, with edges halfway
    between neighbours (geometric for beta), so irregular checkpoint schedules are drawn to scale;
    (step, beta) pairs missing from the sweep stay blank. Unknown seeds raise ``ValueError``.
    """
    frame = _check_sweep(sweep, [])
    if isinstance(max_panels, bool) or not isinstance(max_panels, int) or max_panels < 1:
        raise ValueError(f"max_panels must be a positive integer, got {max_panels!r}")
    present = sorted(frame["seed"].unique())
    if seeds is None:
        seeds = present
    else:
        seeds = list(seeds)
        unknown = [s for s in seeds if s not in set(present)]
        if not seeds or unknown:
            raise ValueError(f"seeds {unknown or seeds} not in the sweep (seeds present: {present})")
    seeds = list(seeds)[:max_panels]
    ncols = min(3, len(seeds))
    nrows = math.ceil(len(seeds) / ncols)
    fig, axes = _new_figure(nrows, ncols, (4.2 * ncols, 3.4 * nrows))
    cmap = ListedColormap([STRATEGY_COLORS[s] for s in STRATEGY_ORDER])
    norm = BoundaryNorm(np.arange(len(STRATEGY_ORDER) + 1) - 0.5, len(STRATEGY_ORDER))
    codes = {s: i for i, s in enumerate(STRATEGY_ORDER)}
    for k, (ax, seed) in enumerate(zip(axes.flat, seeds)):
        grid = frame[frame["seed"] == seed].pivot(index="beta", columns="step", values="strategy").sort_index()
        grid = grid.reindex(columns=sorted(grid.columns))
        values = grid.apply(lambda col: col.map(codes)).to_numpy(dtype=np.float64)
        ax.pcolormesh(_edges(grid.columns.to_numpy(), log=False), _edges(grid.index.to_numpy(), log=True),
                      np.ma.masked_invalid(values), cmap=cmap, norm=norm)
        ax.set_yscale("log")
        ax.set_title(f"seed {seed}")
        if k % ncols == 0:
            ax.set_ylabel("\u03b2")
        if k >= len(seeds) - ncols:
            ax.set_xlabel("training step")
    for ax in axes.flat[len(seeds):]:
        ax.remove()
    fig.legend(handles=_strategy_handles(), loc="outside right center", frameon=False, title="strategy")
    return fig


# --- Figure 4 ---


def encoder_ablation(sweep: pd.DataFrame, step: int | None = None) -> Figure:
    """Figure 4: loss with the encoder (x) against the decoder-only loss (y), one line per seed through
    the beta grid at one checkpoint (default: each seed's last), and the dotted diagonal y = x (gid
    'diagonal') where the encoder is unused. Axes are log when every finite loss is positive, else
    linear, with equal limits. Lines (gid 'seed-line') are grouped and marked as in Figure 2; the axes
    hold exactly one line per seed plus the diagonal.
    """
    rows = _at_step(_check_sweep(sweep, ["loss", "decoder_loss"]), step)
    groups = transition_groups(rows)
    fig, axes = _new_figure(1, 1, (6.4, 6.4))
    ax = axes[0, 0]
    x, y = rows["loss"].to_numpy(), rows["decoder_loss"].to_numpy()
    seeds = rows["seed"].to_numpy()
    for seed, pair in groups.items():
        color, style = _group_style(*pair)
        ax.plot(x[seeds == seed], y[seeds == seed], color=color, linestyle=style, lw=1.3, alpha=0.85,
                gid="seed-line", label=f"seed {seed}")
    _mark_ends(ax, x, y, rows)

    both = np.concatenate([x, y])
    both = both[np.isfinite(both)]
    log = both.size > 0 and bool((both > 0).all())
    _, _, limits = _clip_to_edges(both, log=log)
    ax.plot(limits, limits, color="black", linestyle=":", lw=1.5, gid="diagonal", label="y = x")
    scale = "log" if log else "linear"
    ax.set(xscale=scale, yscale=scale, xlim=limits, ylim=limits, aspect="equal",
           xlabel="loss, generated with the encoder", ylabel="loss, generated by the decoder only",
           title=f"Encoder ablation ({_step_label(rows)})")
    if log:
        _plain_log_ticks(ax.xaxis, limits)
        _plain_log_ticks(ax.yaxis, limits)
    handles = _group_handles(groups) + _end_handles(rows["beta"]) + [
        Line2D([], [], color="black", linestyle=":", label="y = x (encoder unused)")]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize="small", frameon=False)
    return fig


# --- Figure 5 ---


def size_generalisation(sizes: pd.DataFrame, trained: tuple[float, float] = (16, 48),
                        contours: Sequence[float] = (0.07, 0.15)) -> Figure:
    """Figure 5: heatmap of the generated networks' loss over input dimension (x) and hidden dimension (y).

    Contour lines at the ``contours`` levels (colours :data:`CONTOUR_COLORS` in order: 0.07 red, 0.15
    blue); a level outside the grid's loss range, or any level on a grid narrower than 2 x 2, is left
    out (and out of the legend) rather than failing. A yellow star (gid 'trained-size') marks the
    ``trained`` (input_dim, hidden_dim). The colour bar is the figure's second axes. Missing grid cells
    stay blank; duplicate (input_dim, hidden_dim) rows raise ``ValueError``.
    """
    frame = _check_frame(sizes, SIZES_COLUMNS, "sizes")
    if frame.duplicated(["input_dim", "hidden_dim"]).any():
        raise ValueError("sizes has duplicate rows for some (input_dim, hidden_dim)")
    grid = frame.pivot(index="hidden_dim", columns="input_dim", values="loss").sort_index()
    grid = grid.reindex(columns=sorted(grid.columns)).astype(float)
    xs, ys = grid.columns.to_numpy(dtype=np.float64), grid.index.to_numpy(dtype=np.float64)
    z = np.ma.masked_invalid(grid.to_numpy())
    x_log, y_log = _prefers_log(xs), _prefers_log(ys)

    fig, axes = _new_figure(1, 1, (7.0, 5.6))
    ax = axes[0, 0]
    finite = z.compressed()
    positive = finite.size > 0 and bool((finite > 0).all())
    norm = LogNorm(finite.min(), finite.max()) if positive and finite.min() < finite.max() else Normalize()
    mesh = ax.pcolormesh(_edges(xs, x_log), _edges(ys, y_log), z, cmap=SIZE_COLORMAP, norm=norm)
    colorbar = fig.colorbar(mesh, ax=ax, label="loss (MSE)")
    if isinstance(norm, LogNorm):
        _plain_log_ticks(colorbar.ax.yaxis, (norm.vmin, norm.vmax))

    handles = []
    for k, level in enumerate(contours):
        color = CONTOUR_COLORS[k % len(CONTOUR_COLORS)]
        if min(z.shape) >= 2 and finite.size and finite.min() < level < finite.max():
            lines = ax.contour(xs, ys, z, levels=[level], colors=[color], linewidths=2)
            colorbar.add_lines(lines, erase=False)
            handles.append(Line2D([], [], color=color, lw=2, label=f"loss = {level:g}"))
    ax.plot([trained[0]], [trained[1]], marker="*", markersize=20, color="yellow", markeredgecolor="black",
            linestyle="none", gid="trained-size", label=f"trained size ({trained[0]:g}, {trained[1]:g})")
    handles.append(ax.lines[-1])

    ax.set(xscale="log" if x_log else "linear", yscale="log" if y_log else "linear",
           xlabel="input dimension", ylabel="hidden dimension")
    _label_ticks(ax.xaxis, xs)
    _label_ticks(ax.yaxis, ys)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=len(handles),
              fontsize="small", frameon=False)
    constants = [f"\u03b2 = {frame[name].iloc[0]:g}" if name == "beta" else f"{name} {frame[name].iloc[0]}"
                 for name in ("beta", "seed", "step") if name in frame.columns and frame[name].nunique() == 1]
    ax.set_title("Loss of generated networks by size" + (f" ({', '.join(constants)})" if constants else ""))
    return fig


def _label_ticks(axis: Any, values: np.ndarray, max_ticks: int = 12) -> None:
    """Ticks at the grid's sizes (every other one if there are many), labelled as integers."""
    step = max(1, math.ceil(len(values) / max_ticks))
    shown = values[::step]
    axis.set_ticks(shown, labels=[f"{v:g}" for v in shown])
    axis.set_minor_locator(NullLocator())


# --- Figure 6 ---


def _unpack_network(network: Any, name: str) -> tuple[Sequence[Any], Sequence[Any] | None]:
    """(weights, biases) of a network given as such a pair; ``ValueError`` naming ``name`` otherwise."""
    if not isinstance(network, (tuple, list)) or len(network) != 2:
        raise ValueError(f"{name} must be a (weights, biases) pair, got {type(network).__name__}")
    return network[0], network[1]


def drawings(hyper: Any, adam: Any, hyper_loss: float | None = None, adam_loss: float | None = None,
             seed: int = 0, **knobs: Any) -> Figure:
    """Figure 6: force-directed drawings of the hypernetwork's and Adam's networks, side by side.

    ``hyper`` and ``adam`` are (weights, biases) pairs (biases may be None); titles name the method and,
    when given, its loss. ``seed`` and ``knobs`` go to :func:`reference.drawing.draw` (layout seed,
    layout and drawing settings). Two axes, left the hypernetwork's.
    """
    fig, axes = _new_figure(1, 2, (11.0, 5.5))
    for ax, (name, network, loss) in zip(axes[0], [("Hypernetwork", hyper, hyper_loss), ("Adam", adam, adam_loss)]):
        weights, biases = _unpack_network(network, name.lower())
        title = name if loss is None else f"{name} (loss {float(loss):.3g})"
        draw(weights, biases, ax=ax, seed=seed, title=title, **knobs)
    fig.suptitle("Inputs green, output magenta; positive weights red, negative blue, width \u221d |w|",
                 fontsize="small")
    return fig


# --- extra: the loss / KL trade-off ---


def loss_kl_tradeoff(sweep: pd.DataFrame, step: int | None = None) -> Figure:
    """Loss (left) and KL in nats (right) against beta (log), one line per seed (gid 'seed-line') at one
    checkpoint (default: each seed's last), grouped as in Figure 2. The y axes are log, or symlog when
    some value is zero or negative (a KL that has collapsed to nothing, as in the paper's case 3d).
    """
    rows = _at_step(_check_sweep(sweep, ["loss", "kl"]), step)
    groups = transition_groups(rows)
    fig, axes = _new_figure(1, 2, (11.0, 4.4))
    seeds = rows["seed"].to_numpy()
    for ax, column, label in [(axes[0, 0], "loss", "loss (MSE)"), (axes[0, 1], "kl", "KL (nats)")]:
        for seed, pair in groups.items():
            color, style = _group_style(*pair)
            part = rows[seeds == seed]
            ax.plot(part["beta"], part[column], color=color, linestyle=style, lw=1.3, alpha=0.85,
                    gid="seed-line", label=f"seed {seed}")
        scale, options = _value_scale(rows[column])
        ax.set_xscale("log")
        ax.set_yscale(scale, **options)
        ax.set(xlabel="\u03b2", ylabel=label)
    fig.legend(handles=_group_handles(groups), loc="outside right center", frameon=False)
    fig.suptitle(f"Loss and KL along the \u03b2 sweep ({_step_label(rows)})")
    return fig


# --- all at once ---


def write_all(sweep: pd.DataFrame | None, sizes: pd.DataFrame | None, networks: Mapping[str, Any] | None,
              out_dir: str | Path, boundaries: Boundaries | None = None, dpi: int = DPI) -> list[Path]:
    """Write every figure whose data is given as a PNG in ``out_dir`` (created); return the paths.

    ``sweep`` gives Figures 2, 3, 4 and the loss/KL trade-off, ``sizes`` Figure 5, ``networks`` (a
    mapping with keys hyper and adam, optionally hyper_loss and adam_loss) Figure 6; None skips them.
    File names are :data:`FILE_NAMES`'. Every figure is built before any file is written, so bad input
    raises ``ValueError`` and leaves no partial set behind.
    """
    makers: list[tuple[str, Callable[[], Figure]]] = []
    if sweep is not None:
        makers += [("fig2", lambda: order_parameter_trajectories(sweep, boundaries)),
                   ("fig3", lambda: phase_diagrams(sweep)),
                   ("fig4", lambda: encoder_ablation(sweep))]
    if sizes is not None:
        makers.append(("fig5", lambda: size_generalisation(sizes)))
    if networks is not None:
        if not isinstance(networks, Mapping):
            raise ValueError(f"networks must be a mapping with keys hyper and adam, got {type(networks).__name__}")
        missing = [k for k in ("hyper", "adam") if k not in networks]
        if missing:
            raise ValueError(f"networks is missing key(s) {', '.join(missing)}")
        makers.append(("fig6", lambda: drawings(networks["hyper"], networks["adam"], networks.get("hyper_loss"),
                                                networks.get("adam_loss"))))
    if sweep is not None:
        makers.append(("tradeoff", lambda: loss_kl_tradeoff(sweep)))
    figures = [(key, make()) for key, make in makers]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, figure in figures:
        path = out / FILE_NAMES[key]
        figure.savefig(path, dpi=dpi)
        paths.append(path)
    return paths
