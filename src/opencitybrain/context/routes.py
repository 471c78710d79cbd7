"""Every router of the NGSI-LD API, for the app factory to include (one line each)."""

from __future__ import annotations

from fastapi import APIRouter

from opencitybrain.context.api import router as entities
from opencitybrain.context.api_batch import router as batch
from opencitybrain.context.api_contexts import router as jsonld_contexts
from opencitybrain.context.api_subscriptions import router as subscriptions
from opencitybrain.context.api_temporal import router as temporal
from opencitybrain.context.api_temporal_writes import router as temporal_writes
from opencitybrain.context.api_types import router as types

ROUTERS: list[APIRouter] = [
    entities,
    temporal,
    temporal_writes,
    batch,
    types,
    jsonld_contexts,
    subscriptions,
]
