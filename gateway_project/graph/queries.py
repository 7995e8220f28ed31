"""Query fields: thin resolvers, one upstream call each (nested ones through the loaders).

Arguments arrive checked (`graph.validation.ARGUMENT_RULES`): ids are positive, limits in range.
"""

import graphene

from graph.types import RevenueStats, StreamSession, UserBalance, Video, VideosResponse, ViewStats


def _upstreams(info):
    return info.context.upstreams


class Query(graphene.ObjectType):
    videos = graphene.Field(
        VideosResponse,
        page=graphene.Int(default_value=1),
        limit=graphene.Int(default_value=10),
        category=graphene.String(),
        search=graphene.String(),
    )
    video = graphene.Field(Video, id=graphene.Int(required=True))
    video_stats = graphene.Field(ViewStats, video_id=graphene.Int(required=True))
    platform_stats = graphene.Field(RevenueStats)
    user_balance = graphene.Field(UserBalance)
    active_streams = graphene.List(
        graphene.NonNull(StreamSession),
        required=True,
        limit=graphene.Int(default_value=10, description="The newest sessions, at most 1..100"),
    )

    @staticmethod
    def resolve_videos(root, info, page, limit, category=None, search=None):
        params = {"page": page, "limit": limit}
        params.update({k: v for k, v in {"category": category, "search": search}.items() if v})
        body = _upstreams(info).call("video", "GET", "/api/videos", params=params)
        loaders = info.context.loaders
        for video in body.get("videos", []):
            loaders.video.prime(video["id"], video)
        loaders.video_stats.want(video["id"] for video in body.get("videos", []))
        return body

    @staticmethod
    def resolve_video(root, info, id):
        return info.context.loaders.video.load(id)

    @staticmethod
    def resolve_video_stats(root, info, video_id):
        return info.context.loaders.video_stats.load(video_id)

    @staticmethod
    def resolve_platform_stats(root, info):
        _upstreams(info).require_user()
        return _upstreams(info).call("analytics", "GET", "/api/analytics/cqrs/platform/stats")

    @staticmethod
    def resolve_user_balance(root, info):
        _upstreams(info).require_user()
        return _upstreams(info).call("billing", "GET", "/api/billing/balance")

    @staticmethod
    def resolve_active_streams(root, info, limit):
        _upstreams(info).require_user()
        body = _upstreams(info).call("streaming", "GET", "/api/stream/sessions/active")
        sessions = body.get("sessions", [])[:limit]
        info.context.loaders.video_stats.want(
            session["videoDetails"]["id"] for session in sessions if session.get("videoDetails")
        )
        return sessions
