"""One served UI, many people: several browser contexts (each its own Gradio session) on one
app with one training slot. The line of runs, places that move, a run that starts by itself,
cancelling one's own run, no cross-talk between Train tabs, a closed tab that frees its slot,
and the upload size cap."""

from __future__ import annotations

import os
import re
import shutil
import time

import httpx
import pytest

from .conftest import REPO
from .test_browser import choose_dataset, goto_tab, line_paths, set_number, wait_for, wait_text

#: seconds a run may go on after its page closed (the app's default is 10 minutes)
ABANDON = 1.0
#: the upload cap of the test app
MAX_UPLOAD = 64 * 1024


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """The app with one training slot, a short abandoned-run timeout and a small upload cap;
    Gradio's heartbeat every 0.3 s, so a closed page is noticed at once."""
    from nablanet.ui.launch import launch

    old = os.environ.get("GRADIO_HEARTBEAT_INTERVAL")
    os.environ["GRADIO_HEARTBEAT_INTERVAL"] = "0.3"
    runs_dir = tmp_path_factory.mktemp("shared-runs")
    configs = tmp_path_factory.mktemp("shared-configs")
    shutil.copy(REPO / "configs" / "breast_cancer.yaml", configs / "breast_cancer.yaml")
    app = launch(
        port=0,
        runs_dir=runs_dir,
        configs_dir=configs,
        block=False,
        quiet=True,
        max_concurrent_runs=1,
        abandoned_run_timeout=ABANDON,
        max_file_size=MAX_UPLOAD,
        poll_seconds=0.3,
    )
    try:
        yield app
    finally:
        app.nablanet_context.runs.stop_all()
        app.close()
        if old is None:
            os.environ.pop("GRADIO_HEARTBEAT_INTERVAL", None)
        else:
            os.environ["GRADIO_HEARTBEAT_INTERVAL"] = old


def open_page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.local_url)
    page.wait_for_selector("#dataset")
    return context, page


def prepare_run(page, epochs: int, batch_size: int | None = None) -> None:
    """Breast cancer, ``epochs`` epochs, no early stopping; ends on the Train tab."""
    choose_dataset(page, "Breast cancer")
    goto_tab(page, "Model")
    wait_text(page, "#model-summary", r"Total params")
    set_number(page, "epochs", epochs)
    if batch_size is not None:
        set_number(page, "batch-size", batch_size)
    wait_text(page, "#config-yaml", rf"epochs: {epochs}\b")
    page.locator("#early-stopping input").uncheck()
    wait_text(page, "#config-yaml", r"early_stopping: null")
    goto_tab(page, "Train")


def progress(page) -> dict[str, str]:
    box = page.locator("#train-progress .nb-progress")
    return {k: box.get_attribute(f"data-{k}") for k in ("status", "epoch", "position")}


def wait_progress(page, what: str, timeout: float = 60.0, **want) -> dict[str, str]:
    def matches():
        now = progress(page)
        return now if all(now[k] == v for k, v in want.items()) else None

    return wait_for(matches, f"{what} ({want})", timeout=timeout)


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_three_people_share_one_slot(browser, shared_server):
    ctx_a, a = open_page(browser, shared_server)
    ctx_b, b = open_page(browser, shared_server)
    ctx_c, c = open_page(browser, shared_server)
    try:
        prepare_run(a, 5000, batch_size=4)  # trains until its page closes
        prepare_run(b, 2)
        prepare_run(c, 2)

        a.locator("#train-button").click()
        wait_progress(a, "A training", status="training")
        b.locator("#train-button").click()
        wait_progress(b, "B waiting first in line", status="queued", position="1")
        assert "number 1 in the line" in b.locator("#train-status").inner_text()
        c.locator("#train-button").click()
        wait_progress(c, "C waiting second", status="queued", position="2")

        # each Train tab shows its own run only: A's curves grow, B and C have none
        wait_for(lambda: [d for d in line_paths(a, "live-plot") if d], "A's curves")
        assert int(progress(a)["epoch"]) >= 1
        for page in (b, c):
            assert line_paths(page, "live-plot") == []
            assert progress(page)["epoch"] == "0"
        assert b.locator("#stop-button").is_enabled()

        # B cancels B's own run: it leaves the line and C moves up by itself
        b.locator("#stop-button").click()
        wait_progress(b, "B cancelled", status="cancelled")
        wait_progress(c, "C first in line", status="queued", position="1")
        assert progress(a)["status"] == "training"  # B's button never touched A's run

        # A closes the tab: after the timeout A's run is stopped, and C's starts by itself
        ctx_a.close()
        t0 = time.monotonic()
        wait_progress(c, "C training", status="training", timeout=60)
        assert time.monotonic() - t0 >= ABANDON * 0.5
        wait_progress(c, "C finished", status="finished", timeout=90)
        status = c.locator("#train-status").inner_text()
        assert "Finished 2 epoch(s)" in status
        c_run = re.search(r"Run directory: (\S+)", status).group(1)
        wait_for(lambda: len([d for d in line_paths(c, "live-plot") if d]) == 2, "C's curves")

        # B's page still shows B's (cancelled) run and nothing of A's or C's
        assert progress(b)["status"] == "cancelled" and line_paths(b, "live-plot") == []
        assert c_run not in b.locator("#train-status").inner_text()

        # everyone's finished runs are listed on the Evaluate tab: A's (stopped) and C's
        runs = shared_server.nablanet_context.runs
        assert runs.n_running == 0 and runs.n_waiting == 0
        goto_tab(b, "Evaluate")
        b.locator("#eval-refresh").click()
        b.locator("#eval-run input").click()
        options = b.get_by_role("option")
        wait_for(lambda: options.count() >= 2, "two runs in the list")
        labels = " ".join(options.all_inner_texts())
        assert "stopped" in labels and "completed" in labels, labels
    finally:
        for context in (ctx_a, ctx_b, ctx_c):
            try:
                context.close()
            except Exception:
                pass


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_a_closed_tab_leaves_the_line(browser, shared_server):
    runs = shared_server.nablanet_context.runs
    wait_for(lambda: runs.n_running == 0, "the app idle")
    ctx_a, a = open_page(browser, shared_server)
    ctx_b, b = open_page(browser, shared_server)
    try:
        prepare_run(a, 5000, batch_size=4)
        prepare_run(b, 2)
        a.locator("#train-button").click()
        wait_progress(a, "A training", status="training")
        b.locator("#train-button").click()
        wait_progress(b, "B waiting", status="queued", position="1")
        assert runs.n_waiting == 1
        ctx_b.close()  # B's run never trains
        wait_for(lambda: runs.n_waiting == 0, "B's run out of the line", timeout=30)
        assert progress(a)["status"] == "training" and runs.n_running == 1
        a.locator("#stop-button").click()
        wait_progress(a, "A stopped", status="stopped")
        time.sleep(1.0)
        assert runs.n_running == 0 and runs.n_waiting == 0
    finally:
        for context in (ctx_a, ctx_b):
            try:
                context.close()
            except Exception:
                pass


def test_uploads_over_the_cap_are_refused(shared_server):
    url = shared_server.local_url.rstrip("/") + "/gradio_api/upload"
    small = ("small.csv", b"a,b\n1,2\n" * 100, "text/csv")
    big = ("big.csv", b"a,b\n1,2\n" * (MAX_UPLOAD // 8 + 100), "text/csv")
    ok = httpx.post(url, files={"files": small}, timeout=30)
    assert ok.status_code == 200, ok.text
    refused = httpx.post(url, files={"files": big}, timeout=30)
    assert refused.status_code == 413, refused.text
