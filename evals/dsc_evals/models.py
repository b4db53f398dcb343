"""Model backends: our trainer's checkpoints, any Hugging Face causal LM, an OpenAI-compatible
completions endpoint (what vLLM serves). All generate text; the local ones also score text.

torch, transformers and dsc_trainer are imported only when a local backend is built.
"""

from __future__ import annotations

import importlib.util
import json
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class GenerationConfig:
    """Decoding settings; greedy by default, as in the paper."""

    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 0.95
    n: int = 1  # samples per problem (pass@k needs n >= k; use temperature > 0)
    seed: int = 0
    batch_size: int = 8

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1 or self.n < 1 or self.batch_size < 1:
            raise ValueError("max_new_tokens, n and batch_size must be >= 1")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError("need temperature >= 0 and 0 < top_p <= 1")
        if self.n > 1 and self.temperature == 0:
            raise ValueError("n > 1 samples need temperature > 0 (greedy repeats one answer)")


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to (excluding) the earliest occurrence of any stop string."""
    cut = min((i for s in stop if (i := text.find(s)) >= 0), default=len(text))
    return text[:cut]


def estimate_tokens(text: str) -> int:
    """A stand-in token count where the model's tokenizer is not at hand (an endpoint): one per
    three UTF-8 bytes, more than code tokenizers make, so a prompt sized by it still fits."""
    return -(-len(text.encode("utf-8")) // 3)


class Backend(ABC):
    """Turns prompts into completions."""

    name: str

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is to the model (prompts are sized by it)."""
        return estimate_tokens(text)

    def complete(
        self, prompts: Sequence[str], stops: Sequence[Sequence[str]], config: GenerationConfig
    ) -> list[list[str]]:
        """``config.n`` completions per prompt, each cut at the prompt's first stop string.

        Prompts are batched only with prompts of the same stop strings, so that no row ends early
        on another row's stop string. Sample j of every prompt is generated with seed + j by a
        random generator of its own row, so it does not depend on ``batch_size`` or on the other
        prompts of its batch.
        """
        results: list[list[str]] = [[] for _ in prompts]
        groups: dict[tuple[str, ...], list[int]] = {}
        for index, stop in enumerate(stops):
            groups.setdefault(tuple(stop), []).append(index)
        for stop_strings, indices in groups.items():
            for start in range(0, len(indices), config.batch_size):
                chunk = indices[start : start + config.batch_size]
                batch = [prompts[i] for i in chunk]
                for j in range(config.n):
                    texts = self.generate(batch, stop_strings, config, config.seed + j)
                    for i, text in zip(chunk, texts, strict=True):
                        results[i].append(cut_at_stop(text, stop_strings))
        return results

    @abstractmethod
    def generate(
        self, prompts: list[str], stop: tuple[str, ...], config: GenerationConfig, seed: int
    ) -> list[str]:
        """One completion per prompt, each row sampled as if alone with ``seed``; generation may
        end once ``stop`` appears (it is cut after)."""


class ScoringBackend(Backend):
    """A backend that can also give the log-likelihood of a text (for bits per byte)."""

    @abstractmethod
    def text_nats(self, text: str) -> float:
        """Negative log-likelihood of ``text`` in nats, summed over its tokens (first excluded)."""


