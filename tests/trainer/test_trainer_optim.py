"""AdamW groups: weight decay on the projection matrices and head, not on norms or embeddings."""

from __future__ import annotations

import torch

from dsc_trainer.config import named_config
from dsc_trainer.model import Transformer
from dsc_trainer.optim import build_optimizer, param_groups
from dsc_trainer.run_config import OptimSection


def _groups_by_name(model):
    ids = {id(p): name for name, p in model.named_parameters()}
    decay, no_decay = param_groups(model, 0.1)
    assert (decay["weight_decay"], no_decay["weight_decay"]) == (0.1, 0.0)
    return {ids[id(p)] for p in decay["params"]}, {ids[id(p)] for p in no_decay["params"]}


def test_decay_on_matrices_only():
    model = Transformer(named_config("tiny"))
    decay, no_decay = _groups_by_name(model)
    assert decay | no_decay == {name for name, _ in model.named_parameters()}
    assert not decay & no_decay
    assert "output.weight" in decay and "layers.1.feed_forward.w2.weight" in decay
    assert "layers.0.attention.wq.weight" in decay
    assert "tok_embeddings.weight" in no_decay
    assert all(n.endswith("norm.weight") for n in no_decay - {"tok_embeddings.weight"})
    assert len(no_decay) == 2 * 2 + 1 + 1  # two norms a layer, final norm, embedding


def test_tied_head_shares_the_undecayed_embedding():
    model = Transformer(named_config("tiny").replace(tie_embeddings=True))
    decay, no_decay = _groups_by_name(model)
    assert "output.weight" not in decay and "tok_embeddings.weight" in no_decay


def test_cpu_optimizer_is_torch_adamw_with_the_paper_settings():
    model = Transformer(named_config("tiny"))
    opt = build_optimizer(model, OptimSection(lr=1e-3))
    assert type(opt) is torch.optim.AdamW
    group = opt.param_groups[0]
    assert (group["lr"], group["betas"], group["weight_decay"]) == (1e-3, (0.9, 0.95), 0.1)
    # a decayed step shrinks a matrix; an undecayed one leaves a zero-gradient norm weight alone
    norm = model.norm.weight
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    before = model.layers[0].attention.wq.weight.detach().clone()
    opt.step()
    assert torch.allclose(model.layers[0].attention.wq.weight, before * (1 - 1e-3 * 0.1))
    assert torch.equal(norm, torch.ones_like(norm))
