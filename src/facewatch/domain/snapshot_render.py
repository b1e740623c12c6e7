"""Rendering a snapshot: the frame with the face box drawn, and a padded crop of the face. Bytes in, bytes
out (Pillow); nothing here reads a clock, the network or the environment."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, UnidentifiedImageError

from facewatch.domain.alert_job import FaceBox

# GetImages answers at most 3840x2160; anything much larger is not a camera frame (and a decompression bomb
# must fail before it is decoded).
MAX_SOURCE_PIXELS = 4096 * 4096
FRAME_MAX_SIDE_PX = 1280
CROP_MAX_SIDE_PX = 480
# The crop shows the face and some of the head and shoulders around it: this share of the face's size on
# every side.
CROP_PADDING = 0.5
JPEG_QUALITY = 85
BOX_COLOUR = (255, 48, 48)


class SnapshotRenderError(Exception):
    """The frame could not be decoded (its reason names the problem, never the content)."""


@dataclass(frozen=True, slots=True)
class RenderedSnapshot:
    frame_jpeg: bytes
    crop_jpeg: bytes
    width: int
    height: int


def _pixels(box: FaceBox, width: int, height: int, padding: float) -> tuple[int, int, int, int]:
    pad_x, pad_y = box.width * padding, box.height * padding
    left = max(0.0, box.left - pad_x)
    top = max(0.0, box.top - pad_y)
    right = min(1.0, box.left + box.width + pad_x)
    bottom = min(1.0, box.top + box.height + pad_y)
    return round(left * width), round(top * height), round(right * width), round(bottom * height)


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def render_snapshot(image_bytes: bytes, box: FaceBox) -> RenderedSnapshot:
    try:
        with Image.open(io.BytesIO(image_bytes)) as source:
            width, height = source.size
            if width * height > MAX_SOURCE_PIXELS:
                raise SnapshotRenderError(f"the frame is {width}x{height} px, larger than any camera frame")
            frame = source.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise SnapshotRenderError(f"the frame is not a readable image ({type(error).__name__})") from None
    left, top, right, bottom = _pixels(box, width, height, padding=CROP_PADDING)
    if right - left < 2 or bottom - top < 2:
        raise SnapshotRenderError("the face box is outside the frame")
    crop = frame.crop((left, top, right, bottom))
    crop.thumbnail((CROP_MAX_SIDE_PX, CROP_MAX_SIDE_PX))
    drawn = frame.copy()
    line = max(2, round(max(width, height) / 320))
    face = _pixels(box, width, height, padding=0.0)
    ImageDraw.Draw(drawn).rectangle(face, outline=BOX_COLOUR, width=line)
    drawn.thumbnail((FRAME_MAX_SIDE_PX, FRAME_MAX_SIDE_PX))
    return RenderedSnapshot(frame_jpeg=_jpeg(drawn), crop_jpeg=_jpeg(crop), width=width, height=height)
