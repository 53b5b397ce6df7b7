"""The question analysis as the pipeline runs it: over the session library's
own vocabulary and document names."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from silkqa.service.answering.question import LibraryTerms, analyze
from silkqa.service.answering.types import QuestionAnalysis


@pytest.fixture(scope="session")
def analysis_of(snapshot) -> Callable[[str], QuestionAnalysis]:
    terms = LibraryTerms(snapshot.index.lexical)
    retriever = snapshot.retriever

    def of(question: str) -> QuestionAnalysis:
        return analyze(question, terms, retriever.document_names, retriever.document_years)

    return of
