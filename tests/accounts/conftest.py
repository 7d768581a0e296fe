import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Argon2 is slow on purpose; the matrix creates many users. test_auth checks Argon2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
