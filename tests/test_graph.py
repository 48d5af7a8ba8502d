"""The ragged computation graph (reference/graph.py), checked against plain loops over neurons and edges."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from reference.graph import ComputationGraph, check_fits, sinusoid

layer_sizes = st.lists(st.integers(1, 9), min_size=2, max_size=6)


def brute_force_edges(sizes):
    """(layer, j, i) for every edge, in the flat order the graph promises: layer-major, then row-major (j, i)."""
    return [(l, j, i) for l in range(len(sizes) - 1) for j in range(sizes[l + 1]) for i in range(sizes[l])]


@given(layer_sizes)
def test_edge_layout_matches_a_loop(sizes):
    graph = ComputationGraph(sizes)
    edges = brute_force_edges(sizes)
    assert graph.num_edges == len(edges) == sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    assert graph.edge_layer.tolist() == [e[0] for e in edges]
    assert graph.edge_output_neuron.tolist() == [e[1] for e in edges]
    assert graph.edge_input_neuron.tolist() == [e[2] for e in edges]


@given(layer_sizes, st.integers(1, 3))
def test_blocks_are_per_layer_views_of_the_flat_axis(sizes, features):
    graph = ComputationGraph(sizes)
    flat = torch.arange(graph.num_edges * features).reshape(1, graph.num_edges, features)
    blocks = graph.blocks(flat)
    assert [tuple(b.shape) for b in blocks] == [(1, sizes[l + 1], sizes[l], features) for l in range(len(sizes) - 1)]
    for (layer, j, i), e in zip(brute_force_edges(sizes), range(graph.num_edges)):
        assert torch.equal(blocks[layer][0, j, i], flat[0, e])


@given(layer_sizes)
def test_attention_slots_are_each_neurons_incident_edges(sizes):
    """Neuron (m, k) attends over the front messages (source 2e) of its incoming edges, then the behind
    messages (source 2e + 1) of its outgoing edges; every message is used exactly once."""
    graph = ComputationGraph(sizes)
    edges = brute_force_edges(sizes)
    index = {e: n for n, e in enumerate(edges)}
    E = len(edges)
    for m, n_m in enumerate(sizes):
        slots = graph.slot_sources(m)
        for k in range(n_m):
            expected = []
            if m > 0:
                expected += [2 * index[(m - 1, k, i)] for i in range(sizes[m - 1])]
            if m < len(sizes) - 1:
                expected += [2 * index[(m, j, k)] + 1 for j in range(sizes[m + 1])]
            assert slots[k].tolist() == expected
    plan = graph.attention_plan
    assert plan.slot_shapes == tuple(tuple(graph.slot_sources(m).shape) for m in range(len(sizes)))
    assert torch.equal(plan.order, torch.cat([graph.slot_sources(m).reshape(-1) for m in range(len(sizes))]))
    assert sorted(plan.order.tolist()) == list(range(2 * E))
    assert torch.equal(plan.order[plan.inverse], torch.arange(2 * E))


@given(layer_sizes, st.data())
def test_edge_permutation_moves_weights_like_relabelled_neurons(sizes, data):
    graph = ComputationGraph(sizes)
    perms = [torch.tensor(data.draw(st.permutations(range(n)))) for n in sizes]
    weights = [torch.randn(b, a) for a, b in zip(sizes[:-1], sizes[1:])]
    flat = torch.cat([w.reshape(-1) for w in weights])
    moved = graph.blocks(flat[graph.edge_permutation(perms)], edge_axis=0)
    for l, w in enumerate(weights):
        assert torch.equal(moved[l], w[perms[l + 1]][:, perms[l]])


def test_positional_encodings_mark_only_inputs_outputs_and_layers():
    """i is encoded on the first layer only, j on the last only (1-based); hidden neurons get nothing of their own."""
    graph = ComputationGraph((3, 4, 5, 2))
    enc = graph.positional_encoding(features=4, base=100.0)
    assert enc.shape == (graph.num_edges, 12)
    enc_i, enc_j, enc_l = enc[:, :4], enc[:, 4:8], enc[:, 8:]
    first, last = graph.edge_layer == 0, graph.edge_layer == 2
    assert torch.all(enc_i[~first] == 0) and torch.all(enc_j[~last] == 0)
    torch.testing.assert_close(enc_i[first], sinusoid(graph.edge_input_neuron[first] + 1, 4, 100.0))
    torch.testing.assert_close(enc_j[last], sinusoid(graph.edge_output_neuron[last] + 1, 4, 100.0))
    torch.testing.assert_close(enc_l, sinusoid(graph.edge_layer + 1, 4, 100.0))
    # encodings distinguish the 16 inputs of the paper's network
    codes = sinusoid(torch.arange(16), 4, 100.0)
    assert torch.cdist(codes, codes).add(torch.eye(16)).min() > 0.05


@pytest.mark.parametrize("sizes", [(5,), (), (3, 0, 1), (3, -1), (2.0, 3), "16,48,1", (True, 2)])
def test_bad_sizes_are_rejected_by_name(sizes):
    with pytest.raises(ValueError, match="sizes"):
        ComputationGraph(sizes)


def test_learned_variables_only_fit_their_own_sizes():
    check_fits((16, 48, 1), (16, 48, 1))
    with pytest.raises(ValueError, match="decoder"):
        check_fits((32, 48, 1), (16, 48, 1))
