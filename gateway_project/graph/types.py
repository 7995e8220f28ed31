"""GraphQL types: the seed's names, fed by the services' JSON (camelCase keys kept as they are)."""

import graphene
from graphene.utils.str_converters import to_camel_case


class DictType(graphene.ObjectType):
    """An object type whose fields read the same-named keys of the upstream's JSON."""

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(cls, **options):
        super().__init_subclass_with_meta__(default_resolver=_dict_resolver, **options)


def _dict_resolver(attname, default_value, root, info, **args):
    # Fields are snake_case in Python, camelCase in the schema and in the services' JSON.
    if not isinstance(root, dict):
        return default_value
    return root.get(to_camel_case(attname), default_value)


class ViewStats(DictType):
    """A video's viewing figures: the original's names (`videoTitle`, `views`) beside
    Streamify's own (`title`, `totalViews`)."""

    video_id = graphene.Int(required=True)
    video_title = graphene.String(source="title")
    title = graphene.String()
    category = graphene.String()
    status = graphene.String()
    views = graphene.Int(required=True, source="totalViews")
    total_views = graphene.Int()
    unique_viewers = graphene.Int(required=True)
    total_watch_time = graphene.Int(required=True, description="Seconds")
    average_watch_time = graphene.Float(required=True)
    revenue = graphene.Int()
    last_viewed_at = graphene.String()


class Video(DictType):
    id = graphene.Int(required=True)
    title = graphene.String(required=True)
    description = graphene.String()
    category = graphene.String()
    duration = graphene.Int(description="Seconds, whole (the original's type)")
    duration_seconds = graphene.Float(source="duration", description="Seconds, as probed")
    price_per_minute = graphene.Int()
    filename = graphene.String(required=True, description="The file a player is served")
    status = graphene.String()
    uploaded_by = graphene.Int(required=True)
    thumbnail_url = graphene.String()
    created_at = graphene.String()
    updated_at = graphene.String()
    stats = graphene.Field(ViewStats, description="Viewing figures (analytics), batched per query")

    @staticmethod
    def resolve_duration(parent, info):
        seconds = parent.get("duration")
        return None if seconds is None else round(seconds)

    @staticmethod
    def resolve_stats(parent, info):
        return info.context.loaders.video_stats.load(parent["id"])


class VideosResponse(DictType):
    videos = graphene.List(graphene.NonNull(Video), required=True)
    total = graphene.Int(required=True)
    page = graphene.Int(required=True)
    limit = graphene.Int(required=True)


class VideoRevenue(DictType):
    video_id = graphene.Int(required=True)
    video_title = graphene.String(source="title")
    revenue = graphene.Int(required=True, description="Cents")
    views = graphene.Int(required=True)


class RevenueStats(DictType):
    """Platform figures. `totalTransactions` counts the charges that made `totalRevenue`."""

    total_revenue = graphene.Int(required=True, description="Cents")
    total_transactions = graphene.Int(required=True, source="totalCharges")
    average_transaction_amount = graphene.Float(required=True, description="Cents")
    revenue_by_video = graphene.List(
        graphene.NonNull(VideoRevenue),
        required=True,
        limit=graphene.Int(default_value=10, description="The videos that earned most, 1..100"),
    )
    total_users = graphene.Int()
    total_videos = graphene.Int()
    unique_viewers = graphene.Int()
    total_views = graphene.Int()
    total_watch_time = graphene.Int(description="Seconds")
    average_watch_time = graphene.Float()
    total_deposits = graphene.Int()
    streams_started = graphene.Int()
    streams_ended = graphene.Int()
    active_streams = graphene.Int()
    logins = graphene.Int()

    @staticmethod
    def resolve_average_transaction_amount(parent, info):
        charges = parent.get("totalCharges") or 0
        return round(parent.get("totalRevenue", 0) / charges, 2) if charges else 0.0

    @staticmethod
    def resolve_revenue_by_video(parent, info, limit):
        body = info.context.upstreams.call(
            "analytics", "GET", "/api/analytics/revenue", params={"limit": limit}
        )
        return body.get("byVideo", [])


class UserBalance(DictType):
    user_id = graphene.Int(required=True)
    balance = graphene.Int(required=True, description="Cents")
    message = graphene.String()


class StreamSession(DictType):
    """A playback session. `id` is the session's number, the original's integer name for it;
    `sessionId` is its UUID, which the REST routes take."""

    id = graphene.Int(required=True, source="sessionNumber")
    session_id = graphene.String()
    user_id = graphene.Int(required=True)
    video_id = graphene.Int(required=True)
    start_time = graphene.String(required=True, source="startedAt")
    end_time = graphene.String(source="endedAt")
    is_active = graphene.Boolean(required=True)
    status = graphene.String()
    stream_url = graphene.String()
    hls_url = graphene.String()
    started_at = graphene.String()
    ended_at = graphene.String()
    end_reason = graphene.String()
    watched_time = graphene.Float()
    minutes_charged = graphene.Int()
    price_per_minute = graphene.Int()
    amount_charged = graphene.Int()
    message = graphene.String()
    video = graphene.Field(
        Video, description="The video as it was when the session started (no catalog call)"
    )

    @staticmethod
    def resolve_is_active(parent, info):
        return parent.get("status") == "active"

    @staticmethod
    def resolve_video(parent, info):
        return parent.get("videoDetails") or None
