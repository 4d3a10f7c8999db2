"""Payment providers (manual bank transfer and cash on delivery, Stripe cards), webhooks and refunds."""
