"""The images sent to Rekognition: the frame as a downscaled JPEG, and face crops from the full frame."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facewatch_sampler.frames import Image
from facewatch_sampler.geometry import Box

# Rekognition Image takes at most 5 MB of image bytes (Rekognition quotas, "Amazon Rekognition Image").
MAX_IMAGE_BYTES = 5 * 1024 * 1024
# A face crop gets this much of the face's size around it on every side: SearchFacesByImage detects the
# face again in the crop and needs the whole head, not a box cut through the chin.
CROP_MARGIN = 0.4
# Crops smaller than this are scaled up: Rekognition is asked about tiny images otherwise.
MIN_CROP_SIDE_PX = 112


class ImageTooLarge(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Crop:
    jpeg: bytes
    box: Box  # the crop, as ratios of the frame


def encode_jpeg(image: Image, *, max_side_px: int, quality: int) -> bytes:
    """JPEG of the image, scaled down (never up) so its longer side is at most `max_side_px`."""
    height, width = int(image.shape[0]), int(image.shape[1])
    scale = max_side_px / max(width, height)
    if scale < 1.0:
        size = (round(width * scale), round(height * scale))
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    data = buffer.tobytes()
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"JPEG of {len(data)} bytes is over Rekognition's {MAX_IMAGE_BYTES}-byte limit")
    return data


def crop_face(image: Image, face: Box, *, max_side_px: int, quality: int) -> Crop | None:
    """The face with its margin, cut from the full-resolution frame; None when nothing of it is in view."""
    height, width = int(image.shape[0]), int(image.shape[1])
    area = face.expanded(CROP_MARGIN)
    rect = area.to_pixels(width, height)
    if rect.width < 2 or rect.height < 2:
        return None
    pixels = image[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width]
    shorter = min(rect.width, rect.height)
    if shorter < MIN_CROP_SIDE_PX:
        factor = MIN_CROP_SIDE_PX / shorter
        size = (round(rect.width * factor), round(rect.height * factor))
        pixels = np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
    jpeg = encode_jpeg(pixels, max_side_px=max_side_px, quality=quality)
    return Crop(jpeg=jpeg, box=Box.from_pixels(rect.x, rect.y, rect.width, rect.height, width, height))
