"""dailypapers: a self-hosted daily feed of research papers."""

__version__ = "0.1.0"
