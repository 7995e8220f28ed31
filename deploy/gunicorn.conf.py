"""Gunicorn settings shared by the six HTTP services (threads: requests mostly wait on I/O)."""

import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = 120
graceful_timeout = 10
accesslog = "-" if os.environ.get("STREAMIFY_ACCESS_LOG", "1") == "1" else None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
