"""torch.compile with an eager fallback (reference.compiled) and compiled training."""

import warnings

import pytest
import torch

from reference.compiled import CompiledOrEager
from reference.train import Trainer


def _refuse(graph_module, example_inputs):
    raise RuntimeError("this backend cannot compile anything")


def scaled_sine(x):
    return torch.sin(x) * 2.0 + 1.0


def test_a_failed_compile_falls_back_to_eager_with_one_warning():
    fn = CompiledOrEager(scaled_sine, backend=_refuse)
    x = torch.linspace(-3, 3, 7)
    with pytest.warns(RuntimeWarning, match="torch.compile failed, running eagerly"):
        first = fn(x)
    assert not fn.is_compiled and "BackendCompilerFailed" in fn.fallback_reason
    assert torch.equal(first, scaled_sine(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        assert torch.equal(fn(x + 1), scaled_sine(x + 1))


def test_errors_of_the_function_itself_pass_through_and_keep_compiling():
    def checked(x):
        if x.shape[0] == 0:
            raise ValueError("x must not be empty")
        return x * 3

    fn = CompiledOrEager(checked, backend="eager")
    with pytest.raises(ValueError, match="x must not be empty"):
        fn(torch.zeros(0))
    assert fn.is_compiled
    assert torch.equal(fn(torch.ones(2)), torch.full((2,), 3.0))


def test_compiled_training_follows_eager_training_up_to_rounding(tiny):
    """The same steps, compiled with inductor and eager, give the same objectives and parameters to ~1e-6
    (kernels fuse and round differently; over 3 steps the difference stays at float32 rounding)."""
    eager, compiled = Trainer(tiny), Trainer(tiny, compile=True)
    for _ in range(3):
        expected, got = eager.training_step(), compiled.training_step()
        assert got.objective == pytest.approx(expected.objective, rel=1e-5, abs=1e-6)
        assert got.loss == pytest.approx(expected.loss, rel=1e-5, abs=1e-6)
        assert got.kl == pytest.approx(expected.kl, rel=1e-4, abs=1e-5)
    assert compiled.objective.is_compiled, compiled.objective.fallback_reason
    for (name, a), b in zip(eager.model.named_parameters(), compiled.model.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6, msg=name)
