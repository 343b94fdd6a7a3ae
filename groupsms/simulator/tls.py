"""A throwaway certificate authority for the simulator's HTTPS (the Vonage SDK only speaks https://)."""

from __future__ import annotations

import ssl
from pathlib import Path

CA_FILE_NAME = "vonage-simulator-ca.pem"


class SimulatorCertificates:
    """A trustme CA, a server certificate for the loopback names, and the CA as a PEM file.

    The PEM file is what VONAGE_CA_BUNDLE points at; nothing else on the machine trusts this CA.
    """

    def __init__(self, directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")) -> None:
        try:
            import trustme
        except ImportError as exc:  # trustme is in the [test] extra, which `make` installs
            raise RuntimeError("the Vonage simulator needs the `trustme` package (pip install -e '.[test]')") from exc
        self._ca = trustme.CA(organization_name="groupsms", organization_unit_name="Vonage simulator")
        self._server = self._ca.issue_cert(*hosts)
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_path = directory / CA_FILE_NAME
        self._ca.cert_pem.write_to_path(str(self.ca_path))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server.configure_cert(context)
        return context
