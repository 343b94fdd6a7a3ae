"""HTTP endpoints that are not Reflex pages: Vonage's webhooks."""
