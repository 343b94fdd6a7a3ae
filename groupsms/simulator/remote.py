"""A client of a simulator running in another process (`groupsms simulator`), with the methods of
`Simulator` that the Phones page reads: several app workers then show the same handsets."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from base64 import b64encode
from urllib.parse import quote

from groupsms.simulator.records import ReceivedSms, SentSms


class RemoteSimulator:
    def __init__(self, rest_host: str, api_key: str, api_secret: str, ca_bundle: str | None,
                 timeout: float = 10.0) -> None:
        self.rest_host = rest_host
        self._auth = "Basic " + b64encode(f"{api_key}:{api_secret}".encode()).decode()
        context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                   urllib.request.HTTPSHandler(context=context))
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"RemoteSimulator({self.rest_host!r})"

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"https://{self.rest_host}/_simulator/{path}", data=data, method=method,
                                         headers={"Authorization": self._auth, "Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise RuntimeError(f"the simulator answered HTTP {exc.code}: {detail}") from None

    def inbox(self, e164: str) -> list[ReceivedSms]:
        rows = self._call("GET", f"inbox?number={quote(e164)}")["messages"]
        return [ReceivedSms(**{**row, "message_ids": tuple(row["message_ids"])}) for row in rows]

    def sent_from(self, e164: str) -> list[SentSms]:
        rows = self._call("GET", f"sent?number={quote(e164)}")["messages"]
        return [SentSms(**{**row, "message_ids": tuple(row["message_ids"])}) for row in rows]

    def post_inbound(self, from_e164: str, to_e164: str, text: str) -> list[str]:
        return self._call("POST", "inbound", {"from": from_e164, "to": to_e164, "text": text})["message_ids"]

    def stop(self) -> None:
        """Nothing to stop here: the simulator's own process owns it."""
