"""Uploaded attachments: the type from the bytes, the size limit, the store on disk."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.errors import CityBrainError, ErrorKind, InvalidInput, NotFound
from opencitybrain.kernel.events import Context
from opencitybrain.operations.attachments import (
    MAX_BYTES,
    MEDIA_TYPES,
    AttachmentDesk,
    clean_name,
    sniff,
)
from opencitybrain.operations.file_store import LocalFileStore
from opencitybrain.operations.model import Attachment

SAMPLES = {
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "image/heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00",
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3",
    "video/mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00",
    "audio/mpeg": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "audio/amr": b"#!AMR\n\x3c\x00",
    "audio/wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
}
WORKER = Context("grid-1", "district-360102", frozenset({"grid_worker"}))


@pytest.fixture
def desk(tmp_path: Path) -> AttachmentDesk:
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    return AttachmentDesk(LocalFileStore(tmp_path / "attachments"), clock)


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_each_allowed_type_is_known_by_its_first_bytes(media_type: str) -> None:
    assert sniff(SAMPLES[media_type]) == media_type


@pytest.mark.parametrize(
    "head", [b"MZ\x90\x00\x03\x00", b"\x7fELF\x02\x01", b"PK\x03\x04", b"<html>", b"#!/bin/sh"]
)
def test_executables_archives_and_text_are_refused(desk: AttachmentDesk, head: bytes) -> None:
    assert sniff(head) is None
    with pytest.raises(CityBrainError) as err:
        desk.upload(WORKER, head + b"\x00" * 100, "photo.jpg")  # the name does not matter
    assert (err.value.code, err.value.kind) == ("attachment.bad_type", ErrorKind.UNSUPPORTED_MEDIA)


def test_an_upload_is_stored_read_back_and_its_reference_checked(desk: AttachmentDesk) -> None:
    data = SAMPLES["image/jpeg"] + bytes(range(256)) * 40
    stored = desk.upload(WORKER, data, "C:\\photos\\井盖.jpg")
    assert stored.media_type == "image/jpeg"
    assert (stored.size, stored.name, stored.uploaded_by) == (len(data), "井盖.jpg", "grid-1")
    meta, back = desk.get(stored.ref)
    assert back == data
    assert meta == stored
    assert desk.check((stored.attachment(),)) == (stored.attachment(),)
    lied = Attachment(stored.ref, "application/pdf", stored.size)
    with pytest.raises(InvalidInput) as err:
        desk.check((lied,))
    assert err.value.code == "attachment.unknown_ref"
    with pytest.raises(InvalidInput):
        desk.check((Attachment("att-" + "0" * 32, "image/jpeg", 10),))
    # Other references (an Open311 media_url, a source's own store) pass as before.
    external = Attachment("cases/photo-1.jpg", "image/jpeg", 52_000)
    assert desk.check((external,)) == (external,)


def test_oversized_empty_and_unknown_files_get_clear_errors(desk: AttachmentDesk) -> None:
    with pytest.raises(CityBrainError) as err:
        desk.upload(WORKER, SAMPLES["application/pdf"] + b"\x00" * MAX_BYTES, "big.pdf")
    assert (err.value.code, err.value.kind) == ("attachment.too_large", ErrorKind.TOO_LARGE)
    with pytest.raises(InvalidInput):
        desk.upload(WORKER, b"", "empty.jpg")
    for ref in ("att-" + "f" * 32, "../../etc/passwd", "att-XYZ"):
        with pytest.raises(NotFound):
            desk.get(ref)


@given(st.text(max_size=300))
def test_clean_names_carry_no_path_and_no_control_characters(name: str) -> None:
    out = clean_name(name)
    assert out is None or (
        "/" not in out and "\\" not in out and out.isprintable() and 0 < len(out) <= 200
    )


@given(st.binary(min_size=0, max_size=64))
def test_sniffing_never_fails_and_answers_an_allowed_type_or_none(head: bytes) -> None:
    assert sniff(head) in (*MEDIA_TYPES, None)
