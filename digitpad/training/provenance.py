"""Where a model was built, and whether two builds hold the same weights.

A build is deterministic on one machine, but not across CPUs: torch picks its CPU kernels by
the instruction set it finds (ATen's vector code, oneDNN's convolutions, MKL's matrix products),
and each rounds sums in its own order; twelve epochs grow that into other weights
(``benchmarks/HISTORY.md``, "`make model` on another CPU"). So a build records what it ran on,
and `make model` checks its result against the shipped model instead of overwriting it
(:func:`compare_with`).
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import torch

from digitpad.training.export import load_checkpoint

# the parts of a checkpoint that hold weights: the classifier, and the context stage if any
WEIGHTS = (("classifier", ()), ("context stage", ("context",)))
SHOW_TENSORS = 4  # a report names this many of the differing weights, then counts the rest


def build_environment() -> dict[str, str]:
    """What decides a build's rounding on this machine: the versions, the CPU, and the kernels
    torch uses on it (all strings, so a checkpoint loads with ``weights_only``)."""
    return {
        "python": platform.python_version(),
        "torch": str(torch.__version__),  # a TorchVersion, which weights_only refuses
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "onednn": str(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
    }


def _cpu_name() -> str:
    """The CPU's model name where the system says it (Linux), else the platform's word."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def weight_differences(a: dict, b: dict) -> list[str]:
    """The weights in which checkpoints ``a`` and ``b`` differ, as ``"part: tensor"`` names
    (``"context stage"`` alone when only one of them has a stage). Empty: the same weights, bit
    for bit. Metadata (dates, metrics, the build environment) is not compared."""
    out = []
    for part, keys in WEIGHTS:
        sa, sb = _state(a, keys), _state(b, keys)
        if sa is None and sb is None:
            continue
        if sa is None or sb is None:
            out.append(part)
            continue
        out.extend(
            f"{part}: {name}"
            for name in sorted(sa.keys() | sb.keys())
            if not _same_bits(sa.get(name), sb.get(name))
        )
    return out


def _same_bits(a: torch.Tensor | None, b: torch.Tensor | None) -> bool:
    """The same dtype, shape and bytes (``torch.equal`` alone calls 0.0 and -0.0, or float32
    and float64 zeros, equal)."""
    if a is None or b is None or a.dtype != b.dtype or a.shape != b.shape:
        return False
    return torch.equal(_bytes(a), _bytes(b))


def _bytes(t: torch.Tensor) -> torch.Tensor:
    return t.detach().reshape(-1).contiguous().view(torch.uint8)


def _state(ckpt: dict, keys: tuple[str, ...]) -> dict | None:
    for k in keys:
        ckpt = ckpt.get(k)
        if ckpt is None:
            return None
    return ckpt.get("state_dict")


def recipe_differences(a: dict, b: dict) -> list[str]:
    """How the recipes of checkpoints ``a`` and ``b`` differ: the classifier's training settings,
    network shape and number of training crops, and the context stage's pages, settings and
    shape, as ``"name: value_a != value_b"`` (empty: the same)."""

    def settings(c: dict) -> dict:
        return {
            **{f"train.{k}": v for k, v in c.get("train_config", {}).items() if k != "model"},
            **{f"model.{k}": v for k, v in c.get("model_config", {}).items()},
            "crops": c.get("metrics", {}).get("n_train"),
            "context.pages": c.get("context", {}).get("metrics", {}).get("pages"),
            **{
                f"context.{k}": v
                for k, v in c.get("context", {}).get("train_config", {}).items()
                if k not in ("model", "pages")
            },
            **{f"context.model.{k}": v for k, v in c.get("context", {}).get("config", {}).items()},
        }

    sa, sb = settings(a), settings(b)
    return [
        f"{k}: {sa.get(k)} != {sb.get(k)}"
        for k in sorted(sa.keys() | sb.keys())
        if sa.get(k) != sb.get(k)
    ]


def describe_environment(env: dict[str, str] | None) -> str:
    """One line naming a build's CPU, its kernels and torch (or saying it was not recorded)."""
    if not env:
        return "not recorded (built before builds recorded it)"
    return (
        f"{env.get('cpu', '?')}, torch {env.get('torch', '?')} with "
        f"{env.get('torch_cpu_capability', '?')} kernels, oneDNN {env.get('onednn', '?')}"
    )


def compare_with(built: Path, shipped: Path) -> tuple[bool, str]:
    """Whether the checkpoint ``built`` holds the same weights as ``shipped``, bit for bit,
    and a few lines saying so: on a difference, how many tensors differ and what each build
    ran on, and how their recipes differ.

    Raises:
        ModelError: either file is not a readable checkpoint.
    """
    new, old = load_checkpoint(built), load_checkpoint(shipped)
    differ = weight_differences(new, old)
    if not differ:
        return True, f"reproduced: {built} holds the same weights as {shipped}, bit for bit"
    recipe = recipe_differences(new, old)
    named = ", ".join(differ[:SHOW_TENSORS]) + (
        f" and {len(differ) - SHOW_TENSORS} more" if len(differ) > SHOW_TENSORS else ""
    )
    lines = [
        f"not reproduced: {built} differs from {shipped} in {len(differ)} of its weights ({named})",
        f"  this build ran on: {describe_environment(new.get('built_with'))}",
        f"  {shipped.name} ran on: {describe_environment(old.get('built_with'))}",
        "  recipe: " + ("; ".join(recipe) or "the same settings and training crops"),
    ]
    if not recipe:
        lines.append("  the same recipe rounds otherwise on another CPU (README, 'make model')")
    lines.append(
        f"  {shipped} is unchanged; to measure the new model, pass benchmarks "
        f"--model {built.with_suffix('.onnx')}"
    )
    return False, "\n".join(lines)
