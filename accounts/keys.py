"""Secrets for tokens and intake keys: random, shown once, stored as SHA-256 (they carry 256 bits, so no salt)."""

import hashlib
import hmac
import secrets

PREFIX_LENGTH = 8


def new_secret(kind: str) -> str:
    """Return a fresh secret such as `crm_tok_...`; its first characters after the kind are its lookup prefix."""
    return f"crm_{kind}_{secrets.token_urlsafe(32)}"


def prefix_of(secret: str) -> str:
    return secret.split("_", 2)[-1][:PREFIX_LENGTH]


def hash_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_of(secret), key_hash)
