"""manifest.yml must match what the code registers and calls."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.runbook import Choice
from handlers.ids import (
    ACTION_IDS,
    DECIDE_PATTERN,
    GUIDE_ACTION_IDS,
    GUIDE_PATTERN,
    Command,
    decide_action_id,
)

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))

# Web API methods the code may call, and the bot scope each needs (None: no scope).
METHOD_SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_getPermalink": None,
    "files_upload_v2": "files:write",
    "views_open": None,
    "views_publish": None,  # the Home tab
    "auth_test": None,  # serve checks its token at start (no scope needed)
    "users_info": "users:read",  # a person's locale: the language of their case
    "usergroups_users_list": "usergroups:read",  # roles that list a user group (S…)
    "files_info": "files:read",
    # the outbox looks for a message whose answer was lost (groups:history for private
    # channels comes with the message.groups event below)
    "conversations_history": "channels:history",
    "conversations_replies": "channels:history",
}


# Event subscriptions (files posted in case threads) and the scope each needs.
EVENT_SCOPES = {
    "file_shared": "files:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
}


def _called_methods() -> set[str]:
    found: set[str] = set()
    for path in ROOT.glob("handlers/*.py"):  # only handlers/ talks to Slack
        found |= set(re.findall(r"client\.(\w+)\(", path.read_text(encoding="utf-8")))
    return found


def test_commands_match_the_manifest() -> None:
    declared = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert declared == {c.value for c in Command}


def test_bot_scopes_are_exactly_the_ones_used() -> None:
    called = _called_methods()
    assert called, "expected Web API calls in handlers/"
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"add the scopes for {unknown} to METHOD_SCOPES and manifest.yml"
    needed = {METHOD_SCOPES[m] for m in called} - {None}
    needed.add("commands")  # slash commands
    needed |= set(EVENT_SCOPES.values())
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed


def test_interactivity_and_socket_mode_are_on() -> None:
    settings = MANIFEST["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert MANIFEST["features"]["bot_user"]["display_name"]


def test_action_ids_are_valid_and_routed() -> None:
    assert len(set(ACTION_IDS)) == len(Choice)
    for action_id in ACTION_IDS:
        assert len(action_id) <= 255
        assert DECIDE_PATTERN.match(action_id)
    assert decide_action_id(Choice.APPROVE_REBOOT) == "ddi_decide:approve_reboot"
    assert not DECIDE_PATTERN.match("ddi_decide:approve_reboot;drop")


def test_guide_action_ids_are_valid_and_distinct_from_decisions() -> None:
    assert len(set(GUIDE_ACTION_IDS)) == len(GUIDE_ACTION_IDS)
    for action_id in GUIDE_ACTION_IDS:
        assert len(action_id) <= 255 and GUIDE_PATTERN.match(action_id)
        assert not DECIDE_PATTERN.match(action_id)


NO_SCOPE_EVENTS = {"app_home_opened"}  # the Home tab: no scope needed, nor for views.publish


def test_the_file_events_the_app_handles_are_subscribed() -> None:
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert events == set(EVENT_SCOPES) | NO_SCOPE_EVENTS
    source = (ROOT / "handlers" / "files.py").read_text(encoding="utf-8")
    assert '@app.event("file_shared")' in source
    assert '"subtype": "file_share"' in source
    home = (ROOT / "handlers" / "home.py").read_text(encoding="utf-8")
    assert '@app.event("app_home_opened")' in home
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
