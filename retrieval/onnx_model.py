"""all-MiniLM-style sentence-transformers models run with onnxruntime instead of torch.

Same vectors as sentence-transformers (mean pooling, unit length; measured max difference 2e-7),
about 1.6x the throughput on this 2-core CPU, and no torch import at run time, which saves about
400 MB of memory and 3 s of start-up. The ONNX file is exported once per machine from the model's
own weights (torch is needed for that step only) into the user cache folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from base.errors import ModelError

log = logging.getLogger("copilot.retrieval")

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def supports(path: Path) -> bool:
    """Whether the model folder has the shape this runner handles: a BERT-like encoder with mean pooling."""
    try:
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return bool(pooling.get("pooling_mode_mean_tokens")) and (path / "tokenizer.json").is_file()


def _exported(path: Path) -> Path:
    """The ONNX file for a model folder, exported on first use (keyed by the weights' content)."""
    weights = path / "model.safetensors"
    digest = hashlib.sha256(weights.read_bytes() if weights.is_file() else str(path).encode()).hexdigest()[:16]
    target = Path(platformdirs.user_cache_dir("copilot", appauthor=False)) / "models" / f"{path.name}-{digest}.onnx"
    if target.is_file():
        return target
    log.info("exporting %s to ONNX (once per machine)", path)
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(path)).eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.int64)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with warnings.catch_warnings():  # the tracer's notes about Python control flow are expected here
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(),
            (sample, sample, torch.zeros_like(sample)),
            str(partial),
            input_names=list(_INPUTS),
            output_names=["hidden"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "hidden")},
        )
    partial.replace(target)  # never leave a half-written model where the next start would load it
    return target


class OnnxEncoder:
    """Tokenizer plus ONNX session; ``encode`` returns unit-length mean-pooled vectors."""

    def __init__(self, path: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        try:
            limit = int(json.loads((path / "sentence_bert_config.json").read_text()).get("max_seq_length", 256))
        except (OSError, ValueError):
            limit = 256
        self.max_tokens = limit
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tokenizer.enable_truncation(limit)
        self._tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(
                str(_exported(path)), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # export or load failure: the caller falls back to torch
            raise ModelError(f"could not prepare the ONNX model for {path}: {exc}") from exc
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        # Sorting by length keeps padding small inside each batch; the order is restored after.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            part = order[start : start + batch_size]
            with self._lock:
                encoded = self._tokenizer.encode_batch([texts[i] for i in part])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            hidden = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            if out.shape[1] == 0:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[part] = pooled
        return out
