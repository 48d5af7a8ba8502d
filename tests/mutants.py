"""A catalogue of deliberately broken implementations ("mutants") for testing the conformance suite.

Each mutant is one plausible bug a real implementer could make, built on a small reference model
(``SMALL_CONFIG``: trained sizes (4, 6, 1)) by subclassing or wrapping the reference: a subclass of
:class:`reference.hypernet.Hypernetwork` (or of the hyperhypernetwork) swapped into a deep copy of the
model, or a subclass of :class:`conformance.reference_adapter.ReferenceAdapter` overriding one method.
Every mutant names the clause(s) of ``conformance/SPEC.md`` expected to reject it.

A :class:`Mutant` is callable and returns a fresh adapter, so the real suite runs against one with::

    pytest conformance/suite --impl tests.mutants:kl_reversed

``rejecting_clauses(mutant)`` runs every applicable check of ``conformance.checks`` on a few fixed, small
inputs (``fixed_cases``) and returns the clauses that raised ``ClauseFailure``; ``python -m tests.mutants``
prints the table mutant -> rejecting clauses.

``UNCAUGHT`` lists further plausible bugs that NO clause rejects (gaps of the suite); they are kept out
of ``MUTANTS`` and ``tests/test_mutants.py`` checks they are still uncaught, so that a new clause that
catches one is noticed and the bug moved into the catalogue.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from conformance import checks
from conformance.checks import CLAUSES, ClauseFailure
from conformance.protocol import Network, edge_offsets, paper_kl
from conformance.reference_adapter import ReferenceAdapter
from reference.config import Config, validate_beta
from reference.graph import ComputationGraph, sinusoid
from reference.hypernet import Generated, Hypernetwork, KLTrace, gaussian_kl
from reference.order import double_sidedness, order_parameters, strongest_connection
from reference.pareto import HyperHypernetwork, ParetoHypernetwork
from reference.train import build_model

SMALL_CONFIG = Config(sizes=(4, 6, 1), hyperdepth=3, residual_width=16)
"""The mutants' base model. Hyperdepth 3, not 2: the reference's first hyperlayer always has KL 0 (both
sides start from the same bias, before any learned variable enters), so at hyperdepth 2 "KL of the last
hyperlayer only" equals the full KL and that bug would be invisible."""

PAPER_SIZES_CONFIG = SMALL_CONFIG.replace(sizes=(16, 48, 1))
"""The base of the one mutant a goodness-of-fit test at the trained sizes must detect: KL-4's KS test pools
E * latent * hyperdepth standardised samples, 360 at (4, 6, 1) (too few to see q -> p at p < 1e-6, KS p
~0.01) but 9792 at the paper's (16, 48, 1)."""


@functools.cache
def _model(config: Config) -> ParetoHypernetwork:
    return build_model(config)


def small_model(config: Config = SMALL_CONFIG) -> ParetoHypernetwork:
    """A fresh deep copy of the small reference model (its parameters are the same every time)."""
    return copy.deepcopy(_model(config))


def small_reference() -> ReferenceAdapter:
    """The reference adapter around the small model: the un-mutated baseline."""
    adapter = ReferenceAdapter(small_model())
    adapter.name = "reference (4, 6, 1)"
    return adapter


class MutantAdapter(ReferenceAdapter):
    """A reference adapter whose ``with_encoder`` keeps the mutant (its class and any extra state)."""

    def with_encoder(self, seed: int | None) -> MutantAdapter:
        twin = copy.copy(self)
        twin._model = ReferenceAdapter.with_encoder(self, seed).model  # deep copy, learned variables replaced
        return twin


@dataclass(frozen=True)
class Mutant:
    """One broken implementation: ``build()`` returns a fresh adapter; calling the mutant does the same."""

    name: str
    bug: str
    clauses: tuple[str, ...]
    build: Callable[[], Any]

    def __call__(self) -> Any:
        adapter = self.build()
        adapter.name = f"mutant {self.name}"
        return adapter


MUTANTS: dict[str, Mutant] = {}
UNCAUGHT: dict[str, Mutant] = {}


