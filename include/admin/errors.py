"""Domain errors of the admin layer. They name what is wrong (``message``) and the field it is
about (``field``) and carry no HTTP status: the API maps each error type to its status code in
one table (`include.api.errors.DOMAIN_STATUS`)."""

from __future__ import annotations


class LifecycleError(Exception):
    """A refused operation (bad input): a message naming what is wrong, and the field."""

    def __init__(self, message: str, field: str = "request") -> None:
        super().__init__(message)
        self.message, self.field = message, field


class NotFound(LifecycleError):
    """The connection (or what the operation names) does not exist."""


class Conflict(LifecycleError):
    """The operation does not fit the connection's state (or the Variable keeps changing)."""


class OutOfCredits(LifecycleError):
    """The customer's credit pool cannot pay for the connection."""


class SourceRefused(LifecycleError):
    """The source did not accept the connection test (wrong secret, unreachable host...)."""


class AirflowUnavailable(LifecycleError):
    """Airflow could not be reached or answered with an unexpected error."""


class ConnectionNotActive(RuntimeError):
    """Raised inside a load transaction when the connection is no longer active."""
