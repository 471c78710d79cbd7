"""A typed registry of services, kept on the app, that routers look up by type."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from fastapi import Request

T = TypeVar("T")


class ServiceRegistry:
    """Map a service class to its one wired instance."""

    def __init__(self) -> None:
        self._items: dict[type[Any], Any] = {}

    def add(self, instance: object, as_type: type[Any] | None = None) -> None:
        """Register an instance under its class (or ``as_type``)."""
        self._items[as_type or type(instance)] = instance

    def get(self, cls: type[T]) -> T:
        """Return the instance registered for ``cls``."""
        try:
            return cast(T, self._items[cls])
        except KeyError:
            raise LookupError(f"service {cls.__name__} is not wired") from None

    def __contains__(self, cls: type[Any]) -> bool:
        return cls in self._items


def registry(request: Request) -> ServiceRegistry:
    """Return the app's service registry."""
    return cast(ServiceRegistry, request.app.state.services)
