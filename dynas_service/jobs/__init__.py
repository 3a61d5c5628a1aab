"""dynas_service.jobs."""
