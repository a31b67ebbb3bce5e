"""An import whose worker process dies at once, as under the OOM killer:

    python -m tests.ingest.dying_parser DATABASE_URL FILE

prints the one-line error the import ends with."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dailypapers.ingest.bulk import Record, import_json_lines
from dailypapers.ingest.errors import IngestError
from dailypapers.storage import open_store

EXIT_CODE = 3


def die(_record: object) -> Record:
    os._exit(EXIT_CODE)


if __name__ == "__main__":
    from tests.ingest.dying_parser import die as importable  # __main__.die is not, in a worker

    try:
        import_json_lines(open_store(sys.argv[1]), Path(sys.argv[2]), importable, batch_size=200)
    except IngestError as error:
        print(error)
