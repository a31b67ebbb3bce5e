"""Sources of papers: parsers (pure) and fetchers, writing through the store's upserts."""
