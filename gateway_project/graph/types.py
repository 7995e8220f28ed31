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
    video_id = graphene.Int()
    title = graphene.String()
    category = graphene.String()
    status = graphene.String()
    total_views = graphene.Int()
    unique_viewers = graphene.Int()
    total_watch_time = graphene.Float()
    average_watch_time = graphene.Float()
    revenue = graphene.Int()
    last_viewed_at = graphene.String()


class Video(DictType):
    id = graphene.Int()
    title = graphene.String()
    description = graphene.String()
    category = graphene.String()
    duration = graphene.Float()
    price_per_minute = graphene.Int()
    status = graphene.String()
    uploaded_by = graphene.Int()
    thumbnail_url = graphene.String()
    created_at = graphene.String()
    updated_at = graphene.String()
    stats = graphene.Field(ViewStats, description="Viewing figures (analytics), batched per query")

    @staticmethod
    def resolve_stats(parent, info):
        return info.context.loaders.video_stats.load(parent["id"])


class VideosResponse(DictType):
    videos = graphene.List(Video)
    total = graphene.Int()
    page = graphene.Int()
    limit = graphene.Int()


class RevenueStats(DictType):
    total_users = graphene.Int()
    total_videos = graphene.Int()
    unique_viewers = graphene.Int()
    total_views = graphene.Int()
    total_watch_time = graphene.Float()
    average_watch_time = graphene.Float()
    total_revenue = graphene.Int()
    total_deposits = graphene.Int()
    streams_started = graphene.Int()
    streams_ended = graphene.Int()
    active_streams = graphene.Int()
    logins = graphene.Int()


class UserBalance(DictType):
    user_id = graphene.Int()
    balance = graphene.Int(description="Cents")
    message = graphene.String()


class StreamSession(DictType):
    session_id = graphene.String()
    video_id = graphene.Int()
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
    def resolve_video(parent, info):
        return parent.get("videoDetails") or None