def mutant(*clauses: str, bug: str, catalogue: dict[str, Mutant] = MUTANTS) -> Callable[[Callable], Mutant]:
    """Register the decorated builder as a mutant named after it, rejected by ``clauses``."""

    def register(build: Callable[[], Any]) -> Mutant:
        entry = Mutant(build.__name__, bug, tuple(clauses), build)
        if entry.name in MUTANTS or entry.name in UNCAUGHT:
            raise ValueError(f"duplicate mutant name {entry.name!r}")
        catalogue[entry.name] = entry
        return entry

    return register


def gap(bug: str) -> Callable[[Callable], Mutant]:
    """Register a bug that no clause rejects (a gap of the suite), kept out of ``MUTANTS``."""
    return mutant(bug=bug, catalogue=UNCAUGHT)


def with_hypernet(cls: type[Hypernetwork], config: Config = SMALL_CONFIG) -> MutantAdapter:
    """The small model with its hypernetwork turned into ``cls`` (a subclass adding no state)."""
    model = small_model(config)
    model.hypernet.__class__ = cls
    return MutantAdapter(model)


def with_hyperhyper(cls: type[HyperHypernetwork]) -> MutantAdapter:
    model = small_model()
    model.hyperhyper.__class__ = cls
    return MutantAdapter(model)


def _replace(trace: KLTrace, **changes: Any) -> KLTrace:
    return KLTrace(**{**trace.__dict__, **changes})


def _total(kl: torch.Tensor) -> torch.Tensor:
    """Sum over edges and latent features: (batch, E, latent) -> (batch,)."""
    return kl.sum(dim=(-1, -2))


# ----------------------------------------------------------------------------------------------------
# The KL channel (A.2.1): what is reported as the KL
# ----------------------------------------------------------------------------------------------------

class _ReportedKL(Hypernetwork):
    """The reference channel, but the KL reported with the encoder is ``self._kl(trace)``."""

    def _kl_channel(self, kl_in, eps, decoder_only):
        z, kl, trace = super()._kl_channel(kl_in, eps, decoder_only)
        return (z, kl, trace) if decoder_only else (z, self._kl(trace), trace)

    def _kl(self, t: KLTrace) -> torch.Tensor:
        raise NotImplementedError


@mutant("KL-2", bug="reports KL(p || q), the arguments of the closed form swapped")
def kl_reversed():
    class Reversed(_ReportedKL):
        def _kl(self, t):
            return _total(gaussian_kl(t.mu_p, t.sigma_p, t.mu_q, t.sigma_q))
    return with_hypernet(Reversed)


@mutant("KL-2", bug="closed-form KL without the factor 1/2: log(s_q^2/s_p^2) + ... - 1")
def kl_without_half():
    class NoHalf(_ReportedKL):
        def _kl(self, t):
            ratio = (t.sigma_q / t.sigma_p).square()
            return _total(ratio + ((t.mu_q - t.mu_p) / t.sigma_p).square() - 1.0 - ratio.log())
    return with_hypernet(NoHalf)


@mutant("KL-2", bug="closed-form KL without the log(sigma_p / sigma_q) term")
def kl_without_log_sigma():
    class NoLog(_ReportedKL):
        def _kl(self, t):
            ratio = (t.sigma_q / t.sigma_p).square()
            return _total(0.5 * (ratio + ((t.mu_q - t.mu_p) / t.sigma_p).square() - 1.0))
    return with_hypernet(NoLog)


@mutant("KL-2", bug="KL averaged over edges and latent features instead of summed (a per-weight mean)")
def kl_mean_not_sum():
    class Mean(_ReportedKL):
        def _kl(self, t):
            return gaussian_kl(t.mu_q, t.sigma_q, t.mu_p, t.sigma_p).mean(dim=(-1, -2))
    return with_hypernet(Mean)


@mutant("KL-1", "KL-2", bug="the KL accumulated with the wrong sign (as an ELBO term, -KL)")
def kl_sign_flipped():
    class Negated(_ReportedKL):
        def _kl(self, t):
            return -_total(gaussian_kl(t.mu_q, t.sigma_q, t.mu_p, t.sigma_p))
    return with_hypernet(Negated)


@mutant("KL-2", bug="the accumulator is overwritten (kl = layer_kl): only the last hyperlayer's KL is reported")
def kl_last_hyperlayer_only():
    class LastOnly(Hypernetwork):
        def forward(self, hyperweights, sizes, noise, decoder_only=False, trace=False):
            out = super().forward(hyperweights, sizes, noise, decoder_only=decoder_only, trace=True)
            kl = out.kl
            if not decoder_only:
                t = out.trace[-1]
                kl = _total(gaussian_kl(t.mu_q, t.sigma_q, t.mu_p, t.sigma_p))
            return Generated(out.weights, out.biases, kl, out.trace if trace else None)
    return with_hypernet(LastOnly)


