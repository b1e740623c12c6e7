"""The alert index (OpenSearch): one document per alert, id = alert id, signed with SigV4 (service es).

opensearch-py and requests are imported on the first index call, not at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from facewatch.adapters import aws
from facewatch.domain.document import index_name, index_template

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

# Per request (connect, then read). A timed-out request is not retried by the client (IndexQueue retries it
# with a backoff), so one document costs at most two requests' timeouts (index template, then document):
# IndexJobs' BatchSize x that stays inside AlertFunction's Timeout.
OPENSEARCH_TIMEOUT_SECONDS = 5
OPENSEARCH_SERVICE = "es"  # managed domains; "aoss" would be OpenSearch Serverless


class IndexUnavailableError(Exception):
    """OpenSearch did not take the document (refused, timed out, or answered with an error); `code` names
    the opensearch-py exception."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class AlertIndex:
    def __init__(self, base_url: str, index_prefix: str, region: str, client: OpenSearch | None = None) -> None:
        self._base_url = base_url
        self._prefix = index_prefix
        self._region = region
        self._client = client
        self._template_installed = False

    def _opensearch(self) -> OpenSearch:
        if self._client is None:
            from opensearchpy import OpenSearch, RequestsHttpConnection
            from requests_aws4auth import AWS4Auth

            # Refreshable credentials: the signer follows the role's rotating keys instead of a frozen copy.
            auth = AWS4Auth(
                region=self._region,
                service=OPENSEARCH_SERVICE,
                refreshable_credentials=aws.session().get_credentials(),
            )
            parts = urlsplit(self._base_url)
            https = parts.scheme == "https"
            self._client = OpenSearch(
                hosts=[{"host": parts.hostname, "port": parts.port, "scheme": parts.scheme}],
                http_auth=auth,
                use_ssl=https,
                verify_certs=https,
                connection_class=RequestsHttpConnection,
                timeout=OPENSEARCH_TIMEOUT_SECONDS,
                max_retries=1,  # a refused connection or a 502/503/504, once
                retry_on_timeout=False,
            )
        return self._client

    def index(self, alert_id: str, frame_time: float, document: dict[str, Any]) -> str:
        """Writes (or overwrites) the alert's document; returns the index it went to."""
        from opensearchpy.exceptions import OpenSearchException

        target = index_name(self._prefix, frame_time)
        try:
            client = self._opensearch()
            if not self._template_installed:
                # Idempotent PUT, once per container, before the first write.
                client.indices.put_index_template(name=self._prefix, body=index_template(self._prefix))
                self._template_installed = True
            client.index(index=target, id=alert_id, body=document)
        except OpenSearchException as error:
            raise IndexUnavailableError(type(error).__name__) from error
        return target
