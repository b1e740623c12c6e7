"""PrivacyTable: each site's privacy profile (item `site#ID`) and each enrolled person's legal basis
(item `person#ID`). What the operator must be able to prove lives here, outside Rekognition."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from facewatch.adapters import aws
from facewatch.domain.privacy import LegalBasis, MatchingMode, SiteAssignment

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# `reference` is a DynamoDB reserved word.
_NAMES = {"#reference": "reference", "#note": "note"}
SITE_PREFIX = "site#"
PERSON_PREFIX = "person#"


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """An enrolled person's legal basis and enrolment dates (ISO 8601, UTC). `offboarded_at` is set when
    their faces were removed: the record of the deletion is kept, the basis reference is not."""

    employee_id: str
    legal_basis: LegalBasis | None
    reference: str | None
    note: str | None
    enrolled_at: str | None
    refreshed_at: str | None
    offboarded_at: str | None = None
    offboarding_verified: bool | None = None

    @property
    def active(self) -> bool:
        return self.offboarded_at is None


def _s(item: dict[str, AttributeValueTypeDef], name: str) -> str | None:
    value = item.get(name, {}).get("S")
    return str(value) if value is not None else None


class PrivacyRecords:
    def __init__(self, table_name: str, dynamodb: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: aws.LazyClient[DynamoDBClient] = aws.LazyClient("dynamodb", dynamodb)

    def put_site(self, assignment: SiteAssignment) -> None:
        item: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": SITE_PREFIX + assignment.site},
            "site": {"S": assignment.site},
            "profile": {"S": assignment.profile},
            "matching": {"S": assignment.matching.value},
        }
        if assignment.confirmed_by:
            item["confirmed_by"] = {"S": assignment.confirmed_by}
        if assignment.confirmed_at:
            item["confirmed_at"] = {"S": assignment.confirmed_at}
        self._client.get().put_item(TableName=self._table, Item=item)

    def sites(self) -> dict[str, SiteAssignment]:
        sites = {}
        for item in self._scan(SITE_PREFIX):
            site = _s(item, "site") or ""
            sites[site] = SiteAssignment(
                site=site,
                profile=_s(item, "profile") or "default",
                matching=MatchingMode(_s(item, "matching") or MatchingMode.UNKNOWN_FACES.value),
                confirmed_by=_s(item, "confirmed_by"),
                confirmed_at=_s(item, "confirmed_at"),
            )
        return sites

    def record_enrolment(
        self, employee_id: str, basis: LegalBasis, *, reference: str | None, note: str | None, at: str
    ) -> None:
        """The person's basis as given now; `enrolled_at` keeps the first enrolment, `refreshed_at` moves.
        Enrolling an offboarded person again starts a new record."""
        values: dict[str, AttributeValueTypeDef] = {":basis": {"S": basis.value}, ":at": {"S": at}}
        sets = ["legal_basis = :basis", "refreshed_at = :at", "enrolled_at = if_not_exists(enrolled_at, :at)"]
        removes = ["offboarded_at", "offboarding_verified"]
        for name, value in (("reference", reference), ("note", note)):
            if value:
                values[f":{name}"] = {"S": value}
                sets.append(f"#{name} = :{name}")
            else:
                removes.append(f"#{name}")
        self._client.get().update_item(
            TableName=self._table,
            Key={"pk": {"S": PERSON_PREFIX + employee_id}},
            UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues=values,
        )

    def record_offboarding(self, employee_id: str, *, at: str, verified: bool) -> None:
        """Keeps the fact and date of the deletion; drops the consent reference and note with the faces."""
        self._client.get().update_item(
            TableName=self._table,
            Key={"pk": {"S": PERSON_PREFIX + employee_id}},
            UpdateExpression="SET offboarded_at = :at, offboarding_verified = :verified REMOVE #reference, #note",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues={":at": {"S": at}, ":verified": {"BOOL": verified}},
        )

    def person(self, employee_id: str) -> PersonRecord | None:
        item = (
            self._client.get()
            .get_item(TableName=self._table, Key={"pk": {"S": PERSON_PREFIX + employee_id}}, ConsistentRead=True)
            .get("Item")
        )
        return _person(item) if item else None

    def people(self) -> list[PersonRecord]:
        return sorted((_person(item) for item in self._scan(PERSON_PREFIX)), key=lambda p: p.employee_id)

    def _scan(self, prefix: str) -> Iterator[dict[str, AttributeValueTypeDef]]:
        pages = (
            self._client.get()
            .get_paginator("scan")
            .paginate(
                TableName=self._table,
                FilterExpression="begins_with(pk, :prefix)",
                ExpressionAttributeValues={":prefix": {"S": prefix}},
            )
        )
        for page in pages:
            yield from page.get("Items", [])


def _person(item: dict[str, AttributeValueTypeDef]) -> PersonRecord:
    basis = _s(item, "legal_basis")
    verified = item.get("offboarding_verified", {}).get("BOOL")
    return PersonRecord(
        employee_id=(_s(item, "pk") or "").removeprefix(PERSON_PREFIX),
        legal_basis=LegalBasis(basis) if basis else None,
        reference=_s(item, "reference"),
        note=_s(item, "note"),
        enrolled_at=_s(item, "enrolled_at"),
        refreshed_at=_s(item, "refreshed_at"),
        offboarded_at=_s(item, "offboarded_at"),
        offboarding_verified=bool(verified) if verified is not None else None,
    )


SITE_CACHE_SECONDS = 300


class SiteMatching:
    """The alerter's view of PrivacyTable: each site's matching mode, cached in the container (an alert
    costs at most one read per site per SITE_CACHE_SECONDS). A site without an assignment, or a stack
    without the table, matches unknown faces (the default profile)."""

    def __init__(
        self,
        table_name: str,
        dynamodb: DynamoDBClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._table = table_name
        self._client: aws.LazyClient[DynamoDBClient] = aws.LazyClient("dynamodb", dynamodb)
        self._clock = clock
        self._cache: dict[str, tuple[float, MatchingMode]] = {}

    def matching_of(self, site: str | None) -> MatchingMode:
        if not self._table or not site:
            return MatchingMode.UNKNOWN_FACES
        cached = self._cache.get(site)
        now = self._clock()
        if cached is not None and now - cached[0] < SITE_CACHE_SECONDS:
            return cached[1]
        item = (
            self._client.get()
            .get_item(TableName=self._table, Key={"pk": {"S": SITE_PREFIX + site}}, ProjectionExpression="matching")
            .get("Item", {})
        )
        try:
            mode = MatchingMode(item.get("matching", {}).get("S", MatchingMode.UNKNOWN_FACES.value))
        except ValueError:
            # An unreadable mode is treated as the strictest: never alert on a site whose rule is unclear.
            mode = MatchingMode.OFF
        self._cache[site] = (now, mode)
        return mode