# ----------------------------------------------------------------------------------------------------
# The KL channel: where the samples come from, and the two sides
# ----------------------------------------------------------------------------------------------------

@mutant("KL-4", bug="with the encoder, the latent is sampled from the decoder's p (z = mu_p + sigma_p * eps)")
def encoder_samples_from_p():
    class FromP(Hypernetwork):
        def _kl_channel(self, kl_in, eps, decoder_only):
            z, kl, t = super()._kl_channel(kl_in, eps, decoder_only)
            if not decoder_only:
                z = t.mu_p + t.sigma_p * eps
                t = _replace(t, z=z)
            return z, kl, t
    return with_hypernet(FromP, PAPER_SIZES_CONFIG)


@mutant("KL-4", bug="with the encoder, the latent is q's mean (the reparametrisation noise left out at generation)")
def encoder_mean_latents():
    class MeanLatent(Hypernetwork):
        def _kl_channel(self, kl_in, eps, decoder_only):
            z, kl, t = super()._kl_channel(kl_in, eps, decoder_only)
            if not decoder_only:
                z = t.mu_q
                t = _replace(t, z=z)
            return z, kl, t
    return with_hypernet(MeanLatent)


@mutant("KL-3", bug="the encoder side parametrises sigma as exp(raw), the decoder as softplus(raw) + floor")
def sigma_parametrisation_mismatch():
    class Mismatch(Hypernetwork):
        def _kl_channel(self, kl_in, eps, decoder_only):
            if decoder_only:
                return super()._kl_channel(kl_in, eps, decoder_only)
            mu, raw_sigma = kl_in.chunk(2, dim=-1)
            mu_q, sigma_q = mu[:, 0], raw_sigma[:, 0].exp()
            mu_p, sigma_p = mu[:, -1], F.softplus(raw_sigma[:, -1]) + self.config.sigma_floor
            z = mu_q + sigma_q * eps
            return z, _total(gaussian_kl(mu_q, sigma_q, mu_p, sigma_p)), KLTrace(mu_q, sigma_q, mu_p, sigma_p, z)
    return with_hypernet(Mismatch)


# ----------------------------------------------------------------------------------------------------
# Decoder-only generation (Sec. 2.3)
# ----------------------------------------------------------------------------------------------------

@mutant("DEC-1", bug="decoder-only generation reports KL(p || N(0, 1)) against a standard-normal prior instead of 0")
def decoder_reports_prior_kl():
    class PriorKL(Hypernetwork):
        def _kl_channel(self, kl_in, eps, decoder_only):
            z, kl, t = super()._kl_channel(kl_in, eps, decoder_only)
            if decoder_only:
                kl = _total(gaussian_kl(t.mu_p, t.sigma_p, torch.zeros_like(t.mu_p), torch.ones_like(t.sigma_p)))
            return z, kl, t
    return with_hypernet(PriorKL)


@mutant("DEC-2", bug="decoder-only latents are p's mean (z = mu_p), not samples of p")
def decoder_mean_latents():
    class MeanLatent(Hypernetwork):
        def _kl_channel(self, kl_in, eps, decoder_only):
            z, kl, t = super()._kl_channel(kl_in, eps, decoder_only)
            if decoder_only:
                z = t.mu_p
                t = _replace(t, z=z)
            return z, kl, t
    return with_hypernet(MeanLatent)


@mutant("DEC-2", bug="decoder-only latents drawn from a standard-normal prior (z = eps), as in a plain VAE")
def decoder_standard_normal_latents():
    class StandardNormal(Hypernetwork):
        def _kl_channel(self, kl_in, eps, decoder_only):
            z, kl, t = super()._kl_channel(kl_in, eps, decoder_only)
            if decoder_only:
                z = eps
                t = _replace(t, z=z)
            return z, kl, t
    return with_hypernet(StandardNormal)


