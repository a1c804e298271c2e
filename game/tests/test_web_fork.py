"""Undo, branching and the storyteller choice on the browser pages (test client)."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from game import services
from game.models import GameSession, Turn

pytestmark = pytest.mark.django_db


@pytest.fixture
def theme_slug(theme):
    return theme.slug


@pytest.fixture
def ada_client(ada):
    client = Client()
    client.force_login(ada)
    return client


@pytest.fixture
def bram_client(bram):
    client = Client()
    client.force_login(bram)
    return client


def played(owner, theme_slug, turns, seed=7):
    game = services.session_create(owner=owner, theme_slug=theme_slug, seed=seed)
    for number in range(turns):
        services.turn_submit(
            session_id=game.id,
            user=owner,
            action={"type": "choose", "option": number % 3},
            expected_turn=number,
        )
    game.refresh_from_db()
    return game


def notices(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def newest_game_of(user):
    return GameSession.objects.filter(owner=user).order_by("-created").first()


def test_game_page_offers_undo_with_a_warning(ada_client, ada, theme_slug):
    game = played(ada, theme_slug, 2)

    body = ada_client.get(reverse("game", args=[game.id])).content.decode()

    assert "Undo last turn" in body
    assert reverse("game_undo", args=[game.id]) in body
    assert "This game stays as it is." in body
    assert "Yes, undo turn 2" in body


def test_no_undo_before_the_first_turn(ada_client, ada, theme_slug):
    game = played(ada, theme_slug, 0)
    body = ada_client.get(reverse("game", args=[game.id])).content.decode()
    assert "Undo last turn" not in body


def test_undo_opens_the_new_game_with_a_message(ada_client, ada, theme_slug):
    game = played(ada, theme_slug, 3)

    response = ada_client.post(reverse("game_undo", args=[game.id]), follow=True)

    fork = newest_game_of(ada)
    assert fork.pk != game.pk
    assert response.redirect_chain[-1][0] == reverse("game", args=[fork.id])
    assert fork.turn_number == 2 and fork.parent_id == game.pk
    assert any("Turn 3 was taken back" in notice for notice in notices(response))
    game.refresh_from_db()
    assert game.turn_number == 3


def test_undo_at_turn_zero_explains_and_starts_nothing(ada_client, ada, theme_slug):
    game = played(ada, theme_slug, 0)

    response = ada_client.post(reverse("game_undo", args=[game.id]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("game", args=[game.id])
    assert any("Nothing to undo" in notice for notice in notices(response))
    assert GameSession.objects.count() == 1


def test_each_turn_in_the_log_can_be_branched_from(ada_client, ada, theme_slug):
    game = played(ada, theme_slug, 3)

    body = ada_client.get(reverse("game", args=[game.id])).content.decode()

    assert body.count("Branch from here") == 3
    for number in (1, 2, 3):
        assert f'name="turn" value="{number}"' in body


def test_branch_from_a_turn_opens_the_new_game(ada_client, ada, theme_slug):
    game = played(ada, theme_slug, 3)

    response = ada_client.post(
        reverse("game_fork", args=[game.id]), {"turn": 1}, follow=True
    )

    fork = newest_game_of(ada)
    assert response.redirect_chain[-1][0] == reverse("game", args=[fork.id])
    assert fork.turn_number == 1 and fork.fork_turn == 1
    assert list(Turn.objects.filter(session=fork).values_list("chain_hash")) == list(
        Turn.objects.filter(session=game, number=1).values_list("chain_hash")
    )
    assert any("after turn 1" in notice for notice in notices(response))
    assert "branched at turn 1" in response.content.decode()


@pytest.mark.parametrize("turn", ["", "x", "-1"])
def test_branch_with_an_unreadable_turn_is_explained(ada_client, ada, theme_slug, turn):
    game = played(ada, theme_slug, 1)

    response = ada_client.post(
        reverse("game_fork", args=[game.id]), {"turn": turn}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("game", args=[game.id])
    assert any("branch from" in notice for notice in notices(response))
    assert GameSession.objects.count() == 1


def test_branch_beyond_the_game_is_refused_with_a_message(ada_client, ada, theme_slug):
    game = played(ada, theme_slug, 1)

    response = ada_client.post(
        reverse("game_fork", args=[game.id]), {"turn": 5}, follow=True
    )

    assert any("between 0 and 1" in notice for notice in notices(response))
    assert GameSession.objects.count() == 1


def test_spectator_branches_a_public_game_into_their_own(
    bram_client, ada, bram, theme_slug
):
    game = played(ada, theme_slug, 2)
    services.session_set_visibility(session_id=game.id, user=ada, visibility="public")

    page = bram_client.get(reverse("game", args=[game.id])).content.decode()
    assert "Branch from here" in page
    assert "Undo last turn" not in page
    response = bram_client.post(reverse("game_fork", args=[game.id]), {"turn": 2})

    fork = newest_game_of(bram)
    assert fork is not None and fork.parent_id == game.pk
    assert response.url == reverse("game", args=[fork.id])


def test_branching_someone_elses_private_game_is_404(
    bram_client, ada, bram, theme_slug
):
    game = played(ada, theme_slug, 2)
    fork_response = bram_client.post(reverse("game_fork", args=[game.id]), {"turn": 1})
    undo_response = bram_client.post(reverse("game_undo", args=[game.id]))
    assert fork_response.status_code == 404
    assert undo_response.status_code == 404
    assert newest_game_of(bram) is None


def test_lobby_shows_a_forks_parent_and_turn(ada_client, ada, theme_slug):
    game = played(ada, theme_slug, 2)
    services.session_fork(session_id=game.id, user=ada, at_turn=1)

    body = ada_client.get(reverse("lobby")).content.decode()

    assert "branched at turn 1" in body
    assert reverse("game", args=[game.id]) in body


def test_lobby_form_starts_a_game_with_the_chosen_storyteller(
    ada_client, ada, theme_slug
):
    lobby = ada_client.get(reverse("lobby")).content.decode()
    assert "Storyteller" in lobby and 'value="relentless"' in lobby

    ada_client.post(
        reverse("game_create"),
        {"theme": theme_slug, "seed": "3", "storyteller": "relentless"},
    )

    assert newest_game_of(ada).state["director"]["profile"] == "relentless"


def test_lobby_form_refuses_an_unknown_storyteller(ada_client, ada, theme_slug):
    response = ada_client.post(
        reverse("game_create"), {"theme": theme_slug, "storyteller": "gentle"}
    )
    assert response.status_code == 400
    assert "gentle is not one of the available choices" in response.content.decode()
    assert newest_game_of(ada) is None
