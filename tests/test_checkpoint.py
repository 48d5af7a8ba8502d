"""Checkpoints and resume (reference/checkpoint.py, reference/train.py)."""

import json

import pytest
import torch

from reference.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint, write_atomic
from reference.train import Trainer, new_run


def test_round_trip_restores_model_optimizer_and_random_stream(tmp_path, tiny):
    trainer = Trainer(tiny, tmp_path)
    for _ in range(3):
        trainer.training_step()
    path = trainer.save()
    loaded = load_checkpoint(path)
    assert loaded.config == tiny and loaded.step == 3
    restored = Trainer.from_checkpoint(loaded)
    for (name, a), b in zip(trainer.model.state_dict().items(), restored.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert torch.equal(trainer.generator.get_state(), restored.generator.get_state())
    sa, sb = trainer.optimizer.state_dict(), restored.optimizer.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    for index, state in sa["state"].items():
        for key, value in state.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(sb["state"][index][key])), (index, key)


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path, tiny):
    straight = new_run(tiny, tmp_path / "straight")
    straight_results = straight.train(progress=False)

    interrupted = new_run(tiny.replace(steps=3), tmp_path / "resumed")
    interrupted.train(progress=False)  # checkpoints at 0, 2 and 3
    with open(tmp_path / "resumed" / "metrics.jsonl", "a") as f:  # a row an interrupted run wrote past its last checkpoint
        f.write(json.dumps({"step": 4, "objective": 0.0}) + "\n")
    resumed = Trainer.resume(tmp_path / "resumed", steps=tiny.steps)
    assert resumed.step_count == 3
    resumed_results = resumed.train(progress=False)

    assert [r.objective for r in straight_results[3:]] == [r.objective for r in resumed_results]
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
    rows = lambda run: [json.loads(l) for l in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]  # noqa: E731
    assert rows("straight") == rows("resumed")
    assert [s for s, _ in list_checkpoints(tmp_path / "resumed" / "checkpoints")] == [0, 2, 3, 4, 6]


def test_checkpoints_are_written_over_training(tmp_path, tiny):
    new_run(tiny, tmp_path).train(progress=False)
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [0, 2, 4, 6]
    assert json.loads((tmp_path / "config.json").read_text())["steps"] == tiny.steps
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out.safetensors"

    def explode(path):
        path.write_bytes(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, explode)
    assert list(tmp_path.iterdir()) == []


def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        load_checkpoint(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("content", [b"", b"not a safetensors file at all", b"\x10\x00\x00\x00\x00\x00\x00\x00{}"])
def test_corrupt_checkpoint_is_a_clear_error(tmp_path, content):
    path = tmp_path / "step_00000001.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="step_00000001"):
        load_checkpoint(path)


def test_truncated_checkpoint_is_a_clear_error(tmp_path, tiny):
    trainer = Trainer(tiny, tmp_path)
    path = trainer.save()
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="corrupt"):
        load_checkpoint(path)


def test_foreign_safetensors_file_is_rejected(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "weights.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="not a"):
        load_checkpoint(path)


def test_resume_with_a_mismatched_config_names_the_fields(tmp_path, tiny):
    trainer = Trainer(tiny, tmp_path)
    checkpoint = load_checkpoint(trainer.save())
    with pytest.raises(ValueError, match="hyperdepth.*learning_rate|learning_rate.*hyperdepth"):
        Trainer.from_checkpoint(checkpoint, tiny.replace(hyperdepth=3, learning_rate=0.1))
    Trainer.from_checkpoint(checkpoint, tiny.replace(steps=100, log_every=5))  # allowed changes


def test_checkpoint_whose_tensors_do_not_fit_its_config_is_rejected(tmp_path, tiny):
    trainer = Trainer(tiny)
    other = Trainer(tiny.replace(residual_width=8))
    path = tmp_path / "step_00000000.safetensors"
    save_checkpoint(path, tiny, 0, other.model, other.optimizer, trainer.generator.get_state())
    with pytest.raises(ValueError, match="does not fit"):
        Trainer.from_checkpoint(load_checkpoint(path))


def test_new_run_refuses_an_existing_run(tmp_path, tiny):
    new_run(tiny.replace(steps=1), tmp_path).train(progress=False)
    with pytest.raises(FileExistsError, match="resume"):
        new_run(tiny, tmp_path)


def test_resume_of_an_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoints"):
        Trainer.resume(tmp_path)
