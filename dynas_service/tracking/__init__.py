"""dynas_service.tracking."""
