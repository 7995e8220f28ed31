"""The original system's REST answers as its clients read them: CONTRACT.md §1.2-1.7, as data.

One row per route (and per case where one route has two shapes). `fields` are the payloads the
original built by hand (camelCase), each with the JSON type it sent and, where the contract gives
it, the exact value. `rows` are the column names of the raw database rows some routes returned
(snake_case): Streamify answers camelCase records on purpose, so those names are only documented,
never required.

A route §7 lists as never answering success has `worked=False`, and a field the original declared
but never sent has `declared=True`: both shapes are nice-to-have, not what a working client reads.
"""

from dataclasses import dataclass

INT, NUMBER, STRING, BOOL, ARRAY, OBJECT = "int", "number", "string", "bool", "array", "object"
# Whole-body kinds that are not JSON.
BYTES, EMPTY = "video/mp4 bytes", "empty"


@dataclass(frozen=True)
class Ref:
    """A value known only when the request is made."""

    name: str


CALLER = Ref("the signed-in user's id")
SUBJECT = Ref("the user id the request names")


@dataclass(frozen=True)
class Field:
    path: str  # dotted from the body: "user.id"
    type: str
    value: object = None
    declared: bool = False


@dataclass(frozen=True)
class Route:
    id: str
    method: str
    path: str
    fields: tuple[Field, ...] = ()
    status: int = 200
    body: str = OBJECT
    rows: tuple[str, ...] = ()
    rows_at: str = ""  # "" the body, "[]" each element of it, "video", "history[]"
    case: str = ""
    bearer: bool = False  # the original wanted `Authorization: Bearer`
    direct: str = ""  # served by this service itself, not through the gateway
    worked: bool = True
    note: str = ""
    also: tuple[int, ...] = ()  # other success statuses that are as right as `status`

    @property
    def key(self) -> str:
        return f"{self.id} ({self.case})" if self.case else self.id


def message(text: str) -> Field:
    return Field("message", STRING, text)


def health(service: str, status: str = "OK") -> tuple[Field, ...]:
    return (
        Field("status", STRING, status),
        Field("service", STRING, service),
        Field("timestamp", STRING),
    )


def names(*fields: str, type: str = INT) -> tuple[Field, ...]:
    return tuple(Field(name, type) for name in fields)


USER = (
    Field("user.id", INT),
    Field("user.email", STRING),
    Field("user.firstName", STRING),
    Field("user.lastName", STRING),
)
VIDEO_ROW = (
    "id", "title", "description", "category", "duration", "price_per_minute", "filename",
    "uploaded_by", "created_at", "updated_at",
)  # fmt: skip
TRANSACTION_ROW = (
    "id", "user_id", "amount", "transaction_type", "description", "session_id", "created_at",
)  # fmt: skip
VIDEO_ANALYTICS_ROW = (
    "id", "video_id", "total_views", "total_watch_time", "total_revenue", "completion_rate",
    "created_at", "updated_at",
)  # fmt: skip
ACTIVITY_ROW = ("id", "user_id", "video_id", "watch_time", "revenue", "session_id", "created_at")
UPSTREAMS = ("auth", "video", "streaming", "billing", "analytics")
# B6 sent a decimal string when charges existed and the number 0 otherwise; Streamify sends
# numbers, so a client has to read a number either way.
REVENUE_NOTE = "`totalRevenue`: the original sent a decimal string once charges existed (§7.7)"

