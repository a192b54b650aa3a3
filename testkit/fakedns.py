"""A fake upstream DNS server on 127.0.0.1, so that no test sends a query off this
machine: it answers UDP queries from a table of records, NXDOMAIN (with an SOA)
for every other name, and counts what it was asked."""

from __future__ import annotations

import socket
import threading
from collections import Counter

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

NEGATIVE_SOA = "ns.fake. hostmaster.fake. 1 7200 1800 86400 60"


class FakeUpstream:
    """``records``: ``{"www.example.com.": [("A", "192.0.2.53", 300)], ...}``."""

    def __init__(self, records: dict[str, list[tuple[str, str, int]]] | None = None) -> None:
        self.records = {k.lower(): v for k, v in (records or {}).items()}
        self.asked: Counter[tuple[str, str]] = Counter()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.1)  # so that stop() is seen: close() wakes no recvfrom
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True, name="fake-upstream")
        self._stopped = False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FakeUpstream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped = True
        self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stopped:
            try:
                data, addr = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:
                continue
            self._sock.sendto(self.answer(query).to_wire(), addr)

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().lower()
        qtype = dns.rdatatype.to_text(question.rdtype)
        self.asked[(name, qtype)] += 1
        entries = self.records.get(name)
        if entries is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
            response.authority.append(dns.rrset.from_text("fake.", 60, "IN", "SOA", NEGATIVE_SOA))
            return response
        for rtype, text, ttl in entries:
            if rtype == qtype:
                response.answer.append(dns.rrset.from_text(question.name, ttl, "IN", rtype, text))
        if not response.answer:
            response.authority.append(dns.rrset.from_text("fake.", 60, "IN", "SOA", NEGATIVE_SOA))
        return response
