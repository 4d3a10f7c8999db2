"""Demo data: real regions, KUBEs, members and products with drawn images."""
