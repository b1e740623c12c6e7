"""The digest decision of the alert stage: is this alert sent on its own, as the digest, or only indexed?

It lives in the alert stage, not the detector: the detector's DynamoDB budget is two writes per alert (its
window claim and suppressed count) and a site's cameras feed different detector containers, while every
alert of a site passes through here, right before its message would be published.
"""

from __future__ import annotations

from facewatch.adapters.site_rates import SiteRates
from facewatch.domain.alert_job import AlertJob
from facewatch.domain.policy_rules import CapVerdict, cap_bucket, cap_decision


class DigestGate:
    def __init__(self, rates: SiteRates) -> None:
        self._rates = rates

    def verdict(self, job: AlertJob) -> tuple[CapVerdict, int]:
        """(send | digest | capped, alerts counted in the site's current period); no call without caps."""
        info = job.policy
        if info is None or info.caps is None:
            return "send", 0
        bucket = cap_bucket(job.frame_time, info.caps)
        counted = self._rates.count(info.site, bucket, info.caps.per_minutes * 60.0)
        if counted is None:  # an alert from a period already over: it goes out on its own
            return "send", 0
        return cap_decision(counted.count, counted.previous, info.caps), counted.count
