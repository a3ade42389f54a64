"""Slack user groups' members, for roles that list a group (``S…``): ``usergroups.users.list``
(scope ``usergroups:read``). The engine's roster caches what this reads."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient


class SlackGroups:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def members(self, group: str) -> frozenset[str]:
        """The group's members; raises ``SlackApiError`` (``no_such_subteam``, ``missing_scope``)
        or a connection error, which the roster logs and treats as no new member."""
        response = await self.client.usergroups_users_list(usergroup=group)
        users = response.get("users") or []
        return frozenset(str(user) for user in users)
