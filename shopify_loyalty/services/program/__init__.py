"""The merchant's program: redeem rules, earn rules and the shop's settings."""
