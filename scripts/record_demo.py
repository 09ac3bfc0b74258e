"""Record the web UI's demo: a real browser session of the whole flow, as a video and a preview.

The app is served on a free 127.0.0.1 port with a temporary runs folder; Debian's Chromium,
driven by Playwright, picks breast cancer, looks at the model, trains it and reads the test
metrics; then picks MNIST (digits when MNIST is not at hand), trains it while the curves grow,
draws a digit on the sketchpad and reads the prediction; finally it compares the two runs.
Chrome DevTools screencast frames (``Page.startScreencast`` through Playwright's CDP session)
are placed on a constant-rate timeline and encoded with the ffmpeg that ``imageio-ffmpeg``
ships: ``docs/demo.mp4`` (H.264) and a small animated ``docs/demo.gif`` preview.

Usage::

    python scripts/record_demo.py [--data-dir DIR] [--image-dataset mnist|digits]
                                  [--out-dir docs] [--frames-dir DIR]

``--data-dir`` is the dataset folder (``$NABLANET_DATA`` by default) where MNIST is looked for;
``--frames-dir`` keeps a PNG of the page after every step, to look at.
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nablanet.ui.headless import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1280, "height": 800}
FPS = 12
GIF_FPS = 5
GIF_WIDTH = 640
GIF_SPEED = 2.0

# A visible mouse pointer (headless screencasts have none), drawn in the page.
POINTER_JS = """
(() => {
  const install = () => {
    if (document.getElementById('demo-pointer')) return;
    const p = document.createElement('div');
    p.id = 'demo-pointer';
    p.innerHTML = '<svg width="22" height="26" viewBox="0 0 22 26"><path d="M2 2 L2 21 L7 16 ' +
      'L11 24 L14 22.6 L10 15 L17 15 Z" fill="#111827" stroke="white" stroke-width="1.6" ' +
      'stroke-linejoin="round"/></svg>';
    Object.assign(p.style, {position: 'fixed', left: '-40px', top: '-40px', zIndex: 2147483647,
      pointerEvents: 'none', transition: 'transform 0.08s'});
    document.body.appendChild(p);
    document.addEventListener('mousemove', e => {
      p.style.left = (e.clientX - 2) + 'px'; p.style.top = (e.clientY - 2) + 'px';
    }, true);
    document.addEventListener('mousedown', () => { p.style.transform = 'scale(0.85)'; }, true);
    document.addEventListener('mouseup', () => { p.style.transform = ''; }, true);
  };
  if (document.body) install(); else document.addEventListener('DOMContentLoaded', install);
})();
"""


class Recorder:
    """Screencast frames of a page, saved as JPEG files with their timestamps."""

    def __init__(self, page, folder: Path):
        self.folder = folder
        self.frames: list[tuple[float, Path]] = []
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Page.screencastFrame", self._frame)

    def _frame(self, event) -> None:
        path = self.folder / f"frame-{len(self.frames):05d}.jpg"
        path.write_bytes(base64.b64decode(event["data"]))
        self.frames.append((float(event["metadata"]["timestamp"]), path))
        self.cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})

    def start(self) -> None:
        self.cdp.send(
            "Page.startScreencast",
            {
                "format": "jpeg",
                "quality": 80,
                "maxWidth": VIEWPORT["width"],
                "maxHeight": VIEWPORT["height"],
                "everyNthFrame": 1,
            },
        )

    def stop(self) -> None:
        self.cdp.send("Page.stopScreencast")


class Demo:
    """The scripted visit: slow, visible mouse moves and pauses a viewer can follow."""

    def __init__(self, page, shots: Path | None):
        self.page = page
        self.shots = shots
        self.n_shots = 0

    def pause(self, seconds: float) -> None:
        self.page.wait_for_timeout(seconds * 1000)

    def shot(self, name: str) -> None:
        if self.shots is not None:
            self.n_shots += 1
            self.page.screenshot(path=str(self.shots / f"{self.n_shots:02d}-{name}.png"))

    def move_to(self, locator, steps: int = 18) -> tuple[float, float]:
        locator.scroll_into_view_if_needed()
        box = locator.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.page.mouse.move(x, y, steps=steps)
        return x, y

    def click(self, locator) -> None:
        self.move_to(locator)
        self.pause(0.25)
        locator.click()

    def tab(self, name: str) -> None:
        self.click(self.page.get_by_role("tab", name=re.compile(re.escape(name) + "$")))
        self.pause(0.6)

    def choose(self, elem_id: str, label_start: str) -> None:
        self.click(self.page.locator(f"#{elem_id} input"))
        self.pause(0.5)
        self.click(self.page.get_by_role("option", name=re.compile("^" + re.escape(label_start))))

    def type_number(self, elem_id: str, value) -> None:
        box = self.page.locator(f"#{elem_id} input").first
        self.click(box)
        box.press("Control+A")
        box.press_sequentially(str(value), delay=90)
        box.press("Tab")

    def wait_status(self, *statuses: str, timeout: float = 300) -> str:
        progress = self.page.locator("#train-progress .nb-progress")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = progress.get_attribute("data-status")
            if status in statuses:
                return status
            self.pause(0.2)
        raise RuntimeError(f"training did not reach {statuses} in {timeout} s")

    def scroll(self, dy: float, steps: int = 12) -> None:
        for _ in range(steps):
            self.page.mouse.wheel(0, dy / steps)
            self.pause(0.03)

    def draw(self, strokes) -> None:
        """Draw strokes given in canvas half-sizes from the centre of the sketchpad."""
        canvas = self.page.locator("#sketchpad canvas").first
        box = canvas.bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        s = 0.36 * min(box["width"], box["height"])
        for stroke in strokes:
            x0, y0 = stroke[0]
            self.page.mouse.move(cx + s * x0, cy + s * y0, steps=10)
            self.page.mouse.down()
            for x, y in stroke[1:]:  # the points are close: one move each
                self.page.mouse.move(cx + s * x, cy + s * y)
            self.page.mouse.up()


def three() -> list[list[tuple[float, float]]]:
    """A handwritten 3: two bowls, as points on a curve."""
    points = []
    for a in range(-150, 91, 20):  # upper bowl, from the top left round to the middle
        t = math.radians(a)
        points.append((0.42 * math.cos(t) - 0.05, -0.42 + 0.36 * math.sin(t)))
    for a in range(-90, 151, 20):  # lower bowl, from the middle round to the bottom left
        t = math.radians(a)
        points.append((0.48 * math.cos(t) - 0.05, 0.36 + 0.42 * math.sin(t)))
    return [points]


def run_flow(demo: Demo, image_label: str, image_epochs: int) -> None:
    page = demo.page
    demo.pause(1.5)
    demo.shot("start")

    # 1. breast cancer: data, model, training, evaluation
    demo.choose("dataset", "Breast cancer")
    page.wait_for_selector("#dataset-info h3")
    demo.pause(2.5)
    demo.shot("data-breast-cancer")
    demo.tab("Model")
    page.wait_for_selector("#model-summary")
    demo.pause(1.0)
    demo.type_number("epochs", 60)
    demo.pause(1.5)
    demo.shot("model")
    demo.tab("Train")
    demo.click(page.locator("#train-button"))
    demo.wait_status("finished", "stopped")
    demo.pause(2.5)
    demo.shot("trained-breast-cancer")
    demo.tab("Evaluate")
    page.wait_for_selector("#eval-roc img", timeout=60_000)
    demo.pause(3.0)
    demo.shot("evaluate-breast-cancer")

    # 2. images: data, live training, evaluation, a drawn digit
    demo.tab("Data")
    demo.choose("dataset", image_label)
    page.wait_for_selector(
        "#sample-grid img, #sample-grid svg, #sample-grid canvas", timeout=120_000
    )
    demo.pause(3.0)
    demo.shot("data-images")
    demo.tab("Model")
    page.wait_for_timeout(800)
    demo.type_number("epochs", image_epochs)
    demo.pause(1.2)
    demo.tab("Train")
    demo.click(page.locator("#train-button"))
    demo.wait_status("training")
    demo.pause(4.0)
    demo.shot("training-images")
    demo.wait_status("finished", "stopped", timeout=600)
    demo.pause(2.0)
    demo.shot("trained-images")
    demo.tab("Evaluate")
    page.wait_for_selector("#eval-confusion img", timeout=60_000)
    demo.pause(2.0)
    demo.move_to(page.locator("#eval-confusion"))
    demo.scroll(420)
    demo.pause(2.5)
    demo.shot("evaluate-images")
    demo.scroll(-420)
    demo.tab("Predict")
    page.wait_for_selector("#sketchpad canvas")
    demo.pause(1.5)
    t0 = time.monotonic()
    demo.draw(three())
    print(f"drew a 3 in {time.monotonic() - t0:.1f} s")
    page.wait_for_selector("#predict-status .nb-ok", timeout=60_000)
    demo.pause(0.8)
    demo.move_to(page.locator("#prediction"))
    demo.pause(3.0)
    demo.shot("predict")

    # 3. both runs side by side
    demo.tab("Compare")
    demo.click(page.locator("#compare-refresh"))
    demo.pause(0.8)
    for name in ("breast_cancer", image_label.split(" ")[0].lower()):
        page.locator("#app-title").click()  # the dropdown opens again once it lost the focus
        box = page.locator("#compare-runs input")
        demo.click(box)
        box.press_sequentially(name[:6], delay=60)
        demo.click(page.get_by_role("option", name=re.compile("^" + re.escape(name[:6]), re.I)))
        demo.pause(0.6)
    page.locator("#app-title").click()
    page.wait_for_selector("#compare-plot svg", timeout=60_000)
    demo.pause(3.0)
    demo.shot("compare")


def timeline(frames: list[tuple[float, Path]], fps: float) -> list[Path]:
    """The frame shown at every tick of a constant-rate clock (the last one until the next)."""
    frames = sorted(frames)
    t0, t1 = frames[0][0], frames[-1][0] + 1.0
    out, i = [], 0
    for k in range(int((t1 - t0) * fps) + 1):
        t = t0 + k / fps
        while i + 1 < len(frames) and frames[i + 1][0] <= t:
            i += 1
        out.append(frames[i][1])
    return out


def encode_mp4(paths: list[Path], fps: float, out: Path) -> None:
    import imageio_ffmpeg
    import numpy as np
    from PIL import Image

    first = Image.open(paths[0])
    size = (first.width // 2 * 2, first.height // 2 * 2)
    writer = imageio_ffmpeg.write_frames(
        str(out),
        size,
        fps=fps,
        codec="libx264",
        pix_fmt_out="yuv420p",
        quality=None,
        output_params=["-crf", "30", "-preset", "slow", "-tune", "stillimage"],
        macro_block_size=2,
        ffmpeg_log_level="error",
    )
    writer.send(None)
    last, frame = None, None
    for path in paths:
        if path != last:
            img = Image.open(path).convert("RGB")
            if img.size != size:
                img = img.resize(size, Image.Resampling.LANCZOS)
            frame = np.ascontiguousarray(np.asarray(img))
            last = path
        writer.send(frame)
    writer.close()


def encode_gif(video: Path, out: Path) -> None:
    import imageio_ffmpeg

    graph = (
        f"setpts=PTS/{GIF_SPEED},fps={GIF_FPS},scale={GIF_WIDTH}:-1:flags=lanczos,"
        "split[a][b];[a]palettegen=max_colors=96:stats_mode=diff[p];"
        "[b][p]paletteuse=dither=none:diff_mode=rectangle"
    )
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(video)]
    subprocess.run([*cmd, "-filter_complex", graph, "-loop", "0", str(out)], check=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=str(REPO / "docs"), help="where demo.mp4/.gif go")
    parser.add_argument("--data-dir", default=None, help="dataset folder (MNIST is looked for)")
    parser.add_argument("--image-dataset", choices=("mnist", "digits"), default=None)
    parser.add_argument("--frames-dir", default=None, help="keep a PNG of every step here")
    args = parser.parse_args(argv)

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    sys.path.insert(0, str(REPO / "src"))
    from playwright.sync_api import sync_playwright

    from nablanet.ui import pipeline_api as api
    from nablanet.ui.launch import launch

    image = args.image_dataset
    if image is None:
        try:
            api.load_dataset("mnist", args.data_dir)
            image = "mnist"
        except Exception as e:  # no copy and no network: the small digits instead
            print(f"MNIST not available ({e}); recording with digits")
            image = "digits"
    image_label, image_epochs = {"mnist": ("MNIST", 3), "digits": ("Digits", 40)}[image]

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shots = Path(args.frames_dir) if args.frames_dir else None
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nablanet-demo-") as tmp:
        tmp = Path(tmp)
        (tmp / "runs").mkdir()
        (tmp / "frames").mkdir()
        app = launch(
            port=0,
            runs_dir=tmp / "runs",
            configs_dir=REPO / "configs",
            data_dir=args.data_dir,
            block=False,
            quiet=True,
        )
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
                context.add_init_script(POINTER_JS)
                page = context.new_page()
                page.set_default_timeout(60_000)
                page.goto(app.local_url)
                page.wait_for_selector("#dataset")
                recorder = Recorder(page, tmp / "frames")
                recorder.start()
                t0 = time.monotonic()
                run_flow(Demo(page, shots), image_label, image_epochs)
                recorder.stop()
                print(f"recorded {time.monotonic() - t0:.0f} s, {len(recorder.frames)} frames")
                browser.close()
        finally:
            app.close()
        video = out_dir / "demo.mp4"
        encode_mp4(timeline(recorder.frames, FPS), FPS, video)
        encode_gif(video, out_dir / "demo.gif")
        if shots is not None:
            shutil.copy(recorder.frames[-1][1], shots / "last-frame.jpg")
    for name in ("demo.mp4", "demo.gif"):
        print(f"{out_dir / name}: {(out_dir / name).stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
