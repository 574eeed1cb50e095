"""Understanding what people write: proposals when unsure, review of misunderstood messages."""
