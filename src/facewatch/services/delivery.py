"""The delivery stage: one structured alert from the topic -> Slack, Teams and the signed webhook.

Each configured channel gets the message once per alert message (see DeliveryLedger for the one case of a
repeat). A channel that is down is retried by the delivery queue; a channel that refuses for good, or a
message that is not an alert, goes to the delivery dead-letter queue with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from facewatch.adapters.delivery_ledger import DeliveryLedger
from facewatch.adapters.delivery_secrets import DeliverySecrets
from facewatch.adapters.job_queue import JobQueue
from facewatch.adapters.webhooks import DeliveryError, WebhookPoster
from facewatch.domain.channels import (
    AlertNotice,
    Channel,
    ChannelUrlError,
    checked_channel_url,
    json_body,
    slack_payload,
    teams_payload,
    webhook_headers,
)
from facewatch.observability import logger, metrics


class ChannelsUnavailableError(Exception):
    """At least one channel may take the message later: the queue redelivers it."""


@dataclass
class DeliveryReport:
    delivered: list[Channel] = field(default_factory=list)
    skipped: list[Channel] = field(default_factory=list)  # delivered by an earlier attempt
    retry: dict[Channel, str] = field(default_factory=dict)
    refused: dict[Channel, str] = field(default_factory=dict)


class DeliveryStage:
    def __init__(
        self,
        *,
        secrets: DeliverySecrets,
        ledger: DeliveryLedger,
        poster: WebhookPoster,
        queue: JobQueue,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = secrets
        self._ledger = ledger
        self._poster = poster
        self._queue = queue
        self._clock = clock

    def process(self, body: str) -> DeliveryReport:
        try:
            notice = AlertNotice.model_validate_json(body)
        except ValidationError as error:
            first = error.errors(include_input=False, include_url=False)[0]
            location = ".".join(str(part) for part in first["loc"]) or "body"
            self._dead_letter(body, f"not a structured alert: {location}: {first['msg']}", alert_id=None)
            return DeliveryReport()
        config = self._secrets.load()
        report = DeliveryReport()
        for channel, url in config.urls.items():
            if self._ledger.delivered(notice.delivery_id, channel):
                report.skipped.append(channel)
                continue
            try:
                self._post(channel, checked_channel_url(url), notice, body.encode(), config.signing_secret)
            except ChannelUrlError as error:
                report.refused[channel] = f"{channel.value} URL refused: {error}"
            except DeliveryError as error:
                target = report.refused if error.permanent else report.retry
                target[channel] = f"{channel.value}: {error.reason}"
            else:
                self._ledger.mark_delivered(notice.delivery_id, channel, self._clock())
                report.delivered.append(channel)
        self._account(notice, report)
        if report.retry:
            raise ChannelsUnavailableError("; ".join(report.retry.values()))
        if report.refused:
            self._dead_letter(body, "; ".join(report.refused.values()), alert_id=notice.alert_id)
        return report

    def _post(self, channel: Channel, url: str, notice: AlertNotice, raw: bytes, signing_secret: bytes | None) -> None:
        if channel is Channel.SLACK:
            self._poster.post(url, json_body(slack_payload(notice)))
        elif channel is Channel.TEAMS:
            self._poster.post(url, json_body(teams_payload(notice)))
        else:
            if signing_secret is None:
                raise DeliveryError("no signing secret configured", permanent=True)
            # The structured alert exactly as the topic delivered it: the bytes the signature covers.
            secret = signing_secret
            self._poster.post(url, raw, lambda: webhook_headers(notice, secret, int(self._clock()), raw))

    def _account(self, notice: AlertNotice, report: DeliveryReport) -> None:
        for channel in report.delivered:
            metrics.add_metric(name=f"Delivered_{channel.value}", unit=MetricUnit.Count, value=1)
        for channel in [*report.retry, *report.refused]:
            metrics.add_metric(name=f"DeliveryFailed_{channel.value}", unit=MetricUnit.Count, value=1)
        logger.info(
            "alert delivered to channels",
            extra={
                "alert_id": notice.alert_id,
                "camera_id": notice.camera.id,
                "sequence": notice.sequence,
                "delivered": [c.value for c in report.delivered],
                "already_delivered": [c.value for c in report.skipped],
                "retry": sorted(report.retry.values()),
                "refused": sorted(report.refused.values()),
            },
        )

    def _dead_letter(self, body: str, reason: str, alert_id: str | None) -> None:
        self._queue.dead_letter(body, reason, alert_id)
        metrics.add_metric(name="DeliveriesDeadLettered", unit=MetricUnit.Count, value=1)
        logger.error("delivery dead-lettered", extra={"alert_id": alert_id, "reason": reason})
