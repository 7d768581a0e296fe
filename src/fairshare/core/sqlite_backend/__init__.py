"""Django's SQLite backend with the placeholder conversion cached (see base.py)."""
