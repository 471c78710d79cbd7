"""Every router of the NGSI-LD API, for the app factory to include (one line each)."""

from __future__ import annotations

from fastapi import APIRouter

from opencitybrain.context.api import router as entities

ROUTERS: list[APIRouter] = [entities]
