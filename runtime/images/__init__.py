"""Images: references, the content-addressed store, loading archives, unpacking layers."""
