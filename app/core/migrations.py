"""Alembic, pointed at this project's migrations."""

from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory

from app.core.config import PROJECT_ROOT


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic's configuration for this project, pointed at a database when given one."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


@cache
def head_revision() -> str:
    """The newest migration revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
