"""The process's log set-up: libraries that would flood the log at INFO are kept to warnings."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import QUIET, configure


@pytest.fixture
def _restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in QUIET}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


@pytest.mark.usefixtures("_restored")
def test_job_and_request_chatter_is_hidden_but_warnings_and_the_bots_lines_show(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(logging.INFO, "text")
    logging.getLogger("procrastinate.worker").info("Starting job ddi_bot.step[1](view=...)")
    logging.getLogger("httpx").info("HTTP Request: GET https://sensor.example/")
    logging.getLogger("procrastinate.worker").warning("job 7 failed, retrying")
    logging.getLogger("bot.engine.executor").info("case 3: step 1 done")
    err = capsys.readouterr().err
    assert "Starting job" not in err and "HTTP Request" not in err
    assert "job 7 failed, retrying" in err and "case 3: step 1 done" in err
