"""HTTP POSTs to chat and webhook endpoints, with a few bounded retries of their own.

Only the standard library: the delivery function needs nothing else to talk to Slack, Teams or a webhook.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from facewatch.domain.channels import classify_http_status

# Three tries within about 10 s: a chat service's short hiccup passes; a longer outage is retried by
# the delivery queue (visibility timeout) and ends in its dead-letter queue.
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 1.5)
MAX_RETRY_AFTER_SECONDS = 5.0
TIMEOUT_SECONDS = 5.0
USER_AGENT = "facewatch-delivery/1"


class DeliveryError(Exception):
    """The endpoint did not take the message. `permanent`: retrying cannot help (a 4xx other than 408/429)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Posted:
    status: int
    attempts: int


HeadersFor = Callable[[], dict[str, str]]


class WebhookPoster:
    def __init__(
        self,
        *,
        timeout_seconds: float = TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._timeout = timeout_seconds
        self._sleep = sleep

    def post(self, url: str, body: bytes, headers_for: HeadersFor | None = None) -> Posted:
        """POSTs `body` as JSON. `headers_for` is called per attempt, so a signature's timestamp is fresh
        on every try. Raises DeliveryError after the last attempt or on a permanent refusal."""
        reason = "not attempted"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            extra = headers_for() if headers_for else {}
            request = urllib.request.Request(  # noqa: S310 - the caller checked the URL (checked_channel_url)
                url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT, **extra},
            )
            retry_after: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 - URL checked
                    response.read()
                    return Posted(status=response.status, attempts=attempt)
            except urllib.error.HTTPError as error:
                error.read()
                failure = classify_http_status(error.code)
                reason = f"HTTP {error.code}"
                if failure == "permanent":
                    raise DeliveryError(reason, permanent=True) from None
                retry_after = _retry_after(error.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                reason = type(getattr(error, "reason", error)).__name__
            if attempt < MAX_ATTEMPTS:
                backoff = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1]
                self._sleep(max(backoff, retry_after or 0.0))
        raise DeliveryError(f"{reason} after {MAX_ATTEMPTS} attempts", permanent=False)


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return None if seconds is None else max(0.0, min(MAX_RETRY_AFTER_SECONDS, seconds))
