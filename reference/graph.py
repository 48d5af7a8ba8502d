"""The computation graph of an MLP of any layer sizes, and the layout of the ragged hyperactivation tensor.

An MLP with sizes (n_0, ..., n_N) has N weight layers; layer l holds the edges (j, i) from neuron i
of neuron-layer l to neuron j of neuron-layer l + 1, i.e. a block of shape (n_{l+1}, n_l), matching
W^(l) in R^{n_{l+1} x n_l}.

The ragged hyperactivation tensor of the paper, one block of shape (KL side, n_{l+1}, n_l, features)
per layer, is stored flat: the blocks are flattened row-major and concatenated along one edge axis
of length E = sum_l n_{l+1} * n_l. So every per-edge operation (linear maps, activations, the KL
channel) runs once over all layers, and :meth:`ComputationGraph.blocks` gives back the per-layer
views. Only the attention, which groups edges by neuron, needs the index tables built here.

Attention slots. Each edge sends one message to the neuron in front of it (its output neuron j) and
one to the neuron behind it (its input neuron i). Messages are addressed by a *source* index in
[0, 2E): ``2e`` for edge e's message to its front neuron, ``2e + 1`` for its message to its behind
neuron, so a (..., E, 2 * m) tensor of per-edge message pairs is, viewed as (..., 2E, m), already in
source order. Neurons of neuron-layer m receive n_{m-1} messages from their incoming edges followed by
n_{m+1} from their outgoing edges, so every neuron of a layer has the same number of slots and one
dense attention call per neuron-layer serves them all. Every message fills exactly one slot, so
gathering the slots is a permutation of the source axis (:class:`AttentionPlan`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import torch
from torch import Tensor

from .config import validate_sizes


@dataclass(frozen=True)
class AttentionPlan:
    """Where each message goes: ``order`` (2E,) lists the source indices slot by slot (neuron-layer by
    neuron-layer, each (neurons, slots) row-major, shapes in ``slot_shapes``); ``inverse`` is its
    inverse permutation, which takes per-slot results back to source order."""

    slot_shapes: tuple[tuple[int, int], ...]
    order: Tensor
    inverse: Tensor


@dataclass(frozen=True)
class ComputationGraph:
    """Index tables for the MLP with layer sizes ``sizes`` (validated: >= 2 positive integers)."""

    sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", validate_sizes(self.sizes))

    @property
    def num_layers(self) -> int:
        """N, the number of weight layers."""
        return len(self.sizes) - 1

    @cached_property
    def layer_offsets(self) -> tuple[int, ...]:
        """Start of each layer's block on the flat edge axis, plus the total E at the end."""
        offsets = [0]
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            offsets.append(offsets[-1] + n_in * n_out)
        return tuple(offsets)

    @property
    def num_edges(self) -> int:
        """E, the number of weights (edges) in the MLP."""
        return self.layer_offsets[-1]

    def block_shape(self, layer: int) -> tuple[int, int]:
        """(n_{l+1}, n_l), the shape of W^(l)."""
        return self.sizes[layer + 1], self.sizes[layer]

    def blocks(self, flat: Tensor, edge_axis: int = -2) -> list[Tensor]:
        """Split a tensor with a flat edge axis into per-layer views of shape (..., n_{l+1}, n_l, ...)."""
        axis = edge_axis % flat.dim()
        views = []
        for layer in range(self.num_layers):
            start, stop = self.layer_offsets[layer], self.layer_offsets[layer + 1]
            block = flat.narrow(axis, start, stop - start)
            views.append(block.unflatten(axis, self.block_shape(layer)))
        return views

    @cached_property
    def edge_layer(self) -> Tensor:
        """For each edge, the index l of its layer, shape (E,)."""
        counts = torch.tensor([self.layer_offsets[l + 1] - self.layer_offsets[l] for l in range(self.num_layers)])
        return torch.repeat_interleave(torch.arange(self.num_layers), counts)

    @cached_property
    def edge_output_neuron(self) -> Tensor:
        """For each edge, j: the index of the neuron in front of it within neuron-layer l + 1, shape (E,)."""
        return torch.cat([torch.arange(n_out).repeat_interleave(n_in) for n_in, n_out in self._layer_pairs])

    @cached_property
    def edge_input_neuron(self) -> Tensor:
        """For each edge, i: the index of the neuron behind it within neuron-layer l, shape (E,)."""
        return torch.cat([torch.arange(n_in).repeat(n_out) for n_in, n_out in self._layer_pairs])

    @property
    def _layer_pairs(self) -> list[tuple[int, int]]:
        return list(zip(self.sizes[:-1], self.sizes[1:]))

    def slot_sources(self, neuron_layer: int) -> Tensor:
        """Source indices of the messages each neuron of ``neuron_layer`` m attends over.

        Shape (n_m, n_{m-1} + n_{m+1}) with absent neighbour layers counting 0: first the messages of
        the incoming edges (layer m - 1, ordered by input neuron), then those of the outgoing edges
        (layer m, ordered by output neuron).
        """
        m = neuron_layer
        n = self.sizes[m]
        neuron = torch.arange(n).unsqueeze(1)
        parts = []
        if m > 0:  # incoming edges (neuron, i) of layer m - 1 send their front message
            n_prev = self.sizes[m - 1]
            parts.append(2 * (self.layer_offsets[m - 1] + neuron * n_prev + torch.arange(n_prev)))
        if m < self.num_layers:  # outgoing edges (k, neuron) of layer m send their behind message
            n_next = self.sizes[m + 1]
            parts.append(2 * (self.layer_offsets[m] + torch.arange(n_next) * n + neuron) + 1)
        return torch.cat(parts, dim=1)

    @cached_property
    def attention_plan(self) -> AttentionPlan:
        """The slot layout of every neuron-layer as one permutation of the source axis."""
        sources = [self.slot_sources(m) for m in range(len(self.sizes))]
        order = torch.cat([s.reshape(-1) for s in sources])
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(order.numel())
        return AttentionPlan(tuple(tuple(s.shape) for s in sources), order, inverse)

    def positional_encoding(self, features: int, base: float) -> Tensor:
        """Per-edge positional encodings, shape (E, 3 * features).

        Three groups of ``features`` sinusoids: of i on the first layer (zero elsewhere), of j on the
        last layer (zero elsewhere), and of the layer index l on every layer (A.2). Indices are
        1-based, as in the paper, so no sine is identically zero (a network with one output would
        otherwise feed a constant 0 to the hypernetwork). Hidden neurons get no encoding, so they
        stay exchangeable.
        """
        first = self.edge_layer == 0
        last = self.edge_layer == self.num_layers - 1
        enc_i = sinusoid(self.edge_input_neuron + 1, features, base) * first.unsqueeze(1)
        enc_j = sinusoid(self.edge_output_neuron + 1, features, base) * last.unsqueeze(1)
        enc_l = sinusoid(self.edge_layer + 1, features, base)
        return torch.cat([enc_i, enc_j, enc_l], dim=1)

    def edge_permutation(self, neuron_permutations: Sequence[Tensor | None]) -> Tensor:
        """The permutation of the flat edge axis induced by permuting neurons.

        ``neuron_permutations[m]`` (or None for the identity) says new neuron k of neuron-layer m is old
        neuron ``perm[k]``. Returns ``p`` with ``new_edges = old_edges[..., p, :]``: exactly how weights
        and per-edge noise move when the neurons are relabelled.
        """
        if len(neuron_permutations) != len(self.sizes):
            raise ValueError(f"need one permutation per neuron layer ({len(self.sizes)}), got {len(neuron_permutations)}")
        perms = [torch.arange(n) if p is None else torch.as_tensor(p) for n, p in zip(self.sizes, neuron_permutations)]
        parts = []
        for layer, (n_in, _n_out) in enumerate(self._layer_pairs):
            rows = perms[layer + 1].unsqueeze(1)
            cols = perms[layer].unsqueeze(0)
            parts.append((self.layer_offsets[layer] + rows * n_in + cols).reshape(-1))
        return torch.cat(parts)


def sinusoid(index: Tensor, features: int, base: float) -> Tensor:
    """[sin(index * w_k), cos(index * w_k)] for w_k = base**(-k/(K-1)), k < K = features/2 (K = 1: w = 1)."""
    pairs = features // 2
    if pairs == 0:
        return torch.zeros(index.shape[0], 0)
    exponents = torch.arange(pairs, dtype=torch.float64) / max(pairs - 1, 1)
    frequencies = base ** (-exponents)
    angles = index.to(torch.float64).unsqueeze(1) * frequencies
    return torch.cat([angles.sin(), angles.cos()], dim=1).to(torch.get_default_dtype())


def check_fits(sizes: Sequence[int], trained_sizes: Sequence[int]) -> None:
    """Raise if per-edge learned variables for ``trained_sizes`` cannot serve a network of ``sizes``."""
    if tuple(sizes) != tuple(trained_sizes):
        raise ValueError(
            f"sizes {tuple(sizes)} do not fit the encoder's learned variables, which exist only for "
            f"{tuple(trained_sizes)}; generate with decoder_only=True (--decoder-only) at other sizes"
        )

