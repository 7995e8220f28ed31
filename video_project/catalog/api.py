"""REST adapters for the catalog: parse, call one service or selector, serialise."""

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseNotModified
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.models import Video
from catalog.page_cache import Page, catalog_version, listings, viewer_scope
from catalog.responses import (
    VideoDeletedSerializer,
    VideoPageSerializer,
    VideoSerializer,
    VideoUpdatedSerializer,
    VideoUploadedSerializer,
)
from catalog.uploads import upload_data
from common import payloads
from common.auth.authentication import caller_id
from common.conditional import client_holds
from common.openapi import BODY_TOO_LARGE, USER_TOKEN_ERRORS, error_responses
from common.payloads import (
    MAX_BIGINT,
    JSONParser,
    StrictCharField,
    StrictSerializer,
    parsed,
)


class CategoryField(StrictCharField):
    def __init__(self, **kwargs):
        super().__init__(min_length=1, max_length=50, **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data).lower()


class VideoFieldsSerializer(StrictSerializer):
    title = StrictCharField(min_length=1, max_length=200)
    description = StrictCharField(max_length=5000, allow_blank=True, required=False)
    category = CategoryField(required=False)
    pricePerMinute = serializers.IntegerField(
        min_value=0, max_value=100_000, source="price_per_minute", required=False
    )

    def validate(self, attrs):
        # An edit (partial) that names no field is a client mistake, not a change to announce.
        if self.partial and not attrs:
            raise ValidationError(f"Give at least one of {', '.join(self.fields)}.")
        return attrs


class VideoUploadSerializer(VideoFieldsSerializer):
    videoFile = serializers.FileField(allow_empty_file=False)


class ListQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)
    category = serializers.CharField(max_length=50, required=False, allow_blank=True)
    search = serializers.CharField(max_length=200, required=False, allow_blank=True)
    uploadedBy = serializers.IntegerField(
        min_value=1,
        max_value=MAX_BIGINT,
        source="uploaded_by",
        required=False,
        help_text="Only this user's videos: an uploader's own include those still processing.",
    )


_BAD_TOKEN = {403: USER_TOKEN_ERRORS[403]}
_VIDEO_HIDDEN = {404: "No such video, or it is not ready and not yours"}


def _viewer(request) -> dict:
    user = request.user
    if user is None or not user.is_authenticated:
        return {"viewer_id": None, "is_staff": False}
    return {"viewer_id": user.id, "is_staff": bool(user.is_staff)}


def _visible_video(request, video_id: int) -> Video:
    try:
        return selectors.video_get(video_id=video_id, **_viewer(request))
    except Video.DoesNotExist as exc:
        raise NotFound("Video not found") from exc


