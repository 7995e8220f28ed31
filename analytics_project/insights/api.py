"""REST adapters: parse and check input, call one service or selector, shape the answer."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from common.auth.authentication import ServiceTokenAuthentication
from common.auth.permissions import IsInternalService, IsStaffUser
from common.openapi import (
    BODY_TOO_LARGE,
    IDEMPOTENCY_KEY,
    INTERNAL,
    SERVICE_TOKEN_ERRORS,
    USER_TOKEN_ERRORS,
    error_responses,
    message_serializer,
)
from common.payloads import MAX_BIGINT, StrictCharField, StrictIntegerField, StrictSerializer
from insights import selectors, services
from insights.models import Checkpoint
from insights.readcache import cached_answer


class ReplayConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A newer replay started and superseded this one"
    default_code = "replay_superseded"


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _read(
    request,
    query: str,
    build,
    *,
    params: tuple = (),
    reads: tuple[str, ...] = (Checkpoint.READ_MODELS,),
    personal: bool = False,
):
    """Answer a read from the read cache: `build(snapshot)` runs only when the key is new.

    The key is the query, its parameters, the caller when the answer is `personal`, and the
    snapshot positions of the projections it `reads` (see `insights.readcache`).
    """
    snapshot = selectors.snapshot_current()
    caller = int(request.user.id) if personal else None
    key = (query, params, caller, snapshot.key(*reads))
    return cached_answer(request, key=key, build=lambda: build(snapshot), personal=personal)


def _video_stats(request, video_id: int):
    return _read(
        request,
        "video",
        lambda snapshot: selectors.video_stats_get(video_id=video_id, snapshot=snapshot),
        params=(video_id,),
    )


def _history(request, user_id: int, page: dict):
    return _read(
        request,
        "history",
        lambda snapshot: selectors.user_history_get(user_id=user_id, snapshot=snapshot, **page),
        params=(user_id, page["limit"], page["offset"]),
        personal=True,
    )


# Every read answers with an ETag and may be revalidated with it.
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of an earlier answer: 304 without a body if it is still current.",
)
NOT_MODIFIED = {304: OpenApiResponse(description="The If-None-Match ETag is still current.")}


def read_schema(*, responses: dict, parameters: tuple = (), **kwargs):
    """`extend_schema` for a cached read: If-None-Match accepted, 304 possible."""
    return extend_schema(
        parameters=[*parameters, IF_NONE_MATCH], responses={**responses, **NOT_MODIFIED}, **kwargs
    )


class PageSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)
    offset = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)


class TopVideosSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)
    by = serializers.ChoiceField(choices=list(selectors.TOP_ORDER), default="views")


class ReportSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=selectors.PERIODS)

    def get_fields(self):
        # `from` is a Python keyword, so the seed-style query names are added here.
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)
        fields["to"] = serializers.DateField(required=False)
        return fields

    def validate(self, attrs):
        period = attrs["period"]
        end = attrs.get("to") or timezone.now().date()
        start = attrs.get("from") or selectors.report_default_range(period=period, today=end)[0]
        if start > end:
            raise ValidationError({"from": ["must not be after 'to'"]})
        buckets = selectors.report_buckets(period=period, start=start, end=end)
        if len(buckets) > selectors.MAX_BUCKETS:
            raise ValidationError({"from": [f"at most {selectors.MAX_BUCKETS} {period} buckets"]})
        return {"period": period, "start": start, "end": end}


class RecordViewSerializer(serializers.Serializer):
    # Not strict: the original's clients may send ids as strings. Within bigint, as stored.
    videoId = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
    watchTime = serializers.IntegerField(min_value=0, max_value=24 * 3600)
    userId = serializers.IntegerField(required=False, max_value=MAX_BIGINT)


class VideoIdsSerializer(serializers.Serializer):
    ids = serializers.RegexField(
        r"^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17}){0,99}$",
        error_messages={"invalid": "a comma-separated list of 1 to 100 positive video ids"},
    )

    def validate_ids(self, value: str) -> list[int]:
        return list(dict.fromkeys(int(part) for part in value.split(",")))


class ReplaySerializer(StrictSerializer):
    fromTimestamp = serializers.DateTimeField(required=False, allow_null=True)


# Response shapes for the OpenAPI schema only: the answers are built by `selectors`.


class FreshnessSerializer(serializers.Serializer):
    """Where the projection that answered stands: `lagEvents` stored events not applied yet."""

    generation = serializers.IntegerField()
    projection = serializers.CharField()
    position = serializers.IntegerField()
    headPosition = serializers.IntegerField()
    lagEvents = serializers.IntegerField()
    fromTimestamp = serializers.DateTimeField(allow_null=True)


class VideoStatsSerializer(serializers.Serializer):
    """Zeros for a video nobody has watched."""

    videoId = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    category = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    totalViews = serializers.IntegerField()
    uniqueViewers = serializers.IntegerField()
    totalWatchTime = serializers.IntegerField(help_text="Seconds.")
    averageWatchTime = serializers.FloatField()
    revenue = serializers.IntegerField(help_text="Cents.")
    totalRevenue = serializers.IntegerField(help_text="`revenue`, the original's name.")
    completionRate = serializers.FloatField(help_text="Share of the video an average view saw.")
    lastViewedAt = serializers.DateTimeField(allow_null=True)
    lastUpdated = serializers.DateTimeField(
        allow_null=True, help_text="`lastViewedAt`, the original's name."
    )


class VideoStatsReadSerializer(VideoStatsSerializer):
    freshness = FreshnessSerializer()


class PlatformStatsSerializer(serializers.Serializer):
    totalVideosViewed = serializers.IntegerField(help_text="Videos watched at least once.")
    totalActiveUsers = serializers.IntegerField(help_text="Users who watched something.")
    averageViewsPerVideo = serializers.FloatField(help_text="Views per video watched.")
    totalUsers = serializers.IntegerField()
    totalVideos = serializers.IntegerField()
    uniqueViewers = serializers.IntegerField()
    totalViews = serializers.IntegerField()
    totalWatchTime = serializers.IntegerField()
    averageWatchTime = serializers.FloatField()
    totalRevenue = serializers.IntegerField()
    totalCharges = serializers.IntegerField(help_text="Payments that made the revenue.")
    totalDeposits = serializers.IntegerField()
    streamsStarted = serializers.IntegerField()
    streamsEnded = serializers.IntegerField()
    activeStreams = serializers.IntegerField()
    logins = serializers.IntegerField()
    freshness = FreshnessSerializer()


class HistoryEntrySerializer(serializers.Serializer):
    videoId = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    watchTime = serializers.IntegerField()
    sessionId = serializers.CharField(allow_null=True)
    watchedAt = serializers.DateTimeField()


class UserHistorySerializer(serializers.Serializer):
    """The user's totals and one page of their views, newest first (zeros for a stranger)."""

    userId = serializers.IntegerField()
    profileActive = serializers.BooleanField()
    deleted = serializers.BooleanField()
    totalViews = serializers.IntegerField()
    videosWatched = serializers.IntegerField(help_text="`totalViews`, the original's name.")
    totalWatchTime = serializers.IntegerField()
    totalTimeSpent = serializers.IntegerField(help_text="`totalWatchTime`, the original's name.")
    averageWatchTime = serializers.FloatField()
    amountSpent = serializers.IntegerField()
    totalSpent = serializers.IntegerField(help_text="`amountSpent`, the original's name.")
    amountDeposited = serializers.IntegerField()
    registeredAt = serializers.DateTimeField(allow_null=True)
    lastLoginAt = serializers.DateTimeField(allow_null=True)
    lastViewedAt = serializers.DateTimeField(allow_null=True)
    lastUpdated = serializers.DateTimeField(allow_null=True)
    history = HistoryEntrySerializer(many=True)
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    freshness = FreshnessSerializer()


