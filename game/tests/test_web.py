"""The browser pages through Django's test client: pages, forms and redirects."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from game import selectors, services
from game.models import GameSession, Turn

PASSWORD = "siege-engine-47"

pytestmark = pytest.mark.django_db


@pytest.fixture
def themes():
    return services.theme_sync_builtin()


@pytest.fixture
def theme_slug(themes):
    return themes[0].slug


@pytest.fixture
def player():
    return services.user_register(username="aldric", password=PASSWORD)


@pytest.fixture
def rival():
    return services.user_register(username="morwen", password=PASSWORD)


@pytest.fixture
def player_client(client, player):
    client.force_login(player)
    return client


@pytest.fixture
def game(player, theme_slug):
    return services.session_create(owner=player, theme_slug=theme_slug, seed=7)


def notices(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_landing_explains_the_game_and_offers_sign_up(client):
    response = client.get(reverse("landing"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Hold the walls until relief arrives." in body
    assert reverse("signup") in body
    assert reverse("login") in body


def test_signup_creates_the_user_and_logs_them_in(client):
    response = client.post(
        reverse("signup"),
        {"username": "beatrix", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("lobby")
    user = get_user_model().objects.get(username="beatrix")
    assert user.check_password(PASSWORD)
    assert client.get(reverse("lobby")).context["user"] == user


def test_signup_with_mismatched_passwords_shows_the_error_and_creates_nobody(client):
    response = client.post(
        reverse("signup"),
        {"username": "beatrix", "password1": PASSWORD, "password2": "other-pass-99"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["password2"]
    assert not get_user_model().objects.filter(username="beatrix").exists()


def test_signup_with_a_taken_username_is_refused(client, player):
    response = client.post(
        reverse("signup"),
        {"username": "aldric", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["username"]
    assert get_user_model().objects.filter(username__iexact="aldric").count() == 1


def test_login_page_logs_in_and_lands_in_the_lobby(client, player):
    response = client.post(
        reverse("login"), {"username": "aldric", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == reverse("lobby")


def test_logout_is_a_post_and_returns_to_the_landing_page(player_client):
    response = player_client.post(reverse("logout"))

    assert response.status_code == 302
    assert response.url == reverse("landing")
    assert player_client.get(reverse("lobby")).status_code == 302


@pytest.mark.parametrize("name", ["lobby", "game_create"])
def test_anonymous_visitor_is_sent_to_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_visitor_of_a_game_is_sent_to_login(client, game):
    response = client.get(reverse("game", args=[game.id]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_lobby_lists_only_my_games(player_client, player, rival, theme_slug):
    mine = services.session_create(owner=player, theme_slug=theme_slug, seed=1)
    theirs = services.session_create(owner=rival, theme_slug=theme_slug, seed=2)

    response = player_client.get(reverse("lobby"))

    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("game", args=[mine.id]) in body
    assert str(theirs.id) not in body


def test_lobby_offers_every_enabled_theme(player_client, themes):
    response = player_client.get(reverse("lobby"))

    choices = [value for value, _ in response.context["form"].fields["theme"].choices]
    assert choices == [theme.slug for theme in selectors.theme_list()]
    assert choices


def test_new_game_redirects_to_its_game_page(player_client, player, theme_slug):
    response = player_client.post(
        reverse("game_create"), {"theme": theme_slug, "seed": "42"}
    )

    session = GameSession.objects.get(owner=player)
    assert response.status_code == 302
    assert response.url == reverse("game", args=[session.id])
    assert session.seed == 42


def test_new_game_without_a_seed_picks_one(player_client, player, theme_slug):
    response = player_client.post(reverse("game_create"), {"theme": theme_slug})

    assert response.status_code == 302
    assert GameSession.objects.filter(owner=player).count() == 1


@pytest.mark.parametrize(
    "data",
    [{"theme": "atlantis"}, {"seed": "-3"}, {"seed": "many"}],
    ids=["unknown theme", "negative seed", "non-numeric seed"],
)
def test_bad_new_game_input_shows_the_form_again(player_client, theme_slug, data):
    data = {"theme": theme_slug, **data}

    response = player_client.post(reverse("game_create"), data)

    assert response.status_code == 400
    assert response.context["form"].errors
    assert not GameSession.objects.exists()


def test_game_page_shows_the_scene_and_three_options(player_client, game):
    response = player_client.get(reverse("game", args=[game.id]))

    assert response.status_code == 200
    view = response.context["view"]
    body = response.content.decode()
    assert escape(view["scene"]["title"]) in body
    assert body.count('name="option"') == 3
    assert 'name="expected_turn" value="0"' in body
    for option in view["scene"]["options"]:
        assert f"{option['risk'].capitalize()} risk" in body


def test_posting_an_option_advances_the_turn(player_client, game):
    response = player_client.post(
        reverse("game_turn", args=[game.id]), {"expected_turn": "0", "option": "1"}
    )

    assert response.status_code == 302
    assert response.url == reverse("game", args=[game.id])
    game.refresh_from_db()
    assert game.turn_number == 1
    turn = Turn.objects.get(session=game)
    assert turn.action == {"type": "choose", "option": 1}

    page = player_client.get(response.url)
    assert 'name="expected_turn" value="1"' in page.content.decode()
    assert page.context["log"][0]["turn"] == 1


def test_stale_expected_turn_shows_a_message_and_applies_nothing(player_client, game):
    url = reverse("game_turn", args=[game.id])
    player_client.post(url, {"expected_turn": "0", "option": "0"})

    response = player_client.post(url, {"expected_turn": "0", "option": "2"})

    assert response.status_code == 302
    assert any("turn 1" in notice for notice in notices(response))
    game.refresh_from_db()
    assert game.turn_number == 1
    assert Turn.objects.filter(session=game).count() == 1


def test_a_page_ahead_of_the_game_is_not_called_stale(player_client, game):
    url = reverse("game_turn", args=[game.id])

    response = player_client.post(url, {"expected_turn": "7", "option": "0"})

    assert any("does not match the siege" in notice for notice in notices(response))
    assert not any("moved on" in notice for notice in notices(response))
    game.refresh_from_db()
    assert game.turn_number == 0


def test_orders_in_the_players_own_words_are_played(player_client, game):
    url = reverse("game_order_text", args=[game.id])

    response = player_client.post(url, {"expected_turn": "0", "text": "repair it"})

    assert response.status_code == 302
    turn = Turn.objects.get(session=game)
    assert turn.action == {"type": "free_text", "text": "repair it"}
    assert (
        player_client.post(url, {"expected_turn": "1", "text": " "}).status_code == 302
    )
    assert Turn.objects.filter(session=game).count() == 1


@pytest.mark.parametrize(
    "data",
    [{"expected_turn": "0"}, {"expected_turn": "0", "option": "7"}, {}],
    ids=["no option", "option out of range", "nothing"],
)
def test_malformed_turn_post_shows_a_message_and_applies_nothing(
    player_client, game, data
):
    response = player_client.post(reverse("game_turn", args=[game.id]), data)

    assert response.status_code == 302
    assert notices(response)
    game.refresh_from_db()
    assert game.turn_number == 0


def test_another_users_game_is_404(client, rival, game):
    client.force_login(rival)

    page = client.get(reverse("game", args=[game.id]))
    assert page.status_code == 404
    assert "Nothing stands here" in page.content.decode()
    assert client.get(reverse("game_screen", args=[game.id])).status_code == 404
    response = client.post(
        reverse("game_turn", args=[game.id]), {"expected_turn": "0", "option": "0"}
    )
    assert response.status_code == 404
    game.refresh_from_db()
    assert game.turn_number == 0


def test_screen_fragment_is_the_swappable_part_only(player_client, game):
    response = player_client.get(reverse("game_screen", args=[game.id]))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div class="screen"')
    assert "<html" not in body


def _play_to_the_end(client, game):
    url = reverse("game_turn", args=[game.id])
    for _ in range(100):
        game.refresh_from_db()
        if game.status != GameSession.Status.ACTIVE:
            return
        client.post(url, {"expected_turn": str(game.turn_number), "option": "0"})
    raise AssertionError("the game did not end within 100 turns")


def test_ended_game_shows_the_ending_and_refuses_more_orders(player_client, game):
    _play_to_the_end(player_client, game)

    response = player_client.get(reverse("game", args=[game.id]))
    body = response.content.decode()
    ending = response.context["view"]["ending"]
    assert escape(ending["title"]) in body
    assert 'name="option"' not in body
    for entry in ending["epilogue"]:
        assert escape(entry["name"]) in body
    assert escape(ending["closing"]) in body
    charts = {chart["name"]: chart for chart in response.context["charts"]}
    opening = game.theme.data["metrics"]["morale"]["start"]
    morale = charts[game.theme.data["metrics"]["morale"]["name"]]
    assert morale["first"] == opening
    assert morale["turns"] == game.turn_number + 1
    assert reverse("lobby") in body

    lobby = player_client.get(reverse("lobby")).content.decode()
    assert escape(ending["title"]) in lobby

    turns = Turn.objects.filter(session=game).count()
    refused = player_client.post(
        reverse("game_turn", args=[game.id]),
        {"expected_turn": str(game.turn_number), "option": "0"},
    )
    assert any("over" in notice for notice in notices(refused))
    assert Turn.objects.filter(session=game).count() == turns


def _first_order_post(view, function):
    order = next(order for order in view["orders"] if order["function"] == function)
    data = {"function": function}
    for name, arg in order["args"].items():
        if arg["type"] == "structure":
            data[f"arg_{name}"] = view["structures"][0]["id"]
        elif arg["type"] == "npc":
            data[f"arg_{name}"] = view["npcs"][0]["id"]
        elif arg["type"] == "int":
            data[f"arg_{name}"] = str(arg["min"])
        else:
            data[f"arg_{name}"] = arg["choices"][0]
    return data


def test_game_page_offers_the_themes_direct_orders(player_client, game):
    response = player_client.get(reverse("game", args=[game.id]))

    body = response.content.decode()
    orders = response.context["view"]["orders"]
    assert orders
    for order in orders:
        assert f'name="function" value="{order["function"]}"' in body


def test_posting_a_direct_order_plays_it_as_the_turn(player_client, game):
    view = selectors.session_view(game)["view"]
    function = view["orders"][0]["function"]
    data = {"expected_turn": "0", **_first_order_post(view, function)}

    response = player_client.post(reverse("game_order", args=[game.id]), data)

    assert response.status_code == 302
    turn = Turn.objects.get(session=game)
    assert turn.action["type"] == "order"
    assert turn.action["function"] == function


@pytest.mark.parametrize(
    "change",
    [
        {"function": "summon_dragons"},
        {"arg_amount": "lots"},
        {"arg_amount": ""},
        {"arg_evil": "1"},
    ],
    ids=["unknown order", "non-numeric argument", "missing argument", "stray field"],
)
def test_unreadable_direct_order_shows_a_message_and_applies_nothing(
    player_client, game, change
):
    view = selectors.session_view(game)["view"]
    function = next(
        order["function"] for order in view["orders"] if "amount" in order["args"]
    )
    data = {"expected_turn": "0", **_first_order_post(view, function), **change}

    response = player_client.post(reverse("game_order", args=[game.id]), data)

    assert response.status_code == 400
    assert response.context["order_error"]["message"].startswith("Not given: ")
    page = response.content.decode()
    assert 'class="field-error order-error"' in page
    assert '<details class="orders" open>' in page
    game.refresh_from_db()
    assert game.turn_number == 0


def test_direct_order_the_engine_refuses_is_reported_and_applies_nothing(
    player_client, game
):
    view = selectors.session_view(game)["view"]
    order = next(order for order in view["orders"] if "amount" in order["args"])
    data = {
        "expected_turn": "0",
        **_first_order_post(view, order["function"]),
        "arg_amount": str(order["args"]["amount"]["max"] + 1000),
    }

    response = player_client.post(reverse("game_order", args=[game.id]), data)

    # The refusal stands beside that order, with the value the player sent.
    assert response.status_code == 400
    error = response.context["order_error"]
    assert error["function"] == order["function"]
    page = response.content.decode()
    assert f'id="order-error-{order["function"]}" role="alert"' in page
    assert f'value="{data["arg_amount"]}" aria-invalid="true"' in page
    game.refresh_from_db()
    assert game.turn_number == 0


def test_public_game_can_be_watched_but_not_played_by_another_user(
    player_client, client, rival, game
):
    opened = player_client.post(
        reverse("game_visibility", args=[game.id]), {"visibility": "public"}
    )
    assert opened.status_code == 302
    client.force_login(rival)

    lobby = client.get(reverse("lobby")).content.decode()
    page = client.get(reverse("game", args=[game.id]))
    played = client.post(
        reverse("game_turn", args=[game.id]),
        {"expected_turn": "0", "option": "0"},
        follow=True,
    )

    assert reverse("game", args=[game.id]) in lobby
    assert page.status_code == 200
    assert "Spectating" in page.content.decode()
    assert 'name="option"' not in page.content.decode()
    assert played.redirect_chain == [(reverse("game", args=[game.id]), 302)]
    assert "you may watch it, not play it" in played.content.decode()
    game.refresh_from_db()
    assert game.turn_number == 0


def test_making_a_game_private_again_hides_it(player_client, client, rival, game):
    url = reverse("game_visibility", args=[game.id])
    player_client.post(url, {"visibility": "public"})
    player_client.post(url, {"visibility": "private"})
    client.force_login(rival)

    assert client.get(reverse("game", args=[game.id])).status_code == 404


def test_bad_visibility_value_is_a_message_not_a_change(player_client, game):
    response = player_client.post(
        reverse("game_visibility", args=[game.id]), {"visibility": "everyone"}
    )

    assert response.status_code == 302
    assert notices(response)
    game.refresh_from_db()
    assert game.visibility == "private"


def test_only_the_owner_can_change_visibility(client, rival, game):
    client.force_login(rival)

    response = client.post(
        reverse("game_visibility", args=[game.id]), {"visibility": "public"}
    )

    assert response.status_code == 404
    game.refresh_from_db()
    assert game.visibility == "private"


def test_wrong_password_shows_an_error_on_the_login_page(client, player):
    response = client.post(
        reverse("login"), {"username": "aldric", "password": "not-the-password"}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_post_without_a_csrf_token_gets_the_expired_form_page(player, game):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(player)

    response = strict.post(
        reverse("game_turn", args=[game.id]), {"expected_turn": "0", "option": "0"}
    )

    assert response.status_code == 403
    assert "That form had gone stale" in response.content.decode()
    game.refresh_from_db()
    assert game.turn_number == 0


def test_the_map_draws_each_structure_by_its_condition(player_client, game):
    state = game.state
    first, second = list(state["structures"])[:2]
    state["structures"][first]["integrity"] = 0
    state["structures"][first]["status"] = "collapsed"
    state["structures"][second]["fire"] = 2
    type(game).objects.filter(pk=game.pk).update(state=state)

    page = player_client.get(reverse("game", args=[game.id])).content.decode()

    assert page.count('class="map-structure ') == len(state["structures"])
    assert f'status-collapsed" data-structure="{first}"' in page
    assert f'on-fire" data-structure="{second}"' in page
    assert 'role="img" aria-labelledby="map-title map-desc"' in page


def _play(client, game, turns):
    url = reverse("game_turn", args=[game.id])
    for turn in range(turns):
        client.post(url, {"expected_turn": str(turn), "option": str(turn % 3)})
    game.refresh_from_db()


def test_the_replay_steps_through_each_turn_as_it_was(player_client, game):
    _play(player_client, game, 3)
    url = reverse("game_replay", args=[game.id])

    opening = player_client.get(url)
    second = player_client.get(url, {"turn": 2})
    beyond = player_client.get(url, {"turn": 99})
    nonsense = player_client.get(url, {"turn": "x"})

    assert opening.context["number"] == 0
    assert 'rel="next"' in opening.content.decode()
    assert 'rel="prev"' not in opening.content.decode()
    records = [t.record for t in Turn.objects.filter(session=game).order_by("number")]
    assert second.context["record"] == records[1]
    assert second.context["view"]["turn"] == 2
    page = second.content.decode()
    assert 'After turn <strong class="replay-turn">2</strong> of 3' in page
    assert 'class="map-structure ' in page
    assert beyond.context["number"] == 3
    assert 'rel="next"' not in beyond.content.decode()
    assert nonsense.context["number"] == 0


def test_a_private_game_is_replayed_by_its_owner_only(client, rival, game):
    client.force_login(rival)

    assert client.get(reverse("game_replay", args=[game.id])).status_code == 404

    type(game).objects.filter(pk=game.pk).update(visibility="public")
    assert client.get(reverse("game_replay", args=[game.id])).status_code == 200


def test_the_hud_shows_how_each_number_moved_last_turn(player_client, game):
    _play(player_client, game, 2)
    records = [t.record for t in Turn.objects.filter(session=game).order_by("number")]
    changed = {
        key: value - records[0]["metrics"][key]
        for key, value in records[1]["metrics"].items()
        if value != records[0]["metrics"].get(key)
    }

    response = player_client.get(reverse("game", args=[game.id]))

    assert response.context["trends"] == {
        key: records[1]["metrics"][key] - records[0]["metrics"][key]
        for key in records[1]["metrics"]
    }
    page = response.content.decode()
    shown = [
        key
        for key in changed
        if f'data-metric="{key}"' in page or (f'data-stockpile="{key}"' in page)
    ]
    assert shown, "some gauge changed over the last turn"
    assert "since the last turn" in page


def test_the_ending_offers_a_replay_to_share(player_client, game):
    for _ in range(60):
        game.refresh_from_db()
        if game.status != "active":
            break
        _play_one = reverse("game_turn", args=[game.id])
        player_client.post(
            _play_one, {"expected_turn": str(game.turn_number), "option": "0"}
        )
    assert game.status == "ended"

    private = player_client.get(reverse("game", args=[game.id])).content.decode()
    assert "Make public and share" in private
    type(game).objects.filter(pk=game.pk).update(visibility="public")
    public = player_client.get(reverse("game", args=[game.id])).content.decode()
    assert f"http://testserver/games/{game.id}/replay/" in public


def test_my_games_filter_by_status_and_theme_and_show_my_record(
    player_client, player, themes
):
    first, second = themes[0].slug, themes[1].slug
    ended = services.session_create(owner=player, theme_slug=first, seed=3)
    services.session_create(owner=player, theme_slug=first, seed=4)
    services.session_create(owner=player, theme_slug=second, seed=5)
    for _ in range(60):
        ended.refresh_from_db()
        if ended.status != "active":
            break
        services.turn_submit(
            session_id=ended.id,
            user=player,
            action={"type": "choose", "option": 0},
            expected_turn=ended.turn_number,
        )
    kind = ended.state["ending"]["kind"]

    everything = player_client.get(reverse("lobby"))
    active = player_client.get(reverse("lobby"), {"status": "active"})
    of_second = player_client.get(reverse("lobby"), {"theme": second})
    nonsense = player_client.get(reverse("lobby"), {"status": "won", "theme": "zz"})

    assert everything.context["games"].count() == 3
    assert {g.status for g in active.context["games"]} == {"active"}
    assert active.context["games"].count() == 2
    assert [g.theme.slug for g in of_second.context["games"]] == [second]
    assert nonsense.context["games"].count() == 3
    record = {row["slug"]: row for row in everything.context["record"]}
    assert record[first]["games"] == 2
    assert record[first]["active"] == 1
    assert record[first]["victories" if kind == "victory" else "defeats"] == 1
    assert record[second] == {**record[second], "games": 1, "active": 1}


@pytest.mark.parametrize("accept_language", ["en-GB,en;q=0.8", "de-DE,de;q=0.9"])
def test_the_main_pages_are_served_in_english_whatever_the_browser_asks(
    client, player, game, accept_language
):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language}
    limit = game.theme.data["turn_limit"]
    anonymous = {
        reverse("landing"): "Hold the walls until relief arrives.",
        reverse("login"): "<h1>Log in</h1>",
        reverse("signup"): "Already commanding a fortress?",
    }
    signed_in = {
        reverse("lobby"): "<h1>My games</h1>",
        reverse("game", args=[game.id]): (
            f'<strong class="turn-number">0</strong> of {limit} turns played'
        ),
        reverse("game_replay", args=[game.id]): (
            'After turn <strong class="replay-turn">0</strong> of 0'
        ),
    }

    for pages in (anonymous, signed_in):
        for url, text in pages.items():
            response = client.get(url, **headers)
            body = response.content.decode()
            assert response.status_code == 200, url
            assert response["Content-Language"] == "en", url
            assert '<html lang="en">' in body, url
            assert text in body, url
        client.force_login(player)


def test_every_player_template_marks_its_fixed_text_for_translation():
    """Strip out what is marked and what is data: no English words may remain."""
    import re
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR) / "templates"
    marked = re.compile(
        r"{%\s*blocktranslate\b.*?{%\s*endblocktranslate\s*%}"
        r"|{%\s*translate\b.*?%}",
        re.S,
    )
    class_blocks = re.compile(
        r"{%\s*block\s+(?:main_class|body_class)\s*%}.*?{%\s*endblock\s*%}", re.S
    )
    template_code = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)
    read_aloud = re.compile(r'\b(?:title|aria-label|placeholder|alt)="([^"]*)"')
    templates = [
        path
        for path in sorted(root.rglob("*.html"))
        if path.relative_to(root).parts[0] != "admin"
    ]
    assert len(templates) >= 20

    unmarked, without_i18n = {}, []
    for path in templates:
        source = path.read_text()
        if not re.search(r"{%\s*load\s[^%]*\bi18n\b", source):
            without_i18n.append(path.name)
        text = template_code.sub(" ", class_blocks.sub(" ", marked.sub(" ", source)))
        attributes = [v for v in read_aloud.findall(text) if re.search("[A-Za-z]", v)]
        text = re.sub(r"<script\b.*?</script>|<[^>]*>|&[a-z]+;", " ", text, flags=re.S)
        words = re.findall(r"[A-Za-z]{2,}", text) + attributes
        if words:
            unmarked[str(path.relative_to(root))] = words

    assert without_i18n == []
    assert unmarked == {}
    landing = (root / "landing.html").read_text()
    assert "{% translate " in landing and "{% blocktranslate " in landing
