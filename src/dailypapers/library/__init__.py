"""A reader's library: saved papers in tags, and the formats libraries travel in."""
