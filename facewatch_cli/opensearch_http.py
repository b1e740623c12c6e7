"""SigV4-signed HTTP to the alert domain (its OpenSearch APIs and its Dashboards) with the operator's
credentials, for `facewatch dashboards` and `facewatch alerts`.

requests and requests-aws4auth are imported on the first request, so `facewatch --help` stays quick.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from facewatch.adapters.search_index import OPENSEARCH_SERVICE
from facewatch.config import AlertSettings, opensearch_base_url
from facewatch_cli import stack_outputs
from facewatch_cli.aws import session_for
from facewatch_cli.main import CommandError

if TYPE_CHECKING:
    import requests
    from requests_aws4auth import AWS4Auth

HTTP_TIMEOUT_SECONDS = 30
DASHBOARDS_PATH = "/_dashboards"
# Dashboards refuses state-changing API calls without it (its CSRF protection).
DASHBOARDS_XSRF_HEADER = {"osd-xsrf": "true"}
DEFAULT_INDEX_PREFIX: str = AlertSettings.model_fields["opensearch_index"].default
INDEX_PREFIX = re.compile(r"[a-z0-9][a-z0-9_-]{0,200}")  # template.yaml: OpenSearchIndex AllowedPattern
OPENSEARCH_ENDPOINT = stack_outputs.StackResource(
    "--endpoint", "OpenSearchEndpoint", "the OpenSearch domain: its endpoint host name or URL"
)
# search-<name>-<id>.<region>.es.amazonaws.com (vpc-... for VPC domains; .com.cn in China)
_DOMAIN_HOST_REGION = re.compile(r"\.(?P<region>[a-z]{2}(-[a-z]+)+-\d+)\.es\.amazonaws\.com(\.cn)?$")


def index_prefix(value: str) -> str:
    if not INDEX_PREFIX.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not an index name (lower-case letters, digits, - and _)")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    stack_outputs.add_arguments(parser, OPENSEARCH_ENDPOINT)
    parser.add_argument(
        "--index-prefix",
        type=index_prefix,
        default=DEFAULT_INDEX_PREFIX,
        help=f"the stack's OpenSearchIndex parameter; alerts are in PREFIX-YYYY.MM (default: {DEFAULT_INDEX_PREFIX})",
    )


def region_of_host(host: str) -> str | None:
    """The Region in an OpenSearch Service endpoint's name: a signature for any other Region is refused."""
    match = _DOMAIN_HOST_REGION.search(host)
    return match["region"] if match else None


def _detail(response: requests.Response) -> str:
    """What the server said: AWS ({"Message"}), Dashboards ({"message"}) or OpenSearch ({"error"})."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("reason") or error.get("type") or error)
        return str(body.get("Message") or body.get("message") or error or body)
    return str(body)


class OpenSearchHttp:
    """One domain, signed for service es in its Region with the operator's (refreshable) credentials."""

    def __init__(self, base_url: str, region: str, auth: AWS4Auth) -> None:
        self.base_url = base_url
        self.region = region
        self._auth = auth

    @property
    def public_url(self) -> str:
        """The base URL as a person types it (no default port)."""
        parts = urlsplit(self.base_url)
        default_port = {"https": 443, "http": 80}[parts.scheme]
        return f"{parts.scheme}://{parts.hostname}" if parts.port == default_port else self.base_url

    @property
    def dashboards_url(self) -> str:
        return self.public_url + DASHBOARDS_PATH

    def search(self, index_pattern: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send("POST", f"/{index_pattern}/_search", json=body)

    def dashboards_form(
        self, api_path: str, *, file_name: str, file: bytes, fields: dict[str, str] | None = None, query: str = ""
    ) -> dict[str, Any]:
        """POST a multipart form to a Dashboards API (e.g. /api/saved_objects/_import)."""
        files: dict[str, Any] = {"file": (file_name, file, "application/ndjson")}
        files.update({name: (None, value) for name, value in (fields or {}).items()})
        path = f"{DASHBOARDS_PATH}{api_path}{'?' + query if query else ''}"
        return self._send("POST", path, files=files, headers=DASHBOARDS_XSRF_HEADER)

    def _send(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        import requests

        try:
            response = requests.request(
                method, self.base_url + path, auth=self._auth, timeout=HTTP_TIMEOUT_SECONDS, **options
            )
        except requests.RequestException as error:
            raise CommandError(f"cannot reach {self.public_url}: {type(error).__name__}") from error
        shown = path.split("?")[0]
        if response.status_code in (401, 403):
            raise CommandError(
                f"the domain refused {method} {shown} (HTTP {response.status_code}): {_detail(response).rstrip('.')}. "
                "Its access policy must allow your AWS identity "
                "(see docs/alerts-and-messages.md, 'Dashboards and alert search')"
            )
        if response.status_code >= 400:
            raise CommandError(f"{method} {shown} failed (HTTP {response.status_code}): {_detail(response)}")
        try:
            body = response.json()
        except ValueError as error:
            raise CommandError(f"{method} {shown} answered HTTP {response.status_code} without JSON") from error
        if not isinstance(body, dict):
            raise CommandError(f"{method} {shown} answered with JSON that is not an object")
        return body


def connect(args: argparse.Namespace) -> OpenSearchHttp:
    """The domain named by --endpoint (or --stack's OpenSearchEndpoint output), signed for its Region."""
    from requests_aws4auth import AWS4Auth

    endpoint = stack_outputs.StackOutputs(args).require(OPENSEARCH_ENDPOINT)
    base_url = opensearch_base_url(endpoint)
    if base_url is None:
        raise CommandError(f"--endpoint {endpoint!r} is not a host name or an http(s)://host[:port] URL")
    session = session_for(args)
    credentials = session.get_credentials()
    if credentials is None:
        raise CommandError(
            "no AWS credentials found (set AWS_PROFILE or use --profile, or log in with `aws sso login`)"
        )
    region = region_of_host(urlsplit(base_url).hostname or "") or session.region_name
    if not region:
        raise CommandError("no AWS Region for the signature: use --region or set AWS_REGION")
    auth = AWS4Auth(region=region, service=OPENSEARCH_SERVICE, refreshable_credentials=credentials)
    return OpenSearchHttp(base_url, region, auth)