class _LocalBackend(ScoringBackend):
    """Shared by the two local backends: the tokenizer.json codec and the context window."""

    def __init__(self, path: Path, device: str) -> None:
        from tokenizers import Tokenizer

        self.device = device
        tokenizer_file = path / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise FileNotFoundError(f"{tokenizer_file} not found: a model directory needs one")
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        config = json.loads((path / "config.json").read_text())
        self.bos: int | None = config.get("bos_token_id")
        eos = config.get("eos_token_id")
        self.eos: int | None = eos[0] if isinstance(eos, list) else eos
        self.context = int(config.get("max_position_embeddings", 2048))
        self.name = str(path)

    def encode(self, text: str) -> list[int]:
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        return [self.bos, *ids] if self.bos is not None else ids

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    def _prompt_ids(self, prompt: str, config: GenerationConfig) -> list[int]:
        ids = self.encode(prompt)
        room = self.context - config.max_new_tokens
        if room < 1:
            raise ValueError(f"max_new_tokens {config.max_new_tokens} >= context {self.context}")
        return ids[-room:]  # keep the end of an over-long prompt: it holds the question

    def text_nats(self, text: str) -> float:
        import torch

        ids = self.encode(text)
        total = 0.0
        with torch.no_grad():
            # Windows of the context length; each predicts its tokens after the first.
            for start in range(0, max(len(ids) - 1, 1), self.context - 1):
                window = torch.tensor([ids[start : start + self.context]], device=self.device)
                if window.shape[1] < 2:
                    break
                logits = self.logits(window).float()
                logp = torch.log_softmax(logits[0, :-1], dim=-1)
                total -= logp.gather(1, window[0, 1:, None]).sum().item()
        return total

    @abstractmethod
    def logits(self, tokens: Any) -> Any:
        """Logits (1, T, vocab) for token ids (1, T)."""


class CheckpointBackend(_LocalBackend):
    """A dsc trainer checkpoint (HF Llama directory) with the trainer's KV-cache generation."""

    def __init__(self, path: Path, device: str = "cpu", dtype: str = "float32") -> None:
        import torch

        from dsc_trainer.hf_convert import load_checkpoint

        super().__init__(path, device)
        self.model = load_checkpoint(path, device=device, dtype=getattr(torch, dtype))

    def generate(
        self, prompts: list[str], stop: tuple[str, ...], config: GenerationConfig, seed: int
    ) -> list[str]:
        from dsc_trainer.generation import generate

        new_ids = generate(
            self.model,
            [self._prompt_ids(p, config) for p in prompts],
            max_new_tokens=config.max_new_tokens,
            temperature=config.temperature,
            top_p=config.top_p,
            eos_token_id=self.eos,
            stop_strings=stop,
            decode=self.decode,
            seed=[seed] * len(prompts),  # a generator per row: the batch does not matter
        )
        return [self.decode(ids) for ids in new_ids]

    def logits(self, tokens: Any) -> Any:
        return self.model(tokens)


