"""Property-based run of the secretariat API against its own OpenAPI description (schemathesis 3)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.exceptions import InvalidSchema
from schemathesis.models import APIOperation
from schemathesis.utils import Err, Result

from bot.secretariat.openapi import openapi_document
from tests.secretariat.fixtures import Portal, portal  # noqa: F401  (session fixture)

SCHEMA = schemathesis.from_dict(openapi_document())


def operation_of(result: Result[APIOperation[Any, Any], InvalidSchema]) -> APIOperation[Any, Any]:
    """Our own document describes every operation validly: a broken one stops the collection with its error."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


OPERATIONS = [operation_of(result) for result in SCHEMA.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.verbose_name)
def test_generated_requests_never_break_the_openapi_contract(portal: Portal, operation) -> None:  # noqa: F811
    """Generated requests never get a 5xx, an undocumented status or a body that breaks the schema."""

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call(base_url=portal.url, headers={"Authorization": f"Bearer {portal.admin_token}"},
                             timeout=30)
        case.validate_response(response)

    check()


def test_every_documented_operation_is_exercised() -> None:
    assert len(OPERATIONS) == 8
