"""The audit log in S3: append-only for its writers.

The bucket (AuditBucket in template.yaml) has versioning and S3 Object Lock with a default retention, so
no version of an entry can be deleted or overwritten before the retention ends, whoever asks. The
writers' roles may only s3:PutObject under audit/, and the bucket policy denies them every delete,
retention, legal-hold and bypass action besides. Each append is a conditional write (If-None-Match: *):
an entry is never replaced, not even by a new version of the same key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from facewatch.adapters import aws
from facewatch.domain.audit import AUDIT_CONTENT_TYPE, AUDIT_PREFIX, AuditEntry, audit_key, key_bound

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class AuditWriteError(Exception):
    """The entry was not stored; the caller must not go on as if the event had been audited."""


class AuditLog:
    def __init__(self, bucket_name: str, *, s3: S3Client | None = None) -> None:
        self._bucket = bucket_name
        self._s3: aws.LazyClient[S3Client] = aws.LazyClient("s3", s3)

    @property
    def bucket(self) -> str:
        return self._bucket

    def append(self, entry: AuditEntry) -> str:
        """Stores the entry under its own key and returns the key. Raises AuditWriteError when S3 does not
        take it (the SDK has already retried), so an unaudited view or action is refused, not served."""
        key = audit_key(entry)
        try:
            self._s3.get().put_object(
                Bucket=self._bucket,
                Key=key,
                Body=entry.to_json().encode(),
                ContentType=AUDIT_CONTENT_TYPE,
                IfNoneMatch="*",
                # Object Lock needs an integrity checksum on every PutObject.
                ChecksumAlgorithm="SHA256",
            )
        except (ClientError, BotoCoreError) as error:
            raise AuditWriteError(aws.error_code(error)) from error
        return key

    def read(self, since: datetime, until: datetime | None = None) -> Iterator[AuditEntry]:
        """Entries with since <= at < until (until: no end), oldest first: one listing from `since`'s key."""
        start, stop = key_bound(since), key_bound(until) if until else None
        paginator = self._s3.get().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=f"{AUDIT_PREFIX}/", StartAfter=start):
            for listed in page.get("Contents", []):
                key = listed["Key"]
                if stop is not None and key >= stop:
                    return
                body = self._s3.get().get_object(Bucket=self._bucket, Key=key)["Body"].read()
                yield AuditEntry.model_validate_json(body)
