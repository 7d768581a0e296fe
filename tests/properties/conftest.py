"""Hypothesis settings for the property tests: no per-example deadline (CI machines are
shared and slow at times; a deadline there only produces flaky failures)."""

from hypothesis import settings

settings.register_profile("fairshare-properties", deadline=None)
settings.load_profile("fairshare-properties")
