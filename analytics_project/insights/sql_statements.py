"""The SQL of the set-based projection (`insights.sql_projection` runs it): the work tables, the
extraction of one range of the store, and one statement per read model, with the event types
each statement reads."""

from insights.event_specs import PAYMENT_TYPES, VIEW_TYPES
from insights.sql_expressions import integer, last, number, text

VIEWS = tuple(sorted(VIEW_TYPES))
DESCRIBES_VIDEO = ("video.uploaded", "video.ready")
# A refund is revenue given back: its amount is extracted negative, so sums over both are net.
PAYMENTS = tuple(sorted(PAYMENT_TYPES))
# Types whose ids `insights.event_specs` guarantees (a payment's videoId is optional).
HAS_USER = (
    "user.registered", "user.logged_in", "user.deleted", "stream.started", "stream.ended",
    *VIEWS, *PAYMENTS, "wallet.credited", "analytics.profile_created", "analytics.profile_deleted",
)  # fmt: skip
HAS_VIDEO = ("video.uploaded", "video.ready", "video.failed", "video.deleted",
             "stream.started", "stream.ended", *VIEWS)  # fmt: skip
# The events that give a user or a video a row of its own (stream events only count).
USER_ROWS = tuple(t for t in HAS_USER if not t.startswith("stream."))
VIDEO_ROWS = ("video.uploaded", "video.ready", "video.failed", "video.deleted", *VIEWS,
              *PAYMENTS)  # fmt: skip
# Events that always touch the platform totals (a video becoming ready does too).
TOUCH_PLATFORM = ("user.registered", "user.logged_in", "stream.started", "stream.ended", *VIEWS,
                  *PAYMENTS, "wallet.credited")  # fmt: skip
DAILY = (*VIEWS, *PAYMENTS, "wallet.credited", "user.registered", "stream.started")
# A temporary table of this size gets statistics before it is joined (a replay's, say).
ANALYZE_FROM_ROWS = 20_000


# {kind}: TEMP for a batch (one session reads them), UNLOGGED for a replay's build, whose writes
# run side by side on several connections.
TABLES = """
CREATE {kind} TABLE IF NOT EXISTS insights_range (
    position bigint, type text, occurred_at timestamptz, day date, user_id bigint,
    video_id bigint, amount bigint, session_id text, title text, category text,
    duration float8, price bigint, uploaded_by bigint, email text, first_name text,
    last_name text);
CREATE {kind} TABLE IF NOT EXISTS insights_range_users (
    user_id bigint, email text, first_name text, last_name text, profile_active boolean,
    registered_at timestamptz, deleted_at timestamptz, last_login_at timestamptz,
    views bigint, watch_seconds bigint, amount_spent bigint, amount_deposited bigint,
    last_viewed_at timestamptz, last_deleted bigint, users_delta int, new_viewer int);
CREATE {kind} TABLE IF NOT EXISTS insights_range_videos (
    video_id bigint, title text, category text, duration float8, price_per_minute bigint,
    uploaded_by bigint, status text, views bigint, unique_viewers bigint,
    watch_seconds bigint, revenue bigint, last_viewed_at timestamptz, ready_delta int,
    became_ready boolean);
DELETE FROM insights_range; DELETE FROM insights_range_users; DELETE FROM insights_range_videos;
"""

