"""A build records what it ran on, and `make model` checks a build against the shipped model."""

from __future__ import annotations

import json

import pytest
import torch

from digitpad.errors import ModelError
from digitpad.training.build_shipped import compare_with
from digitpad.training.export import save_checkpoint
from digitpad.training.provenance import (
    build_environment,
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
    assert "in 1 weight tensor " in lines[0] and "classifier: conv.weight" in lines[0]
    assert "not recorded" in report  # the old checkpoint has no build environment
    assert "train.epochs: 12 != 2" in report


def test_compare_refuses_a_missing_checkpoint(tmp_path) -> None:
    save_checkpoint(_ckpt(), tmp_path / "new.pt")
    with pytest.raises(ModelError, match="not found"):
        compare_with(tmp_path / "new.pt", tmp_path / "nothing.pt")
