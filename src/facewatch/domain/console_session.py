"""The console's session rules, pure: cookies, the CSRF token, who may do what, and the response headers.

The session cookie holds the Cognito access token (HttpOnly, SameSite=Strict, Secure): pages never see it.
The CSRF token in every form is an HMAC of a fixed label keyed with that access token: a page of
another site can neither read the cookie nor compute the token, and the cookie is not even sent on its
cross-site requests (SameSite=Strict). Requests that change something also must come from the console's
own origin when the browser says where they come from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

SESSION_COOKIE = "fw_session"
SIGN_IN_COOKIE = "fw_signin"
RESPONDERS_GROUP = "responders"
VIEWERS_GROUP = "viewers"
SIGN_IN_STATE_SECONDS = 300

# No script at all, no inline style, nothing framed, forms only to this origin; images and video only
# from the origins of the links minted for this very page (the clip bucket, a KVS HLS endpoint).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # same-origin: the page URL (alert ids) never goes to S3 or KVS, and form posts keep their Origin
    # header (with no-referrer, browsers send "Origin: null", which the CSRF check refuses).
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def content_security_policy(media_origins: Iterable[str] = ()) -> str:
    media = " ".join(["'self'", *sorted(set(media_origins))])
    return (
        "default-src 'none'; "
        "style-src 'self'; "
        f"img-src {media}; "
        f"media-src {media}; "
        "form-action 'self'; "
        "frame-ancestors 'none'; "
        "base-uri 'none'"
    )


def csrf_token(access_token: str) -> str:
    return hmac.new(access_token.encode(), b"facewatch-console-csrf", hashlib.sha256).hexdigest()


def csrf_valid(access_token: str, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(csrf_token(access_token), str(submitted))


def same_origin(headers: Mapping[str, str], host: str) -> bool:
    """False when the browser names another origin (Origin, else Referer) than the console's host."""
    origin = headers.get("origin") or headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == host


def may_act(groups: frozenset[str]) -> bool:
    return RESPONDERS_GROUP in groups


def may_view(groups: frozenset[str]) -> bool:
    return bool(groups & {RESPONDERS_GROUP, VIEWERS_GROUP})


def cookies_of(header_values: list[str] | None) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for value in header_values or []:
        try:
            jar.load(value)
        except Exception:  # noqa: S112 - a malformed cookie header is no session
            continue
    return {name: morsel.value for name, morsel in jar.items()}


@dataclass(frozen=True, slots=True)
class SignInState:
    """A sign-in between two challenges: who, which challenge, Cognito's session for it, and the
    authenticator secret to show while MFA is being set up."""

    username: str
    challenge: str
    session: str
    secret_code: str | None = None

    def encode(self) -> str:
        fields = {"u": self.username, "c": self.challenge, "s": self.session, "k": self.secret_code}
        return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode()

    @classmethod
    def decode(cls, value: str | None) -> SignInState | None:
        if not value:
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(value.encode()))
            return cls(username=fields["u"], challenge=fields["c"], session=fields["s"], secret_code=fields.get("k"))
        except (ValueError, KeyError, TypeError):
            return None
