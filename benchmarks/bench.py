"""Speed of the reference, all figures measured in one run, printed as one table.

    python benchmarks/bench.py                       # training, replicas, estimate, generation scaling (~10 min)
    python benchmarks/bench.py --compile             # also torch.compile'd training (seconds to half a minute of compiling per row)
    python benchmarks/bench.py --suites              # also the wall time of the claims (quick) and the conformance suite

Sections:
* the machine's fp32 matmul peak (a 2048 x 2048 product), the yardstick for the rest;
* training at the paper's size (16, 48, 1), batch 1024: steps/s and beta-samples/s for several betas per
  step, eager and (``--compile``) compiled; useful GFLOP/s (torch's FLOP counter on one eager step, forward
  and backward: matrix products and attention) and the fraction of the peak;
* replicas: S seeds vectorised in one process (reference.replicas) against the same S trained one after
  another, seed-steps/s and the speedup;
* the full claims profile's training time (33 seeds x 12,000 steps), estimated from the single-thread step
  rate with one seed per process per core, as the harness runs it;
* generation scaling: decoder-only generation of (n, 3n, 1) in a fresh process per n: wall time, peak
  resident memory, and time per weight (a size that runs out of memory is reported as such);
* optionally, the wall times of ``pytest paper_claims -n 8`` (quick, from an empty cache) and of the
  conformance suite against the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

from reference.config import Config
from reference.replicas import ReplicaTrainer
from reference.train import Trainer, step_objective

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: paper_claims is a folder of the checkout, not installed
from paper_claims.harness import PROFILES  # noqa: E402


def median_rate(run_once, repeats: int, per_block: int) -> float:
    """Median over ``repeats`` blocks of ``per_block`` calls, in calls per second (after one warm-up block)."""
    for _ in range(per_block):
        run_once()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(per_block):
            run_once()
        rates.append(per_block / (time.perf_counter() - start))
    return statistics.median(rates)


def matmul_peak(size: int = 2048, repeats: int = 7) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 * median_rate(lambda: torch.mm(a, b), repeats, 3) / 1e9


#: torch's FLOP counter has no formula for the CPU flash-attention kernels; these count them as it counts the
#: GPU ones (the two products of each attention, forward; and the five of the backward)
_CPU_ATTENTION_FLOPS = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu:
        lambda q, k, v, *args, out_shape=None, **kwargs: sdpa_flop_count(q, k, v),
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward:
        lambda grad, q, k, v, *args, out_shape=None, **kwargs: sdpa_backward_flop_count(grad, q, k, v),
}


def step_flops(config: Config) -> int:
    """FLOPs of one eager training step's forward and backward (matrix products and attention; the elementwise
    work and the optimiser are not counted). The compiled step does the same arithmetic, so it gets this count."""
    trainer = Trainer(config)
    g = torch.Generator().manual_seed(0)
    betas = torch.full((config.betas_per_step,), 1e-3)
    x = torch.randn(config.batch_size, config.sizes[0], generator=g)
    noise = trainer.model.hypernet.sample_noise(config.sizes, config.betas_per_step, g)
    with FlopCounterMode(display=False, custom_mapping=_CPU_ATTENTION_FLOPS) as counter:
        step_objective(trainer.model, betas, x, noise)[0].backward()
    return counter.get_total_flops()


def training_rows(betas_per_step: list[int], compile_: bool, peak: float, repeats: int) -> list[dict]:
    rows = []
    for k in betas_per_step:
        config = Config(betas_per_step=k)
        flops = step_flops(config)
        for compiled in [False, True] if compile_ else [False]:
            trainer = Trainer(config, compile=compiled)
            per_block = max(1, 40 // k)
            start = time.perf_counter()
            trainer.training_step()  # compiles when compiled
            first = time.perf_counter() - start
            rate = median_rate(trainer.training_step, repeats, per_block)
            if compiled and not trainer.objective.is_compiled:
                raise RuntimeError(f"torch.compile failed: {trainer.objective.fallback_reason}")
            rows.append({"betas/step": k, "mode": "compiled" if compiled else "eager", "steps/s": rate,
                         "beta-samples/s": rate * k, "GFLOP/step": flops / 1e9, "GFLOP/s": rate * flops / 1e9,
                         "% of peak": 100 * rate * flops / 1e9 / peak, "first step s": first})
    return rows


def full_profile_estimate(repeats: int, processes: int) -> list[dict]:
    """Training time of the full claims profile (its seeds x steps at 1 beta per step), from the eager
    single-thread step rate, with one seed per process on ``processes`` cores (how the harness runs it)."""
    full = PROFILES["full"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rate = median_rate(Trainer(Config(betas_per_step=1)).training_step, repeats, 20)
    finally:
        torch.set_num_threads(threads)
    seed_steps = len(full.seeds) * full.steps
    return [{"seeds x steps": f"{len(full.seeds)} x {full.steps}", "1-thread steps/s": rate, "processes": processes,
             "estimated training min": seed_steps / (rate * processes) / 60}]


def replica_rows(seeds: int, repeats: int) -> list[dict]:
    config = Config(betas_per_step=1)
    together = ReplicaTrainer(config, range(seeds))
    apart = [Trainer(config.replace(seed=s)) for s in range(seeds)]
    vectorised = median_rate(together.training_step, repeats, 10) * seeds
    sequential = median_rate(lambda: [t.training_step() for t in apart], repeats, 3) * seeds
    return [{"seeds": seeds, "vectorised seed-steps/s": vectorised, "sequential seed-steps/s": sequential,
             "speedup": vectorised / sequential}]


GENERATE = """
import json, resource, sys, time, torch
torch.set_num_threads(int(sys.argv[2]))
from reference.config import Config
from reference.train import build_model
n = int(sys.argv[1]); model = build_model(Config())
model.generate(1e-3, sizes=(8, 24, 1), decoder_only=True)  # warm-up
start = time.perf_counter()
nets = model.generate(1e-3, sizes=(n, 3 * n, 1), decoder_only=True)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def generation_rows(sizes: list[int], threads: int) -> list[dict]:
    rows = []
    for n in sizes:
        weights = n * 3 * n + 3 * n
        done = subprocess.run([sys.executable, "-c", GENERATE, str(n), str(threads)], capture_output=True, text=True,
                              cwd=ROOT)
        if done.returncode != 0:  # out of memory (killed) or an error: report it, measure the other sizes
            last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            reason = "killed (out of memory?)" if done.returncode < 0 else last[:60]
            rows.append({"n": n, "sizes": f"{n},{3 * n},1", "weights": weights, "seconds": reason,
                         "us/weight": "-", "peak MiB": "-"})
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append({"n": n, "sizes": f"{n},{3 * n},1", "weights": weights, "seconds": result["seconds"],
                     "us/weight": 1e6 * result["seconds"] / weights, "peak MiB": result["peak_mib"]})
    return rows


