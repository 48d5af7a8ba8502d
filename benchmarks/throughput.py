"""Training throughput of the reference at the paper's size (16, 48, 1), batch 1024.

Prints one table: steps/s and beta-samples/s (steps/s x betas per step) for each betas-per-step
value, as the median of ``--repeats`` timed blocks of ``--steps`` steps after a warm-up.

    python benchmarks/throughput.py --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from reference.config import Config
from reference.train import Trainer


def measure(betas_per_step: int, steps: int, repeats: int) -> float:
    """Median steps per second over ``repeats`` blocks of ``steps`` training steps."""
    trainer = Trainer(Config(betas_per_step=betas_per_step))
    for _ in range(3):
        trainer.training_step()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            trainer.training_step()
        rates.append(steps / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--betas", default="1,8", help="comma-separated betas-per-step values")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=5, help="timed blocks; the median is reported")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), sizes 16,48,1, batch 1024")
    print(f"{'betas/step':>10} {'steps/s':>9} {'beta-samples/s':>15}")
    for k in (int(v) for v in args.betas.split(",")):
        rate = measure(k, args.steps, args.repeats)
        print(f"{k:>10} {rate:>9.1f} {rate * k:>15.1f}")


if __name__ == "__main__":
    main()
