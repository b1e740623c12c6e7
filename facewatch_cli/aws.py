"""The CLI's boto3 session, built once from --profile/--region (and the SDK's usual configuration)."""

from __future__ import annotations

import argparse
from functools import cache

import boto3


@cache
def _session(profile: str | None, region: str | None) -> boto3.session.Session:
    return boto3.session.Session(profile_name=profile, region_name=region)


def session_for(args: argparse.Namespace) -> boto3.session.Session:
    return _session(getattr(args, "profile", None), getattr(args, "region", None))
