"""Predictions from any model this package produces (dynamic, static, loaded, TorchScript)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

PREDICT_BATCH_SIZE = 4096


@dataclass(frozen=True)
class Prediction:
    """``predictions``: class labels (int64) or regression values (float32), shape ``(N,)``;
    ``probabilities``: softmax ``(N, n_classes)`` for classification, else ``None``."""

    predictions: np.ndarray
    probabilities: np.ndarray | None


def predict(model: nn.Module, X_raw: np.ndarray) -> Prediction:
    """Run ``model`` in eval mode on raw inputs ``(N, *input_shape)`` (or flat ``(N, F)``).

    The task comes from the model's ``task`` attribute when it has one, else from its output
    width (1 = regression; classifiers always have at least 2 logits).
    """
    x = _validated_inputs(X_raw)
    device = _device_of(model)
    was_training = model.training
    model.eval()
    outputs = []
    try:
        with torch.no_grad():
            for start in range(0, x.shape[0], PREDICT_BATCH_SIZE):
                outputs.append(model(x[start : start + PREDICT_BATCH_SIZE].to(device)).cpu())
    except RuntimeError as exc:
        raise ValueError(f"X_raw of shape {X_raw.shape} does not fit the model: {exc}") from exc
    finally:
        model.train(was_training)
    out = torch.cat(outputs)
    task = getattr(model, "task", None) or ("regression" if out.shape[1] == 1 else "classification")
    if task == "regression":
        return Prediction(out.reshape(-1).numpy().astype(np.float32), None)
    probabilities = torch.softmax(out, dim=1)
    return Prediction(out.argmax(dim=1).numpy().astype(np.int64), probabilities.numpy())


def _validated_inputs(X_raw: np.ndarray) -> torch.Tensor:
    if not isinstance(X_raw, np.ndarray):
        raise ValueError(f"X_raw must be a numpy array, got {type(X_raw).__name__}")
    if X_raw.ndim < 2 or X_raw.shape[0] == 0:
        raise ValueError(f"X_raw must have shape (N, ...) with N >= 1, got {X_raw.shape}")
    if not np.issubdtype(X_raw.dtype, np.number) or np.issubdtype(X_raw.dtype, np.complexfloating):
        raise ValueError(f"X_raw must be real numbers, got dtype {X_raw.dtype}")
    x = np.asarray(X_raw, dtype=np.float32)
    if not np.isfinite(x).all():
        raise ValueError("X_raw contains NaN or infinite values")
    return torch.from_numpy(np.ascontiguousarray(x))


def _device_of(model: nn.Module) -> torch.device:
    for tensor in model.parameters():
        return tensor.device
    return torch.device("cpu")
