"""dynas_service.data."""
