"""Fairshare: community reservation and rationing of a scarce supply."""

__version__ = "0.1.0"
