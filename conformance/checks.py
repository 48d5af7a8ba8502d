"""One check per clause of SPEC.md. Each takes the adapter (and inputs) and raises :class:`ClauseFailure`,
whose message names the clause and shows what was expected and what came.

The checks are plain functions so that the pytest suite (``conformance/suite``, which feeds them
hypothesis-generated inputs) and the suite's own tests (which run them against deliberately broken
implementations) share them. ``CLAUSES`` maps every clause id to its title and required capability.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from .protocol import ChannelTrace, Network, edge_offsets, paper_kl

KS_ALPHA = 1e-6
"""Goodness-of-fit tests reject at p < 1e-6: a correct implementation fails one with probability 1e-6."""
FLOAT_RTOL = 1e-4
"""Relative tolerance for values a float32 implementation computes in a different order (sums over
thousands of terms, softmax reductions after a permutation): float32 carries ~1e-7, with room for 1e3
accumulated roundings."""


class ClauseFailure(AssertionError):
    """A clause of SPEC.md does not hold; ``clause`` is its id."""

    def __init__(self, clause: str, message: str) -> None:
        super().__init__(f"[{clause}] {message}")
        self.clause = clause


@dataclass(frozen=True)
class Clause:
    id: str
    title: str
    requires: str | None  # capability, or None for the required protocol


CLAUSES: dict[str, Clause] = {}


def clause(id: str, title: str, requires: str | None = None) -> Callable:
    """Register a check function as the check of clause ``id``."""

    def register(function: Callable) -> Callable:
        CLAUSES[id] = Clause(id, title, requires)
        function.clause = CLAUSES[id]
        return function

    return register


def require(condition: bool, clause_id: str, message: str) -> None:
    if not condition:
        raise ClauseFailure(clause_id, message)


def _scale(*arrays: np.ndarray) -> float:
    return max([1.0] + [float(np.max(np.abs(a))) for a in arrays if np.size(a)])


def _close(a: np.ndarray, b: np.ndarray, rtol: float = FLOAT_RTOL) -> bool:
    """Equal up to ``rtol`` of the larger magnitude present (float32 round-off after reordering)."""
    return bool(np.all(np.abs(np.asarray(a, float) - np.asarray(b, float)) <= rtol * _scale(a, b)))


def _max_diff(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    return max(float(np.max(np.abs(np.asarray(x, float) - np.asarray(y, float)))) for x, y in zip(a, b))


def _expected_shapes(sizes: Sequence[int]) -> tuple[list[tuple[int, int]], list[tuple[int]]]:
    return ([(b, a) for a, b in zip(sizes[:-1], sizes[1:])], [(b,) for b in sizes[1:]])


def _check_shapes(net: Network, sizes: Sequence[int], clause_id: str) -> None:
    weights, biases = _expected_shapes(sizes)
    got_w = [tuple(np.shape(w)) for w in net.weights]
    got_b = [tuple(np.shape(b)) for b in net.biases]
    require(got_w == weights and got_b == biases, clause_id,
            f"sizes {tuple(sizes)}: expected weight shapes {weights} and bias shapes {biases}, got {got_w} and {got_b}")


# --- SHAPE ---

@clause("SHAPE-1", "decoder-only generation gives one (n_{l+1}, n_l) weight and one n_{l+1} bias per layer, any sizes")
def check_decoder_shapes(impl: Any, sizes: Sequence[int], beta: float, seed: int) -> None:
    _check_shapes(impl.generate(tuple(sizes), beta, seed, decoder_only=True), sizes, "SHAPE-1")


@clause("SHAPE-2", "generation with the encoder gives the right shapes at the trained sizes")
def check_encoder_shapes(impl: Any, beta: float, seed: int) -> None:
    _check_shapes(impl.generate(tuple(impl.trained_sizes), beta, seed), impl.trained_sizes, "SHAPE-2")


@clause("SHAPE-3", "generation with the encoder at sizes other than the trained ones raises ValueError")
def check_encoder_rejects_other_sizes(impl: Any, sizes: Sequence[int], beta: float, seed: int) -> None:
    if tuple(sizes) == tuple(impl.trained_sizes):
        return
    try:
        impl.generate(tuple(sizes), beta, seed)
    except ValueError:
        return
    raise ClauseFailure("SHAPE-3", f"encoder generation at {tuple(sizes)} (trained {tuple(impl.trained_sizes)}) "
                                   "returned a network instead of raising ValueError")


@clause("SHAPE-4", "every weight, bias and KL is finite")
def check_finite(impl: Any, sizes: Sequence[int], beta: float, seed: int, decoder_only: bool) -> None:
    net = impl.generate(tuple(sizes), beta, seed, decoder_only=decoder_only)
    bad = [f"W{l}" for l, w in enumerate(net.weights) if not np.all(np.isfinite(w))]
    bad += [f"b{l}" for l, b in enumerate(net.biases) if not np.all(np.isfinite(b))]
    bad += [] if math.isfinite(net.kl) else ["kl"]
    require(not bad, "SHAPE-4", f"non-finite values in {', '.join(bad)} (sizes {tuple(sizes)}, beta {beta:g})")


# --- DET ---

@clause("DET-1", "the same sizes, beta and seed give the same network")
def check_deterministic(impl: Any, sizes: Sequence[int], beta: float, seed: int, decoder_only: bool) -> None:
    a = impl.generate(tuple(sizes), beta, seed, decoder_only=decoder_only)
    b = impl.generate(tuple(sizes), beta, seed, decoder_only=decoder_only)
    diff = _max_diff(a.weights + a.biases, b.weights + b.biases)
    require(diff <= 1e-6 * _scale(*a.weights, *a.biases), "DET-1",
            f"two generations with seed {seed} differ by up to {diff:.3g}")


@clause("DET-2", "different seeds give different networks (the generation noise is used)")
def check_seeds_differ(impl: Any, sizes: Sequence[int], beta: float, seed: int, decoder_only: bool) -> None:
    a = impl.generate(tuple(sizes), beta, seed, decoder_only=decoder_only)
    b = impl.generate(tuple(sizes), beta, seed + 1, decoder_only=decoder_only)
    diff = _max_diff(a.weights + a.biases, b.weights + b.biases)
    require(diff > 1e-6 * _scale(*a.weights, *a.biases), "DET-2",
            f"seeds {seed} and {seed + 1} give the same network (max difference {diff:.3g})")


# --- BETA ---

INVALID_BETAS = (0.0, -1e-3, float("nan"), float("inf"), float("-inf"))


@clause("BETA-1", "generate rejects a beta that is not finite and > 0 with ValueError")
def check_generate_rejects_invalid_beta(impl: Any, beta: float) -> None:
    for decoder_only in (False, True):
        try:
            impl.generate(tuple(impl.trained_sizes), beta, 0, decoder_only=decoder_only)
        except ValueError:
            continue
        raise ClauseFailure("BETA-1", f"generate(beta={beta!r}, decoder_only={decoder_only}) did not raise ValueError")


@clause("BETA-2", "beta conditions the hyperweights: the same seed at beta 1e-12 and 1 gives different networks")
def check_beta_conditions(impl: Any, seed: int, decoder_only: bool) -> None:
    low = impl.generate(tuple(impl.trained_sizes), 1e-12, seed, decoder_only=decoder_only)
    high = impl.generate(tuple(impl.trained_sizes), 1.0, seed, decoder_only=decoder_only)
    diff = _max_diff(low.weights + low.biases, high.weights + high.biases)
    require(diff > 1e-6 * _scale(*low.weights, *low.biases), "BETA-2",
            f"networks at beta 1e-12 and 1 (seed {seed}) are identical: beta does not reach the hyperweights")


@clause("BETA-3", "the objective is log(L + beta * KL)", requires="objective")
def check_objective(impl: Any, loss: float, kl: float, beta: float) -> None:
    expected = math.log(loss + beta * kl)
    got = impl.objective(loss, kl, beta)
    require(abs(got - expected) <= 1e-5 * max(1.0, abs(expected)), "BETA-3",
            f"objective(L={loss:g}, KL={kl:g}, beta={beta:g}): expected log(L + beta*KL) = {expected:.7g}, got {got!r}")


@clause("BETA-4", "the objective rejects a beta that is not finite and > 0 with ValueError", requires="objective")
def check_objective_rejects_invalid_beta(impl: Any, beta: float) -> None:
    try:
        impl.objective(0.5, 1.0, beta)
    except ValueError:
        return
    raise ClauseFailure("BETA-4", f"objective(beta={beta!r}) did not raise ValueError")


# --- KL ---

@clause("KL-1", "generation with the encoder reports a finite KL >= 0")
def check_kl_nonnegative(impl: Any, beta: float, seed: int) -> None:
    kl = impl.generate(tuple(impl.trained_sizes), beta, seed).kl
    require(math.isfinite(kl) and kl >= 0, "KL-1", f"KL must be finite and >= 0, got {kl!r} (beta {beta:g})")


def _check_trace_shapes(traces: list[ChannelTrace], edges: int, clause_id: str, decoder_only: bool) -> None:
    require(len(traces) >= 1, clause_id, "the trace holds no KL channel")
    for t, trace in enumerate(traces):
        arrays = {"mu_p": trace.mu_p, "sigma_p": trace.sigma_p, "z": trace.z}
        if not decoder_only:
            arrays.update(mu_q=trace.mu_q, sigma_q=trace.sigma_q)
        for name, array in arrays.items():
            require(array is not None and np.ndim(array) == 2 and np.shape(array)[0] == edges, clause_id,
                    f"hyperlayer {t}: {name} must have shape (E={edges}, latent), got "
                    f"{None if array is None else np.shape(array)}")
        for name in ("sigma_p",) + (() if decoder_only else ("sigma_q",)):
            require(bool(np.all(np.asarray(arrays[name]) > 0)), clause_id, f"hyperlayer {t}: {name} must be > 0")


@clause("KL-2", "the reported KL equals the closed-form KL(q||p) summed over every channel of every hyperlayer",
        requires="trace")
def check_kl_accounting(impl: Any, beta: float, seed: int) -> None:
    sizes = tuple(impl.trained_sizes)
    net, traces = impl.generate_traced(sizes, beta, seed)
    _check_trace_shapes(traces, edge_offsets(sizes)[-1], "KL-2", decoder_only=False)
    per_layer = [float(paper_kl(t.mu_q, t.sigma_q, t.mu_p, t.sigma_p).sum()) for t in traces]
    total = math.fsum(per_layer)
    channels = sum(np.size(t.mu_p) for t in traces)
    require(abs(net.kl - total) <= FLOAT_RTOL * abs(total) + 1e-6 * channels, "KL-2",
            f"reported KL {net.kl:.7g} != sum over {len(traces)} hyperlayers of closed-form KL(q||p) = {total:.7g} "
            f"(per hyperlayer: {', '.join(f'{v:.4g}' for v in per_layer)})")


@clause("KL-3", "the KL is zero when the encoder's learned variables equal the decoder's (q = p)", requires="encoder")
def check_kl_zero_when_q_equals_p(impl: Any, beta: float, seed: int) -> None:
    twin = impl.with_encoder(None)
    sizes = tuple(impl.trained_sizes)
    kl = twin.generate(sizes, beta, seed).kl
    channels = edge_offsets(sizes)[-1]
    require(abs(kl) <= 1e-6 * channels, "KL-3",
            f"with zeroed learned variables both KL sides compute the same distribution, so the KL must be 0; got {kl:.6g}")


def _standard_normal_fit(residuals: np.ndarray, clause_id: str, what: str) -> None:
    residuals = np.asarray(residuals, dtype=np.float64).ravel()
    require(bool(np.all(np.isfinite(residuals))), clause_id, f"{what}: non-finite standardised samples")
    p = stats.kstest(residuals, "norm").pvalue
    require(p >= KS_ALPHA, clause_id,
            f"{what}: the standardised samples (z - mu)/sigma are not N(0, 1): KS p = {p:.3g} < {KS_ALPHA:g} "
            f"(n = {residuals.size}, mean {residuals.mean():.3g}, std {residuals.std():.3g})")


@clause("KL-4", "with the encoder, the channel's samples are drawn from q (goodness of fit, false-failure rate 1e-6)",
        requires="trace")
def check_samples_from_q(impl: Any, beta: float, seed: int) -> None:
    sizes = tuple(impl.trained_sizes)
    _, traces = impl.generate_traced(sizes, beta, seed)
    _check_trace_shapes(traces, edge_offsets(sizes)[-1], "KL-4", decoder_only=False)
    residuals = np.concatenate([((t.z - t.mu_q) / t.sigma_q).ravel() for t in traces])
    _standard_normal_fit(residuals, "KL-4", f"encoder generation, beta {beta:g}, seed {seed}")


@clause("KL-5", "the encoder's learned variables reach q: with them replaced by random draws, the KL exceeds "
                "KL-3's rounding allowance",
        requires="encoder")
def check_learned_variables_reach_q(impl: Any, beta: float, seed: int, encoder_seed: int) -> None:
    sizes = tuple(impl.trained_sizes)
    kl = impl.with_encoder(encoder_seed).generate(sizes, beta, seed).kl
    floor = 1e-6 * edge_offsets(sizes)[-1]  # KL-3's rounding allowance: a KL below it is indistinguishable from 0
    require(kl > floor, "KL-5", f"with random learned variables (seed {encoder_seed}) the KL is {kl!r} <= {floor:.3g} "
                                "(KL-3's rounding allowance): the encoder's information never reaches q, or p is "
                                "read from the encoder side")


@clause("KL-6", "generate_traced returns the network and KL that generate returns for the same arguments",
        requires="trace")
def check_trace_matches_generate(impl: Any, sizes: Sequence[int], beta: float, seed: int, decoder_only: bool) -> None:
    sizes = tuple(sizes) if decoder_only else tuple(impl.trained_sizes)
    plain = impl.generate(sizes, beta, seed, decoder_only=decoder_only)
    traced, _ = impl.generate_traced(sizes, beta, seed, decoder_only=decoder_only)
    diff = _max_diff(plain.weights + plain.biases, traced.weights + traced.biases)
    scale = _scale(*plain.weights, *plain.biases)
    require(diff <= 1e-6 * scale and abs(plain.kl - traced.kl) <= 1e-6 * max(1.0, abs(plain.kl)), "KL-6",
            f"generate and generate_traced differ: networks by up to {diff:.3g}, KL {plain.kl!r} vs {traced.kl!r}")


# --- DEC ---

@clause("DEC-1", "decoder-only generation reports no KL (0.0), and its trace has no encoder side")
def check_decoder_no_kl(impl: Any, sizes: Sequence[int], beta: float, seed: int) -> None:
    net = impl.generate(tuple(sizes), beta, seed, decoder_only=True)
    require(net.kl == 0.0, "DEC-1", f"decoder-only generation reported KL {net.kl!r}, expected 0.0")
    if "trace" in impl.capabilities:
        _, traces = impl.generate_traced(tuple(sizes), beta, seed, decoder_only=True)
        with_q = [t for t, trace in enumerate(traces) if trace.mu_q is not None or trace.sigma_q is not None]
        require(not with_q, "DEC-1", f"decoder-only trace has an encoder distribution in hyperlayers {with_q}")


@clause("DEC-2", "decoder-only latents are drawn from the decoder side p (goodness of fit, false-failure rate 1e-6)",
        requires="trace")
def check_decoder_samples_from_p(impl: Any, sizes: Sequence[int], beta: float, seed: int) -> None:
    _, traces = impl.generate_traced(tuple(sizes), beta, seed, decoder_only=True)
    _check_trace_shapes(traces, edge_offsets(sizes)[-1], "DEC-2", decoder_only=True)
    residuals = np.concatenate([((t.z - t.mu_p) / t.sigma_p).ravel() for t in traces])
    _standard_normal_fit(residuals, "DEC-2", f"decoder-only generation at {tuple(sizes)}, beta {beta:g}")


@clause("DEC-3", "decoder-only generation uses no encoder information: changing the learned variables changes nothing",
        requires="encoder")
def check_decoder_ignores_encoder(impl: Any, sizes: Sequence[int], beta: float, seed: int, encoder_seed: int) -> None:
    base = impl.generate(tuple(sizes), beta, seed, decoder_only=True)
    other = impl.with_encoder(encoder_seed).generate(tuple(sizes), beta, seed, decoder_only=True)
    diff = _max_diff(base.weights + base.biases, other.weights + other.biases)
    require(diff <= 1e-6 * _scale(*base.weights, *base.biases), "DEC-3",
            f"decoder-only networks changed by up to {diff:.3g} when the encoder's learned variables changed")


@clause("DEC-4", "generation is a function of the supplied noise: the same noise gives the same network",
        requires="noise")
def check_noise_determines_network(impl: Any, sizes: Sequence[int], beta: float, seed: int) -> None:
    noise = draw_noise(impl, sizes, seed)
    a = impl.generate_from_noise(tuple(sizes), beta, noise, decoder_only=True)
    b = impl.generate_from_noise(tuple(sizes), beta, {k: v.copy() for k, v in noise.items()}, decoder_only=True)
    _check_shapes(a, sizes, "DEC-4")
    diff = _max_diff(a.weights + a.biases, b.weights + b.biases)
    require(diff <= 1e-6 * _scale(*a.weights, *a.biases), "DEC-4", f"the same noise gave networks {diff:.3g} apart")


# --- EXCH ---

def draw_noise(impl: Any, sizes: Sequence[int], seed: int) -> dict[str, np.ndarray]:
    """Fresh N(0, 1) arrays of the adapter's noise shapes."""
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape) for name, shape in impl.noise_shapes(tuple(sizes)).items()}


