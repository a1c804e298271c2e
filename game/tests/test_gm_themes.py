"""Themes in the admin: upload, edit (a new version), clone, preview, refuse."""

import copy
import json

import pytest
import yaml
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from game.models import Theme
from game.tests.conftest import choose, start_game


@pytest.fixture
def gm_client(client, gemma):
    client.force_login(gemma)
    return client


@pytest.fixture
def pack(theme):
    """The built-in pack under a slug of its own, ready to upload."""
    raw = copy.deepcopy(theme.data)
    raw.update(slug="hollow_keep", title="The Hollow Keep", version="1.0.0")
    return raw


def upload(client, text=None, **files):
    data = {"text": text or ""}
    data.update(files)
    return client.post("/admin/game/theme/upload/", data)


def test_a_game_master_uploads_a_pack_as_json_or_yaml(gm_client, pack):
    response = upload(gm_client, json.dumps(pack))

    stored = Theme.objects.get(slug="hollow_keep")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/game/theme/{stored.pk}/change/"
    assert (stored.version, stored.builtin, stored.title) == (
        "1.0.0",
        False,
        "The Hollow Keep",
    )
    assert LogEntry.objects.filter(object_id=str(stored.pk)).exists()

    other = {**pack, "slug": "yaml_keep"}
    as_file = SimpleUploadedFile("keep.yaml", yaml.safe_dump(other).encode())
    assert upload(gm_client, upload=as_file).status_code == 302
    assert Theme.objects.filter(slug="yaml_keep", version="1.0.0").exists()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda p: p["scenes"][0].pop("options"), "scenes[0]"),
        (lambda p: p.update(turn_limit="many"), "turn_limit"),
        (
            lambda p: p["scenes"][0]["options"][0]["plan"].append(
                {"fn": "summon_dragons", "args": {}}
            ),
            "scenes[0].options[0].plan",
        ),
        (lambda p: p.update(slug="Not A Slug"), "slug"),
    ],
    ids=["missing options", "wrong type", "unknown function", "bad slug"],
)
def test_a_broken_pack_is_refused_with_the_path_of_each_problem(
    gm_client, pack, change, path
):
    change(pack)

    response = upload(gm_client, json.dumps(pack))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="theme-problems"' in page
    assert f"<code>{path}" in page
    assert not Theme.objects.filter(slug__in=["hollow_keep", "Not A Slug"]).exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"slug": "x",', "Not valid JSON"),
        ("slug: [unclosed", "Not valid YAML"),
        ("- a\n- list", "an object"),
        ("", "Paste a pack or choose a file"),
    ],
)
def test_unreadable_text_is_refused_with_where_it_breaks(gm_client, text, message):
    response = upload(gm_client, text)

    assert response.status_code == 200
    assert message in response.content.decode()


def test_editing_stores_a_new_version_and_running_games_keep_theirs(
    gm_client, as_ada, pack
):
    upload(gm_client, json.dumps(pack))
    first = Theme.objects.get(slug="hollow_keep")
    game = start_game(as_ada, first, seed=4)

    edited = copy.deepcopy(pack)
    edited["summary"] = "Edited: the keep is hollow and the winter long."
    response = gm_client.post(
        f"/admin/game/theme/{first.pk}/edit/", {"text": json.dumps(edited)}
    )

    second = Theme.objects.get(slug="hollow_keep", version="1.0.1")
    assert response.status_code == 302
    assert second.data["summary"].startswith("Edited")
    assert first.data["summary"] == pack["summary"]
    assert as_ada.get(f"/api/v1/sessions/{game['id']}/").json()["theme"]["version"] == (
        "1.0.0"
    )
    assert choose(as_ada, game["id"], 0).status_code == 201
    new_game = start_game(as_ada, second, seed=4)
    assert new_game["theme"]["version"] == "1.0.1"

    again = gm_client.post(
        f"/admin/game/theme/{second.pk}/edit/", {"text": json.dumps(edited)}
    )
    assert again.status_code == 302
    assert Theme.objects.filter(slug="hollow_keep").count() == 2


def test_built_in_themes_are_cloned_not_edited(gm_client, theme):
    assert gm_client.get(f"/admin/game/theme/{theme.pk}/edit/").status_code == 302
    builtin_pack = dict(theme.data)
    refused = upload(gm_client, json.dumps({**builtin_pack, "version": "9.0.0"}))
    assert refused.status_code == 200
    assert "clone it" in refused.content.decode()

    response = gm_client.post(f"/admin/game/theme/{theme.pk}/clone/")

    clone = Theme.objects.get(slug=f"{theme.slug}_custom")
    assert response["Location"] == f"/admin/game/theme/{clone.pk}/edit/"
    assert (clone.version, clone.builtin, clone.enabled) == ("1.0.0", False, False)
    assert clone.title.endswith("(copy)")
    gm_client.post(f"/admin/game/theme/{theme.pk}/clone/")
    assert Theme.objects.filter(slug=f"{theme.slug}_custom_2").exists()
    assert gm_client.get(f"/admin/game/theme/{clone.pk}/edit/").status_code == 200


def test_preview_shows_the_first_scenes_for_a_seed(gm_client, theme):
    page = gm_client.get(f"/admin/game/theme/{theme.pk}/preview/", {"seed": 7})

    text = page.content.decode()
    assert text.count('class="module preview-scene"') == 4
    assert "Opening:" in text
    bad_seed = gm_client.get(f"/admin/game/theme/{theme.pk}/preview/", {"seed": "x"})
    assert bad_seed.status_code == 200


def test_a_disabled_theme_starts_no_new_games(gm_client, as_ada, pack):
    upload(gm_client, json.dumps(pack))
    stored = Theme.objects.get(slug="hollow_keep")
    listing = gm_client.get("/admin/game/theme/").context["cl"]
    assert "enabled" in listing.list_editable

    Theme.objects.filter(pk=stored.pk).update(enabled=False)

    response = as_ada.post("/api/v1/sessions/", {"theme": "hollow_keep"}, format="json")
    assert response.status_code == 400


def test_staff_without_the_add_permission_cannot_upload(client, make_user, pack):
    viewer = make_user("vera", is_staff=True)
    client.force_login(viewer)

    assert upload(client, json.dumps(pack)).status_code == 403
    assert not Theme.objects.filter(slug="hollow_keep").exists()
