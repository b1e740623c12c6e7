"""Camera-like JPEG frames for snapshot tests, drawn with Pillow (no image files in the repository)."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageDraw


def frame_jpeg(width: int = 640, height: int = 360) -> bytes:
    """A grey frame with a light oval where a face would be (the sample job's box, left 0.612, top 0.284)."""
    image = Image.new("RGB", (width, height), (90, 96, 104))
    draw = ImageDraw.Draw(image)
    draw.ellipse(
        (round(0.612 * width), round(0.284 * height), round(0.683 * width), round(0.446 * height)),
        fill=(224, 188, 160),
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def as_image_content(jpeg: bytes) -> str:
    """GetImages' ImageContent: the image base64-encoded."""
    return base64.b64encode(jpeg).decode("ascii")


def jpeg_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        return image.size
