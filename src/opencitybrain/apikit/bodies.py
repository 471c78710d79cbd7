"""Base class for request bodies: unknown fields are refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictBody(BaseModel):
    """A request body that refuses fields it does not define (additionalProperties: false)."""

    model_config = ConfigDict(extra="forbid")
