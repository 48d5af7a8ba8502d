"""The KL attentional hypernetwork of Appendix A.2 (with the KL axis of A.2.1).

The hypernetwork maps hyperweights (one flat vector per batch element, made by the Pareto
hyperhypernetwork) to the weights and biases of an MLP of any layer sizes. Its hyperactivations
have shape (batch, KL side, E, hyperfeatures): side 0 is the encoder, side 1 the decoder, and E is the
flat edge axis of :class:`~reference.graph.ComputationGraph`.

A hyperlayer maps its input, in the hyperfeature axis, to the inputs of its blocks, applies the
blocks (each along its own axis), and concatenates their outputs:

=================  =====================  ==============================================================
block              in -> out features     operation
=================  =====================  ==============================================================
activation         20 -> 20               swish, elementwise
positional         0 -> 3P                sinusoids of i (first layer), j (last layer), layer index
noise              0 -> 5                 fresh N(0, 1) per edge, the same on both KL sides
attention          30 -> 10               each edge sends (q, k, v) of 5 to the neuron in front and
                                          another (q, k, v) to the neuron behind; each neuron runs one
                                          softmax self-attention head over the messages of its edges;
                                          an edge concatenates the two results it gets back
learned            0 -> 5                 per-edge learned variables on the encoder side, 0 on the decoder
KL channel         8 -> 4                 mu and sigma (4 each) per side; KL(q_encoder || p_decoder) in
                                          closed form is added to the accumulator; a sample of q is
                                          copied to both sides
=================  =====================  ==============================================================

Between hyperlayers a linear map in the hyperfeature axis moves data between blocks. With
``residual_width > 0`` the hyperlayers sit on a residual stream (pre-LayerNorm, the blocks' output
projected back and added); with 0 they are stacked plainly, as the paper describes. After the last
hyperlayer an output head gives two hyperfeatures from the decoder side only: the weight, and a
quantity averaged over the input axis i that becomes the bias.

The last hyperlayer's encoder side reaches nothing after its KL channel (the head reads the decoder
side), so it is not computed and has no learned variables.

Decoder-only generation runs the decoder side alone: the learned variables are never read, no KL is
computed, and the channel's latents are drawn from the decoder's distribution p.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import Config
from .graph import ComputationGraph, check_fits
from .task import swish

ENCODER, DECODER = 0, 1


@dataclass(frozen=True)
class HyperweightSpec:
    """One named hyperweight array: its shape and the std of its standard initialisation."""

    name: str
    shape: tuple[int, ...]
    init_std: float

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class HyperNoise:
    """All randomness of one generation: block noise and the KL channel's reparametrisation noise.

    ``features``: (hyperdepth, batch, E, noise_features), the noise block's N(0, 1) draws;
    ``latent``: (hyperdepth, batch, E, latent_features), eps with z = mu + sigma * eps.
    Both are shared by the two KL sides.
    """

    features: Tensor
    latent: Tensor

    def permute_edges(self, permutation: Tensor) -> HyperNoise:
        """The same noise with the edge axis relabelled (see ``ComputationGraph.edge_permutation``)."""
        return HyperNoise(self.features[:, :, permutation], self.latent[:, :, permutation])


@dataclass(frozen=True)
class KLTrace:
    """What one hyperlayer's KL channel did, each (batch, E, latent_features).

    ``mu_q``/``sigma_q`` (encoder) are None in decoder-only generation, where ``z`` comes from p.
    """

    mu_q: Tensor | None
    sigma_q: Tensor | None
    mu_p: Tensor
    sigma_p: Tensor
    z: Tensor


@dataclass(frozen=True)
class Generated:
    """A batch of generated MLPs: ``weights[l]`` (batch, n_{l+1}, n_l), ``biases[l]`` (batch, n_{l+1}),
    ``kl`` (batch,) the accumulated KL in nats (zeros in decoder-only generation), and the per-hyperlayer
    ``trace`` of the KL channel when it was asked for."""

    weights: list[Tensor]
    biases: list[Tensor]
    kl: Tensor
    trace: list[KLTrace] | None = None


def gaussian_kl(mu_q: Tensor, sigma_q: Tensor, mu_p: Tensor, sigma_p: Tensor) -> Tensor:
    """Elementwise KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2)) in nats."""
    ratio = (sigma_q / sigma_p).square()
    return 0.5 * (ratio + ((mu_q - mu_p) / sigma_p).square() - 1.0 - ratio.log())


class Hypernetwork(nn.Module):
    """The attentional hypernetwork. Its only own parameters are the encoder's learned variables;
    everything else arrives as hyperweights (see :meth:`hyperweight_specs`)."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        c = config
        self.trained_graph = ComputationGraph(c.sizes)
        self.block_in_widths = {
            "activation": c.activation_features,
            "attention": 6 * c.attention_features,
            "kl": 2 * c.latent_features,
        }
        self.block_out_widths = {
            "activation": c.activation_features,
            "positional": 3 * c.position_features,
            "noise": c.noise_features,
            "attention": 2 * c.attention_features,
            "learned": c.learned_features,
            "kl": c.latent_features,
        }
        self.in_width = sum(self.block_in_widths.values())
        self.out_width = sum(self.block_out_widths.values())
        self.stream_width = c.residual_width if c.residual_width > 0 else self.out_width
        # The last hyperlayer's encoder side feeds nothing (the head reads the decoder side), so only
        # the first hyperdepth - 1 hyperlayers have learned variables.
        learned = torch.randn(c.hyperdepth - 1, self.trained_graph.num_edges, c.learned_features) * c.learned_init_std
        self.learned = nn.Parameter(learned)
        self._graph_cache: dict[tuple[int, ...], tuple[ComputationGraph, Tensor]] = {}
        # Build the trained sizes' tables now: a compiled training step then traces no table-building
        # code (cached_property locks, data-dependent shapes), and stays one graph.
        self.graph(c.sizes)

    # --- hyperweights ---
    def hyperweight_specs(self) -> list[HyperweightSpec]:
        """Every hyperweight array, in the order of the flat hyperweight vector."""
        c, specs = self.config, []
        for t in range(c.hyperdepth):
            if t > 0:  # the first hyperlayer has no input: its blocks start from the bias alone
                specs.append(HyperweightSpec(f"layer{t}.in.weight", (self.stream_width, self.in_width), self.stream_width**-0.5))
            specs.append(HyperweightSpec(f"layer{t}.in.bias", (self.in_width,), 0.0))
            if c.residual_width > 0:
                width = self.layer_out_width(t)
                specs.append(HyperweightSpec(f"layer{t}.out.weight", (width, self.stream_width), width**-0.5))
                specs.append(HyperweightSpec(f"layer{t}.out.bias", (self.stream_width,), 0.0))
        head_in = self.stream_width if c.residual_width > 0 else self.layer_out_width(c.hyperdepth - 1)
        specs.append(HyperweightSpec("head.weight", (head_in, 2), c.head_init_scale * head_in**-0.5))
        specs.append(HyperweightSpec("head.bias", (2,), 0.0))
        return specs

    def layer_out_width(self, t: int) -> int:
        """Width of hyperlayer t's concatenated blocks; the last has no learned block (it reaches nothing)."""
        return self.out_width - (self.config.learned_features if t == self.config.hyperdepth - 1 else 0)

    @property
    def num_hyperweights(self) -> int:
        return sum(s.numel for s in self.hyperweight_specs())

    def unflatten(self, hyperweights: Tensor) -> dict[str, Tensor]:
        """Split (batch, num_hyperweights) into named (batch, *shape) views."""
        specs = self.hyperweight_specs()
        if hyperweights.dim() != 2 or hyperweights.shape[1] != sum(s.numel for s in specs):
            raise ValueError(f"hyperweights must have shape (batch, {self.num_hyperweights}), got {tuple(hyperweights.shape)}")
        parts = hyperweights.split([s.numel for s in specs], dim=1)
        return {s.name: p.reshape(-1, *s.shape) for s, p in zip(specs, parts)}

    # --- graphs and noise ---
    def graph(self, sizes: tuple[int, ...]) -> tuple[ComputationGraph, Tensor]:
        """The computation graph of ``sizes`` and its positional encodings, built once and cached."""
        sizes = tuple(sizes)
        if sizes not in self._graph_cache:
            graph = ComputationGraph(sizes)
            encoding = graph.positional_encoding(self.config.position_features, self.config.position_base)
            _ = graph.attention_plan  # build the index tables now, not inside a timed step
            self._graph_cache[sizes] = (graph, encoding)
        return self._graph_cache[sizes]

    def sample_noise(self, sizes: tuple[int, ...], batch: int, generator: torch.Generator | None = None) -> HyperNoise:
        """Fresh noise for generating ``batch`` networks of ``sizes``."""
        c, edges = self.config, ComputationGraph(sizes).num_edges
        return HyperNoise(
            features=torch.randn(c.hyperdepth, batch, edges, c.noise_features, generator=generator),
            latent=torch.randn(c.hyperdepth, batch, edges, c.latent_features, generator=generator),
        )

    # --- the forward pass ---
    def forward(
        self,
        hyperweights: Tensor,
        sizes: tuple[int, ...],
        noise: HyperNoise,
        decoder_only: bool = False,
        trace: bool = False,
        learned: Tensor | None = None,
    ) -> Generated:
        """Generate one MLP of ``sizes`` per row of ``hyperweights`` (batch, num_hyperweights).

        ``learned`` gives each row its own encoder variables, shape (batch, hyperdepth - 1, E, learned_features)
        (several replicas trained at once); by default every row reads this module's.
        """
        graph, encoding = self.graph(sizes)
        if not decoder_only:
            check_fits(sizes, self.config.sizes)
        batch, edges, c = hyperweights.shape[0], graph.num_edges, self.config
        want_features = (c.hyperdepth, batch, edges, c.noise_features)
        want_latent = (c.hyperdepth, batch, edges, c.latent_features)
        if tuple(noise.features.shape) != want_features or tuple(noise.latent.shape) != want_latent:
            raise ValueError(
                f"noise must have shapes {want_features} and {want_latent}, "
                f"got {tuple(noise.features.shape)} and {tuple(noise.latent.shape)}"
            )
        sides = 1 if decoder_only else 2
        w = self.unflatten(hyperweights)
        x = None  # the residual stream (or, without one, the last hyperlayer's output); 0 before the first
        kl = hyperweights.new_zeros(batch)
        kl_trace: list[KLTrace] = []
        for t in range(c.hyperdepth):
            act_in, attn_in, kl_in = self._block_inputs(t, x, w, sides, edges)
            z, layer_kl, layer_trace = self._kl_channel(kl_in, noise.latent[t], decoder_only)
            kl = kl + layer_kl
            if trace:
                kl_trace.append(layer_trace)
            last = t == c.hyperdepth - 1
            if last and sides == 2:
                # past its KL channel, the last hyperlayer's encoder side reaches nothing: skip it
                sides, act_in, attn_in = 1, act_in[:, DECODER:], attn_in[:, DECODER:]
                x = None if x is None else x[:, DECODER:]
            out = torch.cat([
                swish(act_in),
                encoding.expand(batch, sides, edges, encoding.shape[-1]),
                noise.features[t].unsqueeze(1).expand(batch, sides, edges, c.noise_features),
                self._attention(attn_in, graph),
                *([] if last else [self._learned_block(t, batch, sides, edges, hyperweights, learned)]),
                z.unsqueeze(1).expand(batch, sides, edges, c.latent_features),
            ], dim=-1)
            # Free what is no longer needed before the projection: large generations are limited by memory size.
            del act_in, attn_in, kl_in, z, layer_trace
            x = self._residual_add(t, x, out, w) if c.residual_width > 0 else out
            del out
        final = x[:, -1:]  # the decoder side (the only side in decoder-only generation)
        if c.residual_width > 0:
            final = F.layer_norm(final, (self.stream_width,))
        head = _linear(final, w["head.weight"], w["head.bias"]).squeeze(1)  # (batch, E, 2)
        weight_blocks = graph.blocks(head[..., 0], edge_axis=-1)
        bias_blocks = graph.blocks(head[..., 1], edge_axis=-1)
        return Generated(
            weights=weight_blocks,
            biases=[b.mean(-1) for b in bias_blocks],
            kl=kl,
            trace=kl_trace if trace else None,
        )

    def _residual_add(self, t: int, x: Tensor | None, out: Tensor, w: dict[str, Tensor]) -> Tensor:
        """The stream plus hyperlayer t's projected output; in place when no gradient is recorded (the same
        numbers, one stream-sized tensor less at the peak of a large generation)."""
        update = _linear(out, w[f"layer{t}.out.weight"], w[f"layer{t}.out.bias"])
        if x is None:
            return update
        return x.add_(update) if not torch.is_grad_enabled() else x + update

    def _block_inputs(self, t: int, x: Tensor | None, w: dict[str, Tensor], sides: int,
                      edges: int) -> tuple[Tensor, Tensor, Tensor]:
        """Hyperlayer t's block inputs (activation, attention, KL), each (batch, sides, E, width).

        The first hyperlayer has no input: its block inputs are the bias, broadcast over sides and
        edges. Later ones are one product with the in-projection, split into contiguous copies (the KL part
        is left to the KL channel, which copies out its two halves), because
        the elementwise blocks run several times slower on strided slices than on contiguous tensors
        (while three thin products instead of one wide one would be slower still).
        """
        widths = list(self.block_in_widths.values())
        bias = w[f"layer{t}.in.bias"]
        if t == 0:
            return tuple(b[:, None, None, :].expand(-1, sides, edges, -1) for b in bias.split(widths, dim=-1))
        # (written as one expression so the normalised stream is freed before the parts are copied out)
        block_in = _linear(F.layer_norm(x, (self.stream_width,)) if self.config.residual_width > 0 else x,
                           w[f"layer{t}.in.weight"], bias)
        act_in, attn_in, kl_in = block_in.split(widths, dim=-1)
        return act_in.contiguous(), attn_in.contiguous(), kl_in  # the KL channel copies out its own halves

    def _kl_channel(self, kl_in: Tensor, eps: Tensor, decoder_only: bool) -> tuple[Tensor, Tensor, KLTrace]:
        mu, raw_sigma = (part.contiguous() for part in kl_in.chunk(2, dim=-1))
        sigma = F.softplus(raw_sigma) + self.config.sigma_floor
        mu_p, sigma_p = mu[:, -1], sigma[:, -1]
        if decoder_only:
            z = mu_p + sigma_p * eps
            return z, kl_in.new_zeros(kl_in.shape[0]), KLTrace(None, None, mu_p, sigma_p, z)
        mu_q, sigma_q = mu[:, ENCODER], sigma[:, ENCODER]
        z = mu_q + sigma_q * eps
        layer_kl = gaussian_kl(mu_q, sigma_q, mu_p, sigma_p).sum(dim=(-1, -2))
        return z, layer_kl, KLTrace(mu_q, sigma_q, mu_p, sigma_p, z)

    def _learned_block(self, t: int, batch: int, sides: int, edges: int, like: Tensor,
                       learned: Tensor | None = None) -> Tensor:
        width = self.config.learned_features
        zeros = like.new_zeros(batch, 1, edges, width)
        if sides == 1:  # decoder side only
            return zeros
        own = self.learned[t].expand(batch, edges, width) if learned is None else learned[:, t]
        return torch.cat([own.unsqueeze(1), zeros], dim=1)

    def _attention(self, attn_in: Tensor, graph: ComputationGraph) -> Tensor:
        """One softmax self-attention head per neuron over the messages of its incident edges.

        ``attn_in`` (batch, sides, E, 6d) holds each edge's (q, k, v) for its front neuron, then for its
        behind neuron; viewed as (batch, sides, 2E, 3d) that is source order (see graph.py), so the
        slots of every neuron-layer are one permutation away, and the results one permutation back.
        """
        batch, sides, edges, width = attn_in.shape
        plan = graph.attention_plan
        messages = attn_in.reshape(batch * sides, 2 * edges, width // 2)
        slotted = permute(messages, 1, plan.order, plan.inverse)
        results = []
        lengths = [neurons * slots for neurons, slots in plan.slot_shapes]
        for block, shape in zip(slotted.split(lengths, dim=1), plan.slot_shapes):
            q, k, v = block.unflatten(1, shape).chunk(3, dim=-1)  # (batch * sides, neurons, slots, d)
            results.append(self.neuron_attention(q, k, v).flatten(1, 2))
        received = permute(torch.cat(results, dim=1), 1, plan.inverse, plan.order)  # (batch * sides, 2E, d)
        return received.reshape(batch, sides, edges, -1)  # per edge: from its front neuron, then its behind one

    @staticmethod
    def neuron_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Softmax attention with the neurons as heads: (..., neurons, slots, d) each, no mask.

        4-D inputs let PyTorch pick its fused (flash) kernel, whose memory is linear in the slots.
        """
        return F.scaled_dot_product_attention(q, k, v)


class _Permute(torch.autograd.Function):
    """``x.index_select(dim, index)`` for a permutation ``index``, whose gradient is the gather by its
    inverse (autograd's generic rule would zero-fill and scatter-add)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, dim: int, index: Tensor, inverse: Tensor) -> Tensor:
        return x.index_select(dim, index)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        _, ctx.dim, _, ctx.inverse = inputs

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad.index_select(ctx.dim, ctx.inverse), None, None, None


def permute(x: Tensor, dim: int, index: Tensor, inverse: Tensor) -> Tensor:
    """Reorder ``x`` along ``dim`` by the permutation ``index`` (``inverse`` is its inverse)."""
    return _Permute.apply(x, dim, index, inverse)


def _linear(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """Per-batch-element linear map in the hyperfeature axis: x (B, S, E, I), weight (B, I, O), bias (B, O)."""
    batch, sides, edges, width = x.shape
    out = torch.baddbmm(bias.unsqueeze(1), x.reshape(batch, sides * edges, width), weight)
    return out.reshape(batch, sides, edges, -1)
