"""Credentials inside URLs never reach a message or a log line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import pytest

from bot.redact import RedactingFilter, install_redaction, redact
from bot.settings import load_settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql+asyncpg://bot:hunter2@db/ddi", "postgresql+asyncpg://***@db/ddi"),
        ("https://xoxb-token@slack.test/api", "https://***@slack.test/api"),
        ("redis://:hunter2@cache:6379/0", "redis://***@cache:6379/0"),
        ("http://bot:p@ss@db:5432/x", "http://***@db:5432/x"),  # an unescaped "@" in it
        ("postgresql://bot:p/ss@db/ddi", "postgresql://***@db/ddi"),  # SQLAlchemy allows "/"
        ("http://u:p@[::1]:8080/", "http://***@[::1]:8080/"),
        (
            "GET http://u:hunter2@sim.test/a failed, retrying HTTPS://t0ken@sim.test:8443/b",
            "GET http://***@sim.test/a failed, retrying HTTPS://***@sim.test:8443/b",
        ),
        (
            "https://u:p@host/next?to=http://u2:p2@other/ and ssh://git@github.com/x.git",
            "https://***@host/next?to=http://***@other/ and ssh://***@github.com/x.git",
        ),
        ("URL('http://user:[secure]@sim.test/x')", "URL('http://***@sim.test/x')"),
        ("{'url': 'http://u:hunter2@sim.test'}", "{'url': 'http://***@sim.test'}"),
        ('url="http://u:hunter2@sim.test/"', 'url="http://***@sim.test/"'),
        (
            "接続先 http://u:hunter2@ddi.example.jp/ に接続できません",
            "接続先 http://***@ddi.example.jp/ に接続できません",
        ),
    ],
)
def test_credentials_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "connection test: Verified Connection",
        "http://127.0.0.1:8080/api/v1/appliances/ddi-a/connection-test",
        "https://sim.test:8443/users/me@example.com",  # "@" in the path, a port before it
        "https://sim.test/users/me@example.com?x=a@b#c@d",
        "http://[::1]:8080/a@b",
        "sqlite+aiosqlite:///data/with@sign.db",
        "mail ops@example.com about http://sim.test/",
        "http://@sim.test/",
        "mailto:ops@example.com",
        "接続テスト：Verified Connection（ネットワークのメンテナンスはありません）",
        "[管理] > [グローバル設定] > [システム設定] > [システムのメンテナンス] > [再起動]",
        "担当者: 山田＠ops、連絡先 yamada@example.jp",
        "a" * 10_000 + "@" + "b" * 10_000,
    ],
)
def test_everything_else_is_untouched(text: str) -> None:
    assert redact(text) == text


def test_settings_repr_uses_it() -> None:
    shown = repr(load_settings({"DDI_BOT_DATABASE_URL": "postgresql+asyncpg://bot:p/w@db/ddi"}))
    assert "p/w" not in shown and "postgresql+asyncpg://***@db/ddi" in shown


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own, printing to a StringIO through a handler with the filter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("test_redact.captured")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    install_redaction(logger)
    install_redaction(logger)  # once is enough: no second filter
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_log_arguments_and_messages_are_redacted(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = captured
    logger.info("simulator at %s", "http://bot:hunter2@sim.test:8080")
    logger.info("both %s and %r", httpx.URL("https://u:hunter2@a.test/"), "redis://:pw2@c/0")
    logger.info("http://token-abc@sim.test/ %(n)d", {"n": 3})
    logger.info("plain %s, %d appliances", "ddi-a", 2)
    logger.warning("接続できません: %s", "ddi-東京")
    lines = out.getvalue().splitlines()
    text = out.getvalue()
    assert "hunter2" not in text and "pw2" not in text and "token-abc" not in text
    assert lines[0] == "INFO test_redact.captured: simulator at http://***@sim.test:8080"
    assert lines[3] == "INFO test_redact.captured: plain ddi-a, 2 appliances"
    assert lines[4] == "WARNING test_redact.captured: 接続できません: ddi-東京"


def test_an_untouched_record_keeps_its_arguments() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "n=%d at %s", (1, "h"), None)
    assert RedactingFilter().filter(record)
    assert record.msg == "n=%d at %s" and record.args == (1, "h")


def test_exceptions_and_stacks_are_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = captured
    try:
        raise ConnectionError("cannot reach postgresql://bot:hunter2@db:5432/ddi")
    except ConnectionError:
        logger.exception("database %s", "down")

    def where(url: str) -> None:
        logger.info("where", stack_info=True)

    where("http://a:hunter3@b.test/")  # the stack shows this line
    try:
        raise ValueError("http://u:hunter4@x.test/")
    except ValueError as exc:
        logger.error("failed", exc_info=exc)
    text = out.getvalue()
    assert "hunter2" not in text and "hunter3" not in text and "hunter4" not in text
    assert "ConnectionError: cannot reach postgresql://***@db:5432/ddi" in text
    assert "ValueError: http://***@x.test/" in text and "Stack (most recent call last)" in text
    assert 'where("http://***@b.test/")' in text


def test_bad_arguments_are_reported_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)  # straight to a handler: pytest's would raise instead
    handler.addFilter(RedactingFilter())
    url = "http://u:" + "hunter2" + "@x.test/"  # not in this source line: logging prints it
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items at %s", (url,), None)
    handler.handle(record)  # a wrong format: logging reports it on stderr
    err = capsys.readouterr().err
    assert "Logging error" in err and "http://***@x.test/" in err
    assert "hunter2" not in out.getvalue() + err


def test_an_httpx_request_logs_no_password() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    root.addHandler(handler)
    httpx_logger.setLevel(logging.INFO)
    try:
        install_redaction()
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
        with httpx.Client(transport=transport) as client:
            response = client.get("http://bot:hunter2@sim.test:8080/api/v1/appliances/")
        assert response.request.headers["authorization"].startswith("Basic ")
    finally:
        root.removeHandler(handler)
        httpx_logger.setLevel(level)
        for other in root.handlers:  # pytest's own handlers: leave them as they were
            for f in [f for f in other.filters if isinstance(f, RedactingFilter)]:
                other.removeFilter(f)
    text = out.getvalue()
    assert "HTTP Request: GET http://***@sim.test:8080/api/v1/appliances/" in text
    assert "hunter2" not in text and "bot:" not in text
