"""Command-line interface: ``python -m reference {train,generate,sweep,sizes,adam,classify,draw,figures,config}``.

Every config field is a ``train`` option (``--betas-per-step 8``), documented with its source and reason.
Errors in the input are reported as ``error: <parameter>: <reason>`` with exit status 2, before any
file is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from . import cli_analysis as analysis
from .checkpoint import load_checkpoint, write_atomic
from .cli_analysis import add_commands as add_analysis_commands
from .config import Config, describe, validate_beta, validate_sizes
from .generate import evaluate_loss, save_networks
from .train import Trainer, build_model, new_run


def parse_sizes(text: str) -> tuple[int, ...]:
    """'16,48,1' -> (16, 48, 1); anything else is an argparse error naming the sizes."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be comma-separated positive integers, got {text!r}") from None
    try:
        return validate_sizes(values)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_beta(text: str) -> float:
    try:
        return validate_beta(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"beta must be a finite number > 0, got {text!r}") from None


def _parse_field(kind: type, default: object):
    """A parser for one config field's command-line text."""
    if isinstance(default, tuple):
        element = float if any(isinstance(v, float) for v in default) else int

        def parse_tuple(text: str) -> tuple:
            try:
                return tuple(element(part) for part in text.split(","))
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected comma-separated {element.__name__}s, got {text!r}") from None

        return parse_tuple

    def parse_scalar(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None

    return parse_scalar


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("config (every number of the method; defaults shown)")
    for f in dataclasses.fields(Config):
        default = f.default
        flag = "--" + f.name.replace("_", "-")
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        group.add_argument(
            flag,
            dest=f.name,
            type=_parse_field(type(default), default),
            default=None,
            metavar=f.name.upper(),
            help=f"{f.metadata['why']} [{f.metadata['source']}; default {shown}]".replace("%", "%%"),
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reference",
        description="Reference implementation of 'Hypernetworks are generative models for weights of "
        "interpretable networks' (Liao, Liu, Tegmark): a KL attentional hypernetwork, conditioned on beta, "
        "that generates MLPs computing the L1 norm.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train a hypernetwork (or resume a run)",
        description="Train the Pareto hypernetwork with objective log(L + beta*KL). Writes OUT/config.json, "
        "OUT/metrics.jsonl and OUT/checkpoints/step_*.safetensors. A progress bar shows loss, KL and steps/s.",
    )
    train.add_argument("--out", type=Path, required=True, help="run folder to create (or, with --resume, to continue)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    train.add_argument("--config", type=Path, help="a config.json to start from (options given here override it)")
    train.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument(
        "--compile", action="store_true",
        help="torch.compile the training objective: about 1.5x the steps/s at 1 beta per step, after seconds to half "
        "a minute of compiling; equal to eager up to float rounding; falls back to eager (with a warning) if "
        "compiling fails; recorded in the checkpoints",
    )
    _add_config_options(train)

    generate = commands.add_parser(
        "generate",
        help="generate networks from a checkpoint and report their loss",
        description="Generate MLP weights at one beta from a checkpoint, write them (safetensors: W0, b0, W1, b1, ...) "
        "and print the loss of each generated network on fresh L1 data.",
    )
    generate.add_argument("checkpoint", type=Path, help="a checkpoint file (RUN/checkpoints/step_*.safetensors)")
    generate.add_argument("--beta", type=parse_beta, required=True, help="the KL weight beta to generate at (finite, > 0)")
    generate.add_argument(
        "--sizes", type=parse_sizes, help="layer sizes, e.g. 16,48,1 (default: the training sizes); other sizes "
        "need --decoder-only"
    )
    generate.add_argument(
        "--decoder-only", action="store_true",
        help="generate from the decoder side alone: latents from p, no learned variables, no KL; works at any sizes",
    )
    generate.add_argument("--seed", type=int, default=0, help="seed of the generation noise and the evaluation data")
    generate.add_argument("--count", type=int, default=1, help="how many networks to generate (default 1)")
    generate.add_argument("--out", type=Path, help="where to write the weights (default: print only)")
    generate.add_argument("--eval-samples", type=int, default=8192, help="fresh samples for the reported loss")

    add_analysis_commands(commands, _add_config_options)

    show = commands.add_parser("config", help="print the default config, or the table of every field and its reason")
    show.add_argument("--table", action="store_true", help="a Markdown table: field, default, source, reason")
    return parser


def _config_from_args(args: argparse.Namespace) -> Config:
    base = Config.from_json(args.config.read_text()) if args.config else Config()
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config) if getattr(args, f.name) is not None}
    return base.replace(**overrides)


def run_train(args: argparse.Namespace) -> int:
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be a positive integer, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.resume:
        given = [f.name for f in dataclasses.fields(Config) if f.name != "steps" and getattr(args, f.name) is not None]
        if given or args.config is not None:
            names = ", ".join("--" + name.replace("_", "-") for name in given) or "--config"
            raise ValueError(f"--resume takes its config from the run; only --steps may be given with it (got {names})")
        trainer = Trainer.resume(args.out, steps=args.steps, compile=args.compile)
    else:
        trainer = new_run(_config_from_args(args), args.out, compile=args.compile)
    trainer.train(progress=not args.no_progress)
    print(f"trained to step {trainer.step_count}; checkpoints in {args.out / 'checkpoints'}")
    return 0


def run_generate(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise ValueError(f"--count must be a positive integer, got {args.count}")
    if args.eval_samples < 1:
        raise ValueError(f"--eval-samples must be a positive integer, got {args.eval_samples}")
    checkpoint = load_checkpoint(args.checkpoint)
    model = build_model(checkpoint.config)
    model.load_state_dict(checkpoint.model_state)
    sizes = args.sizes or checkpoint.config.sizes
    generated = model.generate(args.beta, sizes=sizes, decoder_only=args.decoder_only, seed=args.seed, count=args.count)
    one_output = sizes[-1] == 1
    losses = evaluate_loss(generated, samples=args.eval_samples, seed=args.seed).tolist() if one_output else None
    if args.out is not None:
        meta = {"checkpoint": str(args.checkpoint), "step": checkpoint.step, "beta": args.beta, "sizes": list(sizes),
                "decoder_only": args.decoder_only, "seed": args.seed}
        write_atomic(args.out, lambda tmp: save_networks(tmp, generated, meta))
    mode = "decoder-only" if args.decoder_only else "encoder"
    for index in range(args.count):
        loss = f"loss {losses[index]:.5f}" if losses else "loss n/a (the L1 task has 1 output)"
        kl = generated.kl[index].item()
        print(f"network {index}: sizes {','.join(map(str, sizes))}  beta {args.beta:g}  {mode}  {loss}  KL {kl:.4g} nats")
    if args.out is not None:
        print(f"weights written to {args.out}")
    return 0


def run_config(args: argparse.Namespace) -> int:
    print(describe() if args.table else Config().to_json())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {
        "train": run_train, "generate": run_generate, "config": run_config,
        "sweep": lambda a: analysis.run_sweep_command(a, _config_from_args(a)), "sizes": analysis.run_sizes,
        "adam": analysis.run_adam, "classify": analysis.run_classify, "draw": analysis.run_draw,
        "figures": analysis.run_figures,
    }
    try:
        return handlers[args.command](args)
    except (ValueError, FileNotFoundError, FileExistsError, json.JSONDecodeError) as error:
        parser.exit(2, f"{parser.prog} {args.command}: error: {error}\n")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