EXTRACT = f"""
INSERT INTO insights_range
SELECT
    e.position, e.type, e.occurred_at, (e.occurred_at AT TIME ZONE 'UTC')::date,
    CASE WHEN e.type IN %(has_user)s THEN (e.payload->>'userId')::bigint END,
    CASE WHEN e.type IN %(has_video)s THEN (e.payload->>'videoId')::bigint
         WHEN e.type IN %(payments)s THEN nullif((e.payload->>'videoId')::bigint, 0)
    END,
    CASE WHEN e.type IN %(views)s THEN (e.payload->>'watchSeconds')::bigint
         WHEN e.type IN ('payment.processed', 'wallet.credited')
         THEN (e.payload->>'amount')::bigint
         WHEN e.type = 'payment.refunded' THEN -(e.payload->>'amount')::bigint
    END,
    CASE WHEN e.type IN %(views)s THEN coalesce({text("sessionId", 64)}, '') END,
    CASE WHEN e.type IN %(describes)s THEN {text("title", 255)} END,
    CASE WHEN e.type IN %(describes)s THEN {text("category", 100)} END,
    CASE WHEN e.type IN %(describes)s THEN {number("duration")} END,
    CASE WHEN e.type IN %(describes)s THEN {integer("pricePerMinute")} END,
    CASE WHEN e.type IN %(describes)s THEN {integer("uploadedBy")} END,
    CASE WHEN e.type IN ('user.registered', 'analytics.profile_created')
         THEN {text("email", 254)} END,
    CASE WHEN e.type = 'user.registered' THEN {text("firstName", 50)} END,
    CASE WHEN e.type = 'user.registered' THEN {text("lastName", 50)} END
FROM insights_storedevent e
WHERE e.position > %(after)s AND e.position <= %(upto)s
  AND (%(from_time)s::timestamptz IS NULL OR e.occurred_at >= %(from_time)s::timestamptz)
"""

# `user.deleted` resets the e-mail and names; these events set the profile active or not.
_RESETS = "type = 'user.deleted'"
_ACTIVATES = "type IN ('user.registered', 'analytics.profile_created')"
_DEACTIVATES = "type IN ('user.deleted', 'analytics.profile_deleted')"

# Users counted on the platform: +1 at a user's first registration; -1 at their first deletion
# if it comes after a registration (a deletion before any registration leaves the later
# registration counted, as the projector does).
USERS = f"""
INSERT INTO insights_range_users
SELECT
    r.user_id,
    coalesce(r.email, o.email, ''),
    coalesce(r.first_name, o.first_name, ''),
    coalesce(r.last_name, o.last_name, ''),
    coalesce(r.profile_active, o.profile_active, false),
    coalesce(o.registered_at, r.registered_at),
    coalesce(r.deleted_at, o.deleted_at),
    coalesce(r.last_login_at, o.last_login_at),
    coalesce(o.views, 0) + r.views,
    coalesce(o.watch_seconds, 0) + r.watch_seconds,
    coalesce(o.amount_spent, 0) + r.amount_spent,
    coalesce(o.amount_deposited, 0) + r.amount_deposited,
    greatest(o.last_viewed_at, r.last_viewed_at),
    r.last_deleted,
    (o.registered_at IS NULL AND r.first_registered IS NOT NULL)::int
        - (o.deleted_at IS NULL AND r.first_deleted IS NOT NULL
           AND (o.registered_at IS NOT NULL OR r.first_registered < r.first_deleted))::int,
    (coalesce(o.views, 0) = 0 AND r.views > 0)::int
FROM (
    SELECT
        user_id,
        {last(f"CASE WHEN {_RESETS} THEN '' ELSE email END", f"{_RESETS} OR email IS NOT NULL")} AS email,
        {last(f"CASE WHEN {_RESETS} THEN '' ELSE first_name END", f"{_RESETS} OR first_name IS NOT NULL")} AS first_name,
        {last(f"CASE WHEN {_RESETS} THEN '' ELSE last_name END", f"{_RESETS} OR last_name IS NOT NULL")} AS last_name,
        {last(_ACTIVATES, f"{_ACTIVATES} OR {_DEACTIVATES}")} AS profile_active,
        (array_agg(occurred_at ORDER BY position) FILTER (WHERE type = 'user.registered'))[1]
            AS registered_at,
        {last("occurred_at", _RESETS)} AS deleted_at,
        {last("occurred_at", "type = 'user.logged_in'")} AS last_login_at,
        count(*) FILTER (WHERE type IN %(views)s) AS views,
        coalesce(sum(amount) FILTER (WHERE type IN %(views)s), 0) AS watch_seconds,
        coalesce(sum(amount) FILTER (WHERE type IN %(payments)s), 0) AS amount_spent,
        coalesce(sum(amount) FILTER (WHERE type = 'wallet.credited'), 0) AS amount_deposited,
        max(occurred_at) FILTER (WHERE type IN %(views)s) AS last_viewed_at,
        min(position) FILTER (WHERE type = 'user.registered') AS first_registered,
        min(position) FILTER (WHERE {_RESETS}) AS first_deleted,
        max(position) FILTER (WHERE {_RESETS}) AS last_deleted
    FROM insights_range
    WHERE type IN %(user_rows)s AND position > %(read_models_after)s
    GROUP BY user_id
) r
LEFT JOIN insights_userstats o ON o.generation = %(g)s AND o.user_id = r.user_id
"""  # noqa: E501

