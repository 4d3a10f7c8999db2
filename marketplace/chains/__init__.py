"""Supply chains that link several KUBEs (integrated business), and the planner."""
