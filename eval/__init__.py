"""Offline evaluation of retrieval, citation and answer quality (see eval/README.md)."""
