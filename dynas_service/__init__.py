"""dynas_service: anytime neural network search over dynamic auto-sizing PyTorch models."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    import torch


def load_model(path: str) -> torch.nn.Module:
    """Load a model downloaded as ``format=safetensors`` (a zip) or ``torchscript``.

    Rebuilds plain ``nn.Linear``/``nn.Conv2d`` layers from the architecture JSON; never
    unpickles anything. Imported lazily so ``import dynas_service`` stays cheap.
    """
    from dynas_service.nn import load_model as _load

    return _load(path)


__all__ = ["__version__", "load_model"]
