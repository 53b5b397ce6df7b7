"""The local model's weights: the packaged parts join into the published file,
and parts that do not add up are refused."""

from __future__ import annotations

import pytest

from silkqa.service.answering.generative.backends.weights import GGUF_SIZE, join_parts, part_paths
from silkqa.service.answering.types import BackendUnavailable


@pytest.mark.slow
def test_the_packaged_parts_join_into_the_published_model(tmp_path):
    joined = join_parts(part_paths(), tmp_path / "model.gguf")
    assert joined.stat().st_size == GGUF_SIZE
    assert joined.read_bytes()[:4] == b"GGUF"


def test_parts_that_do_not_add_up_are_refused(tmp_path):
    with pytest.raises(BackendUnavailable, match="expected 491400064 bytes"):
        join_parts(part_paths()[-1:], tmp_path / "model.gguf")  # the last part alone
    assert list(tmp_path.iterdir()) == []
