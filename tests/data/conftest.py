"""Fixtures for the data tests: tiny IDX datasets and a loopback HTTP server.

Nothing here touches the network beyond 127.0.0.1, or the shared dataset mirror.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from nablanet.data import MNIST, IdxSource
from nablanet.data.idx import idx_bytes

IDX_NAMES = MNIST.files


@dataclass
class TinyIdx:
    """A generated MNIST-format dataset: its arrays, file contents and MD5s."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    raw: dict[str, bytes] = field(default_factory=dict)  # decompressed file contents
    md5: dict[str, str] = field(default_factory=dict)

    def write(self, folder: Path, gz: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.raw.items():
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
            else:
                (folder / name).write_bytes(data)
        return folder

    def source(self, mirrors=(), **changes) -> IdxSource:
        fields = {"name": "tiny", "folder": "tiny", "title": "Tiny", "md5": dict(self.md5)}
        return IdxSource(mirrors=tuple(mirrors), **{**fields, **changes})


def make_tiny_idx(n_train: int = 30, n_test: int = 10, side: int = 6, seed: int = 0) -> TinyIdx:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n_train, side, side), dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(n_test, side, side), dtype=np.uint8)
    y = (np.arange(n_train) % 10).astype(np.uint8)
    y_test = (np.arange(n_test) % 10).astype(np.uint8)
    tiny = TinyIdx(x, y, x_test, y_test)
    for name, arr in zip(IDX_NAMES, (x, y, x_test, y_test), strict=True):
        tiny.raw[name] = idx_bytes(arr)
        tiny.md5[name] = hashlib.md5(tiny.raw[name]).hexdigest()
    return tiny


@pytest.fixture
def tiny_idx() -> TinyIdx:
    return make_tiny_idx()


class LoopbackServer:
    """Serves ``routes[path] = (body, mode)`` on 127.0.0.1; mode is "ok", "truncate" (announce the
    full length, send half, close) or "missing" (404). Records every requested path."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body, mode = server.routes.get(self.path, (b"", "missing"))
                if mode == "missing":
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "truncate":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def serve(self, path: str, body: bytes, mode: str = "ok") -> str:
        self.routes[path] = (body, mode)
        return self.url + path


@pytest.fixture
def server(monkeypatch):
    # make sure no proxy from the environment intercepts loopback requests
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    srv = LoopbackServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """No test reads or writes the user's real cache: $NABLANET_DATA points into tmp_path."""
    monkeypatch.setenv("NABLANET_DATA", str(tmp_path / "nablanet-cache"))