class HFBackend(_LocalBackend):
    """Any Hugging Face causal LM directory, generated with ``transformers``."""

    def __init__(self, path: Path, device: str = "cpu", dtype: str = "float32") -> None:
        import torch
        from transformers import AutoModelForCausalLM

        super().__init__(path, device)
        model: Any = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
        self.model = model.to(device).eval()

    def generate(
        self, prompts: list[str], stop: tuple[str, ...], config: GenerationConfig, seed: int
    ) -> list[str]:
        if config.temperature > 0 and len(prompts) > 1:
            # transformers samples every row from one global generator: row by row, each row's
            # sample is the same whatever the batch.
            return [text for p in prompts for text in self.generate([p], stop, config, seed)]
        import torch

        rows = [self._prompt_ids(p, config) for p in prompts]
        width = max(len(r) for r in rows)
        pad = self.eos if self.eos is not None else 0
        tokens = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=self.device)
        mask = torch.tensor(
            [[0] * (width - len(r)) + [1] * len(r) for r in rows], device=tokens.device
        )
        torch.manual_seed(seed)
        sampling = config.temperature > 0
        extra = {"temperature": config.temperature, "top_p": config.top_p} if sampling else {}
        with torch.no_grad():
            out = self.model.generate(
                input_ids=tokens,
                attention_mask=mask,
                max_new_tokens=config.max_new_tokens,
                do_sample=sampling,
                pad_token_id=pad,
                eos_token_id=self.eos,
                stopping_criteria=[self._stop_after(width, stop)] if stop else None,
                **extra,
            )
        texts = []
        for row in out[:, width:].tolist():
            if self.eos is not None and self.eos in row:
                row = row[: row.index(self.eos)]
            texts.append(self.decode(row))
        return texts

    def _stop_after(self, width: int, stop: tuple[str, ...]) -> Any:
        """A stopping criterion: rows whose new text holds a stop string are done."""
        import torch

        def done(input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            texts = [self.decode(row[width:].tolist()) for row in input_ids]
            return torch.tensor([any(s in t for s in stop) for t in texts], device=input_ids.device)

        return done

    def logits(self, tokens: Any) -> Any:
        return self.model(input_ids=tokens).logits


class OpenAIBackend(Backend):
    """An OpenAI-compatible ``/v1/completions`` endpoint (vLLM, TGI, llama.cpp server...)."""

    def __init__(self, url: str, model: str | None = None, timeout_s: float = 600.0) -> None:
        self.base = url.rstrip("/").removesuffix("/v1")
        self.timeout_s = timeout_s
        self.model = model or self._first_model()
        self.name = f"{self.base} ({self.model})"

    def _post(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            return json.loads(response.read())

    def _first_model(self) -> str:
        models = self._post("/v1/models", None).get("data", [])
        if not models:
            raise ValueError(f"{self.base}/v1/models lists no model; pass --model-name")
        return str(models[0]["id"])

    def generate(
        self, prompts: list[str], stop: tuple[str, ...], config: GenerationConfig, seed: int
    ) -> list[str]:
        body = {
            "model": self.model,
            "prompt": prompts,  # one request for the batch, as vLLM batches it
            "max_tokens": config.max_new_tokens,
            "temperature": config.temperature,
            "top_p": config.top_p if config.temperature > 0 else 1.0,
            "seed": seed,
            "stop": list(stop),
        }
        choices = self._post("/v1/completions", body).get("choices", [])
        texts: dict[int, str] = {}
        for choice in choices:
            if isinstance(choice, dict) and isinstance(choice.get("text"), str):
                texts[int(choice.get("index", -1))] = choice["text"]
        if sorted(texts) != list(range(len(prompts))):
            raise ValueError(
                f"{self.base}/v1/completions: expected {len(prompts)} choices with text"
            )
        return [texts[i] for i in range(len(prompts))]


BACKENDS = ("auto", "dsc", "hf", "openai")


DTYPES = ("float32", "bfloat16", "float16")


def load_backend(
    model: str,
    backend: str = "auto",
    model_name: str | None = None,
    device: str = "cpu",
    dtype: str = "float32",
) -> Backend:
    """The backend for ``model`` (a URL or a model directory).

    ``auto``: a URL is an OpenAI-compatible endpoint; a Llama directory is run by our trainer when
    ``dsc_trainer`` is installed (our checkpoints are HF Llama directories); anything else by
    ``transformers``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose from {DTYPES}")
    if backend == "openai" or (backend == "auto" and model.startswith(("http://", "https://"))):
        return OpenAIBackend(model, model_name)
    path = Path(model)
    config_file = path / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"{path}: not a model directory (no config.json) and not a URL")
    if backend == "auto":
        llama = json.loads(config_file.read_text()).get("architectures") == ["LlamaForCausalLM"]
        backend = "dsc" if llama and importlib.util.find_spec("dsc_trainer") else "hf"
    local = CheckpointBackend if backend == "dsc" else HFBackend
    return local(path, device, dtype)


def bits_per_byte(backend: ScoringBackend, texts: Sequence[str]) -> float:
    """Total negative log-likelihood of the texts' tokens over their UTF-8 bytes, in bits.

    The trainer's validation computes the same figure with the same function (text tokens'
    nats over the bytes they stand for; special tokens have no bytes and no share).
    """
    from dsc_trainer.metrics import bits_per_byte as nats_to_bits_per_byte

    nats = sum(backend.text_nats(t) for t in texts)
    size = sum(len(t.encode("utf-8")) for t in texts)
    if size == 0:
        raise ValueError("bits per byte of no text")
    return nats_to_bits_per_byte(nats, size)
