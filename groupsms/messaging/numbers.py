"""The ProviderNumbers port: which numbers the provider account owns (the install's inventory).

Only numbers in this inventory can be given to a location (R1, R14): a location admin never types a
number in. Adapters:

- `VonageNumbers`: the account's numbers through the official SDK's Numbers API
  (`client.numbers.list_owned_numbers`, GET https://{rest_host}/account/numbers, Basic auth), page by
  page. Like the SMS gateway, it trusts `VONAGE_CA_BUNDLE` for that host only (a simulator stand-in).
- `SimulatorNumbers`: simulator mode (no VONAGE_API_KEY). The built-in simulator lives inside the app
  process and is started afresh each time, so its inventory is its standard numbers plus the ones an
  install owner provisioned into it before (kept in the database).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import requests

from groupsms.errors import GroupsmsError

VONAGE = "vonage"
SIMULATOR = "simulator"
_PAGE_SIZE = 100  # the Numbers API's largest page
_MAX_PAGES = 1000  # 100,000 numbers: a bound, so a misbehaving stand-in cannot loop us forever


class ProviderError(GroupsmsError):
    """The provider could not be asked (credentials, network, an answer we cannot read)."""


@dataclass(frozen=True)
class OwnedNumber:
    e164: str  # "+15125550100"
    country: str  # "US", "CA", ... as the provider says ("" when it does not)
    sms_capable: bool


class ProviderNumbers(Protocol):
    source: str  # stored with each number: "vonage" | "simulator"

    def owned_numbers(self) -> list[OwnedNumber]:
        """Every number the account owns. Raises ProviderError when the provider cannot say."""
        ...


def _e164(msisdn: str | None) -> str | None:
    digits = (msisdn or "").strip().lstrip("+")
    return "+" + digits if digits.isdigit() and 7 <= len(digits) <= 15 else None


def owned_number(msisdn: str | None, country: str | None, features: Iterable[str] | None) -> OwnedNumber | None:
    """One entry of a Numbers API answer, or None when it holds no usable number."""
    e164 = _e164(msisdn)
    if e164 is None:
        return None
    sms = features is None or "SMS" in {str(f).upper() for f in features}  # no list: assume SMS
    return OwnedNumber(e164, (country or "").upper()[:2], sms)


class VonageNumbers:
    source = VONAGE

    def __init__(self, api_key: str, api_secret: str, rest_host: str = "rest.nexmo.com",
                 ca_bundle: str | None = None, timeout: float = 10.0) -> None:
        if not api_key or not api_secret:
            raise ValueError("the Numbers API needs VONAGE_API_KEY and VONAGE_API_SECRET")
        self.api_key = api_key
        self._api_secret = api_secret
        self.rest_host = rest_host or "rest.nexmo.com"
        self.ca_bundle = ca_bundle or None
        self.timeout = float(timeout)

    def __repr__(self) -> str:
        return f"VonageNumbers(api_key={self.api_key!r}, rest_host={self.rest_host!r})"

    def _client(self):
        from vonage import Auth, HttpClientOptions, Vonage

        options = HttpClientOptions(rest_host=self.rest_host, timeout=max(1, math.ceil(self.timeout)))
        client = Vonage(Auth(api_key=self.api_key, api_secret=self._api_secret), options)
        if self.ca_bundle:  # see vonage_gateway: the bundle must win over REQUESTS_CA_BUNDLE
            client.http_client._session.verify = self.ca_bundle
            client.http_client._session.trust_env = False
        return client

    def owned_numbers(self) -> list[OwnedNumber]:
        from vonage_http_client.errors import HttpRequestError
        from vonage_numbers import ListOwnedNumbersFilter

        client = self._client()
        found: dict[str, OwnedNumber] = {}
        index: int | None = 1
        try:
            for _ in range(_MAX_PAGES):
                page, _count, index = client.numbers.list_owned_numbers(
                    ListOwnedNumbersFilter(size=_PAGE_SIZE, index=index))
                for entry in page:
                    number = owned_number(entry.msisdn, entry.country, entry.features)
                    if number is not None:
                        found.setdefault(number.e164, number)
                if index is None or not page:
                    break
        except HttpRequestError as err:
            status = getattr(getattr(err, "response", None), "status_code", "?")
            raise ProviderError(f"the Vonage Numbers API at {self.rest_host} answered HTTP {status}: "
                                "check VONAGE_API_KEY and VONAGE_API_SECRET") from err
        except requests.exceptions.RequestException as err:
            raise ProviderError(f"cannot reach the Vonage Numbers API at {self.rest_host}: {err}") from err
        except Exception as err:  # the SDK raises its own types for bodies it cannot read
            raise ProviderError(f"the Vonage Numbers API at {self.rest_host} gave an answer groupsms "
                                f"cannot read: {type(err).__name__}: {err}") from err
        finally:
            client.http_client._session.close()
        return sorted(found.values(), key=lambda n: n.e164)


class SimulatorNumbers:
    """The built-in simulator's inventory: its standard numbers plus those provisioned into it."""

    source = SIMULATOR

    def __init__(self, provisioned: Iterable[str] = ()) -> None:
        from groupsms.simulator.numbers_api import STANDARD_NUMBERS

        self._numbers = sorted(set(STANDARD_NUMBERS) | set(provisioned))

    def owned_numbers(self) -> list[OwnedNumber]:
        from groupsms.domain.phones import region_of

        return [OwnedNumber(e164, region_of(e164) or "", True) for e164 in self._numbers]


def from_settings(settings, provisioned: Iterable[str] = ()) -> ProviderNumbers:
    """The inventory of the configured account: Vonage's with a key, else the built-in simulator's."""
    if settings.simulator_mode:
        return SimulatorNumbers(provisioned)
    return VonageNumbers(settings.vonage_api_key, settings.vonage_api_secret or "",
                         settings.vonage_rest_host, settings.vonage_ca_bundle)
