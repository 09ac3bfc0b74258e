"""Fixtures of the UI tests: tiny finished runs (no browser), and for the browser tests Debian's
Chromium driven by Playwright against the app served on a free loopback port.

Without Chromium (``/usr/bin/chromium``) or the ``playwright`` package the browser tests are
skipped with the reason, unless ``NABLANET_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a
failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from nablanet.ui.headless import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[2]


def quick_config(dataset: str, runs_dir: Path, **training) -> dict:
    """A small, fast run config of the UI's form for ``dataset`` (no plots unless asked)."""
    from nablanet.ui.model_form import default_form, form_to_config

    task = {"breast_cancer": "binary", "digits": "multiclass", "diabetes": "regression"}[dataset]
    form = default_form(dataset, task)
    form.epochs = training.pop("epochs", 3)
    for key, value in training.items():
        setattr(form, key, value)
    config = form_to_config(form, dataset, task)
    config["output_dir"] = str(runs_dir)
    config["evaluation"] = {"plots": False}
    return config


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Finished pipeline runs (breast cancer, digits, diabetes) in a temporary runs folder."""
    from nablanet.ui import pipeline_api as api

    runs_dir = tmp_path_factory.mktemp("runs")
    out = {}
    for dataset in ("breast_cancer", "digits", "diabetes"):
        result = api.train_config(quick_config(dataset, runs_dir))
        out[dataset] = Path(result.run_dir)
    out["dir"] = runs_dir
    return out


# -- the browser -----------------------------------------------------------------------------------
def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install 'nablanet[dev]')"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (session-wide)."""
    reason = _browser_missing()
    if reason:
        if os.environ.get("NABLANET_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required (NABLANET_REQUIRE_BROWSER=1) but {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory):
    """The app served on a free 127.0.0.1 port, with an empty runs folder; closed at the end."""
    from nablanet.ui.launch import launch

    runs_dir = tmp_path_factory.mktemp("ui-runs")
    configs = tmp_path_factory.mktemp("ui-configs")
    if (REPO / "configs").is_dir():
        for path in (REPO / "configs").glob("*.yaml"):
            shutil.copy(path, configs / path.name)
    app = launch(port=0, runs_dir=runs_dir, configs_dir=configs, block=False, quiet=True)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def page(browser, ui_server):
    """A fresh page on the app; records any request that leaves the loopback interface (and
    blocks it)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.external_requests = []

    def route(r):
        url = r.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            return r.continue_()
        page.external_requests.append(url)
        return r.abort()

    page.route("**/*", route)
    page.set_default_timeout(30_000)
    page.goto(ui_server.local_url)
    page.wait_for_selector("#dataset")
    yield page
    context.close()