@mutant("DEC-3", bug="the learned variables also reach the decoder side whenever they fit (at the trained sizes)")
def decoder_reads_learned():
    class Leaky(Hypernetwork):
        def _learned_block(self, t, batch, sides, edges, like, learned=None):
            if edges != self.learned.shape[1]:
                return super()._learned_block(t, batch, sides, edges, like, learned)
            return self.learned[t].expand(batch, sides, edges, self.config.learned_features)
    return with_hypernet(Leaky)


# ----------------------------------------------------------------------------------------------------
# Exchangeability (A.2: no positional encoding for hidden neurons) and the attention
# ----------------------------------------------------------------------------------------------------

@mutant("EXCH-1", bug="the output-neuron index j is encoded on every layer, not only the last (hidden neurons get one)")
def hidden_positional_encoding():
    class Positions(Hypernetwork):
        def graph(self, sizes):
            graph, encoding = super().graph(sizes)
            p = self.config.position_features
            enc_j = sinusoid(graph.edge_output_neuron + 1, p, self.config.position_base)
            return graph, torch.cat([encoding[:, :p], enc_j, encoding[:, 2 * p:]], dim=1)
    return with_hypernet(Positions)


@mutant("EXCH-1", bug="each neuron's self-attention has a causal mask (is_causal=True), so message order matters")
def causal_attention():
    class Causal(Hypernetwork):
        @staticmethod
        def neuron_attention(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return with_hypernet(Causal)


class _NoiseColumnMajor(MutantAdapter):
    def generate_from_noise(self, sizes, beta, noise, decoder_only=False):
        sizes = tuple(sizes)
        offsets = edge_offsets(sizes)
        order = np.concatenate([offsets[l] + np.arange(n_in * n_out).reshape(n_in, n_out).T.ravel()
                                for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))])
        # read as if the caller's edge axis were column-major (i, j) within each layer
        return super().generate_from_noise(sizes, beta, {k: np.take(v, order, axis=-2) for k, v in noise.items()},
                                           decoder_only)


@mutant("EXCH-1", bug="the adapter reads the caller's noise in column-major (i, j) edge order within each layer")
def noise_column_major():
    return _NoiseColumnMajor(small_model())


class _NoiseIgnored(MutantAdapter):
    def generate_from_noise(self, sizes, beta, noise, decoder_only=False):
        validate_beta(beta)
        with torch.no_grad():
            generated = self.model(torch.tensor([float(beta)]), sizes=tuple(sizes), decoder_only=decoder_only)
        return _network(generated)


@mutant("DEC-4", "EXCH-1", bug="generate_from_noise forgets to pass the noise on: the model draws its own")
def noise_ignored():
    return _NoiseIgnored(small_model())


# ----------------------------------------------------------------------------------------------------
# Shapes
# ----------------------------------------------------------------------------------------------------

@mutant("SHAPE-1", "SHAPE-2",
        bug="per-layer blocks laid out (n_l, n_{l+1}): weights transposed and the bias averaged over the output axis")
def input_major_blocks():
    class Transposed(Hypernetwork):
        def graph(self, sizes):
            graph, encoding = super().graph(sizes)
            return _InputMajorGraph(graph.sizes), encoding
    return with_hypernet(Transposed)


class _InputMajorGraph(ComputationGraph):
    """``blocks`` hands out (n_l, n_{l+1}) views: W transposed, and ``mean(-1)`` averages over the outputs."""

    def blocks(self, flat, edge_axis=-2):
        return [block.transpose(-1, -2) for block in super().blocks(flat, edge_axis)]


class _Squeezed(MutantAdapter):
    def generate(self, sizes, beta, seed, decoder_only=False):
        net = super().generate(sizes, beta, seed, decoder_only)
        return Network([np.squeeze(w) for w in net.weights], [np.squeeze(b) for b in net.biases], net.kl)


@mutant("SHAPE-1", "SHAPE-2", bug="the adapter np.squeeze()s every array, so the (1,) output bias becomes a scalar")
def squeezed_arrays():
    return _Squeezed(small_model())


class _FallsBack(MutantAdapter):
    def generate(self, sizes, beta, seed, decoder_only=False):
        if tuple(sizes) != self.trained_sizes:
            decoder_only = True  # "helpfully" fall back instead of refusing
        return super().generate(sizes, beta, seed, decoder_only)


@mutant("SHAPE-3", bug="encoder generation at untrained sizes silently falls back to decoder-only")
def encoder_falls_back():
    return _FallsBack(small_model())