# A status is a small state machine: `deleted` is final; otherwise the last `ready` or `failed`
# decides; `uploaded` only turns `unknown` into `processing`. The platform counts ready videos.
VIDEOS = f"""
INSERT INTO insights_range_videos
SELECT
    r.video_id,
    coalesce(r.title, o.title, ''),
    coalesce(r.category, o.category, ''),
    coalesce(r.duration, o.duration),
    coalesce(r.price, o.price_per_minute),
    coalesce(r.uploaded_by, o.uploaded_by),
    s.status,
    coalesce(o.views, 0) + r.views,
    coalesce(o.unique_viewers, 0),
    coalesce(o.watch_seconds, 0) + r.watch_seconds,
    coalesce(o.revenue, 0) + r.revenue,
    greatest(o.last_viewed_at, r.last_viewed_at),
    (s.status = 'ready')::int - (coalesce(o.status, 'unknown') = 'ready')::int,
    r.first_ready IS NOT NULL AND coalesce(o.status, 'unknown') NOT IN ('ready', 'deleted')
        AND (r.first_deleted IS NULL OR r.first_deleted > r.first_ready)
FROM (
    SELECT
        video_id,
        {last("title", "title IS NOT NULL")} AS title,
        {last("category", "category IS NOT NULL")} AS category,
        {last("duration", "duration IS NOT NULL")} AS duration,
        {last("price", "price IS NOT NULL")} AS price,
        {last("uploaded_by", "uploaded_by IS NOT NULL")} AS uploaded_by,
        {last("CASE type WHEN 'video.ready' THEN 'ready' ELSE 'failed' END", "type IN ('video.ready', 'video.failed')")} AS last_state,
        bool_or(type = 'video.uploaded') AS uploaded,
        count(*) FILTER (WHERE type IN %(views)s) AS views,
        coalesce(sum(amount) FILTER (WHERE type IN %(views)s), 0) AS watch_seconds,
        coalesce(sum(amount) FILTER (WHERE type IN %(payments)s), 0) AS revenue,
        max(occurred_at) FILTER (WHERE type IN %(views)s) AS last_viewed_at,
        min(position) FILTER (WHERE type = 'video.ready') AS first_ready,
        min(position) FILTER (WHERE type = 'video.deleted') AS first_deleted
    FROM insights_range
    WHERE video_id IS NOT NULL AND type IN %(video_rows)s AND position > %(read_models_after)s
    GROUP BY video_id
) r
LEFT JOIN insights_videostats o ON o.generation = %(g)s AND o.video_id = r.video_id
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN r.first_deleted IS NOT NULL OR o.status = 'deleted' THEN 'deleted'
        WHEN r.last_state IS NOT NULL THEN r.last_state
        WHEN r.uploaded AND coalesce(o.status, 'unknown') = 'unknown' THEN 'processing'
        ELSE coalesce(o.status, 'unknown')
    END AS status
) s
"""  # noqa: E501