def edge_permutation(sizes: Sequence[int], permutations: Sequence[np.ndarray]) -> np.ndarray:
    """``p`` with new_edges = old_edges[p] when new neuron k of layer m is old neuron permutations[m][k]."""
    offsets, parts = edge_offsets(sizes), []
    for l, (n_in, _) in enumerate(zip(sizes[:-1], sizes[1:])):
        rows, cols = permutations[l + 1][:, None], permutations[l][None, :]
        parts.append((offsets[l] + rows * n_in + cols).ravel())
    return np.concatenate(parts)


@clause("EXCH-1", "decoder-only: permuting hidden neurons (and the noise with them) permutes the generated network",
        requires="noise")
def check_hidden_exchangeability(impl: Any, sizes: Sequence[int], beta: float, seed: int) -> None:
    rng = np.random.default_rng(seed + 7)
    perms = [np.arange(n) for n in sizes]
    for m in range(1, len(sizes) - 1):
        perms[m] = rng.permutation(sizes[m])
    p = edge_permutation(sizes, perms)
    noise = draw_noise(impl, sizes, seed)
    moved_noise = {k: np.take(v, p, axis=-2) for k, v in noise.items()}
    base = impl.generate_from_noise(tuple(sizes), beta, noise, decoder_only=True)
    moved = impl.generate_from_noise(tuple(sizes), beta, moved_noise, decoder_only=True)
    expected_w = [w[perms[l + 1]][:, perms[l]] for l, w in enumerate(base.weights)]
    expected_b = [b[perms[l + 1]] for l, b in enumerate(base.biases)]
    diff = _max_diff(moved.weights + moved.biases, expected_w + expected_b)
    require(diff <= FLOAT_RTOL * _scale(*base.weights, *base.biases), "EXCH-1",
            f"sizes {tuple(sizes)}: after permuting hidden neurons and noise, the network differs from the permuted "
            f"original by up to {diff:.3g}")


