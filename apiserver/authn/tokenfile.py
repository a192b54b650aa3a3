"""``--token-auth-file``: static bearer tokens, a CSV of ``token,user,uid,"group1,group2"``
(Kubernetes' format; the groups column is optional). Read once at start."""

from __future__ import annotations

import csv
from pathlib import Path

from apiserver.user import UserInfo


class TokenFile:
    def __init__(self, tokens: dict[str, UserInfo]) -> None:
        self._tokens = tokens

    @classmethod
    def load(cls, path: str | Path) -> TokenFile:
        tokens: dict[str, UserInfo] = {}
        with open(path, newline="") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row or not row[0].strip() or row[0].startswith("#"):
                    continue
                if len(row) < 3:
                    raise ValueError(
                        f'{path}:{number}: expected token,user,uid[,"groups"], got {len(row)} columns'
                    )
                token, user, uid = (c.strip() for c in row[:3])
                groups = (
                    tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
                )
                if token in tokens:
                    raise ValueError(f"{path}:{number}: duplicate token")
                tokens[token] = UserInfo(user, uid, groups)
        return cls(tokens)

    def authenticate(self, token: str) -> UserInfo | None:
        return self._tokens.get(token)
