"""dynas_service.nn."""
