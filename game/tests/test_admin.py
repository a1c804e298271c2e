"""The game master's admin pages for games, turns and themes."""

import pytest

from game import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def gm_client(client, gemma):
    client.force_login(gemma)
    return client


@pytest.fixture
def played(ada, theme):
    game = services.session_create(owner=ada, theme_slug=theme.slug, seed=2)
    services.turn_submit(
        session_id=game.id,
        user=ada,
        action={"type": "choose", "option": 0},
        expected_turn=0,
    )
    return game


def test_game_master_browses_games_filtered_by_status(gm_client, played):
    response = gm_client.get("/admin/game/gamesession/?status__exact=active")
    assert response.status_code == 200
    assert str(played.id) in response.content.decode()


def test_game_master_searches_games_by_owner(gm_client, played):
    response = gm_client.get("/admin/game/gamesession/?q=ada")
    assert str(played.id) in response.content.decode()


def test_session_page_is_read_only_with_its_turns(gm_client, played):
    url = f"/admin/game/gamesession/{played.id}/change/"
    page = gm_client.get(url)
    assert page.status_code == 200
    assert "head_chain_hash" in page.content.decode() or "Head chain" in (
        page.content.decode()
    )
    assert gm_client.post(url, {"status": "ended"}).status_code == 403
    played.refresh_from_db()
    assert played.status == "active"


def test_adding_games_in_the_admin_is_not_offered(gm_client):
    assert gm_client.get("/admin/game/gamesession/add/").status_code == 403


def test_turn_page_shows_the_record(gm_client, played):
    turn = played.turns.get()
    page = gm_client.get(f"/admin/game/turn/{turn.pk}/change/")
    assert page.status_code == 200
    assert turn.chain_hash in page.content.decode()


def test_single_turns_cannot_be_deleted(gm_client, played):
    turn = played.turns.get()
    page = gm_client.get(f"/admin/game/turn/{turn.pk}/delete/")
    assert page.status_code == 403
    listing = gm_client.post(
        "/admin/game/turn/",
        {"action": "delete_selected", "_selected_action": [turn.pk], "post": "yes"},
    )
    assert listing.status_code in (200, 302)
    assert played.turns.filter(pk=turn.pk).exists()


def test_theme_list_offers_the_enabled_toggle(gm_client, theme):
    page = gm_client.get("/admin/game/theme/")
    assert page.status_code == 200
    assert 'name="form-0-enabled"' in page.content.decode()


def test_players_cannot_open_the_admin(client, ada):
    client.force_login(ada)
    response = client.get("/admin/game/gamesession/")
    assert response.status_code == 302