@mutant("SHAPE-4", bug="beta cast to float16 before log10 (mixed precision): betas < 6e-8 underflow to 0, giving NaN")
def beta_float16_underflow():
    class Half(HyperHypernetwork):
        def rescale(self, beta):
            low, high = self.config.log10_beta_range
            log_beta = torch.log10(beta.half()).to(beta.dtype)
            return (2.0 * (log_beta - low) / (high - low) - 1.0).unsqueeze(-1)
    return with_hyperhyper(Half)


# ----------------------------------------------------------------------------------------------------
# Determinism and beta
# ----------------------------------------------------------------------------------------------------

def _network(generated: Generated) -> Network:
    def numpy(t):
        return t.detach().to(torch.float64).numpy().copy()
    return Network([numpy(w[0]) for w in generated.weights], [numpy(b[0]) for b in generated.biases],
                   float(generated.kl[0]))


class _GlobalRNG(MutantAdapter):
    def generate(self, sizes, beta, seed, decoder_only=False):
        validate_beta(beta)
        with torch.no_grad():  # no generator: torch's global RNG, whatever its state
            generated = self.model(torch.tensor([float(beta)]), sizes=tuple(sizes), decoder_only=decoder_only)
        return _network(generated)


@mutant("DET-1", bug="generation draws its noise from torch's global RNG instead of a generator seeded with seed")
def global_rng():
    return _GlobalRNG(small_model())


class _SeedIgnored(MutantAdapter):
    def generate(self, sizes, beta, seed, decoder_only=False):
        torch.manual_seed(seed)  # seeds the global RNG, but the model's generate uses its own seed=0 default
        return _network(self.model.generate(beta, sizes=tuple(sizes), decoder_only=decoder_only))


@mutant("DET-2", bug="the seed goes to torch.manual_seed, but generation uses the model's default seed 0")
def seed_ignored():
    return _SeedIgnored(small_model())


class _BetaClipped(MutantAdapter):
    def generate(self, sizes, beta, seed, decoder_only=False):
        return super().generate(sizes, float(np.clip(beta, 1e-12, 1.0)), seed, decoder_only)


@mutant("BETA-1", bug="beta is clipped into the trained range [1e-12, 1] instead of validated (0 and inf accepted)")
def beta_clipped():
    return _BetaClipped(small_model())


@mutant("BETA-2", bug="the hyperweights are memoised per batch size (an eval speed-up): later betas reuse the first's")
def hyperweights_cached():
    class Cached(HyperHypernetwork):
        def forward(self, beta):
            cached = self.__dict__.get("_cached")
            if cached is None or cached.shape[0] != beta.shape[0]:
                self.__dict__["_cached"] = cached = super().forward(beta)
            return cached
    return with_hyperhyper(Cached)


class _ObjectiveLogPlus(MutantAdapter):
    def objective(self, loss, kl, beta):
        return math.log(loss) + validate_beta(beta) * kl


@mutant("BETA-3", bug="objective log(L) + beta * KL instead of log(L + beta * KL)")
def objective_log_plus_kl():
    return _ObjectiveLogPlus(small_model())


class _ObjectiveUnvalidated(MutantAdapter):
    def objective(self, loss, kl, beta):
        return float(np.log(loss + beta * kl))


@mutant("BETA-4", bug="the objective computes log(L + beta * KL) without validating beta")
def objective_unvalidated():
    return _ObjectiveUnvalidated(small_model())


# ----------------------------------------------------------------------------------------------------
# The task and the target network
# ----------------------------------------------------------------------------------------------------

class _TargetOverN(MutantAdapter):
    def l1_target(self, x):
        n = x.shape[1]
        return (np.abs(x).sum(1) - n * math.sqrt(2 / math.pi)) / (n * (1 - 2 / math.pi))


@mutant("TASK-1", bug="the target divided by the variance n (1 - 2/pi) instead of the standard deviation")
def target_over_variance():
    return _TargetOverN(small_model())


class _TargetBatchStandardised(MutantAdapter):
    def l1_target(self, x):
        norm = np.abs(x).sum(1)
        return (norm - norm.mean()) / norm.std()


@mutant("TASK-1", bug="the target standardised with the batch's mean and std instead of the exact constants")
def target_batch_standardised():
    return _TargetBatchStandardised(small_model())


