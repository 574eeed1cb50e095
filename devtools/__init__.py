"""Tools for demos and tests only (a fake SMS gateway...): never imported by the running service."""
