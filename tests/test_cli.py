"""The command line (reference/cli.py): train, resume, generate, and a clear error for every bad input."""

import json
import subprocess
import sys

import pytest
from safetensors.torch import load_file

from reference.checkpoint import checkpoint_name, load_checkpoint
from reference.cli import main
from reference.compiled import CompiledOrEager
from reference.train import step_objective

TINY_ARGS = ["--sizes", "3,5,1", "--hyperdepth", "2", "--residual-width", "16", "--batch-size", "32",
             "--betas-per-step", "2", "--warmup-steps", "1", "--checkpoint-every", "2", "--log-every", "1"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--out", str(out), "--steps", "4", "--no-progress", *TINY_ARGS]) == 0
    return out


def checkpoint(run_dir, step=4):
    return str(run_dir / "checkpoints" / f"step_{step:08d}.safetensors")


def test_train_writes_config_metrics_and_checkpoints(run_dir):
    config = json.loads((run_dir / "config.json").read_text())
    assert config["sizes"] == [3, 5, 1] and config["steps"] == 4 and config["hyperdepth"] == 2
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "step_00000000.safetensors", "step_00000002.safetensors", "step_00000004.safetensors"]


def test_resume_extends_a_run(run_dir, tmp_path):
    copy = tmp_path / "run"
    subprocess.run(["cp", "-r", str(run_dir), str(copy)], check=True)
    assert main(["train", "--out", str(copy), "--resume", "--steps", "6", "--no-progress"]) == 0
    rows = [json.loads(line) for line in (copy / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("resume", [False, True])
def test_compile_flag_reaches_the_trainer(run_dir, tmp_path, monkeypatch, resume):
    """--compile wraps the training objective in CompiledOrEager, for new and resumed runs, and the checkpoints
    say so (the stand-in compiles with dynamo's cheap "eager" backend: inductor is tested in test_compiled.py)."""
    wrapped = []

    def cheap(fn):
        wrapped.append(fn)
        return CompiledOrEager(fn, backend="eager")

    monkeypatch.setattr("reference.train.CompiledOrEager", cheap)
    out = tmp_path / "run"
    if resume:
        subprocess.run(["cp", "-r", str(run_dir), str(out)], check=True)
        argv = ["train", "--out", str(out), "--resume", "--steps", "5", "--compile", "--no-progress"]
        with pytest.warns(RuntimeWarning, match="resuming a run trained eagerly with --compile"):
            assert main(argv) == 0
    else:
        assert main(["train", "--out", str(out), "--steps", "1", "--compile", "--no-progress", *TINY_ARGS]) == 0
    assert wrapped == [step_objective]
    assert load_checkpoint(out / "checkpoints" / checkpoint_name(5 if resume else 1)).compiled
    assert not load_checkpoint(checkpoint(run_dir)).compiled


def test_generate_at_training_and_unseen_sizes(run_dir, tmp_path, capsys):
    out = tmp_path / "nets.safetensors"
    assert main(["generate", checkpoint(run_dir), "--beta", "1e-3", "--out", str(out), "--count", "2"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("loss") == 2 and "encoder" in printed
    tensors = load_file(str(out))
    assert tensors["W0"].shape == (2, 5, 3) and tensors["W1"].shape == (2, 1, 5) and tensors["b0"].shape == (2, 5)

    assert main(["generate", checkpoint(run_dir), "--beta", "1", "--sizes", "20,60,7,1", "--decoder-only",
                 "--out", str(out)]) == 0
    assert "decoder-only" in capsys.readouterr().out
    tensors = load_file(str(out))
    assert [tuple(tensors[f"W{l}"].shape) for l in range(3)] == [(1, 60, 20), (1, 7, 60), (1, 1, 7)]
    assert all(t.isfinite().all() for t in tensors.values())


def test_python_dash_m_entry_point(run_dir):
    done = subprocess.run([sys.executable, "-m", "reference", "generate", checkpoint(run_dir), "--beta", "0.01",
                           "--sizes", "4,9,1", "--decoder-only"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "loss" in done.stdout


@pytest.mark.parametrize("sizes, message", [("16", "at least two"), ("16,0,1", "positive"), ("a,b", "comma-separated"),
                                            ("16,-3,1", "positive"), ("", "comma-separated")])
def test_bad_sizes(tmp_path, cli_error, sizes, message):
    err = cli_error(["train", "--out", str(tmp_path / "r"), "--sizes", sizes])
    assert "sizes" in err and message in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("beta", ["nan", "inf", "-1", "0", "abc"])
def test_bad_beta(run_dir, tmp_path, cli_error, beta):
    err = cli_error(["generate", checkpoint(run_dir), "--beta", beta, "--out", str(tmp_path / "n.safetensors")])
    assert "beta" in err
    assert not (tmp_path / "n.safetensors").exists()


@pytest.mark.parametrize("option, value", [("--steps", "0"), ("--batch-size", "0"), ("--steps", "-5"),
                                           ("--batch-size", "1.5"), ("--betas-per-step", "0"), ("--beta-min", "nan")])
def test_bad_training_numbers(tmp_path, cli_error, option, value):
    err = cli_error(["train", "--out", str(tmp_path / "r"), option, value])
    assert option.lstrip("-").replace("-", "_") in err or option in err
    assert not (tmp_path / "r").exists()


def test_missing_checkpoint(tmp_path, cli_error):
    err = cli_error(["generate", str(tmp_path / "none.safetensors"), "--beta", "1e-3"])
    assert "none.safetensors" in err and "does not exist" in err


def test_corrupt_checkpoint(tmp_path, cli_error):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    err = cli_error(["generate", str(bad), "--beta", "1e-3", "--out", str(tmp_path / "n.safetensors")])
    assert "bad.safetensors" in err and "corrupt" in err
    assert not (tmp_path / "n.safetensors").exists()


def test_encoder_generation_at_unseen_sizes_is_refused(run_dir, tmp_path, cli_error):
    err = cli_error(["generate", checkpoint(run_dir), "--beta", "1e-3", "--sizes", "4,5,1",
                    "--out", str(tmp_path / "n.safetensors")])
    assert "--decoder-only" in err
    assert not (tmp_path / "n.safetensors").exists()


def test_resume_refuses_config_changes_and_empty_folders(run_dir, tmp_path, cli_error):
    err = cli_error(["train", "--out", str(run_dir), "--resume", "--learning-rate", "0.1"])
    assert "only --steps" in err
    err = cli_error(["train", "--out", str(tmp_path / "empty"), "--resume"])
    assert "no checkpoints" in err


def test_train_refuses_to_overwrite_a_run(run_dir, cli_error):
    err = cli_error(["train", "--out", str(run_dir), *TINY_ARGS])
    assert "already holds a run" in err


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for flag in ("--betas-per-step", "--residual-width", "--learning-rate", "--resume", "--steps"):
        assert flag in text
    assert "paper" in text and "chosen" in text
