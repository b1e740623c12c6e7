"""Snapshots as decisions and pixels: the key layout, the image-mode reference checks, the rendering."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from tests.support.alerts import sample_job
from tests.support.images import frame_jpeg, jpeg_size

from facewatch.domain.alert_job import FaceBox
from facewatch.domain.snapshot import (
    GET_IMAGES_REASONS,
    EdgeSnapshot,
    ImageFailure,
    classify_image_error,
    edge_snapshot_from_record,
    edge_snapshot_key,
    edge_snapshot_problem,
    image_missing_reason,
    snapshot_keys,
)
from facewatch.domain.snapshot_render import SnapshotRenderError, render_snapshot

CAMERA = "seoul-hq-lobby-01"
OUTSIDE = f"the record's snapshot is outside edge/{CAMERA}/"
BUCKET = "facewatch-clips-123456789012-us-east-1"
BOX = FaceBox(width=0.071, height=0.162, left=0.612, top=0.284)


def test_snapshot_keys_are_the_console_contract() -> None:
    job = sample_job()  # frame at 2025-11-22 02:00:01.851 UTC

    keys = snapshot_keys(job.camera_id, job.frame_time, job.alert_id)

    assert keys.frame == f"snapshots/{job.camera_id}/2025/11/22/{job.alert_id}-frame.jpg"
    assert keys.crop == f"snapshots/{job.camera_id}/2025/11/22/{job.alert_id}-crop.jpg"


def test_an_edge_key_the_sampler_writes_passes_both_checks() -> None:
    key = edge_snapshot_key(CAMERA, 1763776801.851)

    reference = edge_snapshot_from_record({"Bucket": BUCKET, "Key": key}, CAMERA)

    assert key == f"edge/{CAMERA}/2025/11/22/1763776801851-frame.jpg"
    assert reference == EdgeSnapshot(bucket=BUCKET, key=key)
    assert edge_snapshot_problem(reference, CAMERA, BUCKET) is None


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (None, "the image-mode record names no snapshot"),
        ("edge/x.jpg", "the record's snapshot reference is not {Bucket, Key}"),
        ({"Bucket": BUCKET}, "the record's snapshot reference is not {Bucket, Key}"),
        ({"Bucket": BUCKET, "Key": 7}, "the record's snapshot reference is not {Bucket, Key}"),
        ({"Bucket": BUCKET, "Key": "edge/another-camera/f.jpg"}, OUTSIDE),
        (
            {"Bucket": BUCKET, "Key": f"edge/{CAMERA}/../other/f.jpg"},
            f"the record's snapshot is outside edge/{CAMERA}/",
        ),
        ({"Bucket": BUCKET, "Key": f"edge/{CAMERA}//f.jpg"}, OUTSIDE),
        ({"Bucket": BUCKET, "Key": f"snapshots/{CAMERA}/f.jpg"}, OUTSIDE),
        ({"Bucket": BUCKET, "Key": f"edge/{CAMERA}-2/f.jpg"}, OUTSIDE),
    ],
)
def test_a_bad_record_reference_becomes_a_reason_never_quoting_it(raw: object, problem: str) -> None:
    reference = edge_snapshot_from_record(raw, CAMERA)

    assert reference.key is None
    assert reference.problem == problem
    assert edge_snapshot_problem(reference, CAMERA, BUCKET) == problem


def test_the_alerter_refuses_a_reference_to_a_foreign_bucket_or_another_cameras_prefix() -> None:
    foreign = EdgeSnapshot(bucket="someone-elses-bucket", key=f"edge/{CAMERA}/2025/11/22/1-frame.jpg")
    other_camera = EdgeSnapshot(bucket=BUCKET, key="edge/other-camera/2025/11/22/1-frame.jpg")

    assert edge_snapshot_problem(foreign, CAMERA, BUCKET) == "the record's snapshot is in a foreign bucket"
    assert edge_snapshot_problem(other_camera, CAMERA, BUCKET) == f"the record's snapshot is outside edge/{CAMERA}/"


@pytest.mark.parametrize("code", sorted(GET_IMAGES_REASONS))
def test_every_documented_get_images_failure_has_a_reason(code: str) -> None:
    assert image_missing_reason(code).endswith(f"({code})")
    expected = ImageFailure.NOT_READY if code == "NO_MEDIA" else ImageFailure.UNAVAILABLE
    assert classify_image_error(code) is expected


def test_rendering_keeps_the_frame_shape_and_crops_around_the_face() -> None:
    rendered = render_snapshot(frame_jpeg(1920, 1080), BOX)

    assert jpeg_size(rendered.frame_jpeg) == (1280, 720)
    crop_width, crop_height = jpeg_size(rendered.crop_jpeg)
    # the face box (136x175 px) plus half its size on every side, at most 480 px a side
    assert (crop_width, crop_height) == (round(0.071 * 2 * 1920), round(0.162 * 2 * 1080))


def test_the_face_box_is_drawn_on_the_frame_and_not_on_the_crop() -> None:
    rendered = render_snapshot(frame_jpeg(640, 360), BOX)

    with Image.open(io.BytesIO(rendered.frame_jpeg)) as frame:
        edge = frame.convert("RGB").getpixel((round(0.612 * 640), round(0.35 * 360)))
    with Image.open(io.BytesIO(rendered.crop_jpeg)) as crop:
        rgb = crop.convert("RGB").tobytes()
    reds = [rgb[i : i + 3] for i in range(0, len(rgb), 3) if rgb[i] > 200 and rgb[i + 1] < 100]
    assert isinstance(edge, tuple)
    assert edge[0] > 200
    assert edge[1] < 100
    assert reds == []


@pytest.mark.parametrize(
    ("data", "box", "reason"),
    [
        (b"not a jpeg", BOX, "the frame is not a readable image (UnidentifiedImageError)"),
        (frame_jpeg(), FaceBox(width=0.1, height=0.1, left=1.5, top=0.2), "the face box is outside the frame"),
    ],
)
def test_a_frame_that_cannot_be_rendered_says_why(data: bytes, box: FaceBox, reason: str) -> None:
    with pytest.raises(SnapshotRenderError, match=r"^" + reason.replace("(", r"\(").replace(")", r"\)")):
        render_snapshot(data, box)
