"""Image mode: the edge sampler that turns camera frames into face-search records.

For accounts without Rekognition streaming video analysis. A long-running process on the site proxy,
beside the KVS producer: it samples frames from a camera, runs a local face detector so that frames
without a face cost nothing in the cloud, asks Rekognition Image (DetectFaces, then SearchUsersByImage or
SearchFacesByImage) about the rest, and writes one record per analysed frame to the stack's face-search
Kinesis data stream (FaceSearchStream) in the shape a
face-search stream processor writes, so the detector and every stage after it run unchanged.

Pure decisions (sampling, tracks, budget, backoff, record shape) are small modules tested with plain
values; `rekognition`, `kinesis`, `kinesis_video` and `status` own the AWS clients; `frames` owns OpenCV's
VideoCapture. Never deployed to Lambda.
"""

from facewatch_sampler.native_logs import quiet_native_libraries

# Before any module of the package imports cv2 (see native_logs).
quiet_native_libraries()
