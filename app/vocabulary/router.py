"""HTTP route of the vocabularies."""

from fastapi import APIRouter, Depends

from app.auth.deps import check_reader
from app.vocabulary.schemas import Vocabularies
from app.vocabulary.service import VOCABULARIES
from app.web.http_cache import record_data_version

# The data version too, as every /v1 answer carries it (Last-Modified, the cache's key),
# whether or not the response cache looked it up first.
router = APIRouter(
    tags=["vocabulary"], dependencies=[Depends(record_data_version), Depends(check_reader)]
)


@router.get("/v1/vocabulary", summary="What each value means", response_model=Vocabularies)
def vocabulary() -> Vocabularies:
    """Every controlled vocabulary of the API (PLOVER event types with their quad class,
    statuses, date precisions, hedging, qualifiers, actor kinds and roles, relations,
    source kinds, place kinds and coordinate precisions), each value with what it means.
    The same meanings are in this document's schemas (each enum's description and
    `x-enumDescriptions`). Event types paraphrase PLOVER's codebook (openeventdata/PLOVER)."""
    return VOCABULARIES
