"""The analysis commands: sweep, sizes, adam, classify, draw, figures (reference/cli_analysis.py)."""

import pytest

from reference.cli import main
from reference.compiled import CompiledOrEager
from reference.sweep import read_table

TINY = ["--sizes", "3,5,1", "--hyperdepth", "2", "--residual-width", "16", "--batch-size", "32", "--warmup-steps", "1",
        "--steps", "2", "--checkpoint-every", "2", "--log-every", "1"]


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("analysis") / "sweep"
    assert main(["sweep", "--out", str(out), "--seeds", "0-1", "--betas", "3", "--eval-samples", "64",
                 "--no-progress", *TINY]) == 0
    return out


def test_sweep_writes_the_table(sweep_dir):
    rows = read_table(sweep_dir / "sweep.csv")
    assert len(rows) == 2 * 2 * 3  # seeds x checkpoints (0, 2) x betas
    assert (sweep_dir / "sweep.json").is_file()


def test_sweep_compile_flag_reaches_every_run(tmp_path, monkeypatch):
    """--compile wraps each seed's training objective in CompiledOrEager (the stand-in uses dynamo's cheap "eager"
    backend)."""
    wrapped = []
    monkeypatch.setattr("reference.train.CompiledOrEager", lambda fn: wrapped.append(fn) or CompiledOrEager(fn, "eager"))
    assert main(["sweep", "--out", str(tmp_path / "sweep"), "--seeds", "0,1", "--betas", "1", "--eval-samples", "16",
                 "--no-progress", "--compile", *TINY]) == 0
    assert len(wrapped) == 2


def test_sizes_adam_classify_draw(sweep_dir, capsys):
    checkpoint = str(sweep_dir / "seed_000" / "checkpoints" / "step_00000002.safetensors")
    assert main(["sizes", checkpoint, "--beta", "1e-3", "--inputs", "2,4", "--hidden", "3,6", "--generations", "2",
                 "--out", str(sweep_dir / "sizes.csv")]) == 0
    assert len((sweep_dir / "sizes.csv").read_text().splitlines()) == 1 + 4
    assert main(["adam", "--out", str(sweep_dir / "adam.safetensors"), "--steps", "20", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["classify", checkpoint, "--beta", "1e-3"]) == 0
    printed = capsys.readouterr().out
    assert any(s in printed for s in ("convexity", "pudding", "double-sided", "none")) and "rho" in printed
    assert main(["classify", "--weights", str(sweep_dir / "adam.safetensors")]) == 0
    assert main(["draw", checkpoint, "--beta", "1", "--decoder-only", "--out", str(sweep_dir / "d.png")]) == 0
    assert (sweep_dir / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_inputs(sweep_dir, tmp_path, cli_error):
    assert "--betas" in cli_error(["sweep", "--out", str(tmp_path / "s"), "--betas", "0"])
    assert "0-32" in cli_error(["sweep", "--out", str(tmp_path / "s"), "--seeds", "5-1"])
    assert "either a checkpoint" in cli_error(["classify"])
    assert "--beta is needed" in cli_error(["classify", str(sweep_dir / "seed_000" / "checkpoints" /
                                                          "step_00000002.safetensors")])
    assert "does not exist" in cli_error(["classify", "--weights", str(tmp_path / "none.safetensors")])
    assert "run the sweep" in cli_error(["figures", str(tmp_path)])
    assert not (tmp_path / "s").exists()
