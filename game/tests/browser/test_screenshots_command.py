"""The screenshots command still walks through every page it pictures."""

import subprocess
import sys

import pytest

from game.live_site import PROJECT_ROOT

pytestmark = pytest.mark.browser

PAGES = {
    "landing",
    "lobby",
    "game",
    "game-phone",
    "ending",
    "replay",
    "admin-index",
    "admin-inspect",
    "admin-simulation",
}


def test_the_screenshots_command_saves_every_page(tmp_path, live_site):
    result = subprocess.run(
        [sys.executable, "manage.py", "screenshots", "--out", str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    saved = {path.stem: path for path in tmp_path.glob("*.png")}
    assert set(saved) == PAGES
    for path in saved.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 10_000, path
