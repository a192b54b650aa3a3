"""The apiserver's request log: which requests get a line at which ``-v``, and its fields."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from apiserver.requestlog import SCOPE_ERROR, SCOPE_VERB, RequestLog


def _scope(path: str = "/api/v1/pods", query: bytes = b"", **extra: Any) -> Scope:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query,
        "headers": [(b"user-agent", b'kubectl/v1.32.4 (linux/amd64) "x"')],
        "client": ("127.0.0.1", 51234),
        **extra,
    }


def _app(status: int, *, verb: str | None = None, error: BaseException | None = None) -> Any:
    async def app(scope: Scope, _receive: Receive, send: Send) -> None:
        if verb:
            scope[SCOPE_VERB] = verb
        if error is not None:
            try:
                raise error
            except type(error) as err:
                scope[SCOPE_ERROR] = err
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


def _serve(log: RequestLog, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(log(scope, receive, send))
    return sent


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "apiserver.requests"]


def test_by_default_a_quick_success_and_a_404_are_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _serve(RequestLog(_app(200)), _scope())
    _serve(RequestLog(_app(404)), _scope())
    assert _lines(caplog) == []


def test_every_request_at_v2_with_its_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sent = _serve(RequestLog(_app(200, verb="LIST"), verbosity=2), _scope(query=b"limit=500"))
    assert sent[0]["status"] == 200
    (record,) = _lines(caplog)
    assert record.levelno == logging.INFO
    text = record.getMessage()
    assert text.startswith('HTTP verb="LIST" URI="/api/v1/pods?limit=500" latency="')
    assert 'userAgent="kubectl/v1.32.4 (linux/amd64) \\"x\\""' in text
    assert text.endswith('srcIP="127.0.0.1:51234" resp=200')


def test_client_errors_from_v1(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _serve(RequestLog(_app(409, verb="POST"), verbosity=1), _scope())
    _serve(RequestLog(_app(200, verb="GET"), verbosity=1), _scope())
    (record,) = _lines(caplog)
    assert 'verb="POST"' in record.getMessage() and record.getMessage().endswith("resp=409")


def test_a_5xx_is_an_error_with_the_traceback_behind_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _serve(RequestLog(_app(500, error=RuntimeError("etcd said no"))), _scope())
    (record,) = _lines(caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert "etcd said no" in caplog.text and "Traceback" in caplog.text


def test_an_exception_escaping_the_app_is_logged_as_a_500_and_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(_scope: Scope, _receive: Receive, _send: Send) -> None:
        raise KeyError("boom")

    caplog.set_level(logging.DEBUG)
    with pytest.raises(KeyError):
        _serve(RequestLog(broken), _scope(method="POST"))
    (record,) = _lines(caplog)
    assert 'verb="POST"' in record.getMessage() and record.getMessage().endswith("resp=500")
    assert record.exc_info is not None and isinstance(record.exc_info[1], KeyError)


def test_slow_requests_are_warnings_but_watches_are_long_by_nature(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _serve(RequestLog(_app(200, verb="GET"), slow=0.0), _scope())
    _serve(RequestLog(_app(200, verb="WATCH"), slow=0.0), _scope(query=b"watch=true"))
    _serve(RequestLog(_app(200), slow=0.0), _scope(path="/api/v1/namespaces/d/pods/p/log"))
    (record,) = _lines(caplog)
    assert record.levelno == logging.WARNING and 'verb="GET"' in record.getMessage()


def test_a_websocket_is_a_connect(caplog: pytest.LogCaptureFixture) -> None:
    async def accept(_scope: Scope, _receive: Receive, send: Send) -> None:
        await send({"type": "websocket.accept"})

    caplog.set_level(logging.DEBUG)
    _serve(RequestLog(accept, verbosity=2), _scope(type="websocket"))
    (record,) = _lines(caplog)
    assert 'verb="CONNECT"' in record.getMessage() and record.getMessage().endswith("resp=101")
