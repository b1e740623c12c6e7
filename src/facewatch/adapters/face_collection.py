"""The employee face collection (Rekognition), as the console's "resolve as employee" uses it: the
alert's face crop, read by Rekognition from the clip bucket, is indexed for the employee under the same
request and quality filter as `facewatch faces enroll` (facewatch.domain.enrolment)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from facewatch.adapters import aws
from facewatch.domain.enrolment import IndexedFace, index_faces_request, indexed_face

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient

# IndexFaces errors that concern the image, shown as the refusal's reason; any other error (no such
# collection, access denied, throttling after the SDK's retries) is the system's and raises.
IMAGE_ERRORS = frozenset({"InvalidImageFormatException", "ImageTooLargeException", "InvalidS3ObjectException"})
NO_FACE_ERROR = "InvalidParameterException"


class FaceCollection:
    def __init__(self, collection_id: str, rekognition: RekognitionClient | None = None) -> None:
        self._collection_id = collection_id
        self._rekognition: aws.LazyClient[RekognitionClient] = aws.LazyClient("rekognition", rekognition)

    @property
    def collection_id(self) -> str:
        return self._collection_id

    def enrol_from_s3(self, bucket: str, key: str, employee_id: str, quality_filter: str) -> IndexedFace:
        request = index_faces_request(
            self._collection_id, {"S3Object": {"Bucket": bucket, "Name": key}}, employee_id, quality_filter
        )
        try:
            response = self._rekognition.get().index_faces(**request)
        except ClientError as error:
            code = aws.error_code(error)
            if code in IMAGE_ERRORS:
                return IndexedFace("rejected", reasons=(code,))
            if code == NO_FACE_ERROR:
                return IndexedFace("rejected", reasons=("no face detected",))
            raise
        return indexed_face(response)
