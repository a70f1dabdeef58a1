"""The GraphQL documents the adapter sends, one named operation per `<OperationName>.graphql`.

Keeping them as files lets the tests validate every one against Shopify's schema.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

_SUFFIX = ".graphql"


@cache
def all_documents() -> dict[str, str]:
    """Every document, keyed by operation name (the file name without `.graphql`)."""
    folder = resources.files(__name__)
    return {
        entry.name.removesuffix(_SUFFIX): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(_SUFFIX)
    }


def load(name: str) -> str:
    """The text of the document `name`; KeyError names the missing document."""
    try:
        return all_documents()[name]
    except KeyError:
        raise KeyError(f"no GraphQL document named {name!r}") from None
