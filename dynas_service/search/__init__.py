"""dynas_service.search."""
