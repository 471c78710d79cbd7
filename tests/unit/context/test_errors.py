"""NGSI-LD ProblemDetails errors: type URIs, statuses and platform kinds."""

from __future__ import annotations

import pytest

from opencitybrain.context import errors
from opencitybrain.kernel.errors import CityBrainError, ErrorKind

EXPECTED = {
    "BadRequestData": (400, ErrorKind.INVALID),
    "InvalidRequest": (400, ErrorKind.INVALID),
    "ResourceNotFound": (404, ErrorKind.NOT_FOUND),
    "NonexistentTenant": (404, ErrorKind.NOT_FOUND),
    "AlreadyExists": (409, ErrorKind.CONFLICT),
    "LdContextNotAvailable": (503, ErrorKind.UNAVAILABLE),
    "OperationNotSupported": (422, ErrorKind.INVALID),
    "NotAcceptable": (406, ErrorKind.INVALID),
    "TooComplexQuery": (403, ErrorKind.FORBIDDEN),
    "TooManyResults": (403, ErrorKind.FORBIDDEN),
    "NoMultiTenantSupport": (501, ErrorKind.UNAVAILABLE),
    "InternalError": (500, ErrorKind.INTERNAL),
}


@pytest.mark.parametrize("cls", errors.ALL_ERRORS, ids=lambda c: c.__name__)
def test_each_error_has_its_type_status_and_kind(cls: type[errors.NgsiLdError]) -> None:
    error = cls("细节", "detail")
    assert isinstance(error, CityBrainError)
    assert error.type_uri == f"https://uri.etsi.org/ngsi-ld/errors/{cls.__name__}"
    assert (error.status, error.kind) == EXPECTED[cls.__name__]
    assert error.code == f"ngsi.{cls.__name__}"
    assert " / " in error.title


def test_problem_body_names_the_field() -> None:
    error = errors.BadRequestData("位置无效", "bad location", field="location")
    body = error.problem()
    assert body["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
    assert body["status"] == 400
    assert body["detail"] == "位置无效 / bad location"
    assert body["errors"] == [{"field": "location", "reason": "bad location"}]
    assert error.field == "location"


def test_a_custom_code_is_kept() -> None:
    assert errors.AlreadyExists("已存在", "exists", code="ngsi.entity_exists").code == (
        "ngsi.entity_exists"
    )
