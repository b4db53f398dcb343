"""The three backends against a tiny real model; the endpoint is a local HTTP server in the test."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dsc_evals.cli import main
from dsc_evals.models import (
    CheckpointBackend,
    GenerationConfig,
    HFBackend,
    OpenAIBackend,
    bits_per_byte,
    cut_at_stop,
    load_backend,
)
from dsc_evals.tasks.humaneval import load_humaneval_python
from dsc_evals.tasks.infilling import FimFormat

GREEDY = GenerationConfig(max_new_tokens=12, batch_size=2)
SPECIAL = ["<bos>", "<eos>", FimFormat().begin, FimFormat().hole, FimFormat().end]


def build_tiny_model(directory: Path, texts: list[str]) -> Path:
    """Train a byte-level BPE on ``texts``, build a random 2-layer Llama, save both."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    directory.mkdir(parents=True)
    tokenizer.save(str(directory / "tokenizer.json"))
    config = LlamaConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        rms_norm_eps=1e-6,
        rope_theta=10000.0,
        bos_token_id=tokenizer.token_to_id("<bos>"),
        eos_token_id=tokenizer.token_to_id("<eos>"),
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    texts = [p.prompt + (p.reference or "") for p in load_humaneval_python(None)]
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", texts)


@pytest.fixture(scope="module")
def hf(model_dir) -> HFBackend:
    return HFBackend(model_dir)


@pytest.fixture(scope="module")
def prompts() -> list[str]:
    return [p.prompt for p in load_humaneval_python(None)[:3]]


