"""Delivery: hands each published revision (its manifest and files) to the ministry over the configured
channels, recording every attempt in the delivery ledger.

service    deliver(revision_dir, channels), deliver_published(publish summary): the entry points
manifest   a published revision and the one manifest.json shape lensan.publish writes; verification
ledger     LENSAN_HOME/delivery/ledger.jsonl: every attempt; what was already delivered; per-channel lock
channels/  outbox (default), sftp, email (+ its subject and body); base: the Channel interface
results    DeliveryResult (one per channel) and DeliveryError (carrying them)
"""