class ReportFiguresSerializer(serializers.Serializer):
    views = serializers.IntegerField()
    watchTime = serializers.IntegerField()
    revenue = serializers.IntegerField()
    deposits = serializers.IntegerField()
    newUsers = serializers.IntegerField()
    streams = serializers.IntegerField()
    uniqueViewers = serializers.IntegerField()


class ReportRowSerializer(ReportFiguresSerializer):
    period = serializers.CharField(help_text="Bucket label: 2024-05-01, 2024-W18 or 2024-05.")
    start = serializers.DateField()
    end = serializers.DateField()


_ORIGINAL_TOTALS = {
    "totalViews": serializers.IntegerField(),
    "totalUsers": serializers.IntegerField(),
    "totalRevenue": serializers.IntegerField(),
    "totalWatchTime": serializers.IntegerField(),
}
_REPORT = inline_serializer(
    "PeriodReport",
    {
        **_ORIGINAL_TOTALS,
        "period": serializers.ChoiceField(choices=selectors.PERIODS),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "rows": ReportRowSerializer(many=True),
        "totals": ReportFiguresSerializer(),
        "freshness": FreshnessSerializer(),
    },
)
_PAGE_ERRORS = error_responses({400: "Invalid limit or offset", **USER_TOKEN_ERRORS})


