"""dynas_service.api: the FastAPI REST service (``create_app(settings) -> FastAPI``)."""

from dynas_service.api.app import create_app

__all__ = ["create_app"]
