from django.db import migrations, models


def flag_games_with_open_pending_turns(apps, schema_editor):
    # A game whose turn is already with a worker must be checked on its next
    # submission, like one queued after this migration.
    GameSession = apps.get_model("game", "GameSession")
    PendingTurn = apps.get_model("game", "PendingTurn")
    open_ids = PendingTurn.objects.filter(state__in=("queued", "running")).values(
        "session_id"
    )
    GameSession.objects.filter(pk__in=open_ids).update(check_pending=True)


class Migration(migrations.Migration):
    dependencies = [
        ("game", "0004_game_master_permission"),
    ]

    operations = [
        migrations.AddField(
            model_name="gamesession",
            name="check_pending",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(
            flag_games_with_open_pending_turns, migrations.RunPython.noop
        ),
    ]
