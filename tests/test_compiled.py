"""torch.compile with an eager fallback (reference.compiled) and compiled training."""

import shutil
import warnings

import pytest
import torch
from torch._dynamo.backends.common import aot_autograd
from torch._dynamo.utils import counters

from reference.compiled import CompiledOrEager
from reference.train import Trainer, build_model, step_objective


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


def test_a_backward_the_compiler_refuses_falls_back_at_the_forward_call():
    """AOTAutograd would otherwise compile the backward lazily and fail inside .backward() (a plain RuntimeError)."""
    backend = aot_autograd(fw_compiler=lambda gm, inputs: gm.forward, bw_compiler=_refuse)
    fn = CompiledOrEager(lambda x: (torch.sin(x) * 2.0).sum(), backend=backend)
    x = torch.linspace(-3, 3, 7, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="torch.compile failed"):
        y = fn(x)
    y.backward()
    assert not fn.is_compiled
    torch.testing.assert_close(x.grad, 2.0 * torch.cos(x.detach()))


def test_errors_of_the_callers_own_pass_through_and_keep_compiling():
    def checked(x, w):
        if x.shape[0] == 0:
            raise ValueError("x must not be empty")
        return x @ w

    fn = CompiledOrEager(checked, backend="eager")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "compile failed" warning for the caller's mistakes
        with pytest.raises(ValueError, match="x must not be empty"):
            fn(torch.zeros(0, 2), torch.ones(2, 2))
        with pytest.raises(RuntimeError, match="cannot be multiplied"):  # raised by a tensor op while tracing
            fn(torch.ones(3, 2), torch.ones(3, 2))
    assert fn.is_compiled
    assert torch.equal(fn(torch.ones(1, 2), torch.ones(2, 2)), torch.full((1, 2), 2.0))


def test_the_training_objective_compiles_to_one_graph(tiny):
    """No graph break: the graph tables are built with the model, and sampled betas skip the model's check."""
    torch._dynamo.reset()
    counters.clear()
    model = build_model(tiny)
    g = torch.Generator().manual_seed(0)
    betas = torch.tensor([1e-6, 1e-2])
    x = torch.randn(tiny.batch_size, tiny.sizes[0], generator=g)
    noise = model.hypernet.sample_noise(tiny.sizes, 2, g)
    torch.compile(step_objective, backend="eager")(model, betas, x, noise)[0].backward()
    assert counters["stats"]["unique_graphs"] == 1
    assert not counters["graph_break"]


@pytest.mark.skipif(not any(shutil.which(c) for c in ("g++", "c++", "clang++")),
                    reason="inductor needs a C++ compiler; without one CompiledOrEager runs eagerly (tested above)")
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
