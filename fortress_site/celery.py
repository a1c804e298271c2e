"""The Celery application; tasks live in the game app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fortress_site.settings")

app = Celery("fortress_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
