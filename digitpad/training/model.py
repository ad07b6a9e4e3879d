"""The networks: the digit classifier (a small CNN on 28x28 ink crops, 11 classes) and the
context stage that reads its probabilities again beside the box features of the page."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from digitpad.context import N_FEATURES
from digitpad.preprocess import SIZE
from digitpad.types import CLASSES


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the network. ``widths`` are the channels of the three conv stages."""

    widths: tuple[int, int, int] = (16, 32, 64)
    convs: tuple[int, int, int] = (1, 1, 2)  # conv layers per stage
    hidden: int = 128
    dropout: float = 0.2
    n_classes: int = len(CLASSES)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        d = dict(data)
        d["widths"] = tuple(d.get("widths", cls.widths))
        d["convs"] = tuple(d.get("convs", cls.convs))
        return cls(**d)


def _block(cin: int, cout: int, convs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(convs):
        layers += [
            nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        ]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class DigitNet(nn.Module):
    """(N, 1, 28, 28) ink -> (N, n_classes) logits. 28 -> 14 -> 7 -> 3 spatially.

    Small on purpose: about 4 M multiply-adds per crop, so a page of 40 crops runs in a few
    milliseconds on one core.
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        w1, w2, w3 = self.config.widths
        c1, c2, c3 = self.config.convs
        self.features = nn.Sequential(_block(1, w1, c1), _block(w1, w2, c2), _block(w2, w3, c3))
        side = SIZE // 8
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(self.config.dropout),
            nn.Linear(w3 * side * side, self.config.hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(self.config.dropout),
            nn.Linear(self.config.hidden, self.config.n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class WithSoftmax(nn.Module):
    """The network with a softmax on top: what the ONNX file computes (probabilities)."""

    def __init__(self, net: DigitNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=1)


@dataclass(frozen=True)
class ContextConfig:
    """Shape of the context stage (see :mod:`digitpad.context`): a small MLP."""

    n_features: int = N_FEATURES
    hidden: int = 128
    n_classes: int = len(CLASSES)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContextConfig:
        return cls(**data)


class ContextNet(nn.Module):
    """(M, 11 + n_features) rows of :func:`digitpad.context.context_input` -> (M, 11) logits.

    Residual on the classifier: its logits are the log of the classifier's probabilities plus
    a correction that the MLP computes from them and the box features, so a stage with a zero
    last layer changes nothing, and it only learns what the page adds. The features are
    standardised with the training data's mean and spread, kept as buffers.
    """

    def __init__(self, config: ContextConfig | None = None) -> None:
        super().__init__()
        self.config = config or ContextConfig()
        n_in = self.config.n_classes + self.config.n_features
        h = self.config.hidden
        self.register_buffer("mean", torch.zeros(self.config.n_features))
        self.register_buffer("scale", torch.ones(self.config.n_features))
        self.mlp = nn.Sequential(
            nn.Linear(n_in, h),
            nn.ReLU(inplace=True),
            nn.Linear(h, h),
            nn.ReLU(inplace=True),
            nn.Linear(h, self.config.n_classes),
        )
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        k = self.config.n_classes
        logp = torch.log(torch.clamp(rows[:, :k], min=1e-6))
        features = (rows[:, k:] - self.mean) / self.scale
        return logp + self.mlp(torch.cat([logp, features], dim=1))


class WithContext(nn.Module):
    """The exported graph of a model with a context stage: crops -> probabilities, and context
    rows -> probabilities read again (two independent branches of one ONNX file)."""

    def __init__(self, net: DigitNet, context: ContextNet) -> None:
        super().__init__()
        self.net = net
        self.context = context

    def forward(self, crops: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.softmax(self.net(crops), dim=1), torch.softmax(self.context(rows), dim=1)
