"""Django registration for the engine package; the engine itself imports no Django."""

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Game engine"
