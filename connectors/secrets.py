"""Where secrets come from: an environment variable first, then the OS keyring, never a config file.

Keyring backends fail in their own ways (no Secret Service on a minimal desktop or in CI, a locked
D-Bus session); all of them mean the same to the user, so they become one plain note.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import keyring
import keyring.errors

KEYRING_FAILURES = (keyring.errors.KeyringError, OSError)


@dataclass(frozen=True)
class KeySource:
    """A secret and where it came from, for settings pages to show."""

    key: str
    """The secret, or the caller's placeholder when there is none."""
    source: Literal["env", "keyring", "none"]
    note: str = ""
    """A plain sentence when something limits the choice (no OS keyring here)."""


def lookup(env_var: str, service: str, name: str, missing: str = "") -> KeySource:
    """The secret from ``env_var``, else from the keyring entry (``service``, ``name``), else ``missing``.

    May block on D-Bus with a desktop keyring: call it off the GUI thread.
    """
    from_env = os.environ.get(env_var, "") if env_var else ""
    if from_env:
        return KeySource(from_env, "env")
    try:
        stored = keyring.get_password(service, name)
    except KEYRING_FAILURES:
        hint = f"; set {env_var} instead" if env_var else ""
        return KeySource(missing, "none", f"No OS keyring is available here{hint}.")
    return KeySource(stored, "keyring") if stored else KeySource(missing, "none")
