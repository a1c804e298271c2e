"""Many clients racing for the same turn, on the real database.

Each thread is its own client with its own database connection, released
together by a barrier: on SQLite the IMMEDIATE transactions queue them, on
PostgreSQL the session row lock does. Exactly one turn may come of it.
"""

import json

import pytest

from game.models import IdempotencyKey, Turn
from game.tests.conftest import choose, client_for, start_game
from game.tests.test_auth_hardening import race

RACERS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_submissions_of_one_turn_apply_it_once(ada, theme):
    game = start_game(client_for(ada), theme)
    clients = [client_for(ada) for _ in range(RACERS)]

    responses = race(RACERS, lambda i: choose(clients[i], game["id"], 0, option=i % 3))

    codes = [r.status_code for r in responses]
    assert codes.count(201) == 1, codes
    assert codes.count(409) == RACERS - 1, codes
    stale = [r.json()["error"] for r in responses if r.status_code == 409]
    assert {e["code"] for e in stale} == {"stale_turn"}
    assert {e["details"]["current_turn"] for e in stale} <= {0, 1}
    assert Turn.objects.filter(session_id=game["id"]).count() == 1

    winner = next(r for r in responses if r.status_code == 201).json()
    owner = client_for(ada)
    assert owner.get(f"/api/v1/sessions/{game['id']}/").json()["turn"] == 1
    verdict = owner.get(f"/api/v1/sessions/{game['id']}/verify/").json()
    assert verdict["ok"] is True
    # The stored turn is the one the winner was told about.
    stored = owner.get(f"/api/v1/sessions/{game['id']}/turns/1/").json()
    assert stored["record"] == winner["record"]


@pytest.mark.django_db(transaction=True)
def test_racing_the_next_turn_after_a_won_race_still_applies_one(ada, theme):
    game = start_game(client_for(ada), theme)
    clients = [client_for(ada) for _ in range(10)]
    for turn in range(3):
        responses = race(10, lambda i, t=turn: choose(clients[i], game["id"], t))
        assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    numbers = Turn.objects.filter(session_id=game["id"]).values_list(
        "number", flat=True
    )
    assert sorted(numbers) == [1, 2, 3]
    verdict = client_for(ada).get(f"/api/v1/sessions/{game['id']}/verify/").json()
    assert verdict["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_one_idempotency_key_sent_by_many_at_once_applies_one_turn(ada, theme):
    game = start_game(client_for(ada), theme)
    clients = [client_for(ada) for _ in range(20)]

    responses = race(
        20,
        lambda i: choose(clients[i], game["id"], 0, HTTP_IDEMPOTENCY_KEY="retry-storm"),
    )

    assert [r.status_code for r in responses] == [201] * 20
    # Compared as JSON: PostgreSQL stores the answer as jsonb, whose key
    # order is its own.
    bodies = {json.dumps(r.json(), sort_keys=True) for r in responses}
    assert len(bodies) == 1, "every caller gets the same stored answer"
    replayed = [r.get("Idempotent-Replayed") for r in responses]
    assert replayed.count("true") == 19
    assert Turn.objects.filter(session_id=game["id"]).count() == 1
    assert IdempotencyKey.objects.filter(key="retry-storm").count() == 1
