"""Mutations: each is one call to the owning service, with the caller's token.

Arguments arrive checked (`graph.validation.ARGUMENT_RULES`); ids go into upstream paths only
as ints and UUIDs (`upstream_path`).
"""

import graphene

from graph.client import session_name, upstream_path
from graph.types import StreamSession, UserBalance


class AddFunds(graphene.Mutation):
    class Arguments:
        amount = graphene.Int(required=True, description="Cents, e.g. 5000 = $50.00")

    Output = UserBalance

    @staticmethod
    def mutate(root, info, amount):
        upstreams = info.context.upstreams
        upstreams.require_user()
        body = upstreams.call("billing", "POST", "/api/billing/deposit", json={"amount": amount})
        return {
            "userId": info.context.user_id,
            "balance": body.get("newBalance"),
            "message": body.get("message"),
        }


class StartStream(graphene.Mutation):
    class Arguments:
        video_id = graphene.Int(required=True)

    Output = StreamSession

    @staticmethod
    def mutate(root, info, video_id):
        upstreams = info.context.upstreams
        upstreams.require_user()
        path = upstream_path("/api/stream/start/{}", video_id)
        body = upstreams.call("streaming", "POST", path, json={})
        return {"videoId": video_id, "status": "active", **body}


class EndStream(graphene.Mutation):
    class Arguments:
        session_id = graphene.ID(
            required=True,
            description="The session's UUID (`sessionId`), or its number (`id`): "
            '`endStream(sessionId: "…uuid…")` or `endStream(sessionId: 42)`',
        )

    Output = StreamSession

    @staticmethod
    def mutate(root, info, session_id):
        upstreams = info.context.upstreams
        upstreams.require_user()
        path = upstream_path("/api/stream/end/{}", session_name(session_id))
        return upstreams.call("streaming", "POST", path, json={})


class Mutation(graphene.ObjectType):
    add_funds = AddFunds.Field()
    start_stream = StartStream.Field()
    end_stream = EndStream.Field()
