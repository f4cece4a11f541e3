"""Use cases and read models: review, the generation pipeline, publishing, polling, content systems."""
