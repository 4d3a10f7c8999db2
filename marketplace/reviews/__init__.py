"""Reviews of products and KUBEs by the buyers who received them."""
