"""SHAPE, DET and BETA clauses: what every implementation must do (no optional capability needed)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.strategies import betas, layer_sizes, seeds

modes = st.booleans()


@pytest.mark.clause("SHAPE-1")
@given(sizes=layer_sizes(), beta=betas(), seed=seeds())
def test_decoder_only_shapes(impl, sizes, beta, seed):
    checks.check_decoder_shapes(impl, sizes, beta, seed)


@pytest.mark.clause("SHAPE-2")
@given(beta=betas(), seed=seeds())
def test_encoder_shapes(impl, beta, seed):
    checks.check_encoder_shapes(impl, beta, seed)


@pytest.mark.clause("SHAPE-3")
@given(sizes=layer_sizes(max_width=20), beta=betas(), seed=seeds())
def test_encoder_rejects_untrained_sizes(impl, sizes, beta, seed):
    checks.check_encoder_rejects_other_sizes(impl, sizes, beta, seed)


@pytest.mark.clause("SHAPE-4")
@given(sizes=layer_sizes(), beta=betas(), seed=seeds())
def test_finite_decoder_only(impl, sizes, beta, seed):
    checks.check_finite(impl, sizes, beta, seed, decoder_only=True)


@pytest.mark.clause("SHAPE-4")
@given(beta=betas(), seed=seeds())
def test_finite_with_encoder(impl, beta, seed):
    checks.check_finite(impl, impl.trained_sizes, beta, seed, decoder_only=False)


@pytest.mark.clause("DET-1")
@given(sizes=layer_sizes(max_width=24), beta=betas(), seed=seeds(), decoder_only=modes)
def test_same_seed_same_network(impl, sizes, beta, seed, decoder_only):
    sizes = sizes if decoder_only else impl.trained_sizes
    checks.check_deterministic(impl, sizes, beta, seed, decoder_only)


@pytest.mark.clause("DET-2")
@given(sizes=layer_sizes(max_width=24), beta=betas(), seed=seeds(), decoder_only=modes)
def test_different_seeds_differ(impl, sizes, beta, seed, decoder_only):
    sizes = sizes if decoder_only else impl.trained_sizes
    checks.check_seeds_differ(impl, sizes, beta, seed, decoder_only)


@pytest.mark.clause("BETA-1")
@pytest.mark.parametrize("beta", checks.INVALID_BETAS)
def test_invalid_beta_rejected(impl, beta):
    checks.check_generate_rejects_invalid_beta(impl, beta)


@pytest.mark.clause("BETA-2")
@given(seed=seeds(), decoder_only=modes)
def test_beta_conditions_generation(impl, seed, decoder_only):
    checks.check_beta_conditions(impl, seed, decoder_only)


@pytest.mark.clause("BETA-3")
@given(loss=st.floats(1e-6, 10.0), kl=st.floats(0.0, 1e5), beta=betas())
def test_objective(impl, loss, kl, beta):
    checks.check_objective(impl, loss, kl, beta)


@pytest.mark.clause("BETA-4")
@pytest.mark.parametrize("beta", checks.INVALID_BETAS)
def test_objective_rejects_invalid_beta(impl, beta):
    checks.check_objective_rejects_invalid_beta(impl, beta)
