"""Write the demo sample's embeddings, computed by the product's own indexer:

    python scripts/make_demo_embeddings.py

Run after make_demo_sample.py (a few minutes on two cores). Vectors are kept as float16 to
halve the package size; loaded back they differ from the computed ones by cosine < 1e-4.
"""

from __future__ import annotations

import tempfile
from importlib.resources import as_file, files
from pathlib import Path

import numpy as np

from dailypapers.config import Settings
from dailypapers.demo import EMBEDDINGS
from dailypapers.ingest.bulk import import_json_lines
from dailypapers.ingest.jsonl import paper_from_json
from dailypapers.search.service import SearchService
from dailypapers.storage import open_store
from dailypapers.storage.search import stored_embeddings

OUTPUT = Path(__file__).parents[1] / "src" / "dailypapers" / "demo" / EMBEDDINGS


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch))
        store = open_store(settings.database_url)
        with as_file(files("dailypapers.demo") / "papers.jsonl.gz") as path:
            import_json_lines(store, path, paper_from_json)
        SearchService(settings, store).update_indexes()
        with store.read() as connection:
            rows = stored_embeddings(connection)
        store.close()
    (model,) = {model for _, model, _, _ in rows}
    np.savez_compressed(
        OUTPUT,
        model=np.array(model),
        paper_ids=np.array([paper_id for paper_id, _, _, _ in rows]),
        text_hashes=np.array([text_hash for _, _, text_hash, _ in rows]),
        vectors=np.stack([vector for _, _, _, vector in rows]).astype(np.float16),
    )
    print(f"{len(rows)} embeddings -> {OUTPUT}")


if __name__ == "__main__":
    main()
