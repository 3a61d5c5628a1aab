"""Turn a /predict body into the array the model expects, or a ValueError saying why not."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def prediction_inputs(inputs: list[Any], input_shape: list[int], max_rows: int) -> np.ndarray:
    """``(N, *input_shape)`` float32 from nested lists.

    Accepts rows shaped like the dataset's inputs, flat rows of ``prod(input_shape)``
    features, or ``(H, W)`` images for one-channel image data.
    """
    if len(inputs) > max_rows:
        raise ValueError(f"at most {max_rows} inputs per request, got {len(inputs)}; split them")
    try:
        x = np.asarray(inputs, dtype=np.float32)
    except (ValueError, TypeError, OverflowError) as error:
        raise ValueError(
            "inputs must be a rectangular nested list of numbers (one entry per sample)"
        ) from error
    shape = tuple(int(d) for d in input_shape)
    n_features = math.prod(shape)
    if x.ndim < 2:
        x = x.reshape(-1, 1) if n_features == 1 else x
    if x.ndim < 2:
        raise ValueError(f"inputs must be a list of samples, each of shape {shape}")
    if not np.isfinite(x).all():
        raise ValueError("inputs contain NaN or infinite values")
    if x.shape[1:] == shape:
        return x
    if x.ndim == 2 and x.shape[1] == n_features:
        return x.reshape(len(x), *shape)
    if len(shape) == 3 and shape[0] == 1 and x.shape[1:] == shape[1:]:
        return x.reshape(len(x), *shape)
    raise ValueError(
        f"each input must have shape {list(shape)} (or be {n_features} flat features), "
        f"got {list(x.shape[1:])}"
    )
