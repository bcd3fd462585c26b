"""Repository ports and their adapters. The core depends on `ports` only."""
