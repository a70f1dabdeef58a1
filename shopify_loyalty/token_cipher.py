"""Shop access and refresh tokens are stored encrypted (Fernet), never in clear."""

from __future__ import annotations

from cryptography.fernet import Fernet


class TokenCipher:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def encrypt(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        return self._fernet.decrypt(ciphertext.encode()).decode()
