from django.apps import AppConfig


class GameConfig(AppConfig):
    name = "game"
    verbose_name = "Games"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the site's system checks with Django's check framework.
        from fortress_site import checks  # noqa: F401

        # Job counts and broker queue lengths, read when /metrics is scraped.
        from game.jobs.metrics import register_job_collector

        register_job_collector()
