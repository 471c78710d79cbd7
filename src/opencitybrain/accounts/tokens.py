"""Signed access tokens (JWT, HS256) for users and OAuth2 client-credentials apps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from opencitybrain.accounts.model import AuthMethod, Principal, Role
from opencitybrain.kernel.errors import Unauthenticated
from opencitybrain.kernel.ids import new_id

ISSUER = "opencitybrain"
AUDIENCE = "opencitybrain-api"
_VERIFIED_MAX = 10_000


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An issued bearer token."""

    access_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type


class TokenSigner:
    """Sign and verify access tokens with the platform secret."""

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        if len(secret) < 32:
            raise ValueError("token secret must be at least 32 characters")
        self._secret = secret
        self._ttl = ttl_seconds
        # Verified tokens and their expiry: a signature check and claim parsing cost about
        # 250 µs in PyJWT, more than the rest of a small request. A token is a bearer
        # secret already held in memory by whoever presents it; the cache only skips
        # re-checking a signature this process checked before.
        self._verified: dict[str, tuple[Principal, int]] = {}

    def issue(self, principal: Principal, now: datetime) -> AccessToken:
        """Return a token naming the principal, valid for the configured time."""
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": principal.user_id,
            "name": principal.username,
            "dept": principal.department_id,
            "roles": sorted(r.value for r in principal.roles),
            "amr": principal.method.value,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self._ttl)).timestamp()),
            "jti": new_id(),
        }
        return AccessToken(jwt.encode(claims, self._secret, algorithm="HS256"), self._ttl)

    def verify(self, token: str, now: datetime) -> Principal:
        """Return the principal a valid token names, or raise Unauthenticated."""
        known = self._verified.get(token)
        if known is not None:
            principal, expires = known
            if expires <= now.timestamp():
                raise Unauthenticated("auth.token_expired", "令牌已过期", "token expired")
            return principal
        principal, expires = self._check(token, now)
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()  # rare; re-verifying costs one signature check each
        self._verified[token] = (principal, expires)
        return principal

    def _check(self, token: str, now: datetime) -> tuple[Principal, int]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"verify_exp": False, "require": ["exp", "sub", "iat"]},
            )
            # Expiry is checked against the platform clock, not the wall clock.
            if int(claims["exp"]) <= now.timestamp():
                raise Unauthenticated("auth.token_expired", "令牌已过期", "token expired")
            principal = Principal(
                user_id=str(claims["sub"]),
                username=str(claims["name"]),
                department_id=str(claims["dept"]),
                roles=frozenset(Role(r) for r in claims["roles"]),
                method=AuthMethod(claims["amr"]),
            )
            return principal, int(claims["exp"])
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise Unauthenticated("auth.bad_token", "令牌无效", "invalid token") from exc
