"""Where a study lives: the default SQLite file in the study's folder, or a database server.

The default, ``<output_dir>/<study>/study.db``, is SQLite with a 60 s lock timeout: several
workers on one machine share it safely, and, unlike Optuna's journal file, it supports Optuna's
heartbeats, so a killed worker's trial ends FAIL instead of staying RUNNING (docs/tuning.md has
the measurements behind the choice). ``postgresql://`` and ``mysql://`` URLs let workers on
several machines share a study.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import PipelineError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import URL, Engine


__all__ = [
    "DEFAULT_STORAGE_FILE",
    "StorageError",
    "default_storage_url",
    "import_optuna",
    "open_storage",
    "redact",
]

DEFAULT_STORAGE_FILE = "study.db"
#: seconds a worker waits for the SQLite lock before giving up (a trial takes milliseconds)
SQLITE_LOCK_TIMEOUT_S = 60
#: seconds to wait for a database server that does not answer
CONNECT_TIMEOUT_S = 5
_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
_DRIVERS = {
    # (backend, driver) -> what to install
    ("postgresql", "psycopg"): "pip install 'nablanet[tune]' (psycopg 3)",
    ("postgresql", "psycopg2"): "pip install psycopg2-binary (or use a plain postgresql:// URL, "
    "which takes psycopg 3 from nablanet[tune])",
    (
        "mysql",
        "mysqldb",
    ): "pip install mysqlclient (or use mysql+pymysql:// with pip install pymysql)",
    ("mysql", "pymysql"): "pip install pymysql",
}


class StorageError(PipelineError):
    """A storage URL that is malformed, a server that does not answer, a missing driver.

    >>> try:
    ...     open_storage("postgresql//nohost", heartbeat_interval=10, grace_period=60)
    ... except StorageError as e:
    ...     print(str(e).split(" (")[0])
    --storage 'postgresql//nohost': not a database URL
    """


def import_optuna() -> Any:
    """The ``optuna`` module, or a one-line error naming the extra to install."""
    try:
        import optuna
    except ImportError as e:
        raise PipelineError(
            f"nablanet tune needs Optuna ({e}); pip install 'nablanet[tune]'"
        ) from None
    return optuna


def default_storage_url(folder: str | Path) -> str:
    """``sqlite:///<folder>/study.db`` (absolute)."""
    return f"sqlite:///{(Path(folder) / DEFAULT_STORAGE_FILE).resolve()}"


def redact(url: str) -> str:
    """The URL without its password (for logs and error messages)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _parse(url: str) -> URL:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as e:
        raise StorageError(
            f"--storage {url!r}: not a database URL ({e}); expected e.g. "
            "postgresql://user@host:5432/db, mysql://user@host/db or sqlite:///path/study.db"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("postgresql", "mysql", "sqlite"):
        raise StorageError(
            f"--storage {redact(url)}: unsupported database {backend!r}; use postgresql://, "
            "mysql:// or sqlite:///"
        )
    if backend != "sqlite" and not parsed.host:
        raise StorageError(f"--storage {redact(url)}: the URL names no host")
    if backend != "sqlite" and not parsed.database:
        raise StorageError(f"--storage {redact(url)}: the URL names no database")
    return parsed


def _check_driver(url: str, parsed: URL) -> None:
    from sqlalchemy.exc import NoSuchModuleError

    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except NoSuchModuleError:
        raise StorageError(
            f"--storage {redact(url)}: unknown database driver {parsed.drivername!r}"
        ) from None
    except ImportError as e:
        key = (parsed.get_backend_name(), dialect.driver)
        hint = _DRIVERS.get(key, f"install the {dialect.driver} driver")
        raise StorageError(
            f"--storage {redact(url)}: the database driver is missing ({e}); {hint}"
        ) from None


@contextlib.contextmanager
def _creation_lock(parsed: URL) -> Iterator[None]:
    """For a SQLite file: an exclusive ``flock`` on ``<file>.lock`` while the storage opens,
    so that workers started together do not race to create its tables."""
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the retries in open_storage cover it
        yield
        return
    path = Path(parsed.database).with_name(Path(parsed.database).name + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _sqlite_wal(engine: Engine) -> None:
    """Write-ahead logging, and fsync at checkpoints rather than at every commit.

    A trial commits about 18 times (its start, parameters, a value per epoch, heartbeats, its
    end); with SQLite's default journal each commit waited for the disk, 17 ms each on the
    shared test machine, ~0.3 s per trial. In WAL mode readers never block the writer, and a
    killed worker loses nothing it committed (only a power cut can lose the last commits).
    """
    from sqlalchemy import event

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    engine.dispose()  # connections opened before the listener: closed, reopened with it


def open_storage(
    url: str,
    *,
    heartbeat_interval: int,
    grace_period: int,
) -> Any:
    """An ``optuna.storages.RDBStorage`` on ``url`` with heartbeats, or a one-line
    :class:`StorageError` (malformed URL, missing driver, a server that does not answer within
    a few seconds, naming the host)."""
    parsed = _parse(url)
    _check_driver(url, parsed)
    optuna = import_optuna()
    backend = parsed.get_backend_name()
    engine_kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        engine_kwargs["connect_args"] = {"timeout": SQLITE_LOCK_TIMEOUT_S}
    else:
        engine_kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    import warnings

    from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

    def connect() -> Any:
        with warnings.catch_warnings():  # heartbeats are "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
            )

    try:
        for attempt in range(4):
            try:
                with _creation_lock(parsed):
                    storage = connect()
                    if backend == "sqlite":
                        _sqlite_wal(storage.engine)
                    return storage
            except (OperationalError, InterfaceError):
                if backend != "sqlite" or attempt == 3:
                    raise  # a server that does not answer: say so at once
                time.sleep(0.5 * (attempt + 1))
            except SQLAlchemyError:
                # workers creating the tables of a new database at the same moment: one wins,
                # the others find them on the next try
                if attempt == 3:
                    raise
                time.sleep(0.5 * (attempt + 1))
    except SQLAlchemyError as e:
        where = (
            f"the database file {parsed.database}"
            if backend == "sqlite"
            else f"the database server at {parsed.host}:{parsed.port or _DEFAULT_PORTS[backend]}"
        )
        detail = " ".join(str(getattr(e, "orig", None) or e).split())
        if len(detail) > 200:
            detail = detail[:197] + "..."
        raise StorageError(f"--storage {redact(url)}: cannot use {where} ({detail})") from None
