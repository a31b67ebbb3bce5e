"""One router per resource; `{paper_id:arxiv}` in their paths matches arXiv ids."""

from starlette.convertors import Convertor, register_url_convertor

from dailypapers.models import PAPER_ID

MAX_ID = 2**31 - 1  # the largest row id both databases' integer columns hold


class ArxivIdConvertor(Convertor[str]):
    """2401.12345 or hep-th/9901001 (no version): the key of a paper in URLs."""

    regex = PAPER_ID

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("arxiv", ArxivIdConvertor())