# `{new_pairs_only}` is `ON CONFLICT DO NOTHING`, except into an empty generation (a replay),
# where no pair can exist yet and the plain INSERT saves checking each against the index.
WRITE = """
WITH fresh AS (
    INSERT INTO insights_videoviewer (generation, video_id, user_id)
    SELECT DISTINCT %(g)s, video_id, user_id FROM insights_range
    WHERE type IN %(views)s AND position > %(read_models_after)s
    ORDER BY 2, 3
    {new_pairs_only}
    RETURNING video_id
), counted AS (SELECT video_id, count(*) AS n FROM fresh GROUP BY video_id)
INSERT INTO insights_videostats (generation, video_id, title, category, duration,
    price_per_minute, uploaded_by, status, views, unique_viewers, watch_seconds, revenue,
    last_viewed_at)
SELECT %(g)s, v.video_id, v.title, v.category, v.duration, v.price_per_minute, v.uploaded_by,
    v.status, v.views, v.unique_viewers + coalesce(c.n, 0), v.watch_seconds, v.revenue,
    v.last_viewed_at
FROM insights_range_videos v LEFT JOIN counted c ON c.video_id = v.video_id
ORDER BY v.video_id
ON CONFLICT (generation, video_id) DO UPDATE SET title = EXCLUDED.title,
    category = EXCLUDED.category, duration = EXCLUDED.duration,
    price_per_minute = EXCLUDED.price_per_minute, uploaded_by = EXCLUDED.uploaded_by,
    status = EXCLUDED.status, views = EXCLUDED.views, unique_viewers = EXCLUDED.unique_viewers,
    watch_seconds = EXCLUDED.watch_seconds, revenue = EXCLUDED.revenue,
    last_viewed_at = EXCLUDED.last_viewed_at;

INSERT INTO insights_userstats (generation, user_id, email, first_name, last_name,
    profile_active, registered_at, deleted_at, last_login_at, views, watch_seconds,
    amount_spent, amount_deposited, last_viewed_at)
SELECT %(g)s, user_id, email, first_name, last_name, profile_active, registered_at, deleted_at,
    last_login_at, views, watch_seconds, amount_spent, amount_deposited, last_viewed_at
FROM insights_range_users ORDER BY user_id
ON CONFLICT (generation, user_id) DO UPDATE SET email = EXCLUDED.email,
    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
    profile_active = EXCLUDED.profile_active, registered_at = EXCLUDED.registered_at,
    deleted_at = EXCLUDED.deleted_at, last_login_at = EXCLUDED.last_login_at,
    views = EXCLUDED.views, watch_seconds = EXCLUDED.watch_seconds,
    amount_spent = EXCLUDED.amount_spent, amount_deposited = EXCLUDED.amount_deposited,
    last_viewed_at = EXCLUDED.last_viewed_at;

-- A user's deletion drops the history before it (all the rows projected so far, and the
-- range's views before it); views after it are kept.
DELETE FROM insights_viewrecord WHERE generation = %(g)s
    AND user_id IN (SELECT user_id FROM insights_range_users WHERE last_deleted IS NOT NULL);

INSERT INTO insights_viewrecord (generation, position, user_id, video_id, session_id,
    watch_seconds, occurred_at)
SELECT %(g)s, r.position, r.user_id, r.video_id, r.session_id, r.amount, r.occurred_at
FROM insights_range r JOIN insights_range_users u ON u.user_id = r.user_id
WHERE r.type IN %(views)s AND r.position > %(read_models_after)s
    AND (u.last_deleted IS NULL OR r.position > u.last_deleted)
ORDER BY r.position;

INSERT INTO insights_platformstats (generation, users, videos, viewers, views, watch_seconds,
    revenue, charges, deposits, streams_started, streams_ended, logins)
SELECT %(g)s,
    coalesce(o.users, 0) + (SELECT coalesce(sum(users_delta), 0) FROM insights_range_users),
    coalesce(o.videos, 0) + (SELECT coalesce(sum(ready_delta), 0) FROM insights_range_videos),
    coalesce(o.viewers, 0) + (SELECT coalesce(sum(new_viewer), 0) FROM insights_range_users),
    coalesce(o.views, 0) + r.views,
    coalesce(o.watch_seconds, 0) + r.watch_seconds,
    coalesce(o.revenue, 0) + r.revenue,
    coalesce(o.charges, 0) + r.charges,
    coalesce(o.deposits, 0) + r.deposits,
    coalesce(o.streams_started, 0) + r.streams_started,
    coalesce(o.streams_ended, 0) + r.streams_ended,
    coalesce(o.logins, 0) + r.logins
FROM (
    SELECT
        count(*) FILTER (WHERE type IN %(views)s) AS views,
        coalesce(sum(amount) FILTER (WHERE type IN %(views)s), 0) AS watch_seconds,
        coalesce(sum(amount) FILTER (WHERE type IN %(payments)s), 0) AS revenue,
        count(*) FILTER (WHERE type = 'payment.processed') AS charges,
        coalesce(sum(amount) FILTER (WHERE type = 'wallet.credited'), 0) AS deposits,
        count(*) FILTER (WHERE type = 'stream.started') AS streams_started,
        count(*) FILTER (WHERE type = 'stream.ended') AS streams_ended,
        count(*) FILTER (WHERE type = 'user.logged_in') AS logins,
        count(*) FILTER (WHERE type IN %(touch_platform)s) AS touching
    FROM insights_range WHERE position > %(read_models_after)s
) r
LEFT JOIN insights_platformstats o ON o.generation = %(g)s
WHERE o.id IS NOT NULL OR r.touching > 0
    OR EXISTS (SELECT 1 FROM insights_range_videos WHERE became_ready)
ON CONFLICT (generation) DO UPDATE SET users = EXCLUDED.users, videos = EXCLUDED.videos,
    viewers = EXCLUDED.viewers, views = EXCLUDED.views, watch_seconds = EXCLUDED.watch_seconds,
    revenue = EXCLUDED.revenue, charges = EXCLUDED.charges, deposits = EXCLUDED.deposits,
    streams_started = EXCLUDED.streams_started, streams_ended = EXCLUDED.streams_ended,
    logins = EXCLUDED.logins;

WITH fresh AS (
    INSERT INTO insights_dailyviewer (generation, day, user_id)
    SELECT DISTINCT %(g)s, day, user_id FROM insights_range
    WHERE type IN %(views)s AND position > %(daily_after)s
    ORDER BY 2, 3
    {new_pairs_only}
    RETURNING day
), counted AS (SELECT day, count(*) AS n FROM fresh GROUP BY day)
INSERT INTO insights_dailymetric AS m (generation, day, views, viewers, watch_seconds,
    revenue, deposits, new_users, streams_started)
SELECT %(g)s, d.day, d.views, coalesce(c.n, 0), d.watch_seconds, d.revenue, d.deposits,
    d.new_users, d.streams_started
FROM (
    SELECT day,
        count(*) FILTER (WHERE type IN %(views)s) AS views,
        coalesce(sum(amount) FILTER (WHERE type IN %(views)s), 0) AS watch_seconds,
        coalesce(sum(amount) FILTER (WHERE type IN %(payments)s), 0) AS revenue,
        coalesce(sum(amount) FILTER (WHERE type = 'wallet.credited'), 0) AS deposits,
        count(*) FILTER (WHERE type = 'user.registered') AS new_users,
        count(*) FILTER (WHERE type = 'stream.started') AS streams_started
    FROM insights_range WHERE type IN %(daily)s AND position > %(daily_after)s
    GROUP BY day
) d LEFT JOIN counted c ON c.day = d.day
ORDER BY d.day
ON CONFLICT (generation, day) DO UPDATE SET views = m.views + EXCLUDED.views,
    viewers = m.viewers + EXCLUDED.viewers, watch_seconds = m.watch_seconds + EXCLUDED.watch_seconds,
    revenue = m.revenue + EXCLUDED.revenue, deposits = m.deposits + EXCLUDED.deposits,
    new_users = m.new_users + EXCLUDED.new_users,
    streams_started = m.streams_started + EXCLUDED.streams_started
"""  # noqa: E501


def statement_params(**values) -> dict:
    return {
        "views": VIEWS,
        "payments": PAYMENTS,
        "describes": DESCRIBES_VIDEO,
        "has_user": HAS_USER,
        "has_video": HAS_VIDEO,
        "user_rows": USER_ROWS,
        "video_rows": VIDEO_ROWS,
        "touch_platform": TOUCH_PLATFORM,
        "daily": DAILY,
        **values,
    }
