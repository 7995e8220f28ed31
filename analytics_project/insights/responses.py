"""What each analytics read responds: one serializer per shape, which both renders the answer and
documents it in the OpenAPI schema.

They render the read models' rows (and what `selectors` attach to them: the projection's
`freshness`, a page of `history`, ...). Several fields carry the original system's names beside
Streamify's own for the same figure; their help text says so.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.payloads import IsoDateTimeField, MessageField, TrueField
from insights.models import average
from insights.periods import PERIODS


class FreshnessSerializer(serializers.Serializer):
    """Where the projection that answered stands: `lagEvents` stored events not applied yet."""

    generation = serializers.IntegerField()
    projection = serializers.CharField()
    position = serializers.IntegerField()
    headPosition = serializers.IntegerField(source="head_position")
    lagEvents = serializers.IntegerField(source="lag_events")
    fromTimestamp = IsoDateTimeField(source="from_time", allow_null=True)


class VideoStatsSerializer(serializers.Serializer):
    """A video's figures; zeros for a video nobody has watched."""

    videoId = serializers.IntegerField(source="video_id")
    title = serializers.CharField(allow_blank=True)
    category = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    totalViews = serializers.IntegerField(source="views")
    uniqueViewers = serializers.IntegerField(source="unique_viewers")
    totalWatchTime = serializers.IntegerField(source="watch_seconds", help_text="Seconds.")
    averageWatchTime = serializers.FloatField(source="average_watch_seconds")
    revenue = serializers.IntegerField(help_text="Cents.")
    totalRevenue = serializers.IntegerField(
        source="revenue", help_text="`revenue`, the original's name."
    )
    completionRate = serializers.FloatField(
        source="completion_rate", help_text="Share of the video an average view saw."
    )
    lastViewedAt = IsoDateTimeField(source="last_viewed_at", allow_null=True)
    lastUpdated = IsoDateTimeField(
        source="last_viewed_at", allow_null=True, help_text="`lastViewedAt`, the original's name."
    )


class VideoStatsReadSerializer(VideoStatsSerializer):
    freshness = FreshnessSerializer()


class VideoStatsListSerializer(serializers.Serializer):
    videos = VideoStatsSerializer(many=True)
    freshness = FreshnessSerializer()


class TopVideosSerializer(serializers.Serializer):
    videos = VideoStatsSerializer(many=True)
    limit = serializers.IntegerField()
    by = serializers.CharField(help_text="What they are ranked by: views, watchTime or revenue.")


class HistoryEntrySerializer(serializers.Serializer):
    videoId = serializers.IntegerField(source="video_id")
    title = serializers.CharField(allow_blank=True)
    watchTime = serializers.IntegerField(source="watch_seconds")
    sessionId = serializers.CharField(source="session_id", allow_null=True)
    watchedAt = IsoDateTimeField(source="occurred_at")

    def to_representation(self, instance):
        answer = super().to_representation(instance)
        answer["sessionId"] = answer["sessionId"] or None
        return answer


class UserHistorySerializer(serializers.Serializer):
    """The user's totals and one page of their views, newest first (zeros for a stranger)."""

    userId = serializers.IntegerField(source="user_id")
    profileActive = serializers.BooleanField(source="profile_active")
    deleted = serializers.BooleanField()
    totalViews = serializers.IntegerField(source="views")
    videosWatched = serializers.IntegerField(
        source="views", help_text="`totalViews`, the original's name."
    )
    totalWatchTime = serializers.IntegerField(source="watch_seconds")
    totalTimeSpent = serializers.IntegerField(
        source="watch_seconds", help_text="`totalWatchTime`, the original's name."
    )
    averageWatchTime = serializers.FloatField(source="average_watch_seconds")
    amountSpent = serializers.IntegerField(source="amount_spent")
    totalSpent = serializers.IntegerField(
        source="amount_spent", help_text="`amountSpent`, the original's name."
    )
    amountDeposited = serializers.IntegerField(source="amount_deposited")
    registeredAt = IsoDateTimeField(source="registered_at", allow_null=True)
    lastLoginAt = IsoDateTimeField(source="last_login_at", allow_null=True)
    lastViewedAt = IsoDateTimeField(source="last_viewed_at", allow_null=True)
    lastUpdated = IsoDateTimeField(source="last_viewed_at", allow_null=True)
    history = HistoryEntrySerializer(many=True)
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    freshness = FreshnessSerializer()


