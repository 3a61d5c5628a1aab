"""MLflow tracking of dynas jobs: the only package that imports MLflow.

``MlflowObserver`` records a job (see :mod:`dynas_service.tracking.observer`);
``mlflow_ui_command`` builds the ``mlflow ui`` command for the embedded store. Exports are
loaded lazily so ``from dynas_service.tracking import mlflow_ui_command`` does not import
MLflow (about 1 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dynas_service.tracking.observer import MlflowObserver, default_artifact_location
    from dynas_service.tracking.ui import UiCommand, mlflow_ui_command

__all__ = ["MlflowObserver", "UiCommand", "default_artifact_location", "mlflow_ui_command"]

_HOME = {
    "MlflowObserver": "dynas_service.tracking.observer",
    "default_artifact_location": "dynas_service.tracking.observer",
    "UiCommand": "dynas_service.tracking.ui",
    "mlflow_ui_command": "dynas_service.tracking.ui",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOME[name]), name)
