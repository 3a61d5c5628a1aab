"""Logging the best model to MLflow and registering it; runs on the tracking worker thread."""

from __future__ import annotations

import importlib.metadata
import json
import re
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from mlflow import MlflowClient
from mlflow.entities import LoggedModel, LoggedModelOutput
from mlflow.exceptions import MlflowException
from mlflow.models import Model, infer_signature

from dynas_service.events import BestRecord
from dynas_service.tracking.pyfunc import MODEL_ARTIFACT, predict_frame

MODEL_NAME = "best_model"
_ENTRY = Path(__file__).with_name("_pyfunc_entry.py")
_BAD_NAME = re.compile(r"[^A-Za-z0-9_\-.]")


def registered_model_name(job_name: str) -> str:
    """``dynas-<job name>`` with characters the registry dislikes replaced by ``_``."""
    return f"dynas-{_BAD_NAME.sub('_', job_name) or 'job'}"


def pip_requirements() -> list[str]:
    """The serving environment, given explicitly so MLflow skips its slow inference."""
    import mlflow
    import torch

    reqs = [
        f"mlflow=={mlflow.__version__}",
        f"torch=={torch.__version__.split('+')[0]}",
        f"numpy=={np.__version__}",
        "pandas",
        "safetensors",
    ]
    try:
        reqs.insert(0, f"dynas_service=={importlib.metadata.version('dynas_service')}")
    except importlib.metadata.PackageNotFoundError:
        reqs.insert(0, "dynas_service")
    return reqs


def _find_input_shape(node: Any) -> list[int] | None:
    if isinstance(node, dict):
        shape = node.get("input_shape")
        if isinstance(shape, list) and all(isinstance(d, int) for d in shape):
            return shape
        for child in node.values():
            found = _find_input_shape(child)
            if found:
                return found
    return None


def input_example(model_path: str, given: np.ndarray | None) -> np.ndarray:
    """A few raw input rows: the first rows of ``given``, else zeros shaped like the
    ``input_shape`` stored in the zip's architecture JSON.

    Raises ``ValueError`` when neither is available.
    """
    if given is not None:
        return np.asarray(given[:5], dtype=np.float32)
    with zipfile.ZipFile(model_path) as zf:
        for name in zf.namelist():
            if name.endswith(".json"):
                shape = _find_input_shape(json.loads(zf.read(name)))
                if shape:
                    return np.zeros((2, *shape), dtype=np.float32)
    raise ValueError(f"no input example given and no input_shape in {model_path=}")


def log_best_model(
    client: MlflowClient,
    experiment_id: str,
    run_id: str,
    best: BestRecord,
    example: np.ndarray | None,
) -> LoggedModel:
    """Log ``best.model_path`` as a pyfunc MLflow model of ``run_id``; returns it.

    The model carries a signature inferred from a real prediction, an input example and
    explicit pip requirements. Raises whatever MLflow raises (the caller retries).
    """
    from dynas_service.nn import load_model

    features = input_example(best.model_path, example)
    with warnings.catch_warnings():  # "integer columns cannot hold NaN": predictions are labels
        warnings.simplefilter("ignore", UserWarning)
        outputs = predict_frame(load_model(best.model_path), features)
        signature = infer_signature(features, outputs)
    logged = client.create_logged_model(
        experiment_id,
        name=MODEL_NAME,
        source_run_id=run_id,
        tags={"dynas.individual_id": best.individual_id, best.metric: str(best.value)},
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _save(Path(tmp) / "model", logged, run_id, best, signature, features)
            client.log_model_artifacts(logged.model_id, str(Path(tmp) / "model"))
    except Exception:
        client.finalize_logged_model(logged.model_id, "FAILED")
        raise
    client.finalize_logged_model(logged.model_id, "READY")
    client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, int(best.found_at_s))])
    return logged


def _save(
    path: Path, logged: Any, run_id: str, best: BestRecord, signature: Any, example: np.ndarray
) -> None:

    mlflow_model = Model(
        artifact_path=logged.artifact_location,
        model_uuid=logged.model_id,
        run_id=run_id,
        model_id=logged.model_id,
    )
    with warnings.catch_warnings():  # hints about type hints and integer columns: not ours
        warnings.simplefilter("ignore", UserWarning)
        _save_pyfunc(path, mlflow_model, best, signature, example)


def _save_pyfunc(
    path: Path, mlflow_model: Model, best: BestRecord, signature: Any, example: np.ndarray
) -> None:
    import mlflow.pyfunc

    mlflow.pyfunc.save_model(
        str(path),
        python_model=str(_ENTRY),
        artifacts={MODEL_ARTIFACT: best.model_path},
        signature=signature,
        input_example=example,
        pip_requirements=pip_requirements(),
        mlflow_model=mlflow_model,
    )


def register_best(
    client: MlflowClient, name: str, model: LoggedModel, run_id: str, best: BestRecord
) -> str:
    """Register the logged ``model`` as a new version of ``name``; returns the version
    number. The best's metric is a version tag and the description. The source is the
    model's storage location (a ``models:/`` source would be resolved against MLflow's
    global tracking URI, not this client's)."""
    try:
        client.create_registered_model(name, description="Best models of a dynas job.")
    except MlflowException as exc:
        if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
    version = client.create_model_version(
        name,
        source=model.artifact_location,
        run_id=run_id,
        model_id=model.model_id,
        tags={
            best.metric: str(best.value),
            "dynas.individual_id": best.individual_id,
            "dynas.layer_sizes": json.dumps(list(best.layer_sizes)),
        },
        description=f"{best.metric} = {best.value:.6g} (individual {best.individual_id}, "
        f"layer sizes {list(best.layer_sizes)})",
        await_creation_for=0,
    )
    return str(version.version)