# seed reports


class DashboardView(APIView):
    @read_schema(
        summary="Platform figures, top 5 videos and the last 7 days",
        responses={
            200: inline_serializer(
                "Dashboard",
                {
                    **_ORIGINAL_TOTALS,
                    "platform": PlatformStatsSerializer(),
                    "topVideos": VideoStatsSerializer(many=True),
                    "last7Days": ReportRowSerializer(many=True),
                    "freshness": inline_serializer(
                        "DashboardFreshness",
                        {
                            "read_models": FreshnessSerializer(),
                            "daily_metrics": FreshnessSerializer(),
                        },
                    ),
                },
            ),
            **error_responses(USER_TOKEN_ERRORS),
        },
    )
    def get(self, request):
        today = timezone.now().date()
        return _read(
            request,
            "dashboard",
            lambda snapshot: selectors.dashboard_get(today=today, snapshot=snapshot),
            params=(today,),
            reads=(Checkpoint.READ_MODELS, Checkpoint.DAILY_METRICS),
        )


class VideoReportView(APIView):
    @read_schema(
        summary="One video's figures",
        responses={200: VideoStatsReadSerializer, **error_responses(USER_TOKEN_ERRORS)},
    )
    def get(self, request, video_id: int):
        return _video_stats(request, video_id)


class MyReportView(APIView):
    """The signed-in user's own figures and latest views."""

    @read_schema(
        summary="The caller's figures and viewing history",
        parameters=[PageSerializer],
        responses={200: UserHistorySerializer, **_PAGE_ERRORS},
    )
    def get(self, request):
        page = _parse(PageSerializer, request.query_params)
        user_id = int(request.user.id)
        return _history(request, user_id, page)


class TopVideosView(APIView):
    @read_schema(
        summary="The best videos by views, watch time or revenue",
        parameters=[TopVideosSerializer],
        responses={
            200: inline_serializer(
                "TopVideos",
                {
                    "videos": VideoStatsSerializer(many=True),
                    "limit": serializers.IntegerField(),
                    "by": serializers.ChoiceField(choices=list(selectors.TOP_ORDER)),
                },
            ),
            **error_responses({400: "Invalid limit or by", **USER_TOKEN_ERRORS}),
        },
    )
    def get(self, request):
        params = _parse(TopVideosSerializer, request.query_params)
        return _read(
            request,
            "top-videos",
            lambda snapshot: {
                "videos": selectors.video_top_list(snapshot=snapshot, **params),
                **params,
            },
            params=(params["by"], params["limit"]),
        )


class RevenueView(APIView):
    @read_schema(
        summary="Platform revenue and deposits, and the videos that earned most",
        parameters=[
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description="Videos listed, 1-100 (default 10)."
            ),
            OpenApiParameter(
                "offset", OpenApiTypes.INT, description="Videos to skip, 0-1000000 (default 0)."
            ),
        ],
        responses={
            200: inline_serializer(
                "Revenue",
                {
                    "totalRevenue": serializers.IntegerField(),
                    "totalDeposits": serializers.IntegerField(),
                    "daily": serializers.IntegerField(help_text="Revenue today (UTC)."),
                    "weekly": serializers.IntegerField(help_text="The last 7 UTC days."),
                    "monthly": serializers.IntegerField(help_text="The last 30 UTC days."),
                    "byVideo": inline_serializer(
                        "VideoRevenue",
                        {
                            "videoId": serializers.IntegerField(),
                            "title": serializers.CharField(allow_blank=True),
                            "revenue": serializers.IntegerField(),
                            "views": serializers.IntegerField(),
                        },
                        many=True,
                    ),
                    "freshness": FreshnessSerializer(),
                },
            ),
            **_PAGE_ERRORS,
        },
    )
    def get(self, request):
        params = _parse(PageSerializer, request.query_params)
        today = timezone.now().date()
        return _read(
            request,
            "revenue",
            lambda snapshot: selectors.revenue_get(today=today, snapshot=snapshot, **params),
            params=(today, params["limit"], params["offset"]),
            reads=(Checkpoint.READ_MODELS, Checkpoint.DAILY_METRICS),
        )


