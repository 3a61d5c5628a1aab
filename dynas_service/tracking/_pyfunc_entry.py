"""MLflow model code for the logged best model (executed by MLflow when it loads one)."""

from mlflow.models import set_model

from dynas_service.tracking.pyfunc import DynasPyfuncModel

set_model(DynasPyfuncModel())
