"""The MLflow pyfunc wrapper of a dynas best model: it predicts exactly like ``/predict``.

The logged MLflow model holds the best model's safetensors zip as an artifact and this class
as *model code* (MLflow's "models from code", loaded from ``_pyfunc_entry.py``): nothing is
pickled, and loading rebuilds the network with :func:`dynas_service.nn.load_model`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

#: Name of the artifact that holds the safetensors zip.
MODEL_ARTIFACT = "model_zip"


def prediction_frame(predictions: np.ndarray, probabilities: np.ndarray | None) -> pd.DataFrame:
    """One row per sample: ``prediction`` (or ``prediction_<j>`` for several regression
    outputs) and, for classification, ``probability_<k>`` per class."""
    preds = np.asarray(predictions)
    columns: dict[str, np.ndarray] = {}
    if preds.ndim == 1:
        columns["prediction"] = preds
    else:
        columns.update({f"prediction_{j}": preds[:, j] for j in range(preds.shape[1])})
    if probabilities is not None:
        probs = np.asarray(probabilities)
        columns.update({f"probability_{k}": probs[:, k] for k in range(probs.shape[1])})
    return pd.DataFrame(columns)


def as_features(model_input: Any) -> np.ndarray:
    """Raw features as float32, from an array, a DataFrame or nested lists."""
    if isinstance(model_input, pd.DataFrame):
        return model_input.to_numpy(dtype=np.float32)
    return np.asarray(model_input, dtype=np.float32)


def predict_frame(model: Any, model_input: Any) -> pd.DataFrame:
    """``dynas_service.nn.predict`` on ``model_input``, as a :func:`prediction_frame`."""
    from dynas_service.nn import predict

    result = predict(model, as_features(model_input))
    return prediction_frame(result.predictions, result.probabilities)


# MLflow warns at class definition that ``predict`` has no type hints; that is deliberate.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)

    class DynasPyfuncModel(PythonModel):
        """Loads the zip in ``load_context``; ``predict`` returns :func:`prediction_frame`."""

        def load_context(self, context: Any) -> None:
            from dynas_service.nn import load_model

            self._model = load_model(context.artifacts[MODEL_ARTIFACT])

        # ``model_input`` is left unannotated on purpose: MLflow would read a type hint as a
        # schema to enforce, while the logged signature already describes the input.
        def predict(self, context, model_input, params=None):
            return predict_frame(self._model, model_input)
