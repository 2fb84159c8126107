"""Settings are data: every env var is in config.SETTINGS (documented: tests/test_docs.py)."""
import re

import pytest

import config


def test_settings_are_read_from_the_environment_with_types(monkeypatch):
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("DEMO", "no")
    monkeypatch.setenv("PUSH_INTERVAL", "0.25")
    monkeypatch.setenv("PUBLIC_URL", "http://10.0.0.5:8080")
    cfg = config.DevelopmentConfig()
    assert cfg.PORT == 8080 and cfg.DEMO is False and cfg.PUSH_INTERVAL == 0.25
    assert cfg.PUBLIC_URL == "http://10.0.0.5:8080"


def test_default_database_is_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert config.DevelopmentConfig().SQLALCHEMY_DATABASE_URI.endswith("instance/charrette.db")


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError):
        config.ProductionConfig()
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    with pytest.raises(RuntimeError, match="shorter"):
        config.ProductionConfig()
    monkeypatch.setenv("SECRET_KEY", "9f8e" * 16)
    with pytest.raises(RuntimeError, match="distinct"):
        config.ProductionConfig()
    monkeypatch.setenv("SECRET_KEY", "0123456789abcdef" * 4)
    assert config.ProductionConfig().SESSION_COOKIE_SECURE


def test_production_refuses_the_placeholder_of_deploy_charrette_env(monkeypatch):
    from pathlib import Path
    env = dict(line.split("=", 1) for line in (Path(config.BASE_DIR) / "deploy/charrette.env").read_text()
               .splitlines() if "=" in line and not line.startswith("#"))
    for key in (env["SECRET_KEY"], "change-me", "CHANGEME-" + "x" * 40, "secret" * 8, "test-secret"):
        monkeypatch.setenv("SECRET_KEY", key)
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            config.ProductionConfig()


def test_production_has_no_demo(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "0123456789abcdef" * 4)
    monkeypatch.setenv("DEMO", "1")
    cfg = config.ProductionConfig()
    assert cfg.DEMO is False and cfg.CHARRETTE_ENV == "production"


def test_join_url_uses_public_url_or_the_lan_address(app):
    from workshop import network
    app.config["PUBLIC_URL"] = "http://192.168.4.1:5000/"
    assert network.join_url("ABC234") == "http://192.168.4.1:5000/ABC234"
    assert network.display_url("ABC234") == "192.168.4.1:5000/ABC234"
    app.config["PUBLIC_URL"] = ""
    assert re.match(r"http://\d+\.\d+\.\d+\.\d+:\d+/ABC234$", network.join_url("ABC234"))


@pytest.mark.parametrize("url", ["postgres://u@db:5432/charrette", "postgresql://u@db:5432/charrette",
                                 "postgresql+psycopg://u@db:5432/charrette"])
def test_postgresql_urls_use_psycopg_3_with_a_bounded_pool_and_no_ping_per_event(monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_POOL_SIZE", "4")
    cfg = config.DevelopmentConfig()
    assert cfg.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db:5432/charrette"
    # No ping per checkout: a vote is 3 round trips; a dropped connection is retried (sockets.handle).
    assert "pool_pre_ping" not in cfg.SQLALCHEMY_ENGINE_OPTIONS
    assert cfg.SQLALCHEMY_ENGINE_OPTIONS["pool_size"] == 4
    # None beyond it: connections opened in a burst and closed as they came back cost a join storm 12%.
    assert cfg.SQLALCHEMY_ENGINE_OPTIONS["max_overflow"] == 0


def test_sqlite_under_gevent_gets_one_connection_and_no_redis_by_default(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("ASYNC_MODE", raising=False)
    cfg = config.DevelopmentConfig()
    assert cfg.REDIS_URL == "" and cfg.ASYNC_MODE == "gevent"
    assert cfg.SQLALCHEMY_ENGINE_OPTIONS == {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60}


def test_the_server_freezes_its_startup_objects_out_of_garbage_collection(caplog, monkeypatch):
    """`python wsgi.py` keeps full collections short with thousands of phones connected:
    what exists at startup is frozen, and the youngest and oldest generations are collected less often.
    A full collection long enough for the room to notice is logged."""
    import gc

    import workshop
    from workshop import quiet_garbage_collector
    before = gc.get_threshold()
    try:
        quiet_garbage_collector()
        assert gc.get_freeze_count() > 10_000 and gc.get_threshold() == (20_000, 10, 100)
        gc.collect()
        assert "garbage collection" not in caplog.text  # a short one is not
        monkeypatch.setattr(workshop, "GC_PAUSE_LOGGED", 0.0)
        gc.collect()
        assert "a full garbage collection paused the server for" in caplog.text
    finally:
        gc.callbacks.remove(workshop._time_full_collections)
        gc.unfreeze()
        gc.set_threshold(*before)