class _SwishOutput(MutantAdapter):
    def mlp_forward(self, weights, biases, x):
        out = super().mlp_forward(weights, biases, x)
        return out / (1.0 + np.exp(-out))


@mutant("TASK-2", bug="swish also applied to the output layer")
def swish_on_output():
    return _SwishOutput(small_model())


class _ReluHidden(MutantAdapter):
    def mlp_forward(self, weights, biases, x):
        a = np.asarray(x, float)
        for l, (w, b) in enumerate(zip(weights, biases)):
            a = a @ np.asarray(w, float).T + b
            if l < len(weights) - 1:
                a = np.maximum(a, 0.0)
        return a


@mutant("TASK-2", bug="ReLU on the hidden layers instead of swish")
def relu_hidden():
    return _ReluHidden(small_model())


# ----------------------------------------------------------------------------------------------------
# Order parameters (Eqs. 5-7)
# ----------------------------------------------------------------------------------------------------

class _Alpha1Mean(MutantAdapter):
    def order_parameters(self, w0, v0):
        w = np.asarray(w0, float).T
        alpha_1 = np.minimum(-w.min(axis=1), w.max(axis=1)).min() / np.mean(np.abs(w))
        return {**order_parameters(w0, v0), "alpha_1": float(alpha_1)}


@mutant("ORDER-1", bug="alpha_1 divided by the mean |W_ij| instead of the median")
def alpha1_mean_not_median():
    return _Alpha1Mean(small_model())


class _Alpha1Untransposed(MutantAdapter):
    def order_parameters(self, w0, v0):
        return {**order_parameters(w0, v0), "alpha_1": double_sidedness(np.asarray(w0).T)}


@mutant("ORDER-1", bug="alpha_1 computed on w0 itself (per hidden neuron), forgetting W = w0.T")
def alpha1_untransposed():
    return _Alpha1Untransposed(small_model())


class _Alpha3Unnormalised(MutantAdapter):
    def order_parameters(self, w0, v0):
        w, v = np.asarray(w0, float), np.asarray(v0, float)
        return {**order_parameters(w0, v0), "alpha_3": float(np.square(w - v).sum())}


@mutant("ORDER-1", "ORDER-2", bug="alpha_3 = ||W - V||_F^2 without the normalisation")
def alpha3_unnormalised():
    return _Alpha3Unnormalised(small_model())


class _Alpha3OneSided(MutantAdapter):
    def order_parameters(self, w0, v0):
        w, v = np.asarray(w0, float), np.asarray(v0, float)
        return {"alpha_1": double_sidedness(w0), "alpha_2": strongest_connection(w0),
                "alpha_3": float(np.square(w - v).sum() / (2 * np.square(w).sum()))}


@mutant("ORDER-1", "ORDER-2", bug="alpha_3 normalised by 2 ||W||_F^2 (the first matrix only): not symmetric")
def alpha3_one_sided():
    return _Alpha3OneSided(small_model())


# ----------------------------------------------------------------------------------------------------
# Gaps: plausible bugs no clause rejects (see tests/test_mutants.py::test_gaps_are_still_uncaught)
# ----------------------------------------------------------------------------------------------------

@mutant("KL-5", bug="p is read from the encoder side (mu[:, 0] instead of mu[:, -1]): q = p always, KL identically 0")
def p_from_encoder_side():
    class WrongSide(Hypernetwork):
        def _kl_channel(self, kl_in, eps, decoder_only):
            if decoder_only:
                return super()._kl_channel(kl_in, eps, decoder_only)
            mu, raw_sigma = kl_in.chunk(2, dim=-1)
            sigma = F.softplus(raw_sigma) + self.config.sigma_floor
            mu_q, sigma_q = mu[:, 0], sigma[:, 0]
            z = mu_q + sigma_q * eps
            kl = _total(gaussian_kl(mu_q, sigma_q, mu_q, sigma_q))
            return z, kl, KLTrace(mu_q, sigma_q, mu_q, sigma_q, z)
    return with_hypernet(WrongSide)


@mutant("KL-5", bug="the encoder's learned variables are never fed in (zeros on both sides): the encoder carries no "
        "information")
def learned_unused():
    class Unused(Hypernetwork):
        def _learned_block(self, t, batch, sides, edges, like, learned=None):
            return like.new_zeros(batch, sides, edges, self.config.learned_features)
    return with_hypernet(Unused)


