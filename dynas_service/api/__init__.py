"""dynas_service.api."""
