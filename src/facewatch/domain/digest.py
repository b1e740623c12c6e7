"""The digest message that replaces a site's individual alerts while they come faster than its cap."""

from __future__ import annotations

import json

from facewatch.domain.alert_policy import AlertPolicyInfo, sns_attributes
from facewatch.domain.notification import AlertContext, SnsMessage, iso_utc, message_attributes

DIGEST_EVENT_TYPE = "alert_digest"
# What the ledger records as the SNS message id of an alert that went out in a digest only.
CAPPED_MESSAGE_ID = "capped"
DIGEST_MESSAGE_PREFIX = "digest:"


def compose_digest(context: AlertContext, info: AlertPolicyInfo, count: int) -> SnsMessage:
    caps = info.caps
    assert caps is not None
    place = context.place
    text = (
        f"More than {caps.max_alerts} alerts at site {info.site} within {caps.per_minutes} minutes "
        f"({count} in the current period so far).\n\n"
        f"Individual alert messages for {info.site} are paused until the rate stays at or below "
        f"{caps.max_alerts} per {caps.per_minutes} minutes for a whole period. Every alert is still recorded "
        "and searchable in the console and OpenSearch.\n\n"
        f"The alert that started this digest: {info.alert_type} on {place.label} at {iso_utc(context.job.frame_time)} "
        f"(alert id {context.job.alert_id})."
    )
    structured = json.dumps(
        {
            "schema": 1,
            "event_type": DIGEST_EVENT_TYPE,
            "site": info.site,
            "max_alerts": caps.max_alerts,
            "per_minutes": caps.per_minutes,
            "alerts_in_period": count,
            "first_alert_id": context.job.alert_id,
        },
        separators=(",", ":"),
    )
    attributes = {
        **message_attributes(place),
        **sns_attributes(info),
        "event_type": {"DataType": "String", "StringValue": DIGEST_EVENT_TYPE},
    }
    subject = f"facewatch: digest for {info.site}: over {caps.max_alerts} alerts in {caps.per_minutes} min"[:100]
    envelope = {"default": text, "email": text, "sqs": structured, "lambda": structured, "https": structured}
    return SnsMessage(subject=subject, message=json.dumps(envelope), attributes=attributes)


def notification_kind(sns_message_id: str | None) -> str:
    """How the alert went out, from what the ledger recorded: individual, digest or capped (indexed only)."""
    if sns_message_id == CAPPED_MESSAGE_ID:
        return "capped"
    if sns_message_id and sns_message_id.startswith(DIGEST_MESSAGE_PREFIX):
        return "digest"
    return "individual"
