"""The safe-function catalogue over REST: public, complete, filterable, documented."""

import pytest

from agents.catalogue import catalogue
from agents.functions import REGISTRY
from game.tests.conftest import error_of

pytestmark = pytest.mark.django_db


def test_anyone_can_read_the_whole_catalogue(anonymous):
    response = anonymous.get("/api/v1/functions/")
    assert response.status_code == 200
    body = response.json()
    assert [e["name"] for e in body] == [e["name"] for e in catalogue()]
    assert {e["name"] for e in body} == set(REGISTRY)


def test_each_entry_has_its_args_and_limits(as_ada):
    entries = {e["name"]: e for e in as_ada.get("/api/v1/functions/").json()}
    raid = entries["night_raid"]
    assert raid["category"] == "combat"
    assert raid["args"] == {
        "npc": {"type": "npc"},
        "troops": {"type": "int", "min": 5, "max": 30},
    }
    fn = REGISTRY["night_raid"]
    assert (raid["gas"], raid["cooldown"], raid["per_turn"]) == (
        fn.gas,
        fn.cooldown,
        fn.per_turn,
    )
    assert raid["description"] == fn.description


def test_the_catalogue_filters_by_category(anonymous):
    body = anonymous.get("/api/v1/functions/?category=finale").json()
    assert body and {e["category"] for e in body} == {"finale"}
    assert "relief_column" in {e["name"] for e in body}


def test_an_unknown_category_is_400_naming_the_field(anonymous):
    response = anonymous.get("/api/v1/functions/?category=dragons")
    assert response.status_code == 400
    assert "category" in error_of(response)["details"]


def test_the_catalogue_is_in_the_api_schema(anonymous):
    response = anonymous.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/v1/functions/" in response.json()["paths"]
