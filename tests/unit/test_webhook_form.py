"""The webhook reads a form body as Starlette's `request.form()` does: the same fields for any bytes,
and the same refusal of more than 1,000 fields."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.exceptions import HTTPException
from starlette.requests import Request

from groupsms.webhooks import vonage


def _starlette_form(body: bytes) -> dict[str, str]:
    async def read() -> dict[str, str]:
        sent = False

        async def receive() -> dict:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        scope = {"type": "http", "method": "POST", "app": None,
                 "headers": [(b"content-type", b"application/x-www-form-urlencoded")]}
        return dict(await Request(scope, receive).form())

    return asyncio.run(read())


# Bytes that matter to a form: separators, escapes (good and broken), Latin-1 and UTF-8 bytes.
_pieces = st.sampled_from([b"&", b"=", b"+", b"%", b"%2", b"%26", b"%3D", b"%C3%A9", b"%E2%82", b"%ZZ", b"\xe9",
                           b"\xc3\xa9", b" ", b";", b"a", b"msisdn", b"text", b"0", b"\x00", b"%00"])
_bodies = st.lists(_pieces, max_size=40).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(body=_bodies)
def test_a_form_body_is_read_as_starlette_reads_it(body):
    assert vonage._urlencoded(body) == _starlette_form(body)


@pytest.mark.parametrize("body", [
    b"", b"&", b"&&a=1&&", b"a", b"a=", b"=b", b"a=1&a=2", b"a=b=c", b"text=Hello+there%21&to=15125550100",
    b"k\xe9y=v%C3%A9", b"a=%", b"a=%4", b"a%3Db=c%26d",
])
def test_edge_cases_of_a_form_body(body):
    assert vonage._urlencoded(body) == _starlette_form(body)


@pytest.mark.parametrize("count", [1000, 1001])
def test_more_than_a_thousand_fields_are_refused_as_starlette_refuses_them(count):
    body = b"&".join(b"f%d=1" % i for i in range(count))
    if count <= vonage.MAX_FIELDS:
        assert vonage._urlencoded(body) == _starlette_form(body)
        return
    with pytest.raises(HTTPException) as starlette_refusal:
        _starlette_form(body)
    with pytest.raises(vonage._Malformed) as ours:
        vonage._urlencoded(body)
    assert str(ours.value) == f"form body is malformed: {starlette_refusal.value.detail}"
