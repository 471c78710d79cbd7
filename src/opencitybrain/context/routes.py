"""Every router of the NGSI-LD API, for the app factory to include (one line each)."""

from __future__ import annotations

from fastapi import APIRouter

from opencitybrain.context.api import router as entities
from opencitybrain.context.api_subscriptions import router as subscriptions
from opencitybrain.context.api_temporal import router as temporal

ROUTERS: list[APIRouter] = [entities, temporal, subscriptions]
