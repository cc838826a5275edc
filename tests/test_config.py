"""Configuration works with none at all; instance/config.py and the environment override it."""

import multiprocessing
import stat

from app import create_app
from app.config import from_environment, instance_secret_key, normalise_database_url


def test_no_configuration_needed(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "LINLI_SITE_NAME", "LINLI_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'linli.db'}"
    assert app.config["BABEL_DEFAULT_LOCALE"] == "zh_Hans"
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Shanghai"
    assert len(app.config["SECRET_KEY"]) == 64


def test_secret_key_is_generated_once_private_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app(instance_path=str(tmp_path)).config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert create_app(instance_path=str(tmp_path)).config["SECRET_KEY"] == first
    other_install = create_app(instance_path=str(tmp_path / "other")).config["SECRET_KEY"]
    assert other_install != first
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".secret_key")] == []


def _read_key(path, queue):
    queue.put(instance_secret_key(path))


def test_workers_starting_together_share_one_key(tmp_path):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_read_key, args=(str(tmp_path), queue)) for _ in range(8)]
    for worker in workers:
        worker.start()
    keys = {queue.get(timeout=10) for _ in workers}
    for worker in workers:
        worker.join()
    assert len(keys) == 1
    assert keys == {(tmp_path / "secret_key").read_text().strip()}


def test_instance_config_then_environment_then_arguments(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('SITE_NAME = "幸福里社区"\nBABEL_DEFAULT_TIMEZONE = "Asia/Urumqi"\n')
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("LINLI_TIMEZONE", "Asia/Harbin")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SITE_NAME"] == "幸福里社区"
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Harbin"
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
    assert create_app({"SITE_NAME": "测试"}, instance_path=str(tmp_path)).config["SITE_NAME"] == "测试"


def test_database_url_forms():
    assert from_environment({"DATABASE_URL": "postgres://u@h/db"}) == {"SQLALCHEMY_DATABASE_URI": "postgres://u@h/db"}
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
