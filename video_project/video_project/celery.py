from common.celery import create_app

app = create_app("video")
