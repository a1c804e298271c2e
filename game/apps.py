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

        from game.sockets import connect_signals

        connect_signals()

        # A voices setting the engine cannot use would fail every voiced
        # game; refuse to start instead, naming the bad part.
        from django.core.exceptions import ImproperlyConfigured

        from game.voices import VoiceConfigError, voice_profiles

        try:
            voice_profiles()
        except VoiceConfigError as exc:
            raise ImproperlyConfigured(f"{exc}. See docs/language-models.md.") from exc