ROUTES = (
    # §1.2 gives the gateway's own routes no ids; G1-G3 are ours.
    Route(
        "G1",
        "GET",
        "/health",
        (
            *health("api-gateway"),
            *(Field(f"services.{name}", STRING) for name in UPSTREAMS),
        ),
    ),
    Route(
        "G2",
        "GET",
        "/api/circuit-breaker/stats",
        tuple(
            Field(f"{name}.{part}", kind, declared=True)
            for name in UPSTREAMS
            for part, kind in (("state", STRING), ("stats", OBJECT), ("healthCheck", OBJECT))
        ),
        note="the original answered `{}` (its breakers were never initialised, §7.6)",
    ),
    Route(
        "G3",
        "POST",
        "/api/saga/register",
        (
            Field("success", BOOL, True),
            message("User registered successfully with wallet and analytics profile"),
            *USER,
            Field("sagaState.userCreated", BOOL, True),
            Field("sagaState.walletCreated", BOOL, True),
            Field("sagaState.analyticsCreated", BOOL, True),
            Field("sagaState.userId", INT),
            Field("sagaState.errors", ARRAY),
        ),
        status=201,
        also=(202,),
        note="202 + `Location` to poll when the saga takes longer than `SAGA_WAIT_SECONDS`",
    ),
    # §1.3 auth
    Route(
        "A1", "POST", "/api/auth/register", (message("User registered successfully"), *USER), 201
    ),
    Route("A2", "POST", "/api/auth/login", (message("Login successful"), Field("token", STRING))),
    Route(
        "A3",
        "POST",
        "/api/auth/verify",
        (Field("id", INT, CALLER), *names("email", "firstName", "lastName", type=STRING)),
        bearer=True,
    ),
    Route(
        "A4",
        "GET",
        "/api/auth/profile",
        (Field("_id", INT, CALLER), *names("email", "firstName", "lastName", type=STRING)),
        bearer=True,
    ),
    Route(
        "A5", "PUT", "/api/auth/profile", (message("Profile updated successfully"),), bearer=True
    ),
    Route(
        "A6",
        "DELETE",
        "/api/auth/users/:userId",
        (message("User deleted successfully (compensation)"), Field("userId", INT, SUBJECT)),
    ),
    Route("A7", "GET", "/health", health("auth-service", "ok"), direct="auth"),
    # §1.4 video
    Route("V1", "GET", "/api/videos", body=ARRAY, rows=VIDEO_ROW, rows_at="[]"),
    Route(
        "V2",
        "POST",
        "/api/videos",
        (message("Video uploaded successfully"), Field("video", OBJECT)),
        201,
        rows=VIDEO_ROW,
        rows_at="video",
        bearer=True,
    ),
    Route("V3", "GET", "/api/videos/:id", rows=VIDEO_ROW),
    Route("V4", "PUT", "/api/videos/:id", (message("Video updated successfully"),), bearer=True),
    Route("V5", "DELETE", "/api/videos/:id", status=204, body=EMPTY, bearer=True),
    Route("V6", "GET", "/health", health("video-service"), direct="video"),
    # §1.5 streaming: the caller's id was read from a field verify never sent (§7.1), so start
    # never opened a session, and nothing that needs one ever answered.
    Route(
        "S1",
        "POST",
        "/api/stream/start/:videoId",
        (Field("sessionId", STRING), Field("streamUrl", STRING), Field("videoDetails", OBJECT)),
        rows=VIDEO_ROW,
        rows_at="videoDetails",
        bearer=True,
        worked=False,
    ),
    Route("S2", "GET", "/api/stream/url/:sessionId", status=206, body=BYTES, worked=False),
    Route(
        "S3",
        "PUT",
        "/api/stream/heartbeat/:sessionId",
        (message("Heartbeat successful"), Field("watchedTime", INT)),
        bearer=True,
        worked=False,
    ),
    Route(
        "S4",
        "POST",
        "/api/stream/end/:sessionId",
        (message("Stream session ended successfully"),),
        bearer=True,
        worked=False,
    ),
    Route("S5", "GET", "/health", health("streaming-service"), direct="streaming"),
    # §1.6 billing
    Route(
        "B1",
        "POST",
        "/api/billing/account/create",
        (message("Billing account created successfully"),),
        201,
        case="new",
    ),
    Route(
        "B1",
        "POST",
        "/api/billing/account/create",
        (message("Account already exists"),),
        case="exists",
    ),
    Route(
        "B2",
        "GET",
        "/api/billing/balance",
        (Field("userId", INT, CALLER), Field("balance", INT)),
        bearer=True,
    ),
    Route(
        "B3",
        "POST",
        "/api/billing/deposit",
        (message("Deposit successful"), Field("newBalance", INT)),
        bearer=True,
    ),
    Route(
        "B4",
        "POST",
        "/api/billing/charge",
        (message("Charge successful"), Field("remainingBalance", INT)),
    ),
    Route(
        "B5",
        "GET",
        "/api/billing/transactions",
        body=ARRAY,
        rows=TRANSACTION_ROW,
        rows_at="[]",
        bearer=True,
    ),
    Route(
        "B6",
        "GET",
        "/api/billing/revenue/total",
        (Field("totalRevenue", NUMBER),),
        note=REVENUE_NOTE,
    ),
    Route(
        "B7",
        "DELETE",
        "/api/billing/account/:userId",
        (
            message("Billing account deleted successfully (compensation)"),
            Field("userId", INT, SUBJECT),
        ),
    ),
    Route("B8", "GET", "/health", health("billing-service"), direct="billing"),
    # §1.7 analytics
    Route("N1", "POST", "/api/analytics/track", (message("Analytics tracked successfully"),)),
    Route(
        "N2",
        "GET",
        "/api/analytics/dashboard",
        (
            *names("totalViews", "totalUsers"),
            Field("totalRevenue", NUMBER),
            Field("totalWatchTime", INT),
        ),
        note=REVENUE_NOTE,
    ),
    Route(
        "N3",
        "GET",
        "/api/analytics/videos/:id",
        (
            Field("videoId", STRING),
            *names("totalViews", "totalWatchTime", "totalRevenue", "completionRate"),
        ),
        case="no data",
        note="`videoId` is the path segment echoed as a string",
    ),
    Route("N3", "GET", "/api/analytics/videos/:id", rows=VIDEO_ANALYTICS_ROW, case="has data"),
    Route(
        "N4",
        "GET",
        "/api/analytics/user",
        (
            Field("userId", INT, CALLER, declared=True),
            *names("totalWatchTime", "totalSpent"),
            Field("history", ARRAY),
        ),
        rows=ACTIVITY_ROW,
        rows_at="history[]",
        bearer=True,
        note="the original never sent `userId` (§7.2)",
    ),
    Route(
        "N5",
        "GET",
        "/api/analytics/top-videos",
        body=ARRAY,
        rows=VIDEO_ANALYTICS_ROW,
        rows_at="[]",
    ),
    Route("N6", "GET", "/api/analytics/revenue", names("daily", "weekly", "monthly")),
    Route(
        "N7",
        "GET",
        "/api/analytics/reports/:period",
        names("totalViews", "totalUsers", "totalRevenue", "totalWatchTime"),
    ),
    Route(
        "N8",
        "POST",
        "/api/analytics/profile/create",
        (message("Analytics profile created successfully"), Field("userId", INT, SUBJECT)),
        201,
        case="new",
    ),
    Route(
        "N8",
        "POST",
        "/api/analytics/profile/create",
        (message("Analytics profile already exists"),),
        case="exists",
    ),
    Route(
        "N9",
        "DELETE",
        "/api/analytics/profile/:userId",
        (message("Analytics profile deleted successfully"),),
    ),
    Route(
        "N10",
        "POST",
        "/api/analytics/cqrs/record-view",
        (Field("success", BOOL, True), Field("eventId", INT), Field("timestamp", STRING)),
        worked=False,
        note="always 500 in the original (§7.4)",
    ),
    # With record-view always failing, no video or user ever had data, so `lastUpdated` was
    # declared but never sent.
    Route(
        "N11",
        "GET",
        "/api/analytics/cqrs/video/:videoId/stats",
        (
            *names("videoId", "totalViews", "uniqueViewers", "totalWatchTime"),
            Field("averageWatchTime", NUMBER),
            Field("lastUpdated", STRING, declared=True),
        ),
    ),
    Route(
        "N12",
        "GET",
        "/api/analytics/cqrs/user/:userId/history",
        (
            Field("userId", INT, SUBJECT),
            *names("videosWatched", "totalTimeSpent"),
            Field("lastUpdated", STRING, declared=True),
        ),
    ),
    Route(
        "N13",
        "GET",
        "/api/analytics/cqrs/platform/stats",
        (
            *names("totalVideosViewed", "totalViews", "totalWatchTime", "totalActiveUsers"),
            Field("averageViewsPerVideo", NUMBER),
        ),
    ),
    Route(
        "N14",
        "POST",
        "/api/analytics/cqrs/replay-events",
        (Field("success", BOOL, True), Field("eventsReplayed", INT)),
    ),
    Route("N15", "GET", "/health", health("analytics-service"), direct="analytics"),
)

