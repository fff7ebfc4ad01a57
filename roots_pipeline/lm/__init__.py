"""KenLM/SentencePiece language models: ROOTS's perplexity score and offline training of its models."""