@clause("EXCH-2", "input neurons carry positional encodings: relabelling the inputs does not merely relabel the "
                  "network", requires="noise")
def check_inputs_are_distinguished(impl: Any, sizes: Sequence[int], beta: float, seed: int) -> None:
    if sizes[0] < 2:
        return
    perms = [np.arange(n) for n in sizes]
    perms[0] = np.roll(np.arange(sizes[0]), 1)
    p = edge_permutation(sizes, perms)
    noise = draw_noise(impl, sizes, seed)
    base = impl.generate_from_noise(tuple(sizes), beta, noise, decoder_only=True)
    moved = impl.generate_from_noise(tuple(sizes), beta, {k: np.take(v, p, axis=-2) for k, v in noise.items()},
                                     decoder_only=True)
    relabelled = [w[perms[l + 1]][:, perms[l]] for l, w in enumerate(base.weights)]
    diff = _max_diff(moved.weights, relabelled)
    require(diff > FLOAT_RTOL * _scale(*base.weights), "EXCH-2",
            f"sizes {tuple(sizes)}: rotating the inputs (noise moved along) only rotated the network (max difference "
            f"{diff:.3g}): the inputs are exchangeable, so positional encodings of i are missing")


# --- TASK ---

@clause("TASK-1", "the target is (||x||_1 - n sqrt(2/pi)) / sqrt(n (1 - 2/pi))", requires="task")
def check_target(impl: Any, x: np.ndarray) -> None:
    n = x.shape[1]
    expected = (np.abs(x).sum(1) - n * math.sqrt(2 / math.pi)) / math.sqrt(n * (1 - 2 / math.pi))
    got = np.asarray(impl.l1_target(x), dtype=np.float64)
    require(got.shape == expected.shape and _close(got, expected, 1e-5), "TASK-1",
            f"l1_target for n = {n}: expected {expected[:3]}..., got {got.ravel()[:3]}... (shape {got.shape})")


