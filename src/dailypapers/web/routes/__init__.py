"""One router per resource; `{paper_id:arxiv}` in their paths matches arXiv ids."""

from starlette.convertors import Convertor, register_url_convertor


class ArxivIdConvertor(Convertor[str]):
    """2401.12345 or hep-th/9901001 (no version): the key of a paper in URLs."""

    regex = r"\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("arxiv", ArxivIdConvertor())