def suite_rows() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PAPER_CLAIMS_CACHE": cache}
        for name, command in [
            ("pytest paper_claims -n 8 (quick, empty cache)", ["pytest", "paper_claims", "-n", "8", "-q", "-p",
                                                                "no:cacheprovider"]),
            ("pytest --pyargs conformance.suite -n auto", ["pytest", "--pyargs", "conformance.suite", "-n", "auto",
                                                           "-q", "-p", "no:cacheprovider"]),
        ]:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", *command], cwd=ROOT, env=env, capture_output=True)
            rows.append({"command": name, "wall s": time.perf_counter() - start})
    return rows


def table(title: str, rows: list[dict]) -> str:
    if not rows:
        return ""
    keys = list(rows[0])
    cells = [[f"{v:.3g}" if isinstance(v, float) else str(v) for v in r.values()] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = [f"\n{title}", "  ".join(k.rjust(w) for k, w in zip(keys, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    parser.add_argument("--betas", default="1,8,32", help="betas per step to measure")
    parser.add_argument("--replicas", type=int, default=4, help="seeds for the replica comparison")
    parser.add_argument("--sizes", default="16,64,256,1024,2048", help="n for generation at (n, 3n, 1)")
    parser.add_argument("--repeats", type=int, default=5, help="timed blocks per figure (median reported)")
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile'd training")
    parser.add_argument("--suites", action="store_true", help="also time the claims and the conformance suite")
    parser.add_argument("--json", type=Path, help="also write every row as JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak = matmul_peak()
    sections = {
        "machine": [{"torch": torch.__version__, "threads": args.threads, "cpus": os.cpu_count(),
                     "fp32 matmul peak GFLOP/s": peak}],
        "training at 16,48,1, batch 1024": training_rows([int(v) for v in args.betas.split(",")], args.compile, peak,
                                                          args.repeats),
        "replicas (1 beta per step)": replica_rows(args.replicas, args.repeats),
        "full claims profile, training only (estimate)": full_profile_estimate(args.repeats, os.cpu_count() or 1),
        "decoder-only generation of (n, 3n, 1)": generation_rows([int(v) for v in args.sizes.split(",")], args.threads),
    }
    if args.suites:
        sections["suites"] = suite_rows()
    print("\n".join(table(title, rows) for title, rows in sections.items()))
    if args.json:
        args.json.write_text(json.dumps(sections, indent=2) + "\n")


if __name__ == "__main__":
    main()