def serve(backend: HFBackend, arrive: Callable[[], None] = lambda: None) -> ThreadingHTTPServer:
    """A minimal vLLM-like server: /v1/models and /v1/completions backed by a real model;
    ``arrive`` is called as each completion request comes in."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._reply({"data": [{"id": "tiny"}]})

        def do_POST(self) -> None:
            arrive()
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            config = GenerationConfig(
                max_new_tokens=body["max_tokens"],
                temperature=body["temperature"],
                top_p=body["top_p"],
            )
            stop = tuple(body["stop"])
            texts = backend.generate(body["prompt"], stop, config, body["seed"])
            choices = [{"index": i, "text": cut_at_stop(t, stop)} for i, t in enumerate(texts)]
            self._reply({"choices": choices})

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def endpoint(hf) -> Iterator[str]:
    server = serve(hf)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_hf_generation_is_deterministic_and_cut_at_stop(hf, prompts):
    first = hf.complete(prompts, [()] * 3, GREEDY)
    assert first == hf.complete(prompts, [()] * 3, GREEDY)
    stop = first[0][0][3:5]
    cut = hf.complete(prompts[:1], [(stop,)], GREEDY)
    assert cut == [[first[0][0][: first[0][0].index(stop)]]]


def test_our_checkpoint_backend_matches_transformers(model_dir, hf, prompts):
    ours = CheckpointBackend(model_dir)
    assert ours.complete(prompts, [()] * 3, GREEDY) == hf.complete(prompts, [()] * 3, GREEDY)
    assert bits_per_byte(ours, prompts) == pytest.approx(bits_per_byte(hf, prompts), rel=1e-4)


def test_sampling_gives_n_seeded_samples(hf, prompts):
    config = GenerationConfig(max_new_tokens=8, temperature=1.0, top_p=0.95, n=3, seed=5)
    samples = hf.complete(prompts[:2], [()] * 2, config)
    assert [len(s) for s in samples] == [3, 3]
    assert samples == hf.complete(prompts[:2], [()] * 2, config)
    assert len(set(samples[0])) > 1


def test_bits_per_byte_of_a_random_model_is_near_uniform(hf, prompts):
    bpb = bits_per_byte(hf, prompts)
    vocab = hf.tokenizer.get_vocab_size()
    tokens = sum(len(hf.encode(p)) - 1 for p in prompts)
    size = sum(len(p.encode()) for p in prompts)
    # An untrained model is close to uniform over the vocabulary.
    assert bpb == pytest.approx(tokens * __import__("math").log2(vocab) / size, rel=0.1)


def test_endpoint_backend_matches_the_model_it_serves(endpoint, hf, prompts):
    remote = OpenAIBackend(endpoint)
    assert remote.model == "tiny"
    stops = [("\n\n",)] * 3
    assert remote.complete(prompts, stops, GREEDY) == hf.complete(prompts, stops, GREEDY)


def test_load_backend_picks_by_location(model_dir, endpoint):
    assert isinstance(load_backend(endpoint), OpenAIBackend)
    assert isinstance(load_backend(str(model_dir), "hf"), HFBackend)
    assert isinstance(load_backend(str(model_dir)), CheckpointBackend)  # a Llama directory
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        load_backend(str(model_dir.parent))


def test_cli_run_against_the_endpoint(endpoint, tmp_path, capsys, benchmarks_dir):
    out = tmp_path / "out"
    args = ["run", "--model", endpoint, "--tasks", "humaneval,mbpp,bpb", "--limit", "2"]
    args += ["--data-dir", str(benchmarks_dir)]
    assert main([*args, "--max-new-tokens", "8", "--out", str(out), "--workers", "1"]) == 0
    records = [json.loads(line) for line in (out / "humaneval.jsonl").read_text().splitlines()]
    assert [r["task_id"] for r in records] == ["HumanEval/0", "HumanEval/1"]
    assert {"task_id", "completion", "result", "passed", "outcome", "stderr_tail"} <= set(
        records[0]
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"]["humaneval"]["problems"] == 2
    assert "log-likelihoods" in summary["tasks"]["bpb"]["skipped"]
    table = capsys.readouterr().out
    assert "Base 33B 56.1" in table and "mbpp" in table


def test_cli_run_with_a_local_model_scores_bits_per_byte(model_dir, tmp_path, benchmarks_dir):
    held_out = tmp_path / "held_out.py"
    held_out.write_text("def add(a, b):\n    return a + b\n")
    out = tmp_path / "out"
    args = [
        "run",
        "--model",
        str(model_dir),
        "--tasks",
        "bpb,infilling-single-line",
        "--limit",
        "1",
    ]
    args += ["--data-dir", str(benchmarks_dir)]
    assert (
        main([*args, "--max-new-tokens", "4", "--bpb-files", str(held_out), "--out", str(out)]) == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"]["bpb"]["bytes"] == len(held_out.read_bytes())
    assert summary["tasks"]["bpb"]["bits_per_byte"] > 0
    assert summary["tasks"]["infilling-single-line"]["samples"] == 1


def test_cli_run_scores_our_crossfile_benchmark(model_dir, tmp_path, repos_dir, capsys):
    data = tmp_path / "data"
    args = ["crossfile", "build", "--repos", str(repos_dir), "--only", "ky"]
    assert main([*args, "--out", str(data / "crossfile.jsonl")]) == 0
    assert "typescript" in capsys.readouterr().out
    out = tmp_path / "out"
    args = ["run", "--model", str(model_dir), "--tasks", "crossfile,crossfile-no-retrieval"]
    args += ["--limit", "2", "--max-new-tokens", "6", "--data-dir", str(data)]
    assert main([*args, "--out", str(out)]) == 0
    tasks = json.loads((out / "summary.json").read_text())["tasks"]
    for name in ("crossfile", "crossfile-no-retrieval"):
        assert tasks[name]["samples"] == 2
        assert 0.0 <= tasks[name]["edit_similarity"] <= 1.0
    generations = (out / "generations" / "crossfile.jsonl").read_text().splitlines()
    assert len(generations) == 3  # the settings, then one line per problem
    table = capsys.readouterr().out
    assert "crossfile" in table and "identifier_f1" in table


def test_prompts_are_grouped_by_stop_strings_and_keep_their_order(hf, prompts):
    one_by_one = GenerationConfig(max_new_tokens=12, batch_size=1)
    stops = [("\n",), (), ("\n",)]
    together = hf.complete(prompts, stops, one_by_one)
    alone = [hf.complete([p], [s], one_by_one)[0] for p, s in zip(prompts, stops, strict=True)]
    assert together == alone
    assert "\n" not in together[0][0] + together[2][0]


def test_a_killed_run_resumes_from_the_completions_on_disk(hf, tmp_path, benchmarks_dir):
    requests: list[float] = []
    held = threading.Event()

    def arrive() -> None:
        requests.append(time.monotonic())
        if len(requests) == 2:
            held.wait(60)  # the second batch never comes back: the run is killed meanwhile

    server = serve(hf, arrive)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    args = ["run", "--model", url, "--tasks", "humaneval", "--limit", "3", "--batch-size", "1"]
    args += ["--max-new-tokens", "8", "--workers", "1", "--data-dir", str(benchmarks_dir)]
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    try:
        run = subprocess.Popen([sys.executable, "-m", "dsc_evals", *args, "--out", str(killed)])
        deadline = time.monotonic() + 120
        while len(requests) < 2 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        run.kill()
        run.wait()
        held.set()
        generated = (killed / "generations" / "humaneval.jsonl").read_text().splitlines()
        assert len(generated) == 2  # the settings and the first problem's completion
        assert not (killed / "humaneval.jsonl").exists()  # killed before anything ran
        assert main([*args, "--out", str(killed)]) == 0
        assert len(requests) == 4  # the rerun generated only the two problems left
        assert main([*args, "--out", str(whole)]) == 0
    finally:
        server.shutdown()
        server.server_close()
    for name in ("humaneval.jsonl", "generations/humaneval.jsonl", "summary.json"):
        assert (killed / name).read_bytes() == (whole / name).read_bytes(), name


def test_seeded_samples_do_not_depend_on_the_batch_size(model_dir, hf, prompts):
    ours = CheckpointBackend(model_dir)
    for backend in (ours, hf):
        runs = []
        for batch_size in (1, 2, 3):
            config = GenerationConfig(
                max_new_tokens=6, temperature=1.0, n=2, seed=7, batch_size=batch_size
            )
            runs.append(backend.complete(prompts, [()] * 3, config))
        assert runs[0] == runs[1] == runs[2], backend.name
        assert len({s for samples in runs[0] for s in samples}) > 1
