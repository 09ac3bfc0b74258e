"""The Playground tab in a real browser: Play trains the network, and the picture of its
decision regions changes while it learns; Pause stops it."""

from __future__ import annotations

import re

import pytest

from .test_browser import goto_tab, wait_for, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def _epoch(page) -> int:
    m = re.search(r"Epoch (\d+)", page.locator("#playground-status").inner_text())
    return int(m.group(1)) if m else -1


def _image(page) -> tuple[str | None, bytes]:
    img = page.locator("#playground-image img").first
    return img.get_attribute("src"), img.screenshot()


def _new_image(page, src, shot):
    """The image once both its URL and its pixels differ from (src, shot), else None."""
    now = _image(page)
    return now if now[0] != src and now[1] != shot else None


def test_the_playground_redraws_while_it_trains(page):
    goto_tab(page, "Playground")
    wait_text(page, "#playground-status", r"Epoch 0")
    src0, shot0 = _image(page)
    page.locator("#playground-play").click()
    wait_for(lambda: _epoch(page) >= 1, "a first epoch")
    first = _epoch(page)
    src1, shot1 = wait_for(lambda: _new_image(page, src0, shot0), "a new picture")
    wait_for(lambda: _epoch(page) > first, "more epochs on later ticks")
    wait_for(lambda: _new_image(page, src1, shot1), "the picture changing again while training")
    # the layer table and the gradient curves follow
    table = page.locator("#playground-layers-table").inner_text()
    assert "0.dense" in table and "relu" in table
    page.locator("#playground-play").click()  # pause
    wait_text(page, "#playground-play", r"Play")
    page.wait_for_timeout(800)  # a tick that was already training when Pause came
    paused = _epoch(page)
    page.wait_for_timeout(1500)
    assert _epoch(page) == paused
    assert page.external_requests == []
