"""A user's ways in and out: personal API tokens (``pipeline.service.tokens``) and webhooks
(``pipeline.service.webhooks``; the workers send them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pipeline.core.models import (
    ApiToken,
    WebhookDelivery,
    WebhookSubscription,
)

if TYPE_CHECKING:  # (for types only: each is imported where first used, so a short command stays fast)
    pass


from pipeline.service.core import ServiceCore


class Access(ServiceCore):
    """API tokens and webhook subscriptions, each scoped to its user."""

    def create_api_token(self, user: str, name: str = "", *, expires_in_s: float | None = None) -> tuple[ApiToken, str]:
        """A token for a signed-in user (``UserRefused`` for a reserved or no longer allowed name)."""
        from pipeline.service import tokens

        return tokens.create_token(self.store, user, name, expires_in_s=expires_in_s, settings=self.settings)

    def api_token(self, secret: str) -> ApiToken:
        """The live token a program presents (``TokenRefused`` saying why when it does not work)."""
        from pipeline.service import tokens

        return tokens.authenticate(self.store, secret, self.settings)

    def api_tokens(self, user: str | None = None) -> list[ApiToken]:
        return self.store.list_tokens(user)

    def revoke_api_token(self, token_id: str, *, user: str | None = None) -> None:
        from pipeline.service import tokens

        tokens.revoke(self.store, token_id, user=user)

    def revoke_user_api_tokens(self, user: str) -> int:
        """Revoke every live token of ``user`` (who leaves); how many."""
        from pipeline.service import tokens

        return tokens.revoke_user(self.store, user)

    def add_webhook(
        self, user: str, url: str, events: Iterable[str] | str | None = None
    ) -> tuple[WebhookSubscription, str]:
        """Subscribe ``user``'s receiver at ``url`` to ``events`` (every job event when None); returns it and its
        signing secret, shown this once (``WebhookRefused`` for a URL or events that cannot be accepted)."""
        from pipeline.service import webhooks as hooks

        return hooks.subscribe(self.store, self.settings, user, url, events)

    def webhooks(self, user: str | None = None) -> list[WebhookSubscription]:
        """Subscriptions, of one user or (None) all."""
        return self.store.list_subscriptions(user)

    def webhook(self, subscription_id: str, *, user: str | None = None) -> WebhookSubscription:
        from pipeline.service import webhooks as hooks

        return hooks.find(self.store, subscription_id, user)

    def remove_webhook(self, subscription_id: str, *, user: str | None = None) -> None:
        from pipeline.service import webhooks as hooks

        hooks.remove(self.store, subscription_id, user)

    def test_webhook(self, subscription_id: str, *, user: str | None = None) -> WebhookDelivery:
        """Queue a signed ``webhook.test`` delivery to the subscription; a worker sends it."""
        from pipeline.service import webhooks as hooks

        return hooks.send_test(self.store, subscription_id, user)

    def webhook_log(self, subscription_id: str, *, user: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The subscription's deliveries, newest first, with every attempt."""
        from pipeline.service import webhooks as hooks

        return hooks.delivery_log(self.store, subscription_id, user, limit)

    def webhook_callback_secret(self, user: str) -> str:
        """The secret signing ``user``'s ``callback_url`` deliveries (made on first use)."""
        from pipeline.service import webhooks as hooks

        return hooks.callback_secret(self.store, user)
