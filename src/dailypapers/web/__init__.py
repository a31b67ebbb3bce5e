"""The web site and JSON API: `create_app(settings, store)`."""

from dailypapers.web.app import create_app

__all__ = ["create_app"]
