"""What a sampled frame costs: the local detector, the track cache, the budget guard and the backoff
decide which Rekognition calls are made. Plain fakes for the detector and Rekognition."""

from __future__ import annotations

from facewatch_sampler.analysis import AnalysisSettings, FrameAnalyser, FrameOutcome, TrackResult
from facewatch_sampler.backoff import Backoff
from facewatch_sampler.budget import CallBudget
from facewatch_sampler.geometry import Box
from facewatch_sampler.rekognition import RekognitionError
from facewatch_sampler.settings import DetectFacesMode
from facewatch_sampler.stats import SamplerStats
from facewatch_sampler.tracks import TrackCache
from tests.sampler.fakes import EMPLOYEE_MATCH, FakeFaces, FixedBoxes, frame_at

FACE = Box(0.40, 0.30, 0.10, 0.18)
OTHER_FACE = Box(0.70, 0.30, 0.10, 0.18)
THROTTLED = RekognitionError("SearchFacesByImage", "ThrottlingException", throttled=True)


def make_analyser(
    faces: FakeFaces,
    detector: FixedBoxes,
    *,
    mode: DetectFacesMode = DetectFacesMode.ALWAYS,
    research_after_seconds: float = 10.0,
    max_calls_per_minute: int = 1000,
    stats: SamplerStats | None = None,
) -> FrameAnalyser:
    return FrameAnalyser(
        AnalysisSettings(
            detect_faces=mode,
            research_after_seconds=research_after_seconds,
            no_face_recheck_seconds=60.0,
            max_image_side_px=1280,
            jpeg_quality=90,
        ),
        detector=detector,
        faces=faces,
        tracks=TrackCache[TrackResult](iou_threshold=0.3, forget_after_seconds=2.0),
        budget=CallBudget(max_calls_per_minute),
        backoff=Backoff(base_seconds=2.0, max_seconds=30.0, jitter=lambda: 1.0),
        stats=stats or SamplerStats(camera_id="lobby"),
    )


def run_frames(analyser: FrameAnalyser, seconds: float, fps: float = 2.0) -> list[FrameOutcome]:
    return [analyser.analyse(frame_at(i / fps, i)).outcome for i in range(round(seconds * fps))]


def test_a_frame_without_a_face_costs_no_call() -> None:
    faces = FakeFaces()

    outcomes = run_frames(make_analyser(faces, FixedBoxes()), seconds=5)

    assert set(outcomes) == {FrameOutcome.NO_FACE}
    assert faces.calls == []


def test_a_person_standing_still_is_searched_once_per_research_interval_not_every_frame() -> None:
    # given a face in view for 20 s, sampled at 2 frames/s (40 frames)
    faces = FakeFaces(faces=[FACE])

    # when
    outcomes = run_frames(make_analyser(faces, FixedBoxes(FACE), research_after_seconds=10.0), seconds=20)

    # then: DetectFaces + SearchFacesByImage at t=0 and t=10 only, instead of on all 40 frames
    assert faces.calls == ["DetectFaces", "SearchFacesByImage"] * 2
    assert outcomes.count(FrameOutcome.ANALYSED) == 2
    assert outcomes.count(FrameOutcome.CACHED) == 38


def test_without_the_track_cache_every_frame_with_a_face_costs_two_calls() -> None:
    faces = FakeFaces(faces=[FACE])

    run_frames(make_analyser(faces, FixedBoxes(FACE), research_after_seconds=0.0), seconds=20)

    assert len(faces.calls) == 80


def test_a_known_face_keeps_its_match_while_a_newcomer_is_searched() -> None:
    # given an employee searched at t=0
    faces = FakeFaces(faces=[FACE], matches=(EMPLOYEE_MATCH,))
    detector = FixedBoxes(FACE)
    analyser = make_analyser(faces, detector)
    analyser.analyse(frame_at(0.0))

    # when a second person walks in next to them (the service now matches no one)
    faces.faces, faces.matches = [FACE, OTHER_FACE], ()
    detector.boxes = [FACE, OTHER_FACE]
    faces.calls.clear()
    analysis = analyser.analyse(frame_at(0.5))

    # then only the newcomer is searched; the record keeps the employee's match
    assert faces.calls == ["DetectFaces", "SearchFacesByImage"]
    assert analysis.outcome is FrameOutcome.ANALYSED
    assert [face.matches for face in analysis.faces] == [(EMPLOYEE_MATCH,), ()]


def test_the_budget_guard_caps_the_calls_a_camera_makes_per_minute() -> None:
    # given a crowd (a new face every frame: nothing to reuse) and a budget of 5 calls a minute
    faces = FakeFaces(faces=[FACE])
    detector = FixedBoxes(FACE)
    analyser = make_analyser(faces, detector, research_after_seconds=0.0, max_calls_per_minute=5)

    # when 2 minutes pass at 2 frames/s
    outcomes = run_frames(analyser, seconds=120)

    # then 2 frames a minute are analysed (2 calls each, the 5th call never fits a frame), the rest dropped
    assert outcomes.count(FrameOutcome.ANALYSED) == 4
    assert outcomes.count(FrameOutcome.OVER_BUDGET) == 236
    assert len(faces.calls) == 8


