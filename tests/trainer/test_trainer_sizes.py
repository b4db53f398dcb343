"""The paper's model sizes: parameter counts against the published figures, FLOPs per token."""

from __future__ import annotations

import pytest
import torch

from dsc_trainer.config import SIZES, ModelConfig, named_config
from dsc_trainer.model import Transformer
from dsc_trainer.sizes import main

# Exact counts of the released configs (untied head, no biases) and the rounded figures the
# DeepSeek-Coder model cards publish, with half a unit of their last digit as tolerance.
EXACT = {"1.3B": 1_346_471_936, "6.7B": 6_740_512_768, "33B": 33_342_991_360}
PUBLISHED = {"1.3B": (1.35e9, 0.005e9), "6.7B": (6.74e9, 0.005e9), "33B": (33.3e9, 0.05e9)}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_paper_sizes_match_published_parameter_counts(name):
    config = named_config(name)
    with torch.device("meta"):  # shapes only: a 33B model allocates nothing
        model = Transformer(config)
    counted = sum(p.numel() for p in model.parameters())
    assert counted == config.num_params() == EXACT[name]
    published, half_unit = PUBLISHED[name]
    assert abs(counted - published) <= half_unit


def test_33b_uses_grouped_query_attention():
    config = named_config("33B")
    assert (config.n_heads, config.n_kv_heads, config.head_dim) == (56, 8, 128)
    assert all(SIZES[n].vocab_size == 32256 for n in EXACT)


def test_flops_per_token_formulas():
    config = named_config("1.3B")
    assert config.flops_per_token_m(4096) == 72 * 24 * 2048**2 + 12 * 24 * 2048 * 4096
    # Hand-computed: 72*24*2048^2 = 7,247,757,312; 12*24*2048*4096 = 2,415,919,104.
    assert config.flops_per_token_m(4096) == 9_663_676_416
    assert config.flops_per_token_6n() == 6 * (config.num_params() - 2 * 32256 * 2048)
    assert config.flops_per_token_6n(include_embeddings=True) == 6 * config.num_params()


def test_long_context_stage_changes_only_rope():
    config = named_config("6.7B")
    assert config.long_context() == config.replace(rope_theta=100000.0, rope_scaling=4.0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"n_kv_heads": 3}, "n_kv_heads"),
        ({"d_model": 100, "n_heads": 3}, "d_model"),
        ({"n_layers": 0}, "n_layers"),
        ({"rope_scaling": 0.0}, "rope_scaling"),
        ({"attention_backend": "xformers"}, "attention_backend"),
    ],
)
def test_invalid_config_names_the_field(change, field):
    with pytest.raises(ValueError, match=field):
        ModelConfig().replace(**change)


def test_unknown_size_lists_the_known_ones():
    with pytest.raises(KeyError, match=r"1\.3B"):
        named_config("7B")


def test_sizes_helper_prints_every_size(capsys):
    main(["--seq-len", "4096"])
    out = capsys.readouterr().out
    assert "1,346,471,936" in out
    assert all(name in out for name in SIZES)
