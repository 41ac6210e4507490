"""The committed schemas are the contract: a model that drifts from them fails here."""

from __future__ import annotations

import copy
from typing import ClassVar

from pydantic import Field

from shared.events import ALL_TYPES
from shared.events.common import Identifier
from shared.events.consent import ConsentRevoked
from shared.events.envelope import EventData
from shared.events.schemas import (
    breaking_changes,
    committed_schemas,
    current_schemas,
    differences,
    schema_of,
)


def test_every_model_matches_its_committed_schema() -> None:
    problems = differences(committed_schemas(), current_schemas())
    assert problems == [], (
        "wire contracts changed; review, then `uv run python -m shared.events.schemas --write`"
    )


def test_every_type_is_versioned_and_unique() -> None:
    types = [t.TYPE for t in ALL_TYPES]
    assert len(types) == len(set(types))
    assert all(t.rsplit(".", 1)[-1].startswith("v") for t in types)


class _RevokedWithFieldRemoved(EventData):
    TYPE: ClassVar[str] = ConsentRevoked.TYPE
    TOPIC: ClassVar[str] = ConsentRevoked.TOPIC
    user_key: Identifier
    app_id: Identifier
    consent_id: Identifier

    def subject(self) -> str:
        return self.user_key


class _RevokedWithOptionalAddition(ConsentRevoked):
    note: str = Field(default="", max_length=10)


class _RevokedWithNewRequired(ConsentRevoked):
    channel: str


def test_a_model_that_disagrees_with_its_committed_schema_is_reported() -> None:
    committed = committed_schemas()
    drifted = {**current_schemas(), ConsentRevoked.TYPE: schema_of(_RevokedWithFieldRemoved)}
    assert differences(committed, drifted) == [
        "consent.revoked.v1: model and committed schema differ"
    ]


def test_a_missing_or_orphan_schema_is_reported() -> None:
    committed = committed_schemas()
    current = current_schemas()
    del committed["consent.revoked.v1"]
    assert differences(committed, current) == ["consent.revoked.v1: no committed schema"]
    assert differences({**committed_schemas(), "x.y.v1": {}}, current) == [
        "x.y.v1: committed schema has no model"
    ]


def test_removing_retyping_or_requiring_a_field_is_breaking_adding_optional_is_not() -> None:
    old = committed_schemas()["consent.revoked.v1"]
    assert breaking_changes(old, schema_of(_RevokedWithOptionalAddition)) == []
    assert breaking_changes(old, schema_of(_RevokedWithFieldRemoved)) == [
        "#.data.version removed",
        "#.data.reason removed",
    ]
    assert breaking_changes(old, schema_of(_RevokedWithNewRequired)) == [
        "#.data.channel became required"
    ]
    retyped = copy.deepcopy(old)
    retyped["$defs"]["ConsentRevoked"]["properties"]["version"] = {"type": "string"}
    assert breaking_changes(old, retyped) == ["#.data.version changed type"]
