"""Delivery: hands each published revision (its manifest and files) to the ministry over the configured
channels, recording every attempt in the delivery ledger."""
