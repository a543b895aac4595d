"""Dependencies never wait for a database connection on the event loop: with every pooled
connection taken, their SQLite work moves to a worker thread."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.db import make_engine
from app.web.deps import on_loop


def test_sqlite_work_leaves_the_loop_when_the_pool_is_exhausted(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=1, max_overflow=1)
    try:
        assert on_loop(Session(bind=engine))  # a connection can be made at once
        held = [engine.connect(), engine.connect()]  # the pool's size and its overflow
        for connection in held:
            connection.execute(text("SELECT 1"))
        waiting = Session(bind=engine)
        assert not on_loop(waiting)  # a checkout would wait: not on the loop
        held.pop().close()
        assert on_loop(waiting)  # one is idle again
        waiting.execute(text("SELECT 1"))
        held.pop().close()
        assert on_loop(waiting)  # the session holds its own
        waiting.close()
    finally:
        engine.dispose()
