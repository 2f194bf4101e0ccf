"""Errors of the API layer and their RFC 7807 problem+json rendering."""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"


class ApiProblem(Exception):
    """An error to be returned to an HTTP client as problem+json."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        """The problem document (RFC 7807)."""
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(self.extra)
        return body


class CliError(Exception):
    """A user-facing CLI failure: printed as one line, exit code ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
