"""The local backend: the converted Qwen2.5-Coder-0.5B-Instruct through
transformers, greedy decoding on the CPU, one generation at a time."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from silkqa.service.answering.generative.backends.weights import MODEL_NAME, converted_model
from silkqa.service.answering.types import BackendUnavailable, GenerationError, Messages

log = logging.getLogger("silkqa.llm")


class LocalGenerator:
    def __init__(self, cache_dir: Path, repetition_penalty: float = 1.15):
        try:
            import torch  # noqa: F401  (transformers needs it; say so clearly)
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise BackendUnavailable("the local model needs torch and transformers") from None
        started = time.perf_counter()
        directory = converted_model(cache_dir)
        self.tokenizer = AutoTokenizer.from_pretrained(directory)
        self.model = AutoModelForCausalLM.from_pretrained(directory)
        self.model.eval()  # type: ignore[no-untyped-call]  # torch.nn.Module.eval is untyped
        self.name = f"local:{MODEL_NAME}"
        self.repetition_penalty = repetition_penalty
        # Two generations at once would only halve each one's speed on a small CPU.
        self._lock = threading.Lock()
        log.info("loaded the local model from %s in %.1fs", directory, time.perf_counter() - started)

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def stream(self, messages: Messages, max_tokens: int, cancel: threading.Event | None = None) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        stop = cancel or threading.Event()

        class Cancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return stop.is_set()

        inputs: Any = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                self.model.generate(
                    **inputs,
                    streamer=streamer,
                    max_new_tokens=max_tokens,
                    do_sample=False,
                    repetition_penalty=self.repetition_penalty,
                    stopping_criteria=StoppingCriteriaList([Cancelled()]),
                    pad_token_id=self.tokenizer.eos_token_id,
                )
            except BaseException as exc:  # reported to the consumer below
                failure.append(exc)
                streamer.end()  # type: ignore[no-untyped-call]

        with self._lock:
            worker = threading.Thread(target=run, name="silkqa-generate", daemon=True)
            worker.start()
            try:
                for piece in streamer:
                    if piece:
                        yield piece
            finally:
                # Reached on completion, on an error, and when the consumer goes
                # away (the iterator is closed): the model stops after one more token.
                stop.set()
                worker.join()
        if failure:
            raise GenerationError(f"the local model failed: {failure[0]}") from failure[0]
