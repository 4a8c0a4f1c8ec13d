"""What a tablet may show while the Wi-Fi is down, without carrying a readable list.

For every card, when it is issued (the only moment the token exists on the server), we keep
the first 16 bytes of SHA-256(salt ‖ token) and the delegate's name, delegation and kind
encrypted with AES-256-GCM under a key derived from the token (HKDF-SHA-256). Tablets fetch
these entries. A tablet that scans a card finds its entry by the hash and derives the key
from the token it just read; a lost tablet shows nothing to whoever finds it, because it
holds no tokens. A name changed after the card was printed shows the old name offline.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from checkin.credentials import keyed_hash
from checkin.tables import DelegateCard

INFO = b"congress offline roster"


def roster_salt(congress_id: int) -> bytes:
    """Per congress, derived from the secret key: nothing to store, nothing secret."""
    return bytes.fromhex(keyed_hash("roster-salt", str(congress_id))[:32])


def entry(congress_id: int, token: str, shown: dict[str, str]) -> tuple[str, str, str]:
    """(hash, iv, box) hex strings for one card."""
    salt = roster_salt(congress_id)
    data = token.upper().encode()
    lookup = hashlib.sha256(salt + data).digest()[:16]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=INFO).derive(data)
    iv = os.urandom(12)
    box = AESGCM(key).encrypt(iv, msgspec.json.encode(shown), None)
    return lookup.hex(), iv.hex(), box.hex()


async def roster(congress_id: int) -> dict[str, Any]:
    rows = await DelegateCard.select(
        DelegateCard.roster_hash, DelegateCard.roster_iv, DelegateCard.roster_box
    ).where((DelegateCard.congress == congress_id) & (DelegateCard.status == "active"))
    return {
        "salt": roster_salt(congress_id).hex(),
        "entries": [
            {"h": r["roster_hash"], "iv": r["roster_iv"], "n": r["roster_box"]}
            for r in rows
            if r["roster_hash"]
        ],
    }
