"""torch.compile where it pays, with an eager fallback that computes the same function.

At one beta per step (the paper's recipe and the default) a training step is mostly the dispatch of
many small operations; compiling the objective (hyperhypernetwork, hypernetwork, task loss) into one
graph fuses them. Measured on 2 cores at 16-48-1 (``benchmarks/bench.py --compile``; README,
Performance): about 1.5x steps/s at 1 beta per step and 1.25-1.35x at 8-32, after half a minute
of compiling (cached on disk afterwards). Compiled kernels round differently from eager ones (over a
few steps losses agree to ~1e-6 relative, KLs to ~1e-5), so a compiled run is reproducible by itself
but does not follow an eager run's trajectory bit for bit; the eager path is the reference.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch._functorch.config
from torch._dynamo.exc import TorchDynamoException


class CompiledOrEager:
    """Call ``fn`` through ``torch.compile``; if compiling fails (no C++ compiler, an unsupported
    operation, ...), warn once and call ``fn`` eagerly from then on.

    A failure is only blamed on the compiler when the eager call then succeeds: an error of the caller's
    own (bad arguments, mismatched shapes) is raised as eager PyTorch raises it, and compiling stays on.
    The backward graph is compiled together with the forward, so that a backward the compiler cannot
    handle fails here rather than later inside ``.backward()``.
    """

    def __init__(self, fn: Callable[..., Any], backend: str | Callable[..., Any] = "inductor") -> None:
        self.eager = fn
        self.compiled = torch.compile(fn, backend=backend)
        self.fallback_reason: str | None = None

    @property
    def is_compiled(self) -> bool:
        """False once compiling has failed and calls run eagerly."""
        return self.fallback_reason is None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fallback_reason is not None:
            return self.eager(*args, **kwargs)
        try:
            with _backward_compiled_with_forward():
                return self.compiled(*args, **kwargs)
        except TorchDynamoException as error:
            failure = error
        result = self.eager(*args, **kwargs)  # raises here if the arguments, not the compiler, were at fault
        message = str(failure).strip().splitlines()
        self.fallback_reason = f"{type(failure).__name__}: {message[0] if message else ''}"
        warnings.warn(f"torch.compile failed, running eagerly instead ({self.fallback_reason})", RuntimeWarning,
                      stacklevel=2)
        return result


def _backward_compiled_with_forward() -> contextlib.AbstractContextManager:
    """AOTAutograd lowers the backward graph lazily, inside ``.backward()``, where a failure is a plain
    RuntimeError; this (torch >= 2.6) makes it lower the backward during the forward call instead."""
    config = torch._functorch.config
    if hasattr(config, "force_non_lazy_backward_lowering"):
        return config.patch(force_non_lazy_backward_lowering=True)
    return contextlib.nullcontext()
