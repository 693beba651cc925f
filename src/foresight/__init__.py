"""foresight: inference-time foresight search and label-free self-training for language models."""

__version__ = "0.1.0"
