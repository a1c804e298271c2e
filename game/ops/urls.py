"""Probe and metrics URLs, mounted at the site root."""

from django.urls import path

from game.ops import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="prometheus-django-metrics"),
]
