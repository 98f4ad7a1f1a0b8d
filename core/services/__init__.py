"""Domain services: plain async functions over an AsyncSession, called by api/ and workers/."""
