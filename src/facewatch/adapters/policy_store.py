"""PolicyTable (DynamoDB): site policies with their versions, watchlist entries and snoozes.

Items (pk, sk):
- `current`, `policy#<site>`                 the policy in force (its document and version number)
- `current`, `watchlist#<list>#<entry id>`   a watchlist entry (reason, expiry; faces in the collection)
- `current`, `snooze#<id>`                   a snooze; DynamoDB TTL removes it after it ended
- `policy#<site>`, `v#<000001>`              every version ever applied, never overwritten

Who changed what, and why, goes to the audit log (facewatch.adapters.audit_log) before the change is made.

Everything the detector needs is under pk `current`: one Query (a page or two) loads it, once per cache
period (PolicyCache), never per record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from facewatch.adapters import aws
from facewatch.domain.policy import SitePolicy
from facewatch.domain.policy_rules import PolicySnapshot
from facewatch.domain.watchlists import Snooze, WatchlistEntry
from facewatch.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CURRENT = "current"
VERSION_DIGITS = 6
# How long the detector trusts what it loaded: a policy change, a new watchlist entry or a snooze takes
# effect within this many seconds, and the table sees one Query per container per period.
POLICY_CACHE_SECONDS = 30.0


class PolicyConflictError(Exception):
    """Another apply of the same site's policy got its version number first: apply again."""


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    site: str
    version: int
    applied_at: float
    applied_by: str
    note: str
    document: SitePolicy


@dataclass(frozen=True, slots=True)
class StoredItems:
    """Everything under pk `current`, parsed; items that no longer parse are skipped and named."""

    policies: dict[str, SitePolicy] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    entries: dict[tuple[str, str], WatchlistEntry] = field(default_factory=dict)
    snoozes: tuple[Snooze, ...] = ()
    skipped: tuple[str, ...] = ()


def _version_sk(version: int) -> str:
    return f"v#{version:0{VERSION_DIGITS}d}"


