"""Rollout videos: a policy's episodes rendered headless, tiled, captioned and encoded as H.264 MP4."""
