import hashlib
import secrets


def new_token() -> tuple[str, str]:
    """A fresh URL-safe token (256 bits) and the hash to store in its place."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
