import logging
import time

from celery import shared_task
from django.conf import settings

from catalog import metrics, services

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def process_video(self, video_id: int) -> str:
    """Process an uploaded video once; faults of ours are retried with backoff, then `failed`.

    Safe to run twice or concurrently: `video_process` only finishes videos still processing.
    """
    started = time.perf_counter()
    try:
        outcome = services.video_process(video_id=video_id)
    except Exception as exc:
        metrics.PROCESSING.labels("error").observe(time.perf_counter() - started)
        final = self.request.retries >= self.max_retries
        metrics.FAILURES.labels(str(final).lower()).inc()
        if final:
            logger.exception("video %s: processing failed for good", video_id)
            reason = f"processing failed after {self.request.retries + 1} attempts: {exc}"
            services.video_fail(video_id=video_id, reason=reason, keep_source=True)
            return "failed"
        countdown = settings.VIDEO_RETRY_BASE_SECONDS * 2**self.request.retries
        raise self.retry(exc=exc, countdown=countdown) from exc
    metrics.PROCESSING.labels(outcome).observe(time.perf_counter() - started)
    return outcome
