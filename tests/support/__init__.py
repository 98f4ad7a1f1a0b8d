"""Helpers the tests share. Test modules import them from here, never from a conftest."""
