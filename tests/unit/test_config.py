"""AlertSettings: the alert stage's environment contract, read once."""

from __future__ import annotations

import pytest

from facewatch.config import AlertSettings, DetectorSettings, SettingsError

REQUIRED = {
    "DEDUP_TABLE_NAME": "facewatch-DedupTable",
    "CLIP_BUCKET_NAME": "facewatch-clips",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:facewatch-AlertTopic",
    "ALERT_DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/facewatch-AlertDLQ",
    "INDEX_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/facewatch-IndexQueue",
    "INDEX_DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/facewatch-IndexDLQ",
    "CAMERA_TABLE_NAME": "facewatch-CameraTable",
}


def settings(**environ: str) -> AlertSettings:
    return AlertSettings.from_environ({**REQUIRED, **environ})


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        # what AWS::OpenSearchService::Domain's DomainEndpoint attribute gives: a host, no scheme
        (
            "search-facewatch-abc123.us-east-1.es.amazonaws.com",
            "https://search-facewatch-abc123.us-east-1.es.amazonaws.com:443",
        ),
        (
            "vpc-facewatch-abc123.us-east-1.es.amazonaws.com/",
            "https://vpc-facewatch-abc123.us-east-1.es.amazonaws.com:443",
        ),
    ],
)
def test_bare_host_endpoint_means_https_on_443(endpoint: str, url: str) -> None:
    assert settings(OPENSEARCH_ENDPOINT=endpoint).opensearch_url == url


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("http://127.0.0.1:9200", "http://127.0.0.1:9200"),
        ("https://search.internal.example:9443/", "https://search.internal.example:9443"),
        ("https://search.internal.example", "https://search.internal.example:443"),
        ("http://localhost", "http://localhost:80"),
    ],
)
def test_full_url_endpoint_keeps_its_scheme_and_port(endpoint: str, url: str) -> None:
    assert settings(OPENSEARCH_ENDPOINT=endpoint).opensearch_url == url


@pytest.mark.parametrize(
    "endpoint",
    [
        "not a url",
        "!!!",
        "ftp://search.example",
        "https://",
        "http://search.example:99999",
        "https://search.example/face-alerts",  # a path would be dropped without a word
        "https://admin:secret@search.example",
        "search.example/face-alerts",
    ],
)
def test_garbage_endpoint_is_rejected_at_start(endpoint: str) -> None:
    with pytest.raises(SettingsError, match="OPENSEARCH_ENDPOINT"):
        settings(OPENSEARCH_ENDPOINT=endpoint)


def test_empty_endpoint_means_no_indexing() -> None:
    # the template's default "" reaches the function as an empty variable
    assert settings(OPENSEARCH_ENDPOINT="").opensearch_url is None


def test_clip_settings_default_to_the_documented_values() -> None:
    alert = settings()

    assert (alert.clip_pre_roll_seconds, alert.clip_post_roll_seconds) == (5.0, 10.0)
    assert alert.clip_max_attempts == 5
    assert alert.clip_url_expiry_seconds == 3600
    assert alert.opensearch_index == "face-alerts"


def test_clip_link_longer_than_a_sigv4_link_can_live_is_rejected() -> None:
    with pytest.raises(SettingsError, match="CLIP_URL_EXPIRY_SECONDS"):
        settings(CLIP_URL_EXPIRY_SECONDS=str(7 * 86_400 + 1))


def test_index_prefix_must_be_a_valid_index_name() -> None:
    with pytest.raises(SettingsError, match="OPENSEARCH_INDEX"):
        settings(OPENSEARCH_INDEX="Face Alerts")


def test_missing_required_setting_is_named() -> None:
    environ = {name: value for name, value in REQUIRED.items() if name != "ALERT_TOPIC_ARN"}

    with pytest.raises(SettingsError, match="ALERT_TOPIC_ARN"):
        AlertSettings.from_environ(environ)


DETECTOR_REQUIRED = {
    "DEDUP_TABLE_NAME": "facewatch-DedupTable",
    "ALERT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/facewatch-AlertQueue",
    "QUARANTINE_BUCKET_NAME": "facewatch-quarantine",
}


def test_a_malformed_value_is_one_line_naming_the_variable_and_the_value() -> None:
    with pytest.raises(SettingsError) as raised:
        DetectorSettings.from_environ({**DETECTOR_REQUIRED, "MIN_FACE_CONFIDENCE": "ninety"})

    message = str(raised.value)
    assert "\n" not in message
    assert "MIN_FACE_CONFIDENCE='ninety'" in message
    assert message.startswith("invalid environment for DetectorSettings: ")


def test_every_bad_variable_is_named_in_the_same_error() -> None:
    environ = {"DEDUP_TABLE_NAME": "t", "QUARANTINE_BUCKET_NAME": "b", "DEDUP_WINDOW_SECONDS": "-1"}

    with pytest.raises(SettingsError) as raised:
        DetectorSettings.from_environ(environ)

    assert "ALERT_QUEUE_URL is not set" in str(raised.value)
    assert "DEDUP_WINDOW_SECONDS='-1'" in str(raised.value)
