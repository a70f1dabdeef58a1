"""Celery, attached to the Flask app, and the machinery around tasks.

- ``setup``: the Celery app (Flask's *Background Tasks with Celery* pattern) and the task
  base that runs each outbox unit of work to its end (services.outbox);
- ``dispatch``: the after-commit send and the relay that sends what was missed or lost;
- ``scheduled``: the scheduled jobs, run by beat in bounded batches or once by
  ``flask --app app jobs run NAME``.
"""
