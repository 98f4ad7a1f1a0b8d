"""Ovation's shared domain: settings, models, database sessions and the services api/ and workers/ call."""
