"""One sampled frame -> the faces to write, at the fewest Rekognition calls.

1. The local detector finds face boxes; none -> no call (most frames of most cameras).
2. The boxes are linked to tracks; when every face's track has a recent result -> no call.
3. Throttled or failed recently -> the frame is dropped until the backoff has passed.
4. The camera's budget (its calls/minute and its share of the account's TPS) must cover DetectFaces and
   one search, else the frame is dropped and counted over budget; faces beyond what it covers wait.
5. DetectFaces on the downscaled frame (mode "always"), then a search on a crop of each face whose track
   has no recent result (SearchUsersByImage, and SearchFacesByImage when no user matched, or
   SearchFacesByImage alone); faces of tracks with one reuse its matches. In mode "never" the
   local boxes are searched directly, one call fewer per frame, without pose and quality.

Every time is the frame's time, so a file replays exactly as the camera would have run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from facewatch_sampler.backoff import Backoff
from facewatch_sampler.budget import Budget
from facewatch_sampler.frames import Frame, Image
from facewatch_sampler.geometry import Box
from facewatch_sampler.imaging import crop_face, encode_jpeg
from facewatch_sampler.observability import logger
from facewatch_sampler.records import AnalysedFace
from facewatch_sampler.rekognition import FaceService, RekognitionError, SearchedFace
from facewatch_sampler.settings import DetectFacesMode, SearchMode
from facewatch_sampler.stats import SamplerStats
from facewatch_sampler.tracks import TrackCache, TrackedFace


class FrameOutcome(StrEnum):
    NO_FACE = "no_face"  # the local detector found none: no call
    CACHED = "cached"  # every face's track was searched recently: no call
    BACKING_OFF = "backing_off"  # throttled or failed recently: dropped
    OVER_BUDGET = "over_budget"  # the camera's calls for this minute are spent: dropped
    FAILED = "failed"  # a call failed: dropped, backing off
    NOT_CONFIRMED = "not_confirmed"  # Rekognition found no face where the local detector did
    ANALYSED = "analysed"  # faces to write


@dataclass(frozen=True, slots=True)
class TrackResult:
    """A track's last answer: the face as analysed, or None when Rekognition found no face there."""

    face: AnalysedFace | None


@dataclass(frozen=True, slots=True)
class Analysis:
    outcome: FrameOutcome
    faces: tuple[AnalysedFace, ...] = ()


@dataclass(frozen=True, slots=True)
class _Search:
    searched: bool  # False: over budget, or the box is out of the frame
    face: AnalysedFace | None = None  # None when searched: Rekognition found no face in the crop


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    detect_faces: DetectFacesMode
    research_after_seconds: float
    no_face_recheck_seconds: float
    max_image_side_px: int
    jpeg_quality: int
    search: SearchMode = SearchMode.FACES


class LocalDetector(Protocol):
    def detect(self, image: Image) -> list[Box]: ...


def link_faces(faces: Sequence[AnalysedFace], tracked: Sequence[TrackedFace[TrackResult]]) -> dict[int, int]:
    """Face index -> index in `tracked` of the local box holding the face's centre (nearest centre first).

    Rekognition's boxes and the cascade's are cut differently (Rekognition's are taller), so overlap is a
    poor test between them; a centre inside the other box is a robust one."""
    candidates = []
    for face_index, face in enumerate(faces):
        x, y = face.box.centre
        for track_index, track in enumerate(tracked):
            if track.box.contains(x, y):
                cx, cy = track.box.centre
                candidates.append(((cx - x) ** 2 + (cy - y) ** 2, face_index, track_index))
    links: dict[int, int] = {}
    used: set[int] = set()
    for _, face_index, track_index in sorted(candidates):
        if face_index not in links and track_index not in used:
            links[face_index] = track_index
            used.add(track_index)
    return links