class PeriodReportView(APIView):
    @read_schema(
        summary="Figures per UTC day, ISO week or calendar month",
        parameters=[
            OpenApiParameter(
                "period",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(selectors.PERIODS),
                description="Any other value is answered 400.",
            ),
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description="Default: 30 days, 12 weeks or 12 months back.",
            ),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Default: today (UTC)."),
        ],
        responses={
            200: _REPORT,
            **error_responses(
                {
                    400: f"Unknown period, bad dates, from after to, or more than "
                    f"{selectors.MAX_BUCKETS} buckets",
                    **USER_TOKEN_ERRORS,
                }
            ),
        },
    )
    def get(self, request, period: str):
        params = _parse(ReportSerializer, {**request.query_params.dict(), "period": period})
        return _read(
            request,
            "report",
            lambda snapshot: selectors.report_get(snapshot=snapshot, **params),
            params=(params["period"], params["start"], params["end"]),
            reads=(Checkpoint.DAILY_METRICS,),
        )


# CQRS


class RecordViewView(APIView):
    """Command: the view is recorded for the token's user; a different body userId is refused."""

    @extend_schema(
        summary="Record that the caller watched a video",
        request=RecordViewSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: message_serializer(
                "ViewRecorded",
                success=serializers.BooleanField(),
                timestamp=serializers.DateTimeField(),
                eventId=serializers.UUIDField(),
                position=serializers.IntegerField(),
                videoStats=VideoStatsReadSerializer(),
            ),
            **error_responses(
                {
                    400: "Invalid body",
                    **USER_TOKEN_ERRORS,
                    403: "userId is not the caller's, or the bearer token is invalid or expired",
                    **BODY_TOO_LARGE,
                }
            ),
        },
    )
    def post(self, request):
        data = _parse(RecordViewSerializer, request.data)
        user_id = int(request.user.id)
        if "userId" in data and data["userId"] != user_id:
            raise PermissionDenied("userId must be the signed-in user (it comes from the token)")
        event = services.view_record(
            user_id=user_id,
            video_id=data["videoId"],
            watch_seconds=data["watchTime"],
            idempotency_key=request.headers.get("Idempotency-Key") or None,
        )
        return Response(
            {
                "success": True,
                "message": "View recorded",
                "timestamp": event.occurred_at.isoformat(),
                "eventId": str(event.event_id),
                "position": event.position,
                "videoStats": selectors.video_stats_get(video_id=data["videoId"]),
            },
            status=status.HTTP_201_CREATED,
        )


class VideoStatsView(APIView):
    @read_schema(
        summary="One video's figures (read model)",
        responses={200: VideoStatsReadSerializer, **error_responses(USER_TOKEN_ERRORS)},
    )
    def get(self, request, video_id: int):
        return _video_stats(request, video_id)


class VideoStatsListView(APIView):
    """Several videos' stats in one call (`?ids=1,2,3`), so callers can batch."""

    @read_schema(
        summary="Several videos' figures from one snapshot",
        parameters=[VideoIdsSerializer],
        responses={
            200: inline_serializer(
                "VideoStatsList",
                {
                    "videos": VideoStatsSerializer(many=True),
                    "freshness": FreshnessSerializer(),
                },
            ),
            **error_responses({400: "ids missing or malformed", **USER_TOKEN_ERRORS}),
        },
    )
    def get(self, request):
        video_ids = _parse(VideoIdsSerializer, request.query_params)["ids"]
        return _read(
            request,
            "videos",
            lambda snapshot: selectors.video_stats_list(video_ids=video_ids, snapshot=snapshot),
            params=tuple(video_ids),
        )


class UserHistoryView(APIView):
    """A user's history: their own, or anyone's for staff."""

    @read_schema(
        summary="A user's figures and viewing history",
        parameters=[PageSerializer],
        responses={
            200: UserHistorySerializer,
            **_PAGE_ERRORS,
            **error_responses(
                {403: "Another user's history and not staff, or the bearer token is invalid"}
            ),
        },
    )
    def get(self, request, user_id: int):
        if user_id != int(request.user.id) and not getattr(request.user, "is_staff", False):
            raise PermissionDenied("You may read only your own viewing history")
        page = _parse(PageSerializer, request.query_params)
        return _history(request, user_id, page)