# Where Streamify answers differently on purpose: (route, field) -> why. The field "" is the
# answer's whole body, "(status)" its status code. The test fails on a difference not listed
# here, and on one listed here that is gone.
_HEALTH_STATUS = (
    "every service and the gateway answer `ok`, `degraded` or `unavailable` alike (the "
    "original said `ok` on auth and `OK` elsewhere); probes and dashboards read these words"
)
_HEALTH_SERVICE = (
    "each part names itself by its name on the platform (`auth`, `video`, ..., `gateway`), as "
    "its logs, metrics, breakers and gRPC health do"
)
_PAGED = "a page: the items with `total`, `limit` and the page's place, as a bare array cannot say"
DIFFERENCES: dict[tuple[str, str], str] = {
    ("G1", "status"): _HEALTH_STATUS,
    ("G1", "service"): _HEALTH_SERVICE,
    **{(route, "service"): _HEALTH_SERVICE for route in ("A7", "V6", "S5", "B8", "N15")},
    **{(route, "status"): _HEALTH_STATUS for route in ("V6", "S5", "B8", "N15")},
    ("V1", ""): f"{_PAGED}; the videos are under `videos`",
    ("V5", "(status)"): "200 `{message, id}`: the original's own pages needed a JSON body (§4.3)",
    ("B4", "(status)"): "a charge is a new ledger entry (201); the same key again answers 200",
    ("B5", ""): f"{_PAGED}; the transactions are under `transactions`",
    ("N1", ""): "views reach analytics as `video.watched` events from streaming, not by a call "
    "anyone could make for anyone; a signed-in user records their own views with record-view",
    ("N3 (no data)", "videoId"): "always the number, as in the answer with data; the original "
    "echoed the path's text only when it had no data",
    ("N3 (no data)", "completionRate"): "a number, the share of the video an average view "
    'saw (0..1), 0.0 with no views; the original sent the integer 0 here, the text `"0.00"` '
    "with data, and its pages read a number",
    ("N5", ""): "the videos under `videos`, with the figure they are ranked by (`by`: views, "
    "watchTime or revenue) and `limit`",
    ("N8 (exists)", "(status)"): "the saga's step is idempotent: the same step again answers "
    "as the first did",
    ("N10", "(status)"): "a recorded view is a new event (201)",
}
