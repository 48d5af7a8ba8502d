"""Analysis commands of ``python -m reference``: sweep, sizes, adam, classify, draw, figures.

A sweep folder collects what the figures need: ``sweep.csv`` (from ``sweep``), ``sizes.csv`` (from
``sizes``), ``adam.safetensors`` (from ``adam``) and ``figures/`` (from ``figures``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .checkpoint import list_checkpoints, load_checkpoint, write_atomic, write_text_atomic
from .classify import classify, coordinates, default_boundaries
from .generate import evaluate_loss, network_loss
from .sweep import PAPER_BETAS, SweepConfig, read_table, run_sweep
from .train import build_model


def parse_int_list(text: str) -> tuple[int, ...]:
    """'0-4' -> (0, 1, 2, 3, 4); '1,5,9' -> (1, 5, 9); positive ranges only."""
    try:
        if "-" in text and "," not in text:
            low, high = (int(v) for v in text.split("-"))
            if low > high:
                raise ValueError
            return tuple(range(low, high + 1))
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a range like 0-32 or a list like 1,5,9, got {text!r}") from None


def add_commands(commands: Any, add_config_options: Any) -> None:
    sweep = commands.add_parser(
        "sweep", help="train seeds and evaluate every checkpoint along a beta grid",
        description="Train one run per seed in OUT/seed_XXX (resuming unfinished ones), evaluate every checkpoint "
        "at every beta of the grid (loss, KL, decoder-only loss, order parameters, strategy) and write OUT/sweep.csv.",
    )
    sweep.add_argument("--out", type=Path, required=True, help="sweep folder (created; reused runs are resumed)")
    sweep.add_argument("--seeds", type=parse_int_list, default=tuple(range(33)), help="seeds, e.g. 0-32 (paper) or 0,1")
    sweep.add_argument("--betas", type=int, default=30, help="number of log-spaced betas from 1e-12 to 1 (paper: 30)")
    sweep.add_argument("--workers", type=int, default=1, help="seeds trained at once, one process each")
    sweep.add_argument("--eval-samples", type=int, default=4096, help="fresh samples per evaluation")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.add_argument("--compile", action="store_true", help="torch.compile each run's training objective (see train --help)")
    sweep.add_argument("--config", type=Path, help="a config.json to start from (options given here override it)")
    add_config_options(sweep)

    sizes = commands.add_parser(
        "sizes", help="loss of decoder-only networks over a grid of input and hidden sizes (Fig. 5)",
        description="Generate decoder-only networks (input, hidden, 1) from a checkpoint over a grid and write "
        "their losses as CSV.",
    )
    sizes.add_argument("checkpoint", type=Path, help="a checkpoint file")
    sizes.add_argument("--beta", type=float, required=True, help="beta to generate at")
    sizes.add_argument("--inputs", type=parse_int_list, default=(4, 8, 12, 16, 24, 32, 48, 64), help="input sizes")
    sizes.add_argument("--hidden", type=parse_int_list, default=(12, 24, 36, 48, 72, 96, 144, 192), help="hidden sizes")
    sizes.add_argument("--generations", type=int, default=4, help="networks per grid point")
    sizes.add_argument("--out", type=Path, required=True, help="CSV to write (e.g. SWEEP/sizes.csv)")

    adam = commands.add_parser("adam", help="train the Adam baseline (Sec. 2.5) and save it",
                               description="Train the 16-48-1 MLP directly with Adam; save weights and loss.")
    adam.add_argument("--out", type=Path, required=True, help="safetensors file to write (e.g. SWEEP/adam.safetensors)")
    adam.add_argument("--steps", type=int, default=10_000, help="Adam steps (default 10,000)")
    adam.add_argument("--seed", type=int, default=0, help="seed of initialisation and data")
    adam.add_argument("--no-progress", action="store_true", help="no progress bar")

    for name, text in (("classify", "classify generated networks by strategy"),
                       ("draw", "force-directed drawing of a network (App. A.1)")):
        sub = commands.add_parser(name, help=text, description=text + ". The network comes from a checkpoint "
                                  "(with --beta) or a weights file written by generate/adam (--weights).")
        sub.add_argument("checkpoint", type=Path, nargs="?", help="a checkpoint file (or give --weights)")
        sub.add_argument("--weights", type=Path, help="a safetensors file with W0, b0, W1, b1, ...")
        sub.add_argument("--beta", type=float, help="beta to generate at (with a checkpoint)")
        sub.add_argument("--decoder-only", action="store_true", help="generate decoder-only")
        sub.add_argument("--seed", type=int, default=0, help="generation seed")
        sub.add_argument("--index", type=int, default=0, help="which network of a weights file")
        if name == "draw":
            sub.add_argument("--out", type=Path, required=True, help="PNG to write")

    figures = commands.add_parser("figures", help="draw the paper's Figures 2-6 from a sweep folder",
                                  description="Read RUN_DIR/sweep.csv (and sizes.csv, adam.safetensors if present) "
                                  "and write PNG figures into --out.")
    figures.add_argument("run_dir", type=Path, help="a sweep folder")
    figures.add_argument("--out", type=Path, help="folder for the PNGs (default RUN_DIR/figures)")


def run_sweep_command(args: argparse.Namespace, config: Any) -> int:
    if args.betas < 1:
        raise ValueError(f"--betas must be a positive integer, got {args.betas}")
    betas = PAPER_BETAS if args.betas == 30 else tuple(
        10.0 ** (-12 + 12 * k / max(args.betas - 1, 1)) for k in range(args.betas))
    sweep = SweepConfig(seeds=args.seeds, betas=betas, eval_samples=args.eval_samples, workers=args.workers,
                        compile=args.compile)
    table = run_sweep(config, sweep, args.out, progress=not args.no_progress)
    print(f"wrote {table} ({len(read_table(table))} rows)")
    return 0


def _load_model(path: Path):
    checkpoint = load_checkpoint(path)
    model = build_model(checkpoint.config)
    model.load_state_dict(checkpoint.model_state)
    return model, checkpoint


def run_sizes(args: argparse.Namespace) -> int:
    from .sizes import size_generalisation

    model, checkpoint = _load_model(args.checkpoint)
    rows = size_generalisation(model, args.beta, args.inputs, args.hidden, generations=args.generations)
    lines = ["input_dim,hidden_dim,loss,loss_std,beta,step"]
    lines += [f"{r['input_dim']},{r['hidden_dim']},{r['loss']!r},{r['loss_std']!r},{args.beta!r},{checkpoint.step}"
              for r in rows]
    write_text_atomic(args.out, "\n".join(lines) + "\n")
    best = min(rows, key=lambda r: r["loss"])
    print(f"wrote {args.out}: {len(rows)} sizes; best loss {best['loss']:.4f} at {best['input_dim']},{best['hidden_dim']}")
    return 0


def run_adam(args: argparse.Namespace) -> int:
    from .adam import AdamConfig, train_adam

    config = AdamConfig(steps=args.steps, seed=args.seed)
    result = train_adam(config, progress=not args.no_progress)
    tensors = {f"W{l}": w.contiguous() for l, w in enumerate(result.weights)}
    tensors.update({f"b{l}": b.contiguous() for l, b in enumerate(result.biases)})
    tensors = {k: v.unsqueeze(0) for k, v in tensors.items()}  # a batch of one, like generate's files
    meta = {"adam": json.dumps(dataclasses.asdict(config)), "final_loss": json.dumps(result.losses[-1])}
    write_atomic(args.out, lambda tmp: save_file(tensors, str(tmp), metadata=meta))
    print(f"Adam: final training loss {result.losses[-1]:.5f}; weights written to {args.out}")
    return 0


def load_network(args: argparse.Namespace) -> tuple[list[torch.Tensor], list[torch.Tensor], str]:
    """The network a classify/draw command names: (weights, biases, description)."""
    if (args.checkpoint is None) == (args.weights is None):
        raise ValueError("give either a checkpoint (with --beta) or --weights, not both")
    if args.weights is not None:
        if not args.weights.is_file():
            raise FileNotFoundError(f"weights file {str(args.weights)!r} does not exist")
        try:
            tensors = load_file(str(args.weights))
        except (SafetensorError, OSError) as error:
            raise ValueError(f"weights file {str(args.weights)!r} is corrupt: {error}") from None
        layers = sorted(int(k[1:]) for k in tensors if k.startswith("W") and k[1:].isdigit())
        if not layers or any(f"b{l}" not in tensors for l in layers):
            raise ValueError(f"weights file {str(args.weights)!r} lacks W0, b0, ... tensors")
        count = tensors["W0"].shape[0]
        if not 0 <= args.index < count:
            raise ValueError(f"--index must be in [0, {count}), got {args.index}")
        return ([tensors[f"W{l}"][args.index] for l in layers], [tensors[f"b{l}"][args.index] for l in layers],
                f"{args.weights} [{args.index}]")
    if args.beta is None:
        raise ValueError("--beta is needed to generate from a checkpoint")
    model, checkpoint = _load_model(args.checkpoint)
    nets = model.generate(args.beta, decoder_only=args.decoder_only, seed=args.seed)
    mode = "decoder-only" if args.decoder_only else "encoder"
    return [w[0] for w in nets.weights], [b[0] for b in nets.biases], f"step {checkpoint.step}, beta {args.beta:g}, {mode}"


def run_classify(args: argparse.Namespace) -> int:
    weights, biases, what = load_network(args)
    loss = network_loss(weights, biases, seed=args.seed).item() if weights[-1].shape[0] == 1 else None
    c, b = coordinates(weights[0]), default_boundaries()
    strategy = classify(weights[0], loss=loss, boundaries=b)
    print(f"{what}: {strategy.value}")
    print(f"  loss {loss:.5f}" if loss is not None else "  loss n/a")
    print(f"  alpha_1 {c.alpha_1:.4g}  alpha_2 {c.alpha_2:.4g}  rho {c.rho:.4g} (boundary {b.rho:.4g})  "
          f"balance {c.balance:.4g} (boundary {b.balance:.4g})")
    return 0


def run_draw(args: argparse.Namespace) -> int:
    from .drawing import draw

    weights, biases, what = load_network(args)
    ax = draw(weights, biases, seed=args.seed, title=what)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out, lambda tmp: ax.figure.savefig(tmp, format="png", dpi=150))
    print(f"drawing written to {args.out}")
    return 0


def run_figures(args: argparse.Namespace) -> int:
    import pandas as pd

    from .figures import write_all

    sweep = pd.DataFrame(read_table(args.run_dir / "sweep.csv"))
    sizes_path = args.run_dir / "sizes.csv"
    sizes = pd.read_csv(sizes_path) if sizes_path.is_file() else None
    networks = _figure_networks(args.run_dir)
    paths = write_all(sweep, sizes, networks, args.out or args.run_dir / "figures")
    for path in paths:
        print(path)
    return 0


def _figure_networks(run_dir: Path) -> dict[str, Any] | None:
    """Fig. 6's pair: the lowest-loss low-beta network of seed 0's last checkpoint, and the Adam baseline."""
    adam_path = run_dir / "adam.safetensors"
    found = list_checkpoints(run_dir / "seed_000" / "checkpoints")
    if not adam_path.is_file() or not found:
        return None
    model, _ = _load_model(found[-1][1])
    nets = model.generate(1e-6, seed=1)
    adam = load_file(str(adam_path))
    layers = sorted(int(k[1:]) for k in adam if k.startswith("W"))
    adam_net = ([adam[f"W{l}"][0] for l in layers], [adam[f"b{l}"][0] for l in layers])
    return {"hyper": ([w[0] for w in nets.weights], [b[0] for b in nets.biases]), "adam": adam_net,
            "hyper_loss": evaluate_loss(nets).item(), "adam_loss": network_loss(*adam_net).item()}
