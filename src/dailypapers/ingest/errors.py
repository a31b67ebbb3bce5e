"""Errors an ingest reports to the user as one line."""


class IngestError(Exception):
    """A failure with a one-line reason naming the file and line, or the request."""


class OaiError(IngestError):
    """An OAI-PMH <error> element, e.g. badResumptionToken or noRecordsMatch."""

    def __init__(self, code: str, message: str, request: str = "") -> None:
        self.code = code
        where = f"{request}: " if request else ""
        super().__init__(f"{where}OAI-PMH error {code}: {message}".strip())
