"""HTTP route of the vocabularies."""

from fastapi import APIRouter, Depends

from app.auth.deps import check_reader
from app.vocabulary.schemas import Vocabularies
from app.vocabulary.service import VOCABULARIES

router = APIRouter(tags=["vocabulary"], dependencies=[Depends(check_reader)])


@router.get("/v1/vocabulary", summary="What each value means", response_model=Vocabularies)
def vocabulary() -> Vocabularies:
    """Every controlled vocabulary of the API (PLOVER event types with their quad class,
    statuses, date precisions, hedging, qualifiers, actor kinds and roles, relations,
    source kinds, place kinds and coordinate precisions), each value with what it means.
    The same meanings are in this document's schemas (each enum's description and
    `x-enumDescriptions`). Event types paraphrase PLOVER's codebook (openeventdata/PLOVER)."""
    return VOCABULARIES
