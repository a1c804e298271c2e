"""Service and selector behaviour that the HTTP tests do not reach directly."""

import threading

import pytest
from django.db import connection

from game import selectors, services
from game.errors import (
    InvalidInput,
    NotFound,
    StaleTurn,
    ThemeUnavailable,
    ThemeVersionConflict,
)
from game.models import Theme, Turn


@pytest.mark.django_db
def test_theme_sync_builtin_twice_changes_nothing(theme):
    before = list(Theme.objects.values_list("pk", "content_hash", "updated"))
    services.theme_sync_builtin()
    after = list(Theme.objects.values_list("pk", "content_hash", "updated"))
    assert after == before
    assert theme.builtin


@pytest.mark.django_db
def test_changed_pack_under_a_played_version_is_refused(ada, theme):
    game = services.session_create(owner=ada, theme_slug=theme.slug, seed=1)
    stored = dict(theme.data)
    # Pretend the stored copy differs from the pack on disk.
    Theme.objects.filter(pk=theme.pk).update(content_hash="0" * 64)

    with pytest.raises(ThemeVersionConflict):
        services.theme_sync_builtin()

    theme.refresh_from_db()
    assert theme.data == stored
    game.refresh_from_db()
    assert game.theme_id == theme.pk


@pytest.mark.django_db
def test_changed_pack_with_no_games_replaces_the_stored_copy(theme):
    Theme.objects.filter(pk=theme.pk).update(content_hash="0" * 64)
    services.theme_sync_builtin()
    theme.refresh_from_db()
    assert theme.content_hash != "0" * 64


@pytest.mark.django_db
def test_disabled_theme_cannot_start_a_game(ada, theme):
    Theme.objects.filter(pk=theme.pk).update(enabled=False)
    assert theme.slug not in [t.slug for t in selectors.theme_list()]
    with pytest.raises(ThemeUnavailable):
        services.session_create(owner=ada, theme_slug=theme.slug)


@pytest.mark.django_db
def test_seed_that_does_not_fit_63_bits_is_invalid_input(ada, theme):
    with pytest.raises(InvalidInput):
        services.session_create(owner=ada, theme_slug=theme.slug, seed=2**63)


@pytest.mark.django_db
def test_session_get_with_a_malformed_id_is_not_found(ada):
    with pytest.raises(NotFound):
        selectors.session_get(user=ada, session_id="not-a-uuid")


@pytest.mark.django_db
def test_same_seed_gives_the_same_chain(ada, bram, theme):
    games = [
        services.session_create(owner=user, theme_slug=theme.slug, seed=99)
        for user in (ada, bram)
    ]
    for game in games:
        for turn in range(3):
            services.turn_submit(
                session_id=game.id,
                user=game.owner,
                action={"type": "choose", "option": turn % 3},
                expected_turn=turn,
            )
        game.refresh_from_db()
    assert games[0].head_chain_hash == games[1].head_chain_hash


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_exactly_one_wins(ada, theme):
    game = services.session_create(owner=ada, theme_slug=theme.slug, seed=1)
    barrier = threading.Barrier(2)
    outcomes = []

    def submit(option):
        try:
            barrier.wait(timeout=5)
            services.turn_submit(
                session_id=game.id,
                user=ada,
                action={"type": "choose", "option": option},
                expected_turn=0,
            )
            outcomes.append("won")
        except StaleTurn:
            outcomes.append("stale")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["stale", "won"]
    assert Turn.objects.filter(session=game).count() == 1
    game.refresh_from_db()
    assert game.turn_number == 1
