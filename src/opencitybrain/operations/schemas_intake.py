"""Request and response bodies of the intake helpers: class suggestions and uploads."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from opencitybrain.operations.attachments import StoredFile
from opencitybrain.operations.classify import Classified, Suggestion


class SuggestionOut(BaseModel):
    """A class the text probably describes, with the model's confidence (0–1)."""

    code: str
    name_zh: str
    name_en: str
    confidence: float

    @classmethod
    def of(cls, s: Suggestion, names: dict[str, tuple[str, str]]) -> SuggestionOut:
        """Return the suggestion with the class's names."""
        zh, en = names.get(s.code, (s.code, s.code))
        return cls(code=s.code, name_zh=zh, name_en=en, confidence=s.confidence)


class ClassifyIn(BaseModel):
    """A caller's free text to classify."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000, examples=["小区门口垃圾堆了三天没人清"])
    k: int = Field(default=3, ge=1, le=10)


class ClassifiedOut(BaseModel):
    """The top suggestions and whether the best may be taken without a person choosing."""

    suggestions: list[SuggestionOut]
    confident: bool
    min_confidence: float

    @classmethod
    def of(
        cls, found: Classified, names: dict[str, tuple[str, str]], threshold: float
    ) -> ClassifiedOut:
        """Return the response form."""
        return cls(
            suggestions=[SuggestionOut.of(s, names) for s in found.suggestions],
            confident=found.confident,
            min_confidence=threshold,
        )


class UploadOut(BaseModel):
    """A stored attachment: name its ref, media_type and size in a step's attachments."""

    ref: str
    media_type: str
    size: int
    name: str | None
    sha256: str
    uploaded_by: str
    uploaded_at: datetime

    @classmethod
    def of(cls, f: StoredFile) -> UploadOut:
        """Return the response form."""
        return cls(
            ref=f.ref, media_type=f.media_type, size=f.size, name=f.name, sha256=f.sha256,
            uploaded_by=f.uploaded_by, uploaded_at=f.uploaded_at,
        )  # fmt: skip
