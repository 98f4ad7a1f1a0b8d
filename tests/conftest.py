"""Shared by every test. Unit tests (tests/unit) need no services; integration tests set theirs up in
tests/integration/conftest.py."""