def test_a_frame_the_budget_covers_in_part_searches_the_faces_it_can_and_the_rest_wait() -> None:
    # given two new faces and a budget of 2 calls: DetectFaces and one search
    faces = FakeFaces(faces=[FACE, OTHER_FACE])
    stats = SamplerStats(camera_id="lobby")
    analyser = make_analyser(faces, FixedBoxes(FACE, OTHER_FACE), max_calls_per_minute=2, stats=stats)

    analysis = analyser.analyse(frame_at(0.0))

    # then one face is analysed, the other counted over budget (its track stays unsearched for a later frame)
    assert faces.calls == ["DetectFaces", "SearchFacesByImage"]
    assert len(analysis.faces) == 1
    assert stats.faces_over_budget == 1


def test_a_frame_is_dropped_before_any_call_when_the_budget_cannot_cover_detect_and_one_search() -> None:
    faces = FakeFaces(faces=[FACE])
    analyser = make_analyser(faces, FixedBoxes(FACE), max_calls_per_minute=1)

    analysis = analyser.analyse(frame_at(0.0))

    assert analysis.outcome is FrameOutcome.OVER_BUDGET
    assert faces.calls == []


def test_a_face_rekognition_finds_beyond_the_budget_is_left_out_not_reported_unknown() -> None:
    # given the local detector sees one face, Rekognition two, and the budget covers one search
    faces = FakeFaces(faces=[FACE, OTHER_FACE])
    stats = SamplerStats(camera_id="lobby")
    analyser = make_analyser(faces, FixedBoxes(FACE), max_calls_per_minute=2, stats=stats)

    analysis = analyser.analyse(frame_at(0.0))

    assert faces.calls == ["DetectFaces", "SearchFacesByImage"]
    assert [face.box for face in analysis.faces] == [FACE]
    assert stats.faces_over_budget == 1


def test_throttling_drops_frames_until_the_backoff_has_passed() -> None:
    # given Rekognition throttles the first search
    faces = FakeFaces(faces=[FACE], errors=[None, THROTTLED])
    stats = SamplerStats(camera_id="lobby")
    analyser = make_analyser(faces, FixedBoxes(FACE), stats=stats)

    # when frames keep coming every half second
    outcomes = [analyser.analyse(frame_at(t)).outcome for t in (0.0, 0.5, 1.0, 1.5, 2.0)]

    # then the frames inside the 2 s backoff cost nothing; the first one after it is analysed
    assert outcomes == [
        FrameOutcome.FAILED,
        FrameOutcome.BACKING_OFF,
        FrameOutcome.BACKING_OFF,
        FrameOutcome.BACKING_OFF,
        FrameOutcome.ANALYSED,
    ]
    assert faces.calls == ["DetectFaces", "SearchFacesByImage", "DetectFaces", "SearchFacesByImage"]
    assert stats.rekognition_errors == {"ThrottlingException": 1}


def test_a_local_box_rekognition_finds_no_face_in_is_not_asked_about_again_for_a_while() -> None:
    # given a poster the cascade takes for a face
    faces = FakeFaces(faces=[])

    outcomes = run_frames(make_analyser(faces, FixedBoxes(FACE)), seconds=30)

    assert faces.calls == ["DetectFaces"]
    assert outcomes[0] is FrameOutcome.NOT_CONFIRMED
    assert set(outcomes[1:]) == {FrameOutcome.CACHED}


def test_in_never_mode_the_local_boxes_are_searched_directly() -> None:
    faces = FakeFaces(matches=(EMPLOYEE_MATCH,))

    analysis = make_analyser(faces, FixedBoxes(FACE), mode=DetectFacesMode.NEVER).analyse(frame_at(0.0))

    assert faces.calls == ["SearchFacesByImage"]
    (face,) = analysis.faces
    assert face.matches == (EMPLOYEE_MATCH,)
    assert face.pose is None
    # the searched face's box (the middle half of the crop) maps back inside the local box's crop
    assert FACE.contains(*face.box.centre)


def test_in_never_mode_a_face_the_search_cannot_find_is_left_out() -> None:
    faces = FakeFaces(searched_face=False)

    outcomes = run_frames(make_analyser(faces, FixedBoxes(FACE), mode=DetectFacesMode.NEVER), seconds=5)

    assert outcomes[0] is FrameOutcome.NOT_CONFIRMED
    assert faces.calls == ["SearchFacesByImage"]  # then remembered as not a face


def test_a_face_the_search_cannot_find_is_left_out_and_not_searched_again_on_every_frame() -> None:
    faces = FakeFaces(faces=[FACE], searched_face=False)

    outcomes = run_frames(make_analyser(faces, FixedBoxes(FACE)), seconds=5)

    assert outcomes[0] is FrameOutcome.NOT_CONFIRMED
    assert faces.calls == ["DetectFaces", "SearchFacesByImage"]
