"""A build records what it ran on, and `make model` checks a build against the shipped model."""

from __future__ import annotations

import json

import pytest
import torch

from digitpad.errors import ModelError
from digitpad.training.export import save_checkpoint
from digitpad.training.provenance import (
    build_environment,
    compare_with,
    describe_environment,
    recipe_differences,
    weight_differences,
)


def _ckpt(*, w: float = 0.0, stage: bool = True, epochs: int = 12) -> dict:
    ckpt = {
        "model_config": {"convs": [1, 1, 2]},
        "state_dict": {"conv.weight": torch.full((2, 3), w), "fc.bias": torch.zeros(4)},
        "train_config": {"epochs": epochs, "seed": 7},
        "metrics": {"n_train": 100},
    }
    if stage:
        ckpt["context"] = {"state_dict": {"fc.weight": torch.ones(3)}, "metrics": {"pages": 5}}
    return ckpt


def test_the_same_weights_have_no_differences() -> None:
    assert weight_differences(_ckpt(), _ckpt()) == []


def test_a_tensor_off_by_one_rounding_step_is_named() -> None:
    other = _ckpt()
    bumped = other["state_dict"]["conv.weight"].clone()
    bumped[1, 2] = torch.nextafter(bumped[1, 2], torch.tensor(1.0))
    other["state_dict"]["conv.weight"] = bumped
    assert weight_differences(_ckpt(), other) == ["classifier: conv.weight"]


def test_the_same_values_in_other_bits_are_differences() -> None:
    """Bit for bit: torch.equal alone calls a float64 copy, or -0.0 against 0.0, equal."""
    wider = _ckpt()
    wider["state_dict"]["fc.bias"] = torch.zeros(4, dtype=torch.float64)
    assert weight_differences(_ckpt(), wider) == ["classifier: fc.bias"]
    signed = _ckpt()
    signed["state_dict"]["fc.bias"] = -torch.zeros(4)
    assert torch.equal(signed["state_dict"]["fc.bias"], torch.zeros(4))
    assert weight_differences(_ckpt(), signed) == ["classifier: fc.bias"]
    counter = _ckpt()  # a 0-dim integer tensor, like BatchNorm's num_batches_tracked
    counter["state_dict"]["n"] = torch.tensor(3)
    same = _ckpt()
    same["state_dict"]["n"] = torch.tensor(3)
    assert weight_differences(counter, same) == []


def test_a_missing_stage_a_missing_tensor_and_another_shape_are_differences() -> None:
    assert weight_differences(_ckpt(), _ckpt(stage=False)) == ["context stage"]
    assert weight_differences(_ckpt(stage=False), _ckpt(stage=False)) == []
    fewer = _ckpt()
    del fewer["state_dict"]["fc.bias"]
    assert weight_differences(_ckpt(), fewer) == ["classifier: fc.bias"]
    wider = _ckpt()
    wider["context"]["state_dict"]["fc.weight"] = torch.ones(4)
    assert weight_differences(_ckpt(), wider) == ["context stage: fc.weight"]


def test_recipe_differences_name_the_settings_that_differ() -> None:
    assert recipe_differences(_ckpt(), _ckpt(w=1.0)) == []  # weights are not the recipe
    assert recipe_differences(_ckpt(epochs=2), _ckpt()) == ["train.epochs: 2 != 12"]
    assert recipe_differences(_ckpt(), _ckpt(stage=False)) == ["context.pages: 5 != None"]
    trained_longer = _ckpt()
    trained_longer["context"]["train_config"] = {"epochs": 32, "pages": 5}
    assert recipe_differences(trained_longer, _ckpt()) == ["context.epochs: 32 != None"]


def test_the_build_environment_is_plain_strings_that_a_checkpoint_can_hold(tmp_path) -> None:
    env = build_environment()
    assert all(type(v) is str and v for v in env.values())
    assert env["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    ckpt = {**_ckpt(), "built_with": env}
    save_checkpoint(ckpt, tmp_path / "a.pt")  # loads back with weights_only (below)
    from digitpad.training.export import load_checkpoint

    assert load_checkpoint(tmp_path / "a.pt")["built_with"] == env
    assert env["torch_cpu_capability"] in describe_environment(env)
    assert "not recorded" in describe_environment(None)
    assert json.loads(json.dumps(env)) == env


def test_compare_says_reproduced_only_for_the_same_weights(tmp_path) -> None:
    save_checkpoint({**_ckpt(), "built_with": build_environment()}, tmp_path / "new.pt")
    save_checkpoint(_ckpt(), tmp_path / "same.pt")
    save_checkpoint(_ckpt(w=0.5, epochs=2), tmp_path / "other.pt")
    same, report = compare_with(tmp_path / "new.pt", tmp_path / "same.pt")
    assert same and report.startswith("reproduced:")
    same, report = compare_with(tmp_path / "new.pt", tmp_path / "other.pt")
    lines = report.splitlines()
    assert not same and lines[0].startswith("not reproduced:")
    assert "in 1 of its weights (classifier: conv.weight)" in lines[0]
    assert "not recorded" in report  # the old checkpoint has no build environment
    assert "train.epochs: 12 != 2" in report
    # another CPU is only offered as the cause when the recipes are the same
    assert "another CPU" not in report
    save_checkpoint(_ckpt(w=0.5), tmp_path / "rounded.pt")
    same, report = compare_with(tmp_path / "new.pt", tmp_path / "rounded.pt")
    assert not same and "recipe: the same" in report and "another CPU" in report


def test_compare_names_a_few_differing_weights_and_counts_the_rest(tmp_path) -> None:
    many = {f"w{k:02d}": torch.zeros(2) for k in range(10)}
    save_checkpoint({**_ckpt(stage=False), "state_dict": many}, tmp_path / "a.pt")
    moved = {k: torch.ones(2) for k in many}
    save_checkpoint({**_ckpt(stage=False), "state_dict": moved}, tmp_path / "b.pt")
    first = compare_with(tmp_path / "a.pt", tmp_path / "b.pt")[1].splitlines()[0]
    assert first.endswith(
        "in 10 of its weights (classifier: w00, classifier: w01, classifier: w02, "
        "classifier: w03 and 6 more)"
    )


def test_compare_refuses_a_missing_or_damaged_checkpoint(tmp_path) -> None:
    save_checkpoint(_ckpt(), tmp_path / "new.pt")
    with pytest.raises(ModelError, match="not found"):
        compare_with(tmp_path / "new.pt", tmp_path / "nothing.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ModelError, match="not a readable checkpoint"):
        compare_with(tmp_path / "new.pt", tmp_path / "junk.pt")
