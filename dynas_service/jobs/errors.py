"""Errors of the job layer; the API maps each to one HTTP status."""

from __future__ import annotations


class JobNotFoundError(LookupError):
    """No job with this id (API: 404)."""


class JobConflictError(RuntimeError):
    """The job's state forbids the request, e.g. deleting a running job (API: 409)."""


class SpecError(ValueError):
    """A spec that is valid on its own but not for this dataset or cluster (API: 422).

    ``field`` is the path of the offending field, e.g. ``("model", "family")``.
    """

    def __init__(self, field: tuple[str, ...], message: str, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.value = value
