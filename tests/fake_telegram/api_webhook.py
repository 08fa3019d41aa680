"""Bot API methods of webhook mode: setWebhook, deleteWebhook, getWebhookInfo.

Unlike Telegram, plain ``http://`` URLs are accepted: the bots under test listen on
127.0.0.1 without TLS.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .api_common import Handler, bad_request
from .models import JsonDict, UploadedFile
from .state import TelegramState, WebhookConfig
from .webhook import WebhookSender

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def _config(params: JsonDict) -> WebhookConfig:
    url = str(params.get("url") or "")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise bad_request("invalid webhook URL specified")
    secret = params.get("secret_token")
    secret = None if secret is None else str(secret)
    if secret is not None and len(secret) > 256:
        raise bad_request("secret token is too long")
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = int(params.get("max_connections") or 40)
    if not 1 <= max_connections <= 100:
        raise bad_request("max_connections must be between 1 and 100")
    ip_address = params.get("ip_address")
    return WebhookConfig(
        url=url,
        secret_token=secret or None,  # an empty token means "no header", as with no token
        max_connections=max_connections,
        ip_address=None if ip_address is None else str(ip_address),
    )


class WebhookMethods:
    def __init__(self, state: TelegramState, sender: WebhookSender) -> None:
        self.state = state
        self.sender = sender

    def handlers(self) -> dict[str, Handler]:
        return {
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
        }

    async def set_webhook(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        """Set (or, with an empty ``url``, remove) the webhook.

        A running long poll ends with 409; pending updates are kept for the webhook unless
        ``drop_pending_updates``; ``allowed_updates`` replaces the previous list only if given.
        """
        if not params.get("url"):
            return await self.delete_webhook(params, files)
        config = _config(params)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.state.allowed_updates = [str(kind) for kind in allowed]
        if params.get("drop_pending_updates"):
            self.state.drop_pending_updates()
        self.state.webhook = config
        self.sender.start()
        self.state.updates_arrived.fire()  # end long polls, wake the sender
        return True

    async def delete_webhook(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        """Back to getUpdates.  POSTs already sent get their answer first, so an update the
        bot confirms is not handed to getUpdates again; the rest stay pending."""
        await self.sender.stop(finish_in_flight=True)
        self.state.webhook = None
        if params.get("drop_pending_updates"):
            self.state.drop_pending_updates()
        return True

    async def get_webhook_info(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        config = self.state.webhook
        info: JsonDict = {
            "url": "" if config is None else config.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.pending_updates),
        }
        if config is None:
            return info
        if config.ip_address:
            info["ip_address"] = config.ip_address
        if self.sender.last_error is not None:
            info["last_error_date"], info["last_error_message"] = self.sender.last_error
        info["max_connections"] = config.max_connections
        if self.state.allowed_updates:
            info["allowed_updates"] = self.state.allowed_updates
        return info
