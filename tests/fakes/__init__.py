"""Loopback stand-ins for third-party services the tests cannot run for real."""