class PolicyStore:
    def __init__(self, table_name: str, dynamodb: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: aws.LazyClient[DynamoDBClient] = aws.LazyClient("dynamodb", dynamodb)

    @property
    def table_name(self) -> str:
        return self._table

    # --- read: what the detector and `show`/`list` commands use ---

    def _current_items(self) -> Iterator[dict[str, Any]]:
        pages = (
            self._client.get()
            .get_paginator("query")
            .paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": CURRENT}},
                ConsistentRead=False,
            )
        )
        for page in pages:
            yield from page.get("Items", [])

    def load_current(self) -> StoredItems:
        stored = StoredItems()
        skipped: list[str] = []
        snoozes: list[Snooze] = []
        for item in self._current_items():
            sk = item["sk"]["S"]
            try:
                document = item["document"]["S"]
                if sk.startswith("policy#"):
                    policy = SitePolicy.model_validate_json(document)
                    stored.policies[policy.site] = policy
                    stored.versions[policy.site] = int(item["version"]["N"])
                elif sk.startswith("watchlist#"):
                    entry = WatchlistEntry.model_validate_json(document)
                    stored.entries[(entry.list, entry.entry_id)] = entry
                elif sk.startswith("snooze#"):
                    snoozes.append(Snooze.model_validate_json(document))
            except (KeyError, ValueError, ValidationError):
                skipped.append(sk)
        if skipped:
            # A document written by a newer version of facewatch, or edited by hand: not applied, and said so.
            logger.warning("policy items skipped", extra={"items": skipped[:20], "count": len(skipped)})
        return StoredItems(stored.policies, stored.versions, stored.entries, tuple(snoozes), tuple(skipped))

    def versions(self, site: str) -> list[PolicyVersion]:
        pages = (
            self._client.get()
            .get_paginator("query")
            .paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"policy#{site}"}},
                ConsistentRead=True,
            )
        )
        return [self._version(item) for page in pages for item in page.get("Items", [])]

    def _version(self, item: dict[str, Any]) -> PolicyVersion:
        return PolicyVersion(
            site=item["pk"]["S"].removeprefix("policy#"),
            version=int(item["version"]["N"]),
            applied_at=float(item["applied_at"]["N"]),
            applied_by=item["applied_by"]["S"],
            note=item.get("note", {}).get("S", ""),
            document=SitePolicy.model_validate_json(item["document"]["S"]),
        )

    def _latest_version(self, site: str) -> int:
        response = self._client.get().query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"policy#{site}"}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = response.get("Items", [])
        return int(items[0]["version"]["N"]) if items else 0

    # --- write: the CLI (and the console) ---

    def apply(self, policy: SitePolicy, *, by: str, note: str, now: float) -> int:
        """Stores `policy` as the site's next version and makes it current, in one transaction.

        The version item is conditional on its number being new, so two operators applying at once cannot
        both get version n: the second is told to apply again."""
        version = self._latest_version(policy.site) + 1
        document = policy.to_json()
        common = {
            "document": {"S": document},
            "version": {"N": str(version)},
            "applied_at": {"N": repr(now)},
            "applied_by": {"S": by},
            "note": {"S": note},
        }
        try:
            self._client.get().transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {"pk": {"S": f"policy#{policy.site}"}, "sk": {"S": _version_sk(version)}, **common},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {"pk": {"S": CURRENT}, "sk": {"S": f"policy#{policy.site}"}, **common},
                        }
                    },
                ]
            )
        except ClientError as error:
            if aws.error_code(error) == "TransactionCanceledException":
                raise PolicyConflictError(
                    f"version {version} of {policy.site}'s policy was applied meanwhile; apply again"
                ) from error
            raise
        return version

    def put_entry(self, entry: WatchlistEntry) -> None:
        self._put_current(f"watchlist#{entry.list}#{entry.entry_id}", entry.model_dump_json(), entry.expires_at)

    def remove_entry(self, list_name: str, entry_id: str) -> None:
        self._delete_current(f"watchlist#{list_name}#{entry_id}")

    def put_snooze(self, snooze: Snooze) -> None:
        self._put_current(f"snooze#{snooze.snooze_id}", snooze.model_dump_json(), snooze.until)

    def end_snooze(self, snooze_id: str) -> None:
        self._delete_current(f"snooze#{snooze_id}")

    def _put_current(self, sk: str, document: str, expires_at: float) -> None:
        self._client.get().put_item(
            TableName=self._table,
            Item={
                "pk": {"S": CURRENT},
                "sk": {"S": sk},
                "document": {"S": document},
                # DynamoDB TTL removes the item after its end (within days; readers check the end themselves).
                "expires_at": {"N": str(int(expires_at) + 1)},
            },
        )

    def _delete_current(self, sk: str) -> None:
        """Raises KeyError when there is no such item."""
        try:
            self._client.get().delete_item(
                TableName=self._table,
                Key={"pk": {"S": CURRENT}, "sk": {"S": sk}},
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                raise KeyError(sk) from error
            raise


class PolicyCache:
    """The detector's view of PolicyTable: loaded at most once per `ttl_seconds` (monotonic clock).

    A failed refresh keeps the last good snapshot (logged) rather than failing records; a container that
    has never loaded one fails the record, so Lambda retries instead of alerting under the wrong policy."""

    def __init__(
        self,
        store: PolicyStore,
        *,
        employee_match_threshold: float,
        default_dedup_window_seconds: float,
        ttl_seconds: float = POLICY_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._threshold = employee_match_threshold
        self._window = default_dedup_window_seconds
        self._ttl = ttl_seconds
        self._clock = clock
        self._snapshot: PolicySnapshot | None = None
        self._loaded_at = 0.0

    def snapshot(self) -> PolicySnapshot:
        now = self._clock()
        if self._snapshot is not None and now - self._loaded_at < self._ttl:
            return self._snapshot
        try:
            stored = self._store.load_current()
        except Exception as error:
            if self._snapshot is None:
                raise
            logger.warning("policy refresh failed, keeping the last one", extra={"code": aws.error_code(error)})
            self._loaded_at = now
            return self._snapshot
        self._snapshot = PolicySnapshot(
            policies=stored.policies,
            entries=stored.entries,
            snoozes=stored.snoozes,
            employee_match_threshold=self._threshold,
            default_dedup_window_seconds=self._window,
        )
        self._loaded_at = now
        return self._snapshot


class StaticPolicies:
    """A fixed snapshot: the stack without a PolicyTable, tests, benchmarks and the local demo."""

    def __init__(self, snapshot: PolicySnapshot) -> None:
        self._snapshot = snapshot

    def snapshot(self) -> PolicySnapshot:
        return self._snapshot
