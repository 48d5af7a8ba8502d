"""KL, DEC and EXCH clauses: the KL channel, decoder-only generation and hidden-neuron exchangeability."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.strategies import betas, hidden_layer_sizes, layer_sizes, seeds


@pytest.mark.clause("KL-1")
@given(beta=betas(), seed=seeds())
def test_kl_nonnegative(impl, beta, seed):
    checks.check_kl_nonnegative(impl, beta, seed)


@pytest.mark.clause("KL-2")
@given(beta=betas(), seed=seeds())
def test_kl_accounting(impl, beta, seed):
    checks.check_kl_accounting(impl, beta, seed)


@pytest.mark.clause("KL-3")
@given(beta=betas(), seed=seeds())
def test_kl_zero_when_q_equals_p(impl, beta, seed):
    checks.check_kl_zero_when_q_equals_p(impl, beta, seed)


@pytest.mark.clause("KL-4")
@given(beta=betas(), seed=seeds())
def test_samples_from_q(impl, beta, seed):
    checks.check_samples_from_q(impl, beta, seed)


@pytest.mark.clause("KL-5")
@given(beta=betas(), seed=seeds(), encoder_seed=seeds())
def test_learned_variables_reach_q(impl, beta, seed, encoder_seed):
    checks.check_learned_variables_reach_q(impl, beta, seed, encoder_seed)


@pytest.mark.clause("KL-6")
@given(sizes=layer_sizes(max_width=24), beta=betas(), seed=seeds(), decoder_only=st.booleans())
def test_trace_matches_generate(impl, sizes, beta, seed, decoder_only):
    checks.check_trace_matches_generate(impl, sizes, beta, seed, decoder_only)


@pytest.mark.clause("DEC-1")
@given(sizes=layer_sizes(max_width=24), beta=betas(), seed=seeds())
def test_decoder_only_has_no_kl(impl, sizes, beta, seed):
    checks.check_decoder_no_kl(impl, sizes, beta, seed)


@pytest.mark.clause("DEC-2")
@given(sizes=layer_sizes(max_width=32), beta=betas(), seed=seeds())
def test_decoder_only_samples_from_p(impl, sizes, beta, seed):
    checks.check_decoder_samples_from_p(impl, sizes, beta, seed)


@pytest.mark.clause("DEC-3")
@given(sizes=layer_sizes(max_width=24), beta=betas(), seed=seeds(), encoder_seed=seeds())
def test_decoder_only_ignores_the_encoder(impl, sizes, beta, seed, encoder_seed):
    checks.check_decoder_ignores_encoder(impl, sizes, beta, seed, encoder_seed)


@pytest.mark.clause("DEC-4")
@given(sizes=layer_sizes(max_width=24), beta=betas(), seed=seeds())
def test_noise_determines_the_network(impl, sizes, beta, seed):
    checks.check_noise_determines_network(impl, sizes, beta, seed)


@pytest.mark.clause("EXCH-1")
@given(sizes=hidden_layer_sizes(), beta=betas(), seed=seeds())
def test_hidden_neurons_are_exchangeable(impl, sizes, beta, seed):
    checks.check_hidden_exchangeability(impl, sizes, beta, seed)


@pytest.mark.clause("EXCH-2")
@given(sizes=hidden_layer_sizes(), beta=betas(), seed=seeds())
def test_inputs_are_distinguished(impl, sizes, beta, seed):
    checks.check_inputs_are_distinguished(impl, sizes, beta, seed)