class PlatformStatsView(APIView):
    @read_schema(
        summary="Platform-wide figures",
        responses={200: PlatformStatsSerializer, **error_responses(USER_TOKEN_ERRORS)},
    )
    def get(self, request):
        return _read(
            request, "platform", lambda snapshot: selectors.platform_stats_get(snapshot=snapshot)
        )


class ReplayView(APIView):
    permission_classes = [IsStaffUser]

    @extend_schema(
        summary="Rebuild the projections from the event store (staff only)",
        request=ReplaySerializer,
        responses={
            200: message_serializer(
                "ReplayDone",
                success=serializers.BooleanField(),
                generation=serializers.IntegerField(),
                previousGeneration=serializers.IntegerField(),
                eventsReplayed=serializers.IntegerField(),
                position=serializers.IntegerField(),
                durationMs=serializers.IntegerField(),
                eventsPerSecond=serializers.FloatField(),
                fromTimestamp=serializers.DateTimeField(allow_null=True),
            ),
            **error_responses(
                {
                    400: "Invalid body",
                    **USER_TOKEN_ERRORS,
                    403: "Not staff, or the bearer token is invalid or expired",
                    409: "A newer replay started and superseded this one",
                    **BODY_TOO_LARGE,
                }
            ),
        },
    )
    def post(self, request):
        data = _parse(ReplaySerializer, request.data)
        try:
            result = services.replay_run(from_time=data.get("fromTimestamp"))
        except services.ReplaySuperseded as exc:
            raise ReplayConflict() from exc
        return Response(
            {
                "success": True,
                "message": "Projections rebuilt from the event store",
                "generation": result.generation,
                "previousGeneration": result.previous_generation,
                "eventsReplayed": result.events_replayed,
                "position": result.position,
                "durationMs": result.duration_ms,
                "eventsPerSecond": result.events_per_second,
                "fromTimestamp": result.from_time.isoformat() if result.from_time else None,
            }
        )


# internal: the saga's profile step and compensation over HTTP (the Celery steps call the same)


class ProfileCreateSerializer(StrictSerializer):
    sagaId = StrictCharField(max_length=64)
    userId = StrictIntegerField(min_value=1)
    email = serializers.EmailField(max_length=254)


class SagaIdSerializer(serializers.Serializer):
    sagaId = StrictCharField(max_length=64)


class InternalProfilesView(APIView):
    authentication_classes = [ServiceTokenAuthentication]
    permission_classes = [IsInternalService]
    service_scope = "analytics.profiles"
    service_callers = {"gateway"}

    @extend_schema(
        summary="Create a viewer profile (saga step; the same saga creates it once)",
        tags=[INTERNAL],
        request=ProfileCreateSerializer,
        responses={
            201: inline_serializer(
                "ProfileCreated",
                {
                    "message": serializers.CharField(),
                    "userId": serializers.IntegerField(),
                    "analyticsCreated": serializers.BooleanField(),
                },
            ),
            **error_responses({400: "Invalid body", **SERVICE_TOKEN_ERRORS, **BODY_TOO_LARGE}),
        },
    )
    def post(self, request):
        data = _parse(ProfileCreateSerializer, request.data)
        created = services.profile_create(
            saga_id=data["sagaId"], user_id=data["userId"], email=data["email"]
        )
        message = (
            "Analytics profile created successfully"
            if created
            else "Analytics profile already exists"
        )
        # The profile exists after either answer: a repeat of the saga's step is no failure.
        return Response(
            {"message": message, "userId": data["userId"], "analyticsCreated": True},
            status=status.HTTP_201_CREATED,
        )


class InternalProfileView(APIView):
    authentication_classes = [ServiceTokenAuthentication]
    permission_classes = [IsInternalService]
    service_scope = "analytics.profiles"
    service_callers = {"gateway"}

    @extend_schema(
        summary="Delete a viewer profile (saga compensation)",
        tags=[INTERNAL],
        parameters=[SagaIdSerializer],
        responses={
            200: inline_serializer(
                "ProfileDeleted",
                {"message": serializers.CharField(), "deleted": serializers.BooleanField()},
            ),
            **error_responses({400: "sagaId missing or too long", **SERVICE_TOKEN_ERRORS}),
        },
    )
    def delete(self, request, user_id: int):
        data = _parse(SagaIdSerializer, request.query_params)
        deleted = services.profile_delete(saga_id=data["sagaId"], user_id=user_id)
        message = "Analytics profile deleted successfully" if deleted else "No such profile"
        return Response({"message": message, "deleted": deleted})
