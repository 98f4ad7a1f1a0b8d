"""Casting votes: the ballot rules (``rules``), one writer chosen at startup (``writers``), and a voter's own
votes (``own``)."""
