"""Face boxes as ratios of the frame, the convention of Rekognition's BoundingBox."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PixelRect:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle as ratios of the frame's width and height (Left, Top, Width, Height)."""

    left: float
    top: float
    width: float
    height: float

    @classmethod
    def from_pixels(cls, x: float, y: float, width: float, height: float, frame_width: int, frame_height: int) -> Box:
        return cls(x / frame_width, y / frame_height, width / frame_width, height / frame_height)

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def centre(self) -> tuple[float, float]:
        return self.left + self.width / 2, self.top + self.height / 2

    def contains(self, x: float, y: float) -> bool:
        return self.left <= x <= self.right and self.top <= y <= self.bottom

    def expanded(self, margin: float) -> Box:
        """Grown by `margin` of its size on every side, then clipped to the frame."""
        left = max(0.0, self.left - self.width * margin)
        top = max(0.0, self.top - self.height * margin)
        right = min(1.0, self.right + self.width * margin)
        bottom = min(1.0, self.bottom + self.height * margin)
        return Box(left, top, max(0.0, right - left), max(0.0, bottom - top))

    def within(self, outer: Box) -> Box:
        """This box, given as ratios of `outer` (a crop), as ratios of the frame `outer` is a ratio of."""
        return Box(
            outer.left + self.left * outer.width,
            outer.top + self.top * outer.height,
            self.width * outer.width,
            self.height * outer.height,
        )

    def to_pixels(self, frame_width: int, frame_height: int) -> PixelRect:
        """The pixel rectangle this box covers, clipped to the frame (may be empty)."""
        x0 = min(frame_width, max(0, round(self.left * frame_width)))
        y0 = min(frame_height, max(0, round(self.top * frame_height)))
        x1 = min(frame_width, max(x0, round(self.right * frame_width)))
        y1 = min(frame_height, max(y0, round(self.bottom * frame_height)))
        return PixelRect(x0, y0, x1 - x0, y1 - y0)


def iou(a: Box, b: Box) -> float:
    """Intersection over union, 0 for disjoint boxes."""
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    union = a.area + b.area - overlap
    return overlap / union if union > 0 else 0.0
