"""REST adapters: parse and check input, call one service or selector, shape the answer."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from common.auth.authentication import caller_id
from common.auth.permissions import IsStaffUser
from common.openapi import (
    BODY_TOO_LARGE,
    IDEMPOTENCY_KEY,
    USER_TOKEN_ERRORS,
    error_responses,
)
from common.payloads import parsed
from insights import commands, inputs, periods, replay, responses, selectors
from insights.models import Checkpoint
from insights.readcache import cached_read, read_schema


def _history(request, user_id: int, page: dict):
    return cached_read(
        request,
        "history",
        lambda snapshot: selectors.user_history_get(user_id=user_id, snapshot=snapshot, **page),
        params=(user_id, page["limit"], page["offset"]),
        personal=True,
    )


_PAGE_ERRORS = error_responses({400: "Invalid limit or offset", **USER_TOKEN_ERRORS})


# seed reports


class DashboardView(APIView):
    @read_schema(
        summary="Platform figures, top 5 videos and the last 7 days",
        responses={
            200: responses.DashboardSerializer,
            **error_responses(USER_TOKEN_ERRORS),
        },
    )
    def get(self, request):
        today = timezone.now().date()
        return cached_read(
            request,
            "dashboard",
            lambda snapshot: selectors.dashboard_get(today=today, snapshot=snapshot),
            params=(today,),
            reads=(Checkpoint.READ_MODELS, Checkpoint.DAILY_METRICS),
        )


class MyReportView(APIView):
    """The signed-in user's own figures and latest views."""

    @read_schema(
        summary="The caller's figures and viewing history",
        parameters=[inputs.PageSerializer],
        responses={200: responses.UserHistorySerializer, **_PAGE_ERRORS},
    )
    def get(self, request):
        page = parsed(inputs.PageSerializer, request.query_params)
        user_id = caller_id(request)
        return _history(request, user_id, page)


class TopVideosView(APIView):
    @read_schema(
        summary="The best videos by views, watch time or revenue",
        parameters=[inputs.TopVideosQuerySerializer],
        responses={
            200: responses.TopVideosSerializer,
            **error_responses({400: "Invalid limit or by", **USER_TOKEN_ERRORS}),
        },
    )
    def get(self, request):
        params = parsed(inputs.TopVideosQuerySerializer, request.query_params)
        return cached_read(
            request,
            "top-videos",
            lambda snapshot: selectors.top_videos_get(snapshot=snapshot, **params),
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
            200: responses.RevenueSerializer,
            **_PAGE_ERRORS,
        },
    )
    def get(self, request):
        params = parsed(inputs.PageSerializer, request.query_params)
        today = timezone.now().date()
        return cached_read(
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
                enum=list(periods.PERIODS),
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
            200: responses.PeriodReportSerializer,
            **error_responses(
                {
                    400: f"Unknown period, bad dates, from after to, or more than "
                    f"{periods.MAX_BUCKETS} buckets",
                    **USER_TOKEN_ERRORS,
                }
            ),
        },
    )
    def get(self, request, period: str):
        params = parsed(inputs.ReportSerializer, {**request.query_params.dict(), "period": period})
        return cached_read(
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
        request=inputs.RecordViewSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: responses.ViewRecordedSerializer,
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
        data = parsed(inputs.RecordViewSerializer, request.data)
        user_id = caller_id(request)
        if "userId" in data and data["userId"] != user_id:
            raise PermissionDenied("userId must be the signed-in user (it comes from the token)")
        event = commands.view_record(
            user_id=user_id,
            video_id=data["videoId"],
            watch_seconds=data["watchTime"],
            idempotency_key=request.headers.get("Idempotency-Key") or None,
        )
        stats = selectors.video_stats_row(video_id=data["videoId"])
        answer = responses.ViewRecordedSerializer({"event": event, "stats": stats})
        return Response(answer.data, status=status.HTTP_201_CREATED)


class VideoStatsView(APIView):
    @read_schema(
        summary="One video's figures (read model)",
        responses={200: responses.VideoStatsReadSerializer, **error_responses(USER_TOKEN_ERRORS)},
    )
    def get(self, request, video_id: int):
        return cached_read(
            request,
            "video",
            lambda snapshot: selectors.video_stats_get(video_id=video_id, snapshot=snapshot),
            params=(video_id,),
        )


class VideoStatsListView(APIView):
    """Several videos' stats in one call (`?ids=1,2,3`), so callers can batch."""

    @read_schema(
        summary="Several videos' figures from one snapshot",
        parameters=[inputs.VideoIdsSerializer],
        responses={
            200: responses.VideoStatsListSerializer,
            **error_responses({400: "ids missing or malformed", **USER_TOKEN_ERRORS}),
        },
    )
    def get(self, request):
        video_ids = parsed(inputs.VideoIdsSerializer, request.query_params)["ids"]
        return cached_read(
            request,
            "videos",
            lambda snapshot: selectors.video_stats_list(video_ids=video_ids, snapshot=snapshot),
            params=tuple(video_ids),
        )


class UserHistoryView(APIView):
    """A user's history: their own, or anyone's for staff."""

    @read_schema(
        summary="A user's figures and viewing history",
        parameters=[inputs.PageSerializer],
        responses={
            200: responses.UserHistorySerializer,
            **_PAGE_ERRORS,
            **error_responses(
                {403: "Another user's history and not staff, or the bearer token is invalid"}
            ),
        },
    )
    def get(self, request, user_id: int):
        if user_id != caller_id(request) and not getattr(request.user, "is_staff", False):
            raise PermissionDenied("You may read only your own viewing history")
        page = parsed(inputs.PageSerializer, request.query_params)
        return _history(request, user_id, page)


class PlatformStatsView(APIView):
    @read_schema(
        summary="Platform-wide figures",
        responses={200: responses.PlatformStatsSerializer, **error_responses(USER_TOKEN_ERRORS)},
    )
    def get(self, request):
        return cached_read(
            request, "platform", lambda snapshot: selectors.platform_stats_get(snapshot=snapshot)
        )


class ReplayView(APIView):
    permission_classes = [IsStaffUser]

    @extend_schema(
        summary="Rebuild the projections from the event store (staff only)",
        request=inputs.ReplaySerializer,
        responses={
            200: responses.ReplayDoneSerializer,
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
        data = parsed(inputs.ReplaySerializer, request.data)
        result = replay.replay_run(from_time=data.get("fromTimestamp"))
        return Response(responses.ReplayDoneSerializer(result).data)
