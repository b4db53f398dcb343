"""dsc trainer: a Llama-style decoder (DeepSeek-Coder), HF checkpoint conversion, generation."""

from dsc_trainer.config import SIZES, ModelConfig, named_config
from dsc_trainer.model import Transformer

__all__ = ["SIZES", "ModelConfig", "Transformer", "named_config"]
