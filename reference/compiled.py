"""torch.compile where it pays, with an eager fallback that computes the same function.

At one beta per step (the paper's recipe and the default) a training step is mostly the dispatch of
many small operations; compiling the objective (hyperhypernetwork, hypernetwork, task loss) fuses them.
Measured on 2 cores at 16-48-1 (``benchmarks/bench.py --compile``): about +35% steps/s at 1 beta per
step and +5% at 8, after 10-25 s of compiling. Compiled kernels round differently from eager ones (a
step's objective agrees to ~1e-6 relative), so a compiled run is reproducible by itself but does not
follow an eager run's trajectory bit for bit; the eager path is the reference.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch._dynamo.exc import TorchDynamoException


class CompiledOrEager:
    """Call ``fn`` through ``torch.compile``; if compiling fails (no C++ compiler, an unsupported
    operation, ...), warn once and call ``fn`` eagerly from then on. Errors raised by ``fn`` itself
    (bad arguments) pass through unchanged."""

    def __init__(self, fn: Callable[..., Any], backend: str | Callable[..., Any] = "inductor") -> None:
        self.eager = fn
        self.compiled = torch.compile(fn, backend=backend)
        self.fallback_reason: str | None = None

    @property
    def is_compiled(self) -> bool:
        """False once compiling has failed and calls run eagerly."""
        return self.fallback_reason is None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fallback_reason is None:
            try:
                return self.compiled(*args, **kwargs)
            except TorchDynamoException as error:
                self.fallback_reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
                warnings.warn(f"torch.compile failed, running eagerly instead ({self.fallback_reason})",
                              RuntimeWarning, stacklevel=2)
        return self.eager(*args, **kwargs)