class PlatformStatsSerializer(serializers.Serializer):
    totalVideosViewed = serializers.IntegerField(
        source="videos_viewed", help_text="Videos watched at least once."
    )
    totalActiveUsers = serializers.IntegerField(
        source="viewers", help_text="Users who watched something."
    )
    averageViewsPerVideo = serializers.SerializerMethodField(help_text="Views per video watched.")
    totalUsers = serializers.IntegerField(source="users")
    totalVideos = serializers.IntegerField(source="videos")
    uniqueViewers = serializers.IntegerField(source="viewers")
    totalViews = serializers.IntegerField(source="views")
    totalWatchTime = serializers.IntegerField(source="watch_seconds")
    averageWatchTime = serializers.FloatField(source="average_watch_seconds")
    totalRevenue = serializers.IntegerField(source="revenue")
    totalCharges = serializers.IntegerField(
        source="charges", help_text="Payments that made the revenue."
    )
    totalDeposits = serializers.IntegerField(source="deposits")
    streamsStarted = serializers.IntegerField(source="streams_started")
    streamsEnded = serializers.IntegerField(source="streams_ended")
    activeStreams = serializers.IntegerField(source="active_streams")
    logins = serializers.IntegerField()
    freshness = FreshnessSerializer()

    @extend_schema_field(float)
    def get_averageViewsPerVideo(self, row) -> float:  # noqa: N802 - the answer's field name
        return average(row.views, row.videos_viewed)


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


class PeriodReportSerializer(serializers.Serializer):
    """Figures per bucket and over the whole range; the `total*` four are the original's report
    figures (its users are the viewers)."""

    totalViews = serializers.IntegerField(source="totals.views")
    totalUsers = serializers.IntegerField(source="totals.uniqueViewers")
    totalRevenue = serializers.IntegerField(source="totals.revenue")
    totalWatchTime = serializers.IntegerField(source="totals.watchTime")
    period = serializers.ChoiceField(choices=PERIODS)
    rows = ReportRowSerializer(many=True)
    totals = ReportFiguresSerializer()
    freshness = FreshnessSerializer()

    def get_fields(self):
        # `from` is a Python keyword: the range's two ends are added here, in the answer's order.
        fields = super().get_fields()
        ordered = {}
        for name, field in fields.items():
            ordered[name] = field
            if name == "period":
                ordered["from"] = serializers.DateField(source="first")
                ordered["to"] = serializers.DateField(source="last")
        return ordered


class DashboardFreshnessSerializer(serializers.Serializer):
    read_models = FreshnessSerializer()
    daily_metrics = FreshnessSerializer()


class DashboardSerializer(serializers.Serializer):
    """Platform figures, the top 5 videos and the last 7 days; the `total*` four are the
    original's dashboard figures, platform-wide."""

    totalViews = serializers.IntegerField(source="platform.views")
    totalUsers = serializers.IntegerField(source="platform.users")
    totalRevenue = serializers.IntegerField(source="platform.revenue")
    totalWatchTime = serializers.IntegerField(source="platform.watch_seconds")
    platform = PlatformStatsSerializer()
    topVideos = VideoStatsSerializer(many=True, source="top_videos")
    last7Days = ReportRowSerializer(many=True, source="last_week")
    freshness = DashboardFreshnessSerializer()


class VideoRevenueSerializer(serializers.Serializer):
    videoId = serializers.IntegerField(source="video_id")
    title = serializers.CharField(allow_blank=True)
    revenue = serializers.IntegerField()
    views = serializers.IntegerField()


class RevenueSerializer(serializers.Serializer):
    totalRevenue = serializers.IntegerField(source="platform.revenue")
    totalDeposits = serializers.IntegerField(source="platform.deposits")
    daily = serializers.IntegerField(source="windows.daily", help_text="Revenue today (UTC).")
    weekly = serializers.IntegerField(source="windows.weekly", help_text="The last 7 UTC days.")
    monthly = serializers.IntegerField(source="windows.monthly", help_text="The last 30 UTC days.")
    byVideo = VideoRevenueSerializer(many=True, source="by_video")
    freshness = FreshnessSerializer(source="platform.freshness")


class ViewRecordedSerializer(serializers.Serializer):
    """The view, as stored, and the video's figures with it."""

    success = TrueField()
    message = MessageField("View recorded")
    timestamp = IsoDateTimeField(source="event.occurred_at")
    eventId = serializers.UUIDField(source="event.event_id")
    position = serializers.IntegerField(source="event.position")
    videoStats = VideoStatsReadSerializer(source="stats")


class ReplayDoneSerializer(serializers.Serializer):
    success = TrueField()
    message = MessageField("Projections rebuilt from the event store")
    generation = serializers.IntegerField()
    previousGeneration = serializers.IntegerField(source="previous_generation")
    eventsReplayed = serializers.IntegerField(source="events_replayed")
    position = serializers.IntegerField()
    durationMs = serializers.IntegerField(source="duration_ms")
    eventsPerSecond = serializers.FloatField(source="events_per_second")
    fromTimestamp = IsoDateTimeField(source="from_time", allow_null=True)


class ProfileCreatedSerializer(serializers.Serializer):
    message = serializers.SerializerMethodField()
    userId = serializers.IntegerField()
    # The profile exists after either answer: a repeat of the saga's step is no failure.
    analyticsCreated = TrueField()

    def get_message(self, answer: dict) -> str:
        if answer["created"]:
            return "Analytics profile created successfully"
        return "Analytics profile already exists"


class ProfileDeletedSerializer(serializers.Serializer):
    message = serializers.SerializerMethodField()
    deleted = serializers.BooleanField()

    def get_message(self, answer: dict) -> str:
        return "Analytics profile deleted successfully" if answer["deleted"] else "No such profile"
