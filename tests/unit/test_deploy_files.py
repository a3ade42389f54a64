"""compose.yaml and the Dockerfile keep what replicas need: one PostgreSQL, one shared data
directory, a non-root process with a health check. (No Docker daemon runs here: the files
are read, not run.)"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_replicas_share_one_database_and_one_data_directory() -> None:
    services = _compose()["services"]
    bots = {name: s for name, s in services.items() if name.startswith("bot-")}
    assert len(bots) >= 2
    for bot in bots.values():
        env = bot["environment"]
        assert env["DDI_BOT_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["DDI_BOT_DATABASE_URL"]
        assert f"data:{env['DDI_BOT_DATA_DIR']}" in bot["volumes"]  # the same named volume
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert len({b["environment"]["DDI_BOT_DATABASE_URL"] for b in bots.values()}) == 1
    assert len({p for b in bots.values() for p in b["ports"]}) == len(bots)
    assert "healthcheck" in services["postgres"]


def test_secrets_come_from_the_environment_not_the_file() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "${POSTGRES_PASSWORD:?" in text and "${SLACK_BOT_TOKEN:?" in text
    assert "xoxb-" not in text


def test_the_image_runs_serve_as_a_user_with_a_health_check() -> None:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert any("/healthz" in line for line in lines)
    cmd = next(line for line in lines if line.startswith("CMD "))
    assert '"serve"' in cmd and '"0.0.0.0"' in cmd


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_constraints_pin_every_dependency_within_what_pyproject_allows() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = _pins()
    for text in wanted:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement}"
        )
    assert "ddi-bot" not in pins  # the project itself is installed from the tree


def test_every_install_command_uses_the_constraints() -> None:
    for name in ("README.md", ".ci/run", "Dockerfile"):
        text = (ROOT / name).read_text(encoding="utf-8")
        installs = [line for line in text.splitlines() if "pip install" in line]
        assert installs, name
        for line in installs:
            assert "-c constraints.txt" in line, f"{name}: {line.strip()}"