class FrameAnalyser:
    def __init__(
        self,
        settings: AnalysisSettings,
        *,
        detector: LocalDetector,
        faces: FaceService,
        tracks: TrackCache[TrackResult],
        budget: Budget,
        backoff: Backoff,
        stats: SamplerStats,
    ) -> None:
        self._settings = settings
        self._detector = detector
        self._faces = faces
        self._tracks = tracks
        self._budget = budget
        self._backoff = backoff
        self._stats = stats

    def analyse(self, frame: Frame) -> Analysis:
        outcome = self._analyse(frame)
        stats = self._stats
        match outcome.outcome:
            case FrameOutcome.NO_FACE:
                stats.frames_without_face += 1
            case FrameOutcome.CACHED:
                stats.frames_cached += 1
            case FrameOutcome.BACKING_OFF:
                stats.frames_backing_off += 1
            case FrameOutcome.OVER_BUDGET:
                stats.frames_over_budget += 1
            case FrameOutcome.FAILED:
                stats.frames_failed += 1
            case FrameOutcome.NOT_CONFIRMED:
                stats.frames_not_confirmed += 1
            case FrameOutcome.ANALYSED:
                stats.frames_analysed += 1
        return outcome

    def _analyse(self, frame: Frame) -> Analysis:
        now = frame.time
        tracked = self._tracks.observe(self._detector.detect(frame.image), now)
        if not tracked:
            return Analysis(FrameOutcome.NO_FACE)
        uncached = [track for track in tracked if track.cached is None]
        if not uncached:
            return Analysis(FrameOutcome.CACHED)
        if not self._backoff.ready(now):
            return Analysis(FrameOutcome.BACKING_OFF)
        always = self._settings.detect_faces is DetectFacesMode.ALWAYS
        if self._budget.remaining(now) < 1 + (1 if always else 0):
            return Analysis(FrameOutcome.OVER_BUDGET)
        try:
            faces = self._detect_and_search(frame, tracked) if always else self._search_local(frame, uncached)
        except RekognitionError as error:
            delay = self._backoff.fail(now)
            self._stats.rekognition_errors[error.code] += 1
            logger.warning(
                "rekognition call failed; dropping frames while backing off",
                extra={
                    "camera_id": self._stats.camera_id,
                    "operation": error.operation,
                    "error": error.code,
                    "throttled": error.throttled,
                    "backoff_s": round(delay, 2),
                },
            )
            return Analysis(FrameOutcome.FAILED)
        self._backoff.succeed()
        if not faces:
            return Analysis(FrameOutcome.NOT_CONFIRMED)
        return Analysis(FrameOutcome.ANALYSED, tuple(faces))

    def _call(self, operation: str, now: float) -> None:
        self._budget.try_spend(1, now)
        self._stats.rekognition_calls[operation] += 1

    def _search(self, frame: Frame, box: Box) -> _Search:
        """SearchFacesByImage on a crop of the full frame around `box` (the crop's box maps the answer back)."""
        if self._budget.remaining(frame.time) < 1:
            self._stats.faces_over_budget += 1
            return _Search(searched=False)
        crop = crop_face(
            frame.image, box, max_side_px=self._settings.max_image_side_px, quality=self._settings.jpeg_quality
        )
        if crop is None:
            return _Search(searched=False)
        self._stats.faces_searched += 1
        searched = self._search_crop(crop.jpeg, frame.time)
        if searched is None:
            self._stats.faces_unconfirmed += 1
            return _Search(searched=True)
        face = AnalysedFace(box=searched.box.within(crop.box), confidence=searched.confidence, matches=searched.matches)
        return _Search(searched=True, face=face)

    def _search_crop(self, jpeg: bytes, now: float) -> SearchedFace | None:
        """Users first when enabled; a face no user matched is searched among the faces while the budget
        allows (an employee enrolled before users existed), else reported as the user search found it."""
        if self._settings.search is SearchMode.USERS:
            self._call("SearchUsersByImage", now)
            searched = self._faces.search_user(jpeg)
            if searched is None or searched.matches or self._budget.remaining(now) < 1:
                return searched
        self._call("SearchFacesByImage", now)
        return self._faces.search_face(jpeg)

    def _detect_and_search(self, frame: Frame, tracked: list[TrackedFace[TrackResult]]) -> list[AnalysedFace]:
        now = frame.time
        jpeg = encode_jpeg(
            frame.image, max_side_px=self._settings.max_image_side_px, quality=self._settings.jpeg_quality
        )
        self._call("DetectFaces", now)
        detected = self._faces.detect_faces(jpeg)
        links = link_faces(detected, tracked)
        results: list[AnalysedFace] = []
        for index, face in enumerate(detected):
            track = tracked[links[index]] if index in links else None
            known = track.cached.face if track is not None and track.cached is not None else None
            if known is not None:
                self._stats.faces_cached += 1
                results.append(dataclasses.replace(face, matches=known.matches))
                continue
            search = self._search(frame, face.box)
            if search.face is None:
                # Not searched (budget) or not confirmed: its identity is unknown, so it is left out. A face
                # the search cannot find is not asked about again until the track's next re-search.
                if search.searched and track is not None:
                    self._tracks.remember(track.track_id, TrackResult(None), now, self._settings.research_after_seconds)
                continue
            analysed = dataclasses.replace(face, matches=search.face.matches)
            results.append(analysed)
            if track is not None:
                self._tracks.remember(track.track_id, TrackResult(analysed), now, self._settings.research_after_seconds)
        # A local box DetectFaces found no face in (a poster, a pattern): not asked about again for a while.
        linked = {links[index] for index in links}
        for track_index, track in enumerate(tracked):
            if track_index not in linked and track.cached is None:
                self._tracks.remember(track.track_id, TrackResult(None), now, self._settings.no_face_recheck_seconds)
        return results

    def _search_local(self, frame: Frame, uncached: list[TrackedFace[TrackResult]]) -> list[AnalysedFace]:
        results: list[AnalysedFace] = []
        for track in uncached:
            search = self._search(frame, track.box)
            if search.face is not None:
                results.append(search.face)
                self._tracks.remember(
                    track.track_id, TrackResult(search.face), frame.time, self._settings.research_after_seconds
                )
            elif search.searched:  # the cascade's box holds no face Rekognition can find
                self._tracks.remember(
                    track.track_id, TrackResult(None), frame.time, self._settings.no_face_recheck_seconds
                )
        return results
