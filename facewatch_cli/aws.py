"""The CLI's boto3 session, built once from --profile/--region (and the SDK's usual configuration).

The Region: --region, else AWS_REGION (what the AWS CLI v2 and Lambda set, which boto3 itself does not
read), else the SDK's own configuration (AWS_DEFAULT_REGION, the profile's region).
"""

from __future__ import annotations

import argparse
import os
from functools import cache

import boto3


@cache
def _session(profile: str | None, region: str | None) -> boto3.session.Session:
    return boto3.session.Session(profile_name=profile, region_name=region)


def region_option(args: argparse.Namespace) -> str | None:
    """--region, else AWS_REGION; None leaves the choice to the SDK."""
    return getattr(args, "region", None) or os.environ.get("AWS_REGION") or None


def session_for(args: argparse.Namespace) -> boto3.session.Session:
    return _session(getattr(args, "profile", None), region_option(args))
