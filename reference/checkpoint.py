"""Checkpoints: one safetensors file per saved step, self-contained and written atomically.

A checkpoint holds the model's parameters (``model.*``), Adam's state (``optimizer.*``), the state of
the training random generator (``rng.train``), and in the safetensors metadata the config (JSON),
the step, the optimiser's param groups, and whether the run's steps were compiled (reference.compiled).
Writing goes to a temporary file in the same folder, flushed and fsynced, then renamed over the target,
so a reader never sees half a checkpoint.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor

from .config import Config

FORMAT = "reference-hypernet-checkpoint/1"
_STEP_NAME = re.compile(r"^step_(\d+)\.safetensors$")


@dataclass
class Checkpoint:
    """What a checkpoint file holds, loaded into memory."""

    config: Config
    step: int
    model_state: dict[str, Tensor]
    optimizer_state: dict[str, Any]
    rng_state: Tensor
    compiled: bool = False  #: whether the steps up to here ran through torch.compile (rounding differs from eager)


def checkpoint_name(step: int) -> str:
    return f"step_{step:08d}.safetensors"


def write_atomic(path: Path, write: Any) -> None:
    """Call ``write(temporary_path)``, then atomically rename the result to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text))


def save_checkpoint(
    path: Path,
    config: Config,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    rng_state: Tensor,
    compiled: bool = False,
) -> None:
    """Write a checkpoint for ``step`` to ``path`` atomically."""
    tensors = {f"model.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for index, state in opt["state"].items():
        for key, value in state.items():
            tensors[f"optimizer.{index}.{key}"] = torch.as_tensor(value).contiguous()
    tensors["rng.train"] = rng_state.contiguous()
    metadata = {
        "format": FORMAT,
        "config": config.to_json(),
        "step": str(step),
        "param_groups": json.dumps(opt["param_groups"]),
        "compiled": json.dumps(compiled),
    }
    write_atomic(Path(path), lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint; a missing, corrupt or foreign file raises an error naming ``path``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(f"checkpoint {str(path)!r} is corrupt or not a safetensors file: {error}") from None
    if metadata.get("format") != FORMAT:
        raise ValueError(f"checkpoint {str(path)!r} is not a {FORMAT} file (format {metadata.get('format')!r})")
    try:
        config = Config.from_json(metadata["config"])
        step = int(metadata["step"])
        # JSON has no tuples; optimisers keep hyperparameters such as Adam's betas as tuples
        param_groups = [
            {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
            for group in json.loads(metadata["param_groups"])
        ]
        rng_state = tensors["rng.train"]
        compiled = json.loads(metadata.get("compiled", "false")) is True  # absent in files from before the option
    except (KeyError, ValueError, TypeError) as error:
        raise ValueError(f"checkpoint {str(path)!r} has incomplete or invalid metadata: {error}") from None
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    optimizer_entries: dict[int, dict[str, Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            optimizer_entries.setdefault(int(index), {})[name] = value
    optimizer_state = {"state": optimizer_entries, "param_groups": param_groups}
    return Checkpoint(config, step, model_state, optimizer_state, rng_state, compiled)


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint in ``folder``, by step."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        match = _STEP_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry))
    return sorted(found)
