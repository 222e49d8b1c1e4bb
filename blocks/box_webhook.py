"""The Box webhook signature keys as a Prefect block."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from domain.box_webhooks import DeliveryVerifier


class BoxWebhookKeys(Block):
    """The two signature keys Box signs every webhook delivery with (primary and secondary).

    Generate them in the Box Developer Console: the app → Webhooks → Manage signature keys.
    Box signs each delivery with both, so one key can be replaced while the other still
    verifies (see README "Box webhooks" for the rotation steps).

    Example:
        ```python
        from blocks.box_webhook import BoxWebhookKeys

        verifier = BoxWebhookKeys.load("box-webhook").get_verifier()
        verifier.verify(body, headers)  # raises DeliveryRefused for a forged or stale delivery
        ```
    """

    _block_type_name = "Box Webhook Keys"
    _block_type_slug = "content-scaling-box-webhook-keys"
    _description = "Primary and secondary signature keys of the Box app's webhooks (V2)."

    primary_key: SecretStr = Field(description="The primary signature key (Developer Console, Webhooks tab).")
    secondary_key: SecretStr | None = Field(
        default=None, description="The secondary signature key; set it too, so keys can be rotated.")

    def get_verifier(self) -> DeliveryVerifier:
        """The delivery verifier for these keys."""
        return DeliveryVerifier(self.primary_key.get_secret_value(),
                                self.secondary_key.get_secret_value() if self.secondary_key else None)
