"""Each KUBE's account with the platform: credits from paid orders, fees, refunds, payouts."""
