"""A Vonage SMS API simulator: tests, and `make run` without Vonage credentials (E10).

    with Simulator("abcd1234", "secret123", "sigsecret", app_webhook_base="http://127.0.0.1:8000") as sim:
        gateway = VonageGateway(sim.api_key, sim.api_secret, rest_host=sim.rest_host,
                                ca_bundle=sim.ca_bundle_path)
        ...
        sim.inbox("+15125550111")          # what that handset received
        sim.post_inbound("+15125550111", "+15125550100", "see you at 5")   # a reply, signed

`groupsms simulator` (see `main`) runs one and prints the VONAGE_* variables for the app.
"""

from groupsms.simulator.cli import main
from groupsms.simulator.core import (
    ReceivedSms,
    SentSms,
    Simulator,
    SmsRequestRecord,
    WebhookError,
)
from groupsms.simulator.webhooks import WebhookRecord

__all__ = [
    "ReceivedSms", "SentSms", "Simulator", "SmsRequestRecord", "WebhookError", "WebhookRecord", "main",
]
