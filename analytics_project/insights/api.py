"""REST adapters: parse and check input, call one service or selector, shape the answer."""

from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from common.auth.authentication import ServiceTokenAuthentication
from common.auth.permissions import IsInternalService, IsStaffUser
from insights import selectors, services


class ReplayConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A newer replay started and superseded this one"
    default_code = "replay_superseded"


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


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
    videoId = serializers.IntegerField(min_value=1)
    watchTime = serializers.IntegerField(min_value=0, max_value=24 * 3600)
    userId = serializers.IntegerField(required=False)


class VideoIdsSerializer(serializers.Serializer):
    ids = serializers.RegexField(
        r"^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17}){0,99}$",
        error_messages={"invalid": "a comma-separated list of 1 to 100 positive video ids"},
    )

    def validate_ids(self, value: str) -> list[int]:
        return list(dict.fromkeys(int(part) for part in value.split(",")))


class ReplaySerializer(serializers.Serializer):
    fromTimestamp = serializers.DateTimeField(required=False, allow_null=True)


# seed reports


class DashboardView(APIView):
    def get(self, request):
        return Response(selectors.dashboard_get(today=timezone.now().date()))


class VideoReportView(APIView):
    def get(self, request, video_id: int):
        return Response(selectors.video_stats_get(video_id=video_id))


class MyReportView(APIView):
    """The signed-in user's own figures and latest views."""

    def get(self, request):
        page = _parse(PageSerializer, request.query_params)
        return Response(selectors.user_history_get(user_id=int(request.user.id), **page))


class TopVideosView(APIView):
    def get(self, request):
        params = _parse(TopVideosSerializer, request.query_params)
        return Response({"videos": selectors.video_top_list(**params), **params})


class RevenueView(APIView):
    def get(self, request):
        params = _parse(PageSerializer, request.query_params)
        return Response(selectors.revenue_get(limit=params["limit"]))


class PeriodReportView(APIView):
    def get(self, request, period: str):
        params = _parse(ReportSerializer, {**request.query_params.dict(), "period": period})
        return Response(selectors.report_get(**params))


# CQRS


class RecordViewView(APIView):
    """Command: the view is recorded for the token's user; a different body userId is refused."""

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
                "message": "View recorded",
                "eventId": str(event.event_id),
                "position": event.position,
                "videoStats": selectors.video_stats_get(video_id=data["videoId"]),
            },
            status=status.HTTP_201_CREATED,
        )


class VideoStatsView(APIView):
    def get(self, request, video_id: int):
        return Response(selectors.video_stats_get(video_id=video_id))


class VideoStatsListView(APIView):
    """Several videos' stats in one call (`?ids=1,2,3`), so callers can batch."""

    def get(self, request):
        video_ids = _parse(VideoIdsSerializer, request.query_params)["ids"]
        return Response(selectors.video_stats_list(video_ids=video_ids))


class UserHistoryView(APIView):
    """A user's history: their own, or anyone's for staff."""

    def get(self, request, user_id: int):
        if user_id != int(request.user.id) and not getattr(request.user, "is_staff", False):
            raise PermissionDenied("You may read only your own viewing history")
        page = _parse(PageSerializer, request.query_params)
        return Response(selectors.user_history_get(user_id=user_id, **page))


class PlatformStatsView(APIView):
    def get(self, request):
        return Response(selectors.platform_stats_get())


class ReplayView(APIView):
    permission_classes = [IsStaffUser]

    def post(self, request):
        data = _parse(ReplaySerializer, request.data)
        try:
            result = services.replay_run(from_time=data.get("fromTimestamp"))
        except services.ReplaySuperseded as exc:
            raise ReplayConflict() from exc
        return Response(
            {
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


class ProfileCreateSerializer(serializers.Serializer):
    sagaId = serializers.CharField(max_length=64)
    userId = serializers.IntegerField(min_value=1)
    email = serializers.EmailField(max_length=254)


class SagaIdSerializer(serializers.Serializer):
    sagaId = serializers.CharField(max_length=64)


class InternalProfilesView(APIView):
    authentication_classes = [ServiceTokenAuthentication]
    permission_classes = [IsInternalService]
    service_scope = "analytics.profiles"

    def post(self, request):
        data = _parse(ProfileCreateSerializer, request.data)
        created = services.profile_create(
            saga_id=data["sagaId"], user_id=data["userId"], email=data["email"]
        )
        return Response({"analyticsCreated": created}, status=status.HTTP_201_CREATED)


class InternalProfileView(APIView):
    authentication_classes = [ServiceTokenAuthentication]
    permission_classes = [IsInternalService]
    service_scope = "analytics.profiles"

    def delete(self, request, user_id: int):
        data = _parse(SagaIdSerializer, request.query_params)
        return Response(
            {"deleted": services.profile_delete(saga_id=data["sagaId"], user_id=user_id)}
        )
