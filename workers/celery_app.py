"""The worker's Celery app, built from the Flask factory so tasks run in its app context.

    celery -A workers.celery_app worker
    celery -A workers.celery_app beat
"""

from celery import Celery

from shopify_loyalty import create_app
from workers.schedule import BEAT_SCHEDULE

flask_app = create_app()
celery: Celery = flask_app.extensions["celery"]
celery.conf.beat_schedule = BEAT_SCHEDULE