@gap("every edge attends over all 2E messages of the network (global attention, no graph structure)")
def global_attention():
    class Global(Hypernetwork):
        def _attention(self, attn_in, graph):
            edges = attn_in.shape[2]
            to_front, to_behind = attn_in.chunk(2, dim=-1)
            q, k, v = torch.cat([to_front, to_behind], dim=2).chunk(3, dim=-1)
            from_front, from_behind = F.scaled_dot_product_attention(q, k, v).split(edges, dim=2)
            return torch.cat([from_front, from_behind], dim=-1)
    return with_hypernet(Global)


@mutant("EXCH-2", bug="no positional encoding at all (input and output neurons indistinguishable, layers unlabelled)")
def no_positional_encoding():
    class NoPositions(Hypernetwork):
        def graph(self, sizes):
            graph, encoding = super().graph(sizes)
            return graph, torch.zeros_like(encoding)
    return with_hypernet(NoPositions)


class _TraceFromOtherPath(MutantAdapter):
    """``generate`` reports KL(p || q); ``generate_traced`` (used by KL-2 and KL-4) is still the reference."""

    def generate(self, sizes, beta, seed, decoder_only=False):
        net, traces = self.generate_traced(sizes, beta, seed, decoder_only)
        if decoder_only:
            return net
        kl = sum(float(paper_kl(t.mu_p, t.sigma_p, t.mu_q, t.sigma_q).sum()) for t in traces)
        return Network(net.weights, net.biases, kl)


@mutant("KL-6", bug="generate reports KL(p || q) while generate_traced is correct")
def kl_reversed_untraced():
    return _TraceFromOtherPath(small_model())


# ----------------------------------------------------------------------------------------------------
# Running the checks on fixed inputs
# ----------------------------------------------------------------------------------------------------

CHECKS: dict[str, Callable] = {f.clause.id: f for f in vars(checks).values()
                               if callable(f) and isinstance(getattr(f, "clause", None), checks.Clause)}
"""The check function of every clause, by clause id."""

BETAS = (1e-12, 1e-3, 1.0)


