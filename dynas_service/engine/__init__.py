"""dynas_service.engine."""