class VideoListView(APIView):
    """`GET /api/videos` (anyone) and `POST /api/videos` (multipart upload, signed in)."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="List videos, newest first",
        description="Ready videos, plus the caller's own that are still processing or failed.",
        operation_id="videos_list",
        parameters=[ListQuerySerializer],
        responses={
            200: VideoPageSerializer,
            **error_responses({400: "Invalid query parameters", **_BAD_TOKEN}),
        },
    )
    def get(self, request):
        viewer = _viewer(request)
        key = (viewer_scope(**viewer), request.META.get("QUERY_STRING", ""))
        version = catalog_version()
        page = listings.get(key, version)
        if page is None:
            params = parsed(ListQuerySerializer, request.query_params)
            videos, total = selectors.video_list(**viewer, **params)
            body = VideoPageSerializer(
                {"videos": videos, "total": total, "page": params["page"], "limit": params["limit"]}
            ).data
            page = listings.put(key, version, payloads.dumps(body))
        return _cached_answer(request, page, personal=key[0] != "public")

    @extend_schema(
        summary="Upload a video (multipart); it is processed in the background",
        request={"multipart/form-data": VideoUploadSerializer},
        responses={
            201: VideoUploadedSerializer,
            **error_responses(
                {
                    400: "Invalid fields, or the file is not a playable video",
                    **USER_TOKEN_ERRORS,
                    413: "The file is larger than VIDEO_MAX_UPLOAD_BYTES",
                    415: "Not multipart/form-data",
                }
            ),
        },
    )
    def post(self, request):
        data = upload_data(request, max_bytes=settings.VIDEO_MAX_UPLOAD_BYTES)
        fields = parsed(VideoUploadSerializer, data)
        video = services.video_create(
            uploaded_by=caller_id(request),
            title=fields["title"],
            description=fields.get("description", ""),
            category=fields.get("category", "general"),
            price_per_minute=fields.get("price_per_minute", 10),
            upload=fields["videoFile"],
        )
        return Response(VideoUploadedSerializer(video).data, status=status.HTTP_201_CREATED)


class VideoDetailView(APIView):
    """`GET /api/videos/{id}`; `PUT`/`PATCH`/`DELETE` by the uploader only."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        summary="One video",
        responses={200: VideoSerializer, **error_responses({**_BAD_TOKEN, **_VIDEO_HIDDEN})},
    )
    def get(self, request, video_id: int):
        return Response(VideoSerializer(_visible_video(request, video_id)).data)

    @extend_schema(
        summary="Edit a video's fields (uploader only); every field is optional",
        request=VideoFieldsSerializer(partial=True),
        responses={
            200: VideoUpdatedSerializer,
            **error_responses(
                {
                    400: "Invalid or unknown fields, or none given",
                    **USER_TOKEN_ERRORS,
                    403: "Not the uploader, or the bearer token is invalid or expired",
                    404: "No such video",
                    **BODY_TOO_LARGE,
                }
            ),
        },
    )
    def put(self, request, video_id: int):
        fields = parsed(VideoFieldsSerializer, request.data, partial=True)
        video = services.video_update(video_id=video_id, actor_id=caller_id(request), **fields)
        return Response(VideoUpdatedSerializer(video).data)

    patch = put

    @extend_schema(
        summary="Delete a video and its files (uploader only)",
        responses={
            200: VideoDeletedSerializer,
            **error_responses(
                {
                    **USER_TOKEN_ERRORS,
                    403: "Not the uploader, or the bearer token is invalid or expired",
                    404: "No such video",
                }
            ),
        },
    )
    def delete(self, request, video_id: int):
        services.video_delete(video_id=video_id, actor_id=caller_id(request))
        return Response(VideoDeletedSerializer({"id": video_id}).data)


class VideoThumbnailView(APIView):
    """`GET /api/videos/{id}/thumbnail`: the JPEG, for whoever may see the video."""

    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        summary="A video's thumbnail (JPEG)",
        responses={
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The JPEG"),
            **error_responses(
                {**_BAD_TOKEN, 404: f"{_VIDEO_HIDDEN[404]}, or it has no thumbnail yet"}
            ),
        },
    )
    def get(self, request, video_id: int):
        video = _visible_video(request, video_id)
        if not video.thumbnail_path:
            raise NotFound("This video has no thumbnail yet")
        response = FileResponse(
            default_storage.open(video.thumbnail_path, "rb"), content_type="image/jpeg"
        )
        response["Cache-Control"] = "public, max-age=300"
        return response


def _cached_answer(request, page: Page, *, personal: bool) -> HttpResponse:
    """The page, or 304 when the caller already holds this version (If-None-Match)."""
    if client_holds(request, page.etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(page.body, content_type="application/json")
        response["Content-Length"] = str(len(page.body))
    response["ETag"] = page.etag
    # Revalidate every time (the ETag makes that cheap); a signed-in caller's page is theirs.
    response["Cache-Control"] = "private, no-cache" if personal else "no-cache"
    response["Vary"] = "Authorization"
    if not personal:
        # The gateway may keep it until a `video.*` event (gateway_project/proxy/edge_cache.py).
        response["Surrogate-Key"] = "catalog"
    return response