def numpy_mlp(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    """The target MLP in NumPy: swish hidden layers, linear output."""
    a = np.asarray(x, dtype=np.float64)
    for l, (w, b) in enumerate(zip(weights, biases)):
        a = a @ np.asarray(w, dtype=np.float64).T + np.asarray(b, dtype=np.float64)
        if l < len(weights) - 1:
            a = a / (1.0 + np.exp(-a))
    return a


@clause("TASK-2", "the MLP uses swish on hidden layers and a linear output, with W^(l) of shape (n_{l+1}, n_l)",
        requires="task")
def check_mlp(impl: Any, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray) -> None:
    expected = numpy_mlp(weights, biases, x)
    got = np.asarray(impl.mlp_forward(weights, biases, x), dtype=np.float64)
    require(got.shape == expected.shape and _close(got, expected, 1e-5), "TASK-2",
            f"mlp_forward: expected shape {expected.shape} values {expected.ravel()[:3]}..., "
            f"got shape {got.shape} values {got.ravel()[:3]}...")


# --- ORDER ---

def numpy_order_parameters(w0: np.ndarray, v0: np.ndarray) -> dict[str, float]:
    """Eqs. 5-7 with the paper's W = w0.T (i: inputs, j: hidden)."""
    w, v = np.asarray(w0, float).T, np.asarray(v0, float).T
    alpha_1 = np.minimum(-w.min(axis=1), w.max(axis=1)).min() / np.median(np.abs(w))
    alpha_3 = np.square(w - v).sum() / (np.square(w).sum() + np.square(v).sum())
    return {"alpha_1": float(alpha_1), "alpha_2": float(np.abs(w).max()), "alpha_3": float(alpha_3)}


@clause("ORDER-1", "the order parameters follow Eqs. 5-7 (W in R^{n0 x n1} is the first layer transposed)",
        requires="order_parameters")
def check_order_parameters(impl: Any, w0: np.ndarray, v0: np.ndarray) -> None:
    expected = numpy_order_parameters(w0, v0)
    got = impl.order_parameters(w0, v0)
    wrong = {k: (expected[k], got.get(k)) for k in expected
             if got.get(k) is None or not math.isclose(got[k], expected[k], rel_tol=1e-6, abs_tol=1e-9)}
    require(not wrong, "ORDER-1", "expected vs got: " + "; ".join(f"{k} {e:.6g} vs {g}" for k, (e, g) in wrong.items()))


@clause("ORDER-2", "seed dependence alpha_3 is 0 for V = W, 2 for V = -W, symmetric, and within [0, 2]",
        requires="order_parameters")
def check_seed_dependence_properties(impl: Any, w0: np.ndarray, v0: np.ndarray) -> None:
    same = impl.order_parameters(w0, w0)["alpha_3"]
    opposite = impl.order_parameters(w0, -w0)["alpha_3"]
    forward, backward = impl.order_parameters(w0, v0)["alpha_3"], impl.order_parameters(v0, w0)["alpha_3"]
    require(abs(same) <= 1e-9 and abs(opposite - 2) <= 1e-9 and abs(forward - backward) <= 1e-9
            and -1e-12 <= forward <= 2 + 1e-12, "ORDER-2",
            f"alpha_3(W, W) = {same!r} (expected 0), alpha_3(W, -W) = {opposite!r} (expected 2), "
            f"alpha_3(W, V) = {forward!r} vs alpha_3(V, W) = {backward!r}")
