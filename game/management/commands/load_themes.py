"""Stores the engine's built-in theme packs in the database (safe to rerun)."""

from django.core.management.base import BaseCommand, CommandError

import agents
from game.errors import ThemeVersionConflict
from game.services import theme_sync_builtin


class Command(BaseCommand):
    help = "Load or update the built-in theme packs shipped with the engine."

    def handle(self, *args, **options):
        try:
            themes = theme_sync_builtin()
        except agents.ThemeError as exc:
            problems = "\n".join(
                f"  {e.get('path')}: {e.get('message')}"
                for e in getattr(exc, "errors", [])
            )
            raise CommandError(f"A built-in theme is invalid:\n{problems}") from exc
        except ThemeVersionConflict as exc:
            raise CommandError(exc.message) from exc
        for theme in themes:
            self.stdout.write(f"{theme.slug} {theme.version}  {theme.title}")
        self.stdout.write(self.style.SUCCESS(f"{len(themes)} built-in theme(s) ready."))
