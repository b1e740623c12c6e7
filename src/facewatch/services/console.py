"""The console's work behind each page: list, show (minting the media links), replay, triage; every look
and every act audited first. A view or action whose audit entry cannot be written is refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from facewatch.adapters.alert_records import AlertFilter, AlertPage, AlertRecords, ConcurrentChangeError
from facewatch.adapters.audit_log import AuditLog
from facewatch.adapters.face_collection import FaceCollection
from facewatch.adapters.media_links import MediaLinks, MediaUnavailableError, MintedLink
from facewatch.adapters.search_index import AlertIndex, IndexUnavailableError
from facewatch.domain.alert_record import (
    AlertRecord,
    Resolution,
    TriageError,
    TriageStatus,
    acknowledge,
    check_resolution,
    resolve,
    triage_fields,
)
from facewatch.domain.audit import AuditAction, AuditEntry
from facewatch.domain.enrolment import is_employee_id
from facewatch.observability import logger

PAGE_SIZE = 25


@dataclass(frozen=True, slots=True)
class Viewer:
    username: str
    groups: frozenset[str]
    source_ip: str


class AlertNotFoundError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class AlertList:
    page: AlertPage
    unacknowledged: int


@dataclass(frozen=True, slots=True)
class AlertView:
    record: AlertRecord
    crop: MintedLink | None
    frame: MintedLink | None
    clip: MintedLink | None
    media_problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TriageOutcome:
    record: AlertRecord
    done: bool
    message: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


class ConsoleService:
    def __init__(
        self,
        *,
        records: AlertRecords,
        media: MediaLinks,
        audit: AuditLog,
        link_expiry_seconds: int,
        collection: FaceCollection | None = None,
        clip_bucket: str = "",
        quality_filter: str = "AUTO",
        index: AlertIndex | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._records = records
        self._media = media
        self._audit = audit
        self._expiry = link_expiry_seconds
        self._collection = collection
        self._clip_bucket = clip_bucket
        self._quality_filter = quality_filter
        self._index = index
        self._clock = clock

    @property
    def link_expiry_seconds(self) -> int:
        return self._expiry

    def record_event(
        self, viewer: Viewer | None, action: str, target: str, source_ip: str = "", **detail: str | int | None
    ) -> None:
        """Appends an audit entry; raises AuditWriteError if it cannot be stored."""
        self._audit.append(
            AuditEntry(
                at=datetime.fromtimestamp(self._clock(), tz=UTC),
                actor=viewer.username if viewer else str(detail.pop("username", None) or "(unknown)"),
                action=action,
                target=target,
                source_ip=viewer.source_ip if viewer else source_ip,
                detail={key: value for key, value in detail.items() if value is not None},
            )
        )

    def list_alerts(self, viewer: Viewer, where: AlertFilter, cursor: str | None) -> AlertList:
        self.record_event(
            viewer,
            AuditAction.LIST_ALERTS,
            "alerts",
            site=where.site,
            camera=where.camera_id,
            status=where.status.value if where.status else None,
        )
        return AlertList(
            page=self._records.page(where, PAGE_SIZE, cursor),
            unacknowledged=self._records.count(TriageStatus.NEW),
        )

    def _record(self, alert_id: str) -> AlertRecord:
        record = self._records.get(alert_id)
        if record is None:
            raise AlertNotFoundError(alert_id)
        return record

    def view_alert(self, viewer: Viewer, alert_id: str) -> AlertView:
        record = self._record(alert_id)
        self.record_event(viewer, AuditAction.VIEW_ALERT, f"alert/{alert_id}")
        links: dict[str, MintedLink | None] = {}
        problems = []
        for name, key in (("crop", record.crop_key), ("frame", record.snapshot_key), ("clip", record.clip_key)):
            if not key:
                links[name] = None
                continue
            try:
                links[name] = self._media.object_link(key, self._expiry)
            except MediaUnavailableError as error:
                links[name] = None
                problems.append(f"{name}: {error.code}")
        minted = ",".join(name for name, link in links.items() if link)
        if minted:
            self.record_event(
                viewer, AuditAction.MINT_MEDIA_LINK, f"alert/{alert_id}", media=minted, expires_in_s=self._expiry
            )
        return AlertView(record, links["crop"], links["frame"], links["clip"], tuple(problems))

    def replay(self, viewer: Viewer, alert_id: str) -> tuple[AlertRecord, MintedLink]:
        record = self._record(alert_id)
        if not record.stream_mode:
            raise MediaUnavailableError("NotStreamMode")
        link = self._media.replay_session(record.kvs_stream_arn, record.frame_time, self._expiry)
        self.record_event(
            viewer, AuditAction.MINT_REPLAY_SESSION, f"alert/{alert_id}", expires_in_s=link.expires_in_seconds
        )
        return record, link

    def acknowledge(self, viewer: Viewer, alert_id: str, note: str) -> TriageOutcome:
        before = self._record(alert_id)
        try:
            after = acknowledge(before, viewer.username, note, self._clock())
        except TriageError as error:
            return self._refused(viewer, before, "acknowledge", str(error))
        return self._commit(viewer, before, after, AuditAction.ACKNOWLEDGE, "Acknowledged.")

    def resolve(
        self, viewer: Viewer, alert_id: str, resolution: Resolution, note: str, employee_id: str | None
    ) -> TriageOutcome:
        before = self._record(alert_id)
        face_id = None
        try:
            check_resolution(before, resolution, note, employee_id or None)
            if resolution is Resolution.EMPLOYEE:
                face_id, refusal = self._enrol(viewer, before, str(employee_id))
                if refusal:
                    return refusal
            after = resolve(
                before,
                viewer.username,
                resolution,
                note,
                self._clock(),
                employee_id=employee_id or None,
                face_id=face_id,
            )
        except TriageError as error:
            return self._refused(viewer, before, f"resolve as {resolution.label.lower()}", str(error))
        label = resolution.label.lower()
        message = f"Resolved: {label}" + (f" {employee_id}; their face was enrolled." if face_id else ".")
        return self._commit(viewer, before, after, AuditAction.RESOLVE, message)

    def _enrol(self, viewer: Viewer, record: AlertRecord, employee_id: str) -> tuple[str | None, TriageOutcome | None]:
        if not is_employee_id(employee_id):
            raise TriageError("an employee id is 1-255 of a-z A-Z 0-9 _ . - :")
        if self._collection is None:
            raise TriageError("no employee collection is configured")
        if not record.crop_key:
            raise TriageError("the alert has no face crop to enrol")
        face = self._collection.enrol_from_s3(self._clip_bucket, record.crop_key, employee_id, self._quality_filter)
        if face.status != "indexed" or not face.face_id:
            message = "Rekognition did not enrol the face: " + ", ".join(face.reasons)
            return None, self._refused(viewer, record, "resolve as employee", message, reasons=face.reasons)
        self.record_event(
            viewer,
            AuditAction.ENROL_FACE,
            f"employee/{employee_id}",
            alert=record.alert_id,
            face_id=face.face_id,
            collection=self._collection.collection_id,
        )
        return face.face_id, None

    def _refused(
        self, viewer: Viewer, record: AlertRecord, what: str, message: str, reasons: tuple[str, ...] = ()
    ) -> TriageOutcome:
        self.record_event(
            viewer, AuditAction.ACTION_REFUSED, f"alert/{record.alert_id}", attempted=what, reason=message
        )
        return TriageOutcome(record, done=False, message=message, reasons=reasons)

    def _commit(
        self, viewer: Viewer, before: AlertRecord, after: AlertRecord, action: str, message: str
    ) -> TriageOutcome:
        # Audited before it takes effect: an action that cannot be audited is not taken.
        self.record_event(
            viewer,
            action,
            f"alert/{before.alert_id}",
            status=after.status.value,
            resolution=after.resolution.value if after.resolution else None,
            employee_id=after.employee_id,
            note=after.note,
        )
        try:
            stored = self._records.replace(before, after)
        except ConcurrentChangeError:
            return TriageOutcome(
                before, done=False, message="Someone else changed this alert meanwhile: check it and try again."
            )
        if self._index is not None:
            try:
                self._index.update_triage(stored.alert_id, stored.frame_time, triage_fields(stored))
            except IndexUnavailableError as error:
                logger.warning("triage not indexed", extra={"alert_id": stored.alert_id, "error": str(error)})
                return TriageOutcome(
                    stored, done=True, message=f"{message} The search index was not updated ({error})."
                )
        return TriageOutcome(stored, done=True, message=message)


def alert_filter(
    site: str | None, camera_id: str | None, status: str | None, period_hours: int | None, now: float
) -> AlertFilter:
    return AlertFilter(
        site=site or None,
        camera_id=camera_id or None,
        status=TriageStatus(status) if status in {s.value for s in TriageStatus} else None,
        since=now - period_hours * 3600 if period_hours else None,
    )
