"""Camera URLs: which are live streams, and how to log one without its password."""

from __future__ import annotations

import re

LIVE_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")
_CREDENTIALS = re.compile(r"(?<=://)[^/@]*@")


def is_live_url(url: str) -> bool:
    return url.lower().startswith(LIVE_SCHEMES)


def redact_url(url: str) -> str:
    """The URL without its user name and password, for logs."""
    return _CREDENTIALS.sub("***@", url)
