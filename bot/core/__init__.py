"""Plumbing a use case needs: the media store, logging, CPU threads of generate processes."""