def _matrices(rows: int, cols: int, seed: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((rows, cols)) * scale, rng.standard_normal((rows, cols)) * scale


def _mlp_case(sizes: Sequence[int], seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal(b) for b in sizes[1:]]
    return weights, biases, rng.standard_normal((8, sizes[0]))


def fixed_cases(impl: Any) -> dict[str, list[tuple]]:
    """A few fixed, small argument tuples (after ``impl``) for every clause's check."""
    trained = tuple(impl.trained_sizes)
    decoder_sizes = [(4, 6, 1), (3, 5, 2, 1), (1, 1), (7, 2)]
    other_sizes = [s for s in [(3, 6, 1), (4, 7, 1), (4, 6, 1, 1), (16, 48, 1), (4, 6, 1)] if s != trained]
    per_mode = [((3, 5, 2, 1), 1e-3, 0, True), (trained, 1e-3, 0, False), ((4, 6, 1), 1.0, 3, True)]
    kl = [(beta, seed) for beta in BETAS for seed in (0, 1)]
    invalid = [(beta,) for beta in checks.INVALID_BETAS]
    matrices = [_matrices(6, 4, 0, 1.0), _matrices(48, 16, 1, 1e-3), _matrices(2, 1, 2, 1e3), _matrices(5, 5, 3, 7.0)]
    return {
        "SHAPE-1": [(sizes, beta, 0) for sizes in decoder_sizes for beta in (1e-12, 1.0)],
        "SHAPE-2": [(beta, 0) for beta in BETAS],
        "SHAPE-3": [(sizes, 1e-3, 0) for sizes in other_sizes],
        "SHAPE-4": [(sizes, beta, 0, True) for sizes in decoder_sizes for beta in BETAS]
                   + [(trained, beta, 0, False) for beta in BETAS],
        "DET-1": per_mode,
        "DET-2": per_mode,
        "BETA-1": invalid,
        "BETA-2": [(0, True), (0, False), (5, False)],
        "BETA-3": [(0.3, 10.0, 1e-3), (1.0, 0.0, 1e-12), (0.05, 1e4, 0.5), (2.0, 3.0, 1.0)],
        "BETA-4": invalid,
        "KL-1": kl,
        "KL-2": kl,
        "KL-3": kl,
        "KL-4": kl,
        "KL-5": [(beta, 0, 11) for beta in BETAS],
        "KL-6": per_mode,
        "DEC-1": [((4, 6, 1), 1e-3, 0), ((3, 5, 2, 1), 1.0, 1), (trained, 1e-12, 2)],
        "DEC-2": [((8, 16, 4), 1e-3, 0), ((4, 6, 1), 1.0, 1), (trained, 1e-12, 2)],
        "DEC-3": [((3, 5, 2, 1), 1e-3, 0, 5), (trained, 1e-3, 0, 7), (trained, 1.0, 1, 8)],
        "DEC-4": [((4, 6, 1), 1e-3, 0), ((3, 5, 2, 1), 1.0, 1)],
        "EXCH-1": [((4, 6, 1), 1e-3, 0), ((3, 5, 4, 2), 1.0, 1), ((2, 8, 1), 1e-12, 2)],
        "EXCH-2": [((4, 6, 1), 1e-3, 0), ((3, 5, 4, 2), 1.0, 1)],
        "TASK-1": [(np.random.default_rng(n).standard_normal((32, n)) * scale,)
                   for n, scale in ((1, 1.0), (7, 0.1), (16, 30.0))],
        "TASK-2": [_mlp_case((4, 6, 1), 0), _mlp_case((3, 5, 4, 2), 1), _mlp_case((2, 1), 2)],
        "ORDER-1": matrices,
        "ORDER-2": matrices + [_matrices(1, 1, 4, 1.0)],
    }


def applicable(impl: Any) -> list[str]:
    """The clauses whose capability ``impl`` declares, in the order of ``CLAUSES``."""
    return [c.id for c in CLAUSES.values() if c.requires is None or c.requires in impl.capabilities]


def run_clause(impl: Any, clause_id: str) -> tuple[str, str]:
    """Run one clause's check on every fixed case until one fails.

    Returns (verdict, detail): ``"rejected"`` when a ``ClauseFailure`` of that clause was raised,
    ``"crashed"`` when only other exceptions were (the pytest suite fails such a test too, but the
    suite did not *name* the problem), else ``"passed"``.
    """
    check, crash = CHECKS[clause_id], None
    for args in fixed_cases(impl)[clause_id]:
        try:
            check(impl, *args)
        except ClauseFailure as failure:
            if failure.clause == clause_id:
                return "rejected", str(failure)
            crash = crash or f"ClauseFailure of another clause: {failure}"
        except Exception as error:  # noqa: BLE001 - a crash is a verdict here
            crash = crash or f"{type(error).__name__}: {error}"
    return ("crashed", crash) if crash else ("passed", "")


def _adapter(target: Any) -> Any:
    return target() if isinstance(target, Mutant) else target


def verdicts(target: Any) -> dict[str, tuple[str, str]]:
    """(verdict, detail) for every applicable clause, for a mutant or an adapter."""
    impl = _adapter(target)
    return {clause_id: run_clause(impl, clause_id) for clause_id in applicable(impl)}


def rejecting_clauses(target: Any) -> list[str]:
    """The clauses whose checks reject ``target`` (a Mutant or an adapter) with a ClauseFailure."""
    return [c for c, (verdict, _) in verdicts(target).items() if verdict == "rejected"]


def table(catalogue: dict[str, Mutant] | None = None,
          verdicts_of: Callable[[Mutant], dict[str, tuple[str, str]]] = verdicts) -> str:
    """A text table: mutant, expected clauses, rejecting clauses (and crashes), bug."""
    rows = [("mutant", "expected", "rejected by", "bug")]
    for m in (MUTANTS if catalogue is None else catalogue).values():
        found = verdicts_of(m)
        rejected = [c for c, (v, _) in found.items() if v == "rejected"]
        crashed = [c for c, (v, _) in found.items() if v == "crashed"]
        cell = ", ".join(rejected) or "-"
        if crashed:
            cell += f" (crashed: {', '.join(crashed)})"
        rows.append((m.name, ", ".join(m.clauses) or "-", cell, m.bug))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows)


if __name__ == "__main__":
    torch.set_num_threads(1)
    print(table())
    print("\nuncaught (gaps of the suite):")
    print(table(UNCAUGHT))
